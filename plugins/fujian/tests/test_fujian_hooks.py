"""Fujian's hooks through a fresh plugin manager holding only the built-in and Fujian plugins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import huijia_hardship.plugin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import huijia_fujian.plugin
import huijia_mutual_aid.plugin
import huijia_warmth.plugin
from core.context import TenantContext
from core.interface import LevyInfo
from core.plugins import available_plugins, build_plugin_manager, hooks_for, validate_plugin_settings

# Fujian also answers the hardship capability's aid_amount and the warmth and mutual_aid capabilities' hooks, so their
# specs must be there (tests of the warmth hooks live with the capability, plugins/warmth/tests).
PM = build_plugin_manager([huijia_hardship.plugin, huijia_warmth.plugin, huijia_mutual_aid.plugin, huijia_fujian.plugin], trace=False)


def make_tenant(settings_: dict[str, Any] | None = None) -> TenantContext:
    validated = validate_plugin_settings(
        "fujian", ["fujian"], settings_ or {}, available=available_plugins(PM)
    )
    return TenantContext(
        id=35, code="fujian", name="福建省总工会", province_code="35", plugins=("fujian",), settings=validated
    )


def levy(levy_fen: int, region_code: str | None = "350102") -> LevyInfo:
    return LevyInfo(
        org_unit_id=1,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 3, 31),
        payroll_fen=levy_fen * 50,
        levy_fen=levy_fen,
        region_code=region_code,
    )


DEFAULT = make_tenant()
XIAMEN_KEEPS_MORE = make_tenant({"fujian": {"levy_grassroots_bp_by_region": {"350200": 6500}}})
REMAINDER_UP = make_tenant({"fujian": {"levy_remainder_to": "upward"}})


@settings(database=None, max_examples=300)
@given(amount=st.integers(0, 10**11), region=st.sampled_from(["350102", "350203", "350583", None]))
def test_split_through_the_hook_always_covers_the_levy(amount: int, region: str | None) -> None:
    for tenant in (DEFAULT, XIAMEN_KEEPS_MORE, REMAINDER_UP):
        item = levy(amount, region)
        split = hooks_for(tenant, PM).fund_levy_split(tenant=tenant, levy=item)
        split.check_covers(item)
        assert split.rule.startswith("fujian")  # Fujian answered, not the national default


def test_regional_override_applies_only_in_its_region() -> None:
    hooks = hooks_for(XIAMEN_KEEPS_MORE, PM)
    xiamen = hooks.fund_levy_split(tenant=XIAMEN_KEEPS_MORE, levy=levy(100_000, "350203"))
    fuzhou = hooks.fund_levy_split(tenant=XIAMEN_KEEPS_MORE, levy=levy(100_000, "350102"))
    assert (xiamen.grassroots_fen, xiamen.upward_fen) == (65_000, 35_000)
    assert (fuzhou.grassroots_fen, fuzhou.upward_fen) == (60_000, 40_000)


def test_remainder_setting_decides_who_gets_the_odd_fen() -> None:
    item = levy(7)  # 60 % of 7 fen is 4.2 fen, so someone must get the 0.2 (i.e. one whole fen)
    base = hooks_for(DEFAULT, PM).fund_levy_split(tenant=DEFAULT, levy=item)
    up = hooks_for(REMAINDER_UP, PM).fund_levy_split(tenant=REMAINDER_UP, levy=item)
    assert base.grassroots_fen == up.grassroots_fen + 1
    assert base.upward_fen + 1 == up.upward_fen


def test_bad_override_is_refused_at_load() -> None:
    from core.plugins import PluginConfigError

    with pytest.raises(PluginConfigError, match=r"setting 'levy_grassroots_bp_by_region.350200'"):
        make_tenant({"fujian": {"levy_grassroots_bp_by_region": {"350200": 12_000}}})
    with pytest.raises(PluginConfigError, match=r"setting 'levy_remainder_to'"):
        make_tenant({"fujian": {"levy_remainder_to": "province"}})


def test_dibao_line_by_city() -> None:
    from dataclasses import replace

    # The hardship capability's hook: answered where the tenant enables the capability.
    t = replace(DEFAULT, capabilities=("hardship",))
    hooks = hooks_for(t, PM)
    fuzhou = hooks.hardship_dibao_line(tenant=t, region_code="350102", year=2025)
    xiamen = hooks.hardship_dibao_line(tenant=t, region_code="350203", year=2025)
    assert fuzhou and xiamen and fuzhou != xiamen
    assert hooks.hardship_dibao_line(tenant=t, region_code="310101", year=2025) is None

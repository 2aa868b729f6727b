"""The warmth hooks through fresh plugin managers: the capability's own answers (the unnamed
province's spring-festival amounts as defaults) and Fujian's 永春 amounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import huijia_hardship.plugin
import pytest

import huijia_fujian.plugin
import huijia_mutual_aid.plugin
import huijia_warmth.plugin
from core.context import TenantContext
from core.plugins import (
    PluginConfigError,
    available_plugins,
    build_plugin_manager,
    hooks_for,
    validate_plugin_settings,
)
from huijia_warmth.campaigns import target_groups
from huijia_warmth.interface import CampaignInfo, Candidate
from huijia_warmth.settings import WarmthSettings

ALONE = build_plugin_manager([huijia_warmth.plugin], trace=False)
WITH_FUJIAN = build_plugin_manager([huijia_hardship.plugin, huijia_warmth.plugin, huijia_mutual_aid.plugin, huijia_fujian.plugin], trace=False)
CAMPAIGN = CampaignInfo(id=1, kind="spring_festival", name="2025年元旦春节送温暖", starts_on=dt.date(2024, 12, 22),
                        ends_on=dt.date(2025, 2, 12), org_unit_id=1,
                        groups=("hardship_household", "off_work_6m", "unpaid_6m", "holiday_frontline", "fj_red_packet"))


def tenant(pm: Any, plugins: tuple[str, ...], settings: dict[str, Any] | None = None) -> TenantContext:
    validated = validate_plugin_settings("t91", plugins, settings or {}, available=available_plugins(pm),
                                         capabilities=("warmth",), capability_schemas={"warmth": WarmthSettings})
    return TenantContext(id=91, code="t91", name="测试省总工会", province_code="35" if plugins else "91",
                         plugins=plugins, settings=validated, capabilities=("warmth",))


def who(group: str, region: str | None = "350102", **facts: Any) -> Candidate:
    return Candidate(member_id=7, household_id=3, org_unit_id=5, region_code=region, group=group, facts=facts)


def amount(pm: Any, t: TenantContext, candidate: Candidate, campaign: CampaignInfo = CAMPAIGN) -> int | None:
    return hooks_for(t, pm).campaign_amount(tenant=t, campaign=campaign, candidate=candidate)


def test_the_unnamed_provinces_amounts_are_the_capabilitys_defaults() -> None:
    t = tenant(ALONE, ())
    assert amount(ALONE, t, who("hardship_household")) == 60_000  # 600 元 per archived household
    assert amount(ALONE, t, who("off_work_6m", months_off_work=7)) == 100_000  # 1000 元 off work ≥ 6 months
    assert amount(ALONE, t, who("unpaid_6m", months_unpaid=6)) == 120_000  # 1200 元 unpaid ≥ 6 months
    assert amount(ALONE, t, who("model_worker")) is None  # no default: the campaign must give one


def test_a_campaigns_own_amount_beats_the_default_and_a_tenant_can_change_the_default() -> None:
    t = tenant(ALONE, ())
    own = CampaignInfo(**{**CAMPAIGN.__dict__, "amounts_fen": {"hardship_household": 80_000}})
    assert amount(ALONE, t, who("hardship_household"), own) == 80_000
    changed = tenant(ALONE, (), {"warmth": {"default_amounts_fen": {"hardship_household": 70_000}}})
    assert amount(ALONE, changed, who("hardship_household")) == 70_000
    with pytest.raises(PluginConfigError):
        tenant(ALONE, (), {"warmth": {"default_amounts_fen": {"hardship_household": -1}}})


def test_yongchun_gets_200_300_and_2000_yuan_from_the_fujian_plugin() -> None:
    t = tenant(WITH_FUJIAN, ("fujian",))
    yongchun = "350525"
    assert amount(WITH_FUJIAN, t, who("fj_red_packet", yongchun)) == 20_000
    assert amount(WITH_FUJIAN, t, who("holiday_frontline", yongchun)) == 30_000
    assert amount(WITH_FUJIAN, t, who("hardship_household", yongchun)) == 200_000
    # outside 永春 Fujian defers, and the capability's default answers
    assert amount(WITH_FUJIAN, t, who("hardship_household", "350102")) == 60_000
    assert amount(WITH_FUJIAN, t, who("fj_red_packet", "350102")) is None


def test_fujian_registers_its_red_packet_group_and_eligibility_follows_the_campaigns_groups() -> None:
    t = tenant(WITH_FUJIAN, ("fujian",))
    codes = [g.code for g in target_groups(t)]
    assert "fj_red_packet" in codes and codes[:2] == ["hardship_household", "holiday_frontline"]
    assert "fj_red_packet" not in [g.code for g in target_groups(tenant(ALONE, ()))]
    hooks = hooks_for(t, WITH_FUJIAN)
    assert hooks.campaign_eligibility(tenant=t, campaign=CAMPAIGN, candidate=who("unpaid_6m")) is True
    assert hooks.campaign_eligibility(tenant=t, campaign=CAMPAIGN, candidate=who("model_worker")) is False

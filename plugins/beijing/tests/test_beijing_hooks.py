"""Beijing's hooks through a fresh plugin manager holding only the built-in and Beijing plugins."""

from __future__ import annotations

from typing import Any

import huijia_hardship.plugin
import pytest

import huijia_beijing.plugin
import huijia_mutual_aid.plugin
from core.context import TenantContext
from core.plugins import available_plugins, build_plugin_manager, hooks_for, validate_plugin_settings


@pytest.fixture(name="pm", scope="module")
def fx_pm():
    return build_plugin_manager([huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_beijing.plugin], trace=False)


def make_tenant(pm, settings: dict[str, Any] | None = None) -> TenantContext:
    validated = validate_plugin_settings(
        "beijing", ["beijing"], settings or {}, available=available_plugins(pm)
    )
    return TenantContext(
        id=11,
        code="beijing",
        name="北京市总工会",
        province_code="11",
        plugins=("beijing",),
        settings=validated,
    )


def _tags(pm, tenant: TenantContext) -> dict[str, str]:
    return {
        t.code: t.label_zh
        for batch in hooks_for(tenant, pm).register_member_tags(tenant=tenant)
        for t in batch
    }


def test_jingka_tag_is_offered_alongside_national_tags(pm) -> None:
    tags = _tags(pm, make_tenant(pm))
    assert tags["jingka"] == "京卡持卡人"
    assert "new_employment" in tags and "migrant" in tags


def test_tags_come_from_settings(pm) -> None:
    tenant = make_tenant(
        pm, {"beijing": {"member_tags": [{"code": "capital_medal", "label_zh": "首都劳动奖章获得者"}]}}
    )
    tags = _tags(pm, tenant)
    assert tags["capital_medal"] == "首都劳动奖章获得者"
    assert "jingka" not in tags  # the manifest's list replaces the default list


def test_special_allocation_defers_to_national_until_configured(pm) -> None:
    plain = make_tenant(pm)
    national = hooks_for(plain, pm).fund_special_allocation_ratio(tenant=plain, year=2025)
    configured = make_tenant(pm, {"beijing": {"special_allocation_bp_by_year": {"2024": national + 100}}})
    hooks = hooks_for(configured, pm)
    assert hooks.fund_special_allocation_ratio(tenant=configured, year=2025) == national + 100
    # Before the first configured year Beijing has no figure, so the national default answers again.
    assert hooks.fund_special_allocation_ratio(tenant=configured, year=2023) == national


def test_dibao_line(pm) -> None:
    from dataclasses import replace

    # The hardship capability's hook: answered where the tenant enables the capability.
    tenant = replace(make_tenant(pm), capabilities=("hardship",))
    hooks = hooks_for(tenant, pm)
    assert hooks.hardship_dibao_line(tenant=tenant, region_code="110105", year=2024) == 145000
    assert (
        hooks.hardship_dibao_line(tenant=tenant, region_code="120101", year=2024) is None
    )  # 天津: not Beijing's

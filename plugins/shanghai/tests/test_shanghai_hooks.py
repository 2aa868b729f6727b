"""Shanghai's hooks through a fresh plugin manager holding the built-in and Shanghai plugins, and the
hardship and mutual_aid capabilities whose contracts Shanghai also answers."""

from __future__ import annotations

from typing import Any

import huijia_hardship.plugin
import pytest

import huijia_mutual_aid.plugin
import huijia_shanghai.plugin
from core.context import TenantContext
from core.interface import MemberInfo, ProblemCode
from core.plugins import build_plugin_manager, hooks_for, validate_plugin_settings

PLUGINS = [huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_shanghai.plugin]
BAD_CHECK_DIGIT_ID = "110105194912310021"  # 11010519491231002X with its check digit changed


@pytest.fixture(name="pm", scope="module")
def fx_pm():
    return build_plugin_manager(PLUGINS, trace=False)


def make_tenant(settings: dict[str, Any] | None = None) -> TenantContext:
    validated = validate_plugin_settings("shanghai", ["shanghai"], settings or {}, available=_available())
    return TenantContext(
        id=31,
        code="shanghai",
        name="上海市总工会",
        province_code="31",
        plugins=("shanghai",),
        settings=validated,
    )


def _available():
    from core.plugins import available_plugins

    return available_plugins(build_plugin_manager(PLUGINS, trace=False))


def _problems(pm, tenant: TenantContext, member: MemberInfo) -> set[tuple[str, str]]:
    batches = hooks_for(tenant, pm).member_validate(tenant=tenant, member=member)
    return {(p.field, p.code) for batch in batches for p in batch}


def test_new_employment_member_needs_phone_and_national_id_check_still_runs(pm) -> None:
    tenant = make_tenant()
    rider = MemberInfo(
        id=None, org_unit_id=1, name="李四", tags=("new_employment",), id_number=BAD_CHECK_DIGIT_ID
    )
    assert _problems(pm, tenant, rider) == {
        ("phone", ProblemCode.REQUIRED),
        ("id_number", ProblemCode.CHECKSUM),
    }
    clerk = MemberInfo(id=None, org_unit_id=1, name="王五")
    assert _problems(pm, tenant, clerk) == set()


def test_phone_rule_follows_tenant_settings(pm) -> None:
    tenant = make_tenant({"shanghai": {"phone_required_tags": ["migrant"]}})
    migrant = MemberInfo(id=None, org_unit_id=1, name="赵六", tags=("migrant",))
    rider = MemberInfo(id=None, org_unit_id=1, name="李四", tags=("new_employment",))
    assert _problems(pm, tenant, migrant) == {("phone", ProblemCode.REQUIRED)}
    assert _problems(pm, tenant, rider) == set()


def test_dibao_line_from_settings_overrides_default(pm) -> None:
    from dataclasses import replace

    # The hardship capability's hook: answered where the tenant enables the capability.
    default = replace(make_tenant(), capabilities=("hardship",))
    custom = replace(make_tenant({"shanghai": {"dibao": {"310000": {"2026": 160000}}}}), capabilities=("hardship",))
    assert hooks_for(default, pm).hardship_dibao_line(tenant=default, region_code="310104", year=2024) == 151000
    assert hooks_for(custom, pm).hardship_dibao_line(tenant=custom, region_code="310104", year=2026) == 160000
    # The manifest's table replaces the default table: 2024 is no longer known for this tenant.
    assert hooks_for(custom, pm).hardship_dibao_line(tenant=custom, region_code="310104", year=2024) is None


def test_national_defaults_still_answer_what_shanghai_leaves_open(pm) -> None:
    tenant = make_tenant()
    hooks = hooks_for(tenant, pm)
    assert hooks.fund_special_allocation_ratio(tenant=tenant, year=2025) == 500
    tags = {t.code for batch in hooks.register_member_tags(tenant=tenant) for t in batch}
    assert "new_employment" in tags  # the tag Shanghai's phone rule keys on exists

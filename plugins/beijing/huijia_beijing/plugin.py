"""Beijing's hook implementations: thin adapters from settings to :mod:`huijia_beijing.rules`."""

from __future__ import annotations

import importlib.metadata

from core.sdk import PluginInfo, TagInfo, TenantContext, hookimpl
from huijia_beijing import mutual_aid, rules
from huijia_beijing.settings import NAME, BeijingSettings, for_tenant
from huijia_mutual_aid.interface import Benefit, Claim, Enrolment, History, Plan

PLUGIN = PluginInfo(
    name=NAME,
    province_code="11",
    version=importlib.metadata.version("huijia-beijing"),
    min_core="0.1.0",
    max_core="0.1",
    settings_schema=BeijingSettings,
    # It implements the hardship and mutual_aid capabilities' hooks without declaring them in capabilities: that
    # declaration would make every tenant enabling this plugin enable them too, and a province may
    # run those schemes elsewhere. The hooks are only called where the capability is enabled.
    # Written against core's 0.1 hooks; a 0.x host with a newer minor still loads it.
    contracts={"huijia.core": "0.1", "hardship": "1.1", "mutual_aid": "1.2"},
)


@hookimpl
def hardship_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    return rules.dibao_line(for_tenant(tenant).dibao, region_code, year)


@hookimpl
def register_member_tags(tenant: TenantContext) -> list[TagInfo]:
    return rules.member_tags(for_tenant(tenant).member_tags)


@hookimpl
def fund_special_allocation_ratio(tenant: TenantContext, year: int) -> int | None:
    # None when Beijing has no figure for the year, so the national default answers.
    return rules.special_allocation_bp(for_tenant(tenant).special_allocation_bp_by_year, year)


@hookimpl
def register_mutual_aid_plans(tenant: TenantContext) -> list[Plan]:
    return mutual_aid.plans()


@hookimpl
def mutual_aid_benefit(plan: Plan, enrolment: Enrolment, claim: Claim) -> Benefit | None:
    return mutual_aid.benefit(plan, enrolment, claim)


@hookimpl
def mutual_aid_benefits(plan: Plan, cases: list[tuple[Enrolment, Claim, History]]) -> list[Benefit | None] | None:
    return mutual_aid.benefits(plan, cases)

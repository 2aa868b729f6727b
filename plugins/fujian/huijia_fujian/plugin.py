"""Fujian's hook implementations: thin adapters from settings to :mod:`huijia_fujian.rules`."""

from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace
from typing import Any

from core.sdk import LevyInfo, LevySplit, PluginInfo, TenantContext, hookimpl
from huijia_fujian import mutual_aid, rules
from huijia_fujian.settings import NAME, FujianSettings, for_tenant
from huijia_mutual_aid.interface import Benefit, Claim, Enrolment, Plan

PLUGIN = PluginInfo(
    name=NAME,
    province_code="35",
    version=importlib.metadata.version("huijia-fujian"),
    min_core="0.1.0",
    max_core="0.1",
    settings_schema=FujianSettings,
    # It implements the mutual_aid capability's hooks without declaring capabilities=("mutual_aid",): that
    # declaration would make every tenant enabling this plugin enable mutual_aid too, and a province may
    # run its mutual-aid schemes elsewhere. The hooks are only called where the capability is enabled.
    # Written against core's 0.1 hooks; a 0.x host with a newer minor still loads it.
    # It also answers the hardship, warmth and mutual_aid capabilities' rule hooks, without declaring those
    # capabilities (which would make every tenant using this plugin enable them): the answers are only
    # asked for where a tenant enables the capability.
    contracts={"huijia.core": "0.1", "hardship": "1.1", "warmth": "1.0", "mutual_aid": "1.0"},
)

HARDSHIP_RULE_VERSION = "fujian-hardship-2026.1"

# The group behind 永春's online red packet (claimed in 泉工e家 with the ID number and 泉工惠 card).
RED_PACKET = "fj_red_packet"


@hookimpl
def hardship_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    return rules.dibao_line(for_tenant(tenant).dibao, region_code, year)


@hookimpl
def fund_levy_split(tenant: TenantContext, levy: LevyInfo) -> LevySplit:
    settings = for_tenant(tenant)
    return rules.levy_split(
        levy.levy_fen,
        levy.region_code,
        default_bp=settings.levy_grassroots_bp,
        by_region=settings.levy_grassroots_bp_by_region,
        remainder_to=settings.levy_remainder_to,
    )


@hookimpl
def register_mutual_aid_plans(tenant: TenantContext) -> list[Plan]:
    return mutual_aid.plans()


@hookimpl
def mutual_aid_benefit(plan: Plan, enrolment: Enrolment, claim: Claim) -> Benefit | None:
    return mutual_aid.benefit(plan, enrolment, claim)


# The service_network capability's hook. Optional: the plugin also loads where that capability is
# not installed, and it is only called for tenants that enable both.
@hookimpl(optionalhook=True)
def station_rating(tenant: TenantContext, area_m2: int, capacity: int, facilities: list[str],
                   checklist: list[str]) -> int | None:
    s = for_tenant(tenant)
    return rules.station_stars(area_m2, capacity, facilities, checklist, five_area=s.station_five_star_area_m2,
                               five_capacity=s.station_five_star_capacity, five_facility=s.station_five_star_facility,
                               four_area=s.station_four_star_area_m2, four_capacity=s.station_four_star_capacity)


@hookimpl
def aid_amount(tenant: TenantContext, request: Any) -> Any:
    """Living and medical aid by category (深度, 相对, 意外致困); other types: the national rule."""
    from huijia_hardship.interface import AidItem, AidQuote

    s = for_tenant(tenant)
    answer = rules.hardship_aid(request.aid_type, request.category, request.dibao_line_fen, request.medical_cost_fen,
                                living_months=s.hardship_living_months, medical_bp=s.hardship_medical_bp,
                                medical_cap=s.hardship_medical_cap_fen)
    if answer is None:
        return None
    amount, cap, items, refusal = answer
    return AidQuote(amount, cap, tuple(AidItem(label, a) for label, a in items), HARDSHIP_RULE_VERSION,
                    refusals=(refusal,) if refusal else ())


@hookimpl
def campaign_target_groups(tenant: TenantContext) -> list[Any]:
    return [SimpleNamespace(code=RED_PACKET, label_zh="会员线上红包（泉工e家）", per_household=False)]


@hookimpl
def campaign_amount(tenant: TenantContext, campaign: Any, candidate: Any) -> int | None:
    return rules.warmth_amount(for_tenant(tenant).warmth_amounts_by_region, candidate.region_code, candidate.group)

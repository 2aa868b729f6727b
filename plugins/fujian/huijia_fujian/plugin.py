"""Fujian's hook implementations: thin adapters from settings to :mod:`huijia_fujian.rules`."""

from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace
from typing import Any

from core.sdk import LevyInfo, LevySplit, PluginInfo, TenantContext, hookimpl
from huijia_fujian import rules
from huijia_fujian.settings import NAME, FujianSettings, for_tenant

PLUGIN = PluginInfo(
    name=NAME,
    province_code="35",
    version=importlib.metadata.version("huijia-fujian"),
    min_core="0.1.0",
    max_core="0.1",
    settings_schema=FujianSettings,
    # Written against core's 0.1 hooks; a 0.x host with a newer minor still loads it.
    contracts={"huijia.core": "0.1", "warmth": "1.0"},
    capabilities=("warmth",),
)

# The group behind 永春's online red packet (claimed in 泉工e家 with the ID number and 泉工惠 card).
RED_PACKET = "fj_red_packet"


@hookimpl
def region_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
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
def campaign_target_groups(tenant: TenantContext) -> list[Any]:
    return [SimpleNamespace(code=RED_PACKET, label_zh="会员线上红包（泉工e家）", per_household=False)]


@hookimpl
def campaign_amount(tenant: TenantContext, campaign: Any, candidate: Any) -> int | None:
    return rules.warmth_amount(for_tenant(tenant).warmth_amounts_by_region, candidate.region_code, candidate.group)

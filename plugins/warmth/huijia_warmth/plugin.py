"""The warmth capability plugin: everything it adds to Huijia, through the register_* hooks.

It imports only ``core.sdk`` from core. Strawberry and table modules are imported inside the hooks:
``perm(...)`` descriptions need the permission table, which is built from these very hooks.
"""

from __future__ import annotations

from typing import Any

from core.sdk import CORE_CONTRACT, CapabilityInfo, PluginInfo, Role, TenantContext, hookimpl
from huijia_warmth.settings import NAME, WarmthSettings
from huijia_warmth.workflow import CAMPAIGN

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.1.0",
    min_core="0.1",
    settings_schema=WarmthSettings,
    contracts={CORE_CONTRACT.name: "0.2"},
)
# label_zh is the Chinese menu label the web UI shows for the capability (e.g. 送温暖).
CAPABILITY = CapabilityInfo(code=NAME, label_zh="送温暖", settings_schema=WarmthSettings, workflows=(CAMPAIGN,),
                            description="送温暖 campaigns: targeting, frozen beneficiary lists, distribution through the ledger.")


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from huijia_warmth import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["huijia_warmth.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {
        "warmth.read": [Role.TENANT_ADMIN, Role.CLERK, Role.APPROVER, Role.AUDITOR],
        "warmth.write": [Role.TENANT_ADMIN, Role.CLERK],
        # submitted campaigns are approved, returned, cancelled and closed by someone else than the clerk
        "warmth.approve": [Role.APPROVER],
    }


@hookimpl
def register_jobs() -> list[Any]:
    from huijia_warmth.crossmatch import crossmatch_job
    from huijia_warmth.ledger_file import ledger_file_job
    from huijia_warmth.money import distribute_job

    return [distribute_job, ledger_file_job, crossmatch_job]


@hookimpl
def register_file_stores() -> list[Any]:
    # Receipt signatures and photos, and 台账 files: backups, restores, key rotation and a province's export and erasure carry them.
    from core.sdk import files
    return [files.store("warmth")]


@hookimpl
def register_routes() -> list[Any]:
    from huijia_warmth.http import ROUTES
    from huijia_warmth.ledger_file import routes

    return [*routes(), *ROUTES]


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution, NodeInfo
    from huijia_warmth.graphql import (
        WarmthBeneficiaryMutation,
        WarmthCampaign,
        WarmthMutation,
        WarmthQuery,
        resolve_campaign,
    )
    from huijia_warmth.graphql_distribution import WarmthDistributionMutation, WarmthDistributionQuery
    from huijia_warmth.graphql_stats import WarmthStatsQuery
    from huijia_warmth.graphql_targeting import WarmthTargetingMutation, WarmthTargetingQuery

    return [GraphQLContribution(query=[WarmthQuery, WarmthDistributionQuery, WarmthTargetingQuery, WarmthStatsQuery],
                                mutation=[WarmthMutation, WarmthBeneficiaryMutation, WarmthDistributionMutation,
                                          WarmthTargetingMutation],
                                types=[WarmthCampaign],
                                nodes=[NodeInfo("WarmthCampaign", resolve_campaign, "warmth_campaign")])]


@hookimpl
def campaign_eligibility(tenant: TenantContext, campaign: Any, candidate: Any) -> bool | None:
    # Registered before province plugins, so asked last: a targeted group is eligible.
    return candidate.group in campaign.groups


@hookimpl
def campaign_amount(tenant: TenantContext, campaign: Any, candidate: Any) -> int | None:
    # Asked last; the campaign's own amount for the group, else the tenant's default for it.
    from huijia_warmth.rules import default_amount
    from huijia_warmth.settings import for_tenant

    return default_amount(candidate.group, getattr(campaign, "amounts_fen", {}).get(candidate.group),
                          for_tenant(tenant).default_amounts_fen)


# 满意度评价: the service_network capability's collecting hook (optional: that capability may not be
# installed; the host asks it only for tenants enabling both). What a worker may rate here: a campaign benefit given to them.
@hookimpl(optionalhook=True)
def rating_subjects(tenant: TenantContext) -> list[dict[str, Any]]:
    from huijia_warmth.rating import subjects

    return subjects()

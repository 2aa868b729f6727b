"""The hardship capability plugin (困难职工帮扶): everything it adds to Huijia, through the register_* hooks.

It imports only ``core.sdk`` from core. Strawberry and table modules are imported inside the hooks:
``perm(...)`` descriptions need the permission table, which is built from these very hooks.
"""

from __future__ import annotations

from typing import Any

from core.sdk import (
    CORE_CONTRACT,
    CapabilityInfo,
    EncryptedColumn,
    PluginInfo,
    Role,
    TenantContext,
    hookimpl,
    hooks_for,
)
from huijia_hardship import rules
from huijia_hardship.interface import AidQuote, AidRequest, Classification, HouseholdFacts
from huijia_hardship.settings import NAME, HardshipSettings, for_tenant
from huijia_hardship.workflow import ARCHIVE, GRANT

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.1.0",
    min_core="0.1",
    settings_schema=HardshipSettings,
    contracts={CORE_CONTRACT.name: "0.4"},
)
CAPABILITY = CapabilityInfo(code=NAME, label_zh="困难职工帮扶", settings_schema=HardshipSettings,
                            description="困难职工一户一档建档、审核公示、分类认定、帮扶救助与动态管理",
                            workflows=(ARCHIVE, GRANT))


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from huijia_hardship import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["huijia_hardship.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {
        # Read archives (masked: health, income and bank data never leave unmasked).
        "hardship.read": [Role.TENANT_ADMIN, Role.CLERK, Role.APPROVER, Role.FINANCE, Role.AUDITOR],
        # Apply, visit, record the civil-affairs check, publish, record objections, re-verify.
        "hardship.write": [Role.TENANT_ADMIN, Role.CLERK],
        # Unit review (初审), rejection, exit and cancellation.
        "hardship.review": [Role.TENANT_ADMIN, Role.APPROVER],
        # Approval of archives at their tier, and of aid grants (reserving the money).
        "hardship.approve": [Role.APPROVER],
        # Paying an approved grant from the reserved money.
        "hardship.pay": [Role.FINANCE],
    }


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution, NodeInfo
    from huijia_hardship.graphql import (
        HardshipArchive,
        HardshipGrantMutation,
        HardshipGrantQuery,
        HardshipMutation,
        HardshipQuery,
        HardshipStatsQuery,
        resolve_archive,
    )
    from huijia_hardship.graphql_dynamics import HardshipDynamicsMutation, HardshipDynamicsQuery
    from huijia_hardship.graphql_stats import HardshipDashboardQuery
    from huijia_hardship.portal import HardshipPortalMutation, HardshipPortalQuery

    return [GraphQLContribution(query=[HardshipQuery, HardshipGrantQuery, HardshipStatsQuery, HardshipDynamicsQuery,
                                       HardshipDashboardQuery, HardshipPortalQuery],
                                mutation=[HardshipMutation, HardshipGrantMutation, HardshipDynamicsMutation,
                                          HardshipPortalMutation],
                                types=[HardshipArchive],
                                nodes=[NodeInfo("HardshipArchive", resolve_archive, "hardship_archive")])]


@hookimpl(trylast=True)
def hardship_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    # Asked last: core's deprecated hook, i.e. plugins not yet moved and [settings.builtin] dibao.
    return hooks_for(tenant).region_dibao_line(tenant=tenant, region_code=region_code, year=year)


@hookimpl
def hardship_classify(tenant: TenantContext, facts: HouseholdFacts) -> Classification | None:
    # The national formula: registered before province plugins, so it is asked last.
    s = for_tenant(tenant)
    return rules.classify(facts, relative_multiplier_bp=s.relative_multiplier_bp,
                          accident_cost_ratio_bp=s.accident_cost_ratio_bp, migrant_min_months=s.migrant_min_months)


@hookimpl
def hardship_exclusions(tenant: TenantContext, facts: HouseholdFacts) -> list[str]:
    return rules.exclusions(facts)


@hookimpl
def aid_amount(tenant: TenantContext, request: AidRequest) -> AidQuote | None:
    # The settings' rule for the type (registered before province plugins, so asked last).
    rule = for_tenant(tenant).aid.get(request.aid_type)
    return None if rule is None else rules.quote_from_rule(request, rule)


def classify(tenant: TenantContext, facts: HouseholdFacts, hooks: Any = None) -> Classification:
    """The tenant's answer: the first classification, then every plugin's exclusions. A batch
    passes ``hooks_for(tenant)`` it looked up once."""
    hooks = hooks or hooks_for(tenant)
    result = hooks.hardship_classify(tenant=tenant, facts=facts)
    found = [reason for answer in hooks.hardship_exclusions(tenant=tenant, facts=facts) for reason in answer or []]
    return rules.apply_exclusions(result, list(dict.fromkeys(found)))


# 维权帮扶一体化: the service_network capability's hook (optional: that capability may not be installed).
@hookimpl(optionalhook=True)
def service_network_open_aid(tenant: TenantContext, principal: Any, actor: Any, kind: str, request: dict[str, Any],
                             details: dict[str, Any]) -> Any:
    from huijia_hardship import rights

    return rights.open_aid(tenant, principal, actor, kind, request, details)


# 满意度评价: the service_network capability's collecting hook (optional: that capability may not be
# installed; the host asks it only for tenants enabling both). What a worker may rate here: a grant paid to their household.
@hookimpl(optionalhook=True)
def rating_subjects(tenant: TenantContext) -> list[dict[str, Any]]:
    from huijia_hardship.rating import subjects

    return subjects()


@hookimpl
def register_file_stores() -> list[Any]:
    # Archive attachments: backups, restores and province exports and erasures carry them.
    from core.sdk import files

    return [files.store(NAME)]
@hookimpl(optionalhook=True)
def warmth_hardship_households(tenant: TenantContext, unit_path: str) -> Any:
    # The warmth capability's declared interface (optional: warmth may not be installed). Every open
    # archive in state archived at or below the unit, with the household's first member as the person.
    from core.sdk import raw

    async def archived() -> list[Any]:
        from types import SimpleNamespace

        rows = await raw(
            "SELECT a.household_id, a.org_unit_id, (SELECT MIN(m.id) FROM member m WHERE m.tenant_id = a.tenant_id "
            "AND m.household_id = a.household_id AND m.state = 'joined') AS member_id FROM hardship_archive a "
            "JOIN org_unit o ON o.tenant_id = a.tenant_id AND o.id = a.org_unit_id JOIN workflow_case w ON "
            "w.tenant_id = a.tenant_id AND w.capability = 'hardship' AND w.case_type = 'archive' AND w.case_id = a.id "
            "WHERE a.tenant_id = {} AND a.closed_at IS NULL AND w.state = 'archived' AND o.path LIKE {} ORDER BY a.id",
            tenant.id, unit_path + "%")
        return [SimpleNamespace(household_id=r["household_id"], member_id=r["member_id"], org_unit_id=r["org_unit_id"])
                for r in rows]

    return archived()


@hookimpl
def register_encrypted_columns() -> list[EncryptedColumn]:
    # Every field services._enc writes: all under the archive's context (TABLE), the
    # classification inputs too, though they live in their own table. Key rotation walks these.
    from huijia_hardship.services import TABLE

    return [
        EncryptedColumn("hardship_archive", "health_enc", f"{TABLE}.health"),
        EncryptedColumn("hardship_archive", "finances_enc", f"{TABLE}.finances"),
        EncryptedColumn("hardship_archive", "bank_card_enc", f"{TABLE}.bank_card"),
        EncryptedColumn("hardship_classification", "inputs_enc", f"{TABLE}.classification_inputs"),
    ]


@hookimpl
def register_routes() -> list[Any]:
    from huijia_hardship import http

    return http.ROUTES


@hookimpl
def register_jobs() -> list[Any]:
    from huijia_hardship import reverify

    return [reverify.reminders_job, reverify.reverify_job]


@hookimpl
def register_cron() -> list[Any]:
    from huijia_hardship import reverify

    return reverify.cron_jobs()

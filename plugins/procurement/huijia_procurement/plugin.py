"""The procurement capability plugin (工会购买社会组织服务): everything it adds to Huijia, through the
register_* hooks.

It imports only ``core.sdk`` from core. Strawberry and table modules are imported inside the hooks:
``perm(...)`` descriptions need the permission table, which is built from these very hooks.
"""

from __future__ import annotations

from typing import Any

from core.sdk import CORE_CONTRACT, CapabilityInfo, EncryptedColumn, PluginInfo, Role, TenantContext, hookimpl
from huijia_procurement.settings import NAME, ProcurementSettings
from huijia_procurement.workflow import CALL

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.1.0",
    min_core="0.1",
    settings_schema=ProcurementSettings,
    contracts={CORE_CONTRACT.name: "0.3"},
)
CAPABILITY = CapabilityInfo(code=NAME, label_zh="购买服务", settings_schema=ProcurementSettings, workflows=(CALL,),
                            description="Buying services from social organisations: registry, need lists, calls, "
                                        "sealed bids, panel scoring, contracts with milestone payments, open data.")

STAFF_READ = [Role.TENANT_ADMIN, Role.CLERK, Role.APPROVER, Role.FINANCE, Role.AUDITOR]


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from huijia_procurement import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["huijia_procurement.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {
        "procurement.read": STAFF_READ,
        # an organisation's own login: apply, upload its documents, see calls and its own bids
        "procurement.org.self": [Role.SOCIAL_ORG],
        "procurement.org.decide": [Role.TENANT_ADMIN, Role.APPROVER],
        "procurement.need.write": [Role.TENANT_ADMIN, Role.CLERK],
        "procurement.call.draft": [Role.TENANT_ADMIN, Role.CLERK],
        "procurement.call.publish": [Role.TENANT_ADMIN, Role.APPROVER],
        "procurement.call.award": [Role.TENANT_ADMIN, Role.APPROVER],
        # who may sit on an evaluation panel (the evaluator role): staff, finance excepted, since
        # finance pays the contract the panel's ranking leads to
        "procurement.evaluate": [Role.TENANT_ADMIN, Role.APPROVER, Role.CLERK, Role.AUDITOR],
        "procurement.contract.sign": [Role.TENANT_ADMIN, Role.APPROVER],
        "procurement.contract.terminate": [Role.TENANT_ADMIN, Role.APPROVER],
        "procurement.contract.accept": [Role.TENANT_ADMIN, Role.APPROVER, Role.CLERK],
        "procurement.contract.pay": [Role.TENANT_ADMIN, Role.FINANCE],
    }


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution, NodeInfo
    from huijia_procurement import graphql as g
    from huijia_procurement import graphql_calls as c
    from huijia_procurement import graphql_contracts as k
    from huijia_procurement import graphql_scoring as s

    return [GraphQLContribution(query=[g.ProcurementQuery, c.CallQuery, s.ScoringQuery, k.ContractQuery],
                                mutation=[g.ProcurementMutation, c.CallMutation, s.ScoringMutation, k.ContractMutation],
                                types=[g.SocialOrg, g.ServiceNeed, c.ProcurementCall, k.Contract],
                                nodes=[NodeInfo("SocialOrg", g.resolve_org, "procurement_org"),
                                       NodeInfo("ServiceNeed", g.resolve_need, "procurement_need"),
                                       NodeInfo("ProcurementCall", c.resolve_call, "procurement_call"),
                                       NodeInfo("Contract", k.resolve_contract, "procurement_contract")])]


@hookimpl
def register_file_stores() -> list[Any]:
    # Qualification and bid documents: backups, restores, key rotation and a province's export and erasure carry them.
    from core.sdk import files
    from huijia_procurement.registry import FILE_AREA

    return [files.store(FILE_AREA)]


@hookimpl
def register_routes() -> list[Any]:
    from huijia_procurement import routes

    return routes.ROUTES


@hookimpl
def register_encrypted_columns() -> list[EncryptedColumn]:
    # A sealed bid's price (pii_encrypt(price, "procurement_bid", "price", tenant)): key rotation reaches it.
    return [EncryptedColumn("procurement_bid", "price_enc", "procurement_bid.price")]


# trylast: the national default is asked after every province rule, whatever order plugins load in.
@hookimpl(trylast=True)
def procurement_criteria(tenant: TenantContext, call: Any) -> list[Any] | None:
    from huijia_procurement.interface import JIANGMEN_CRITERIA

    return list(JIANGMEN_CRITERIA)


# Optional: procurement runs where service_network is not installed; the host asks it only for tenants
# enabling procurement, and its answer (the contract register) comes before the settings list.
@hookimpl(optionalhook=True)
def service_network_referral_contract(tenant: TenantContext, org: dict[str, Any], category: str) -> Any:
    from huijia_procurement.referral import referral_contract

    return referral_contract(tenant, org, category)


@hookimpl(optionalhook=True)
def service_network_open_need(tenant: TenantContext, principal: Any, actor: Any, requests: list[dict[str, Any]],
                              need: dict[str, Any]) -> Any:
    from huijia_procurement.referral import open_need

    return open_need(tenant, principal, actor, requests, need)

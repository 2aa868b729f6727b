"""The service_network capability plugin (服务阵地): service-item lists, stations and their public
finder, QR check-ins, satisfaction ratings. Everything it adds to Huijia goes through the register_*
hooks; it imports only ``core.sdk`` from core. Strawberry and table modules are imported inside the
hooks: ``perm(...)`` descriptions need the permission table, which is built from these very hooks.
"""

from __future__ import annotations

from typing import Any

from core.sdk import (
    CORE_CONTRACT,
    PHONE_DIGEST_PURPOSE,
    CapabilityInfo,
    IndexedColumn,
    PluginInfo,
    Role,
    TenantContext,
    hookimpl,
)
from huijia_service_network import rules
from huijia_service_network.requests import REQUEST
from huijia_service_network.settings import NAME, ServiceNetworkSettings

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.1.0",
    min_core="0.1",
    settings_schema=ServiceNetworkSettings,
    contracts={CORE_CONTRACT.name: "0.3"},
)
CAPABILITY = CapabilityInfo(code=NAME, label_zh="服务阵地", settings_schema=ServiceNetworkSettings,
                            description="Service-item lists, outdoor-worker stations with a public finder, "
                                        "QR check-ins, service requests with SLA clocks and satisfaction ratings.",
                            workflows=(REQUEST,))


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from huijia_service_network import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["huijia_service_network.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {
        "service_network.read": [Role.TENANT_ADMIN, Role.APPROVER, Role.CLERK, Role.AUDITOR],
        "service_network.write": [Role.TENANT_ADMIN, Role.CLERK],
        # Recording a member's rating as a clerk taking a survey. Workers rate through the portal fields,
        # which take the member from the login: a client-supplied member id is for staff only.
        "service_network.rate": [Role.TENANT_ADMIN, Role.CLERK],
        "service_network.follow_up": [Role.TENANT_ADMIN, Role.CLERK],
        # Submitting a need for someone: the 12351 hotline clerk, a station's staff. Workers submit their
        # own through the portal fields (the member comes from the login).
        "service_network.request": [Role.TENANT_ADMIN, Role.CLERK],
        # Working the queue (accept, refer, resolve, reject, close) at the handling unit.
        "service_network.handle": [Role.TENANT_ADMIN, Role.CLERK],
        # Running the province's yearly station assessment (granted at the root: it covers every station).
        "service_network.assess": [Role.TENANT_ADMIN, Role.CLERK],
    }


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution, NodeInfo
    from huijia_service_network import graphql as g
    from huijia_service_network import graphql_assessment as a
    from huijia_service_network import graphql_needs as n
    from huijia_service_network import graphql_rights as r
    from huijia_service_network import portal as p

    return [GraphQLContribution(
        query=[g.ServiceNetworkQuery, g.ServiceRequestQuery, a.AssessmentQuery, r.RightsQuery,
               p.ServiceNetworkPortalQuery],
        mutation=[g.ServiceNetworkMutation, g.ServiceRequestMutation, a.AssessmentMutation, a.PhotoMutation,
                  r.RightsMutation, n.NeedMutation, p.ServiceNetworkPortalMutation],
        types=[g.ServiceItem, g.Station, g.Rating, g.ServiceRequest],
        nodes=[NodeInfo("ServiceItem", g.resolve_item, "sn_service_item"),
               NodeInfo("Station", g.resolve_station, "sn_station"),
               NodeInfo("Rating", g.resolve_rating, "sn_rating"),
               NodeInfo("ServiceRequest", g.resolve_request, "sn_request")],
    )]


@hookimpl
def register_jobs() -> list[Any]:
    from huijia_service_network import assessment

    return [assessment.assess_stations]


@hookimpl
def register_cron() -> list[Any]:
    from arq import cron

    from huijia_service_network import assessment

    # 2 January, 03:00: last year's station assessment (the first of January is a holiday).
    return [cron(assessment.cron_assess, name="service_network.cron.assess", month=1, day=2, hour=3, minute=0,
                 unique=True)]


@hookimpl
def register_file_stores() -> list[Any]:
    # Station photos: backups, restores, key rotation and a province's export and erasure carry them.
    from core.sdk import files
    from huijia_service_network.photos import AREA

    return [files.store(AREA)]


@hookimpl
def register_routes() -> list[Any]:
    from huijia_service_network import http, public

    return public.ROUTES + http.ROUTES


# trylast: the fallback must be asked after every province rule, whatever order plugins load in.
@hookimpl(trylast=True)
def station_rating(area_m2: int, capacity: int, facilities: list[str], checklist: list[str]) -> int | None:
    return rules.default_stars(facilities, checklist)


# trylast: a contract register (procurement) answers first; the settings list stands in for it.
@hookimpl(trylast=True)
def service_network_referral_contract(tenant: TenantContext, org: dict[str, Any]) -> Any:
    from huijia_service_network.settings import for_tenant

    listed = for_tenant(tenant).contracted_social_orgs
    contracted = any(v and v in listed for v in (org.get("credit_code"), org.get("name")))

    async def answer() -> dict[str, Any]:
        return {"contracted": contracted, "capability": "settings", "org_id": None, "contract_id": None,
                "name": org.get("name") or org.get("credit_code") or ""}

    return answer()


@hookimpl
def rating_subjects(tenant: TenantContext) -> list[dict[str, Any]]:
    from huijia_service_network import requests, services

    return [{"type": "station", "label_zh": "驿站", "used": services.station_used},
            {"type": "service_item", "label_zh": "服务项目", "used": requests.service_item_used},
            {"type": "service_request", "label_zh": "服务诉求", "used": requests.request_used}]


@hookimpl
def register_encrypted_columns() -> list[IndexedColumn]:
    # Check-in and request phones: encrypted (pii_encrypt with these contexts) and indexed with
    # phone_digest. Key rotation re-encrypts the tokens and recomputes the indexes from them.
    return [
        IndexedColumn("sn_station_visit", "phone_enc", "phone_bidx", "sn_station_visit.phone", PHONE_DIGEST_PURPOSE),
        IndexedColumn("sn_request", "phone_enc", "phone_bidx", "sn_request.phone", PHONE_DIGEST_PURPOSE),
    ]

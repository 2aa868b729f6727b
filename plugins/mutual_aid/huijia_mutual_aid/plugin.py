"""The mutual_aid capability plugin (职工互助保障): everything it adds to Huijia, through the register_* hooks.

It imports only ``core.sdk`` from core. Strawberry modules are imported inside the hooks: ``perm(...)``
descriptions need the permission table, which is built from these very hooks.
"""

from __future__ import annotations

from typing import Any

from core.sdk import CORE_CONTRACT, CapabilityInfo, EncryptedColumn, PluginInfo, Role, TenantContext, hookimpl
from huijia_mutual_aid.settings import NAME, MutualAidSettings
from huijia_mutual_aid.workflow import CLAIM

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.1.0",
    min_core="0.1",
    settings_schema=MutualAidSettings,
    contracts={CORE_CONTRACT.name: "0.2"},
)
CAPABILITY = CapabilityInfo(code=NAME, label_zh="互助保障", settings_schema=MutualAidSettings,
                            description="职工互助保障: plans from the province plugins, unit enrolment, claims "
                                        "with computed benefits, payouts from each plan's fund.",
                            workflows=(CLAIM,))


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from huijia_mutual_aid import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["huijia_mutual_aid.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    # clerk at the unit enrols and enters claims; an approver above it reviews; finance pays.
    return {
        "mutual_aid.read": [Role.TENANT_ADMIN, Role.CLERK, Role.APPROVER, Role.FINANCE, Role.AUDITOR],
        "mutual_aid.enrol": [Role.CLERK],
        "mutual_aid.claim": [Role.CLERK],
        "mutual_aid.check": [Role.CLERK, Role.APPROVER],
        "mutual_aid.approve": [Role.APPROVER],
        "mutual_aid.pay": [Role.FINANCE],
        "mutual_aid.premium": [Role.FINANCE],
        # automatic claims reach every union of the tenant: an approver at the root authorises the file
        "mutual_aid.import": [Role.APPROVER],
        "mutual_aid.settle": [Role.FINANCE],
    }


@hookimpl
def register_jobs() -> list[Any]:
    from huijia_mutual_aid.stays import import_stays

    return [import_stays]


@hookimpl
def register_routes() -> list[Any]:
    from huijia_mutual_aid import http

    return http.ROUTES


@hookimpl
def register_file_stores() -> list[Any]:
    # Claim documents and uploaded hospital-stay files: backups, restores, key rotation and a
    # province's export and erasure carry them.
    from core.sdk import files

    return [files.store("mutual_aid")]


@hookimpl
def register_encrypted_columns() -> list[EncryptedColumn]:
    # the hospital a claim names (claims.TABLE, field "hospital"); key rotation walks it
    return [EncryptedColumn("mutual_aid_claim", "hospital_enc", "mutual_aid_claim.hospital")]


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution
    from huijia_mutual_aid.graphql import MutualAidMutation, MutualAidQuery, MutualAidTemplateMutation
    from huijia_mutual_aid.graphql_claims import MutualAidClaimsMutation, MutualAidClaimsQuery
    from huijia_mutual_aid.graphql_worker import MutualAidWorkerQuery

    return [GraphQLContribution(query=[MutualAidQuery, MutualAidClaimsQuery, MutualAidWorkerQuery],
                                mutation=[MutualAidMutation, MutualAidClaimsMutation, MutualAidTemplateMutation])]


# 满意度评价: the service_network capability's collecting hook (optional: that capability may not be
# installed; the host asks it only for tenants enabling both). What a worker may rate here: a claim of theirs that was paid.
@hookimpl(optionalhook=True)
def rating_subjects(tenant: TenantContext) -> list[dict[str, Any]]:
    from huijia_mutual_aid.rating import subjects

    return subjects()

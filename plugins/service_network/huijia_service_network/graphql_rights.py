"""GraphQL of 维权帮扶一体化: a rights request (legal aid, wage arrears, a labour dispute) opens a
temporary relief or a hardship archive application in one step, when the tenant enables hardship;
the request shows the case and its state, and the case's page finds the request it came from."""

from __future__ import annotations

from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    for_query,
    from_global_id,
    in_subtree,
    perm,
    raw,
    run_mutation,
)
from huijia_service_network.graphql import (
    _REQUESTS,
    ServiceRequest,
    ServiceRequestPayload,
    _request_from_row,
    resolve_request,
)


@strawberry.input(description="What the hardship case needs. temporary_relief: householdId, personId, requestedFen "
                              "(areaCode if the union has none); archive: householdId, tier, the monthly figures.")
class AidOpenInput:
    kind: str = strawberry.field(description="temporary_relief (临时救助) | archive (困难职工建档申请)")
    household_id: strawberry.ID
    person_id: strawberry.ID | None = None
    requested_fen: BigInt | None = None  # type: ignore[valid-type]
    area_code: str | None = None
    tier: str | None = strawberry.field(default=None, description="archive: national | province | city | county | grassroots")
    monthly_income_fen: BigInt | None = None  # type: ignore[valid-type]
    monthly_rigid_expense_fen: BigInt | None = None  # type: ignore[valid-type]


@strawberry.type
class RightsQuery:
    @strawberry.field(description=perm("service_network.read", "The service request that opened an aid case "
                                                               "(e.g. caseType grant or archive of capability hardship)."))
    @for_query
    async def service_request_for_aid_case(self, info: Info, capability: str, case_type: str,
                                           case_id: BigInt) -> ServiceRequest | None:  # type: ignore[valid-type]
        tenant, principal = info.context.require("service_network.read")
        rows = await raw(_REQUESTS + " AND r.aid_capability = {} AND r.aid_case_type = {} AND r.aid_case_id = {}",
                         tenant.id, capability, case_type, case_id)
        if not rows or not in_subtree(principal, "service_network.read", rows[0]["unit_path"]):
            return None
        return _request_from_row(info, tenant, principal, rows[0])


@strawberry.type
class RightsMutation:
    @strawberry.mutation(description=perm("service_network.handle", "维权帮扶一体化: open a temporary relief or a "
                                                                    "hardship archive application for a rights request in "
                                                                    "one step (needs the hardship capability and its "
                                                                    "permission on the household)."))
    async def service_request_open_aid(self, info: Info, id: strawberry.ID, input: AidOpenInput) -> ServiceRequestPayload:
        from huijia_service_network import requests

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.handle")
            pk = from_global_id(id, "ServiceRequest")[1]
            rows = await raw(_REQUESTS + " AND r.id = {}", tenant.id, pk)
            if not rows:
                raise DomainError(ErrorCode.NOT_FOUND, "service request not found", "id", "未找到该诉求")
            details: dict[str, Any] = {
                "household_id": from_global_id(input.household_id, "Household", "householdId")[1],
                "person_id": from_global_id(input.person_id, "HouseholdPerson", "personId")[1] if input.person_id else None,
                "requested_fen": input.requested_fen, "area_code": input.area_code, "tier": input.tier,
                "monthly_income_fen": input.monthly_income_fen,
                "monthly_rigid_expense_fen": input.monthly_rigid_expense_fen}
            await requests.open_aid(tenant, principal, info.context.actor, pk, rows[0]["unit_path"], input.kind, details)
            return {"request": await resolve_request(info, pk)}

        return await run_mutation(ServiceRequestPayload, work)

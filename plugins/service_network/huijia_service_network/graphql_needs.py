"""GraphQL of needs from requests: service requests become an item on the procurement need list."""

from __future__ import annotations

from typing import Any

import strawberry

from core.sdk import BigInt, Info, UserError, from_global_id, perm, run_mutation
from huijia_service_network.graphql import ServiceRequest, resolve_request


@strawberry.input(description="The need-list item to make (procurement's categories, budget cap and negative list).")
class RequestsToNeedInput:
    org_unit_id: strawberry.ID
    category: str
    title: str
    description: str = ""
    budget_fen: BigInt  # type: ignore[valid-type]


@strawberry.type
class RequestsToNeedPayload:
    need_id: strawberry.ID | None = strawberry.field(default=None, description="The procurement ServiceNeed made.")
    requests: list[ServiceRequest] = strawberry.field(default_factory=list)
    errors: list[UserError]


@strawberry.type
class NeedMutation:
    @strawberry.mutation(description=perm("service_network.handle", "需求导向: put an item on the procurement need "
                                                                    "list from service requests (needs the procurement "
                                                                    "capability and its need permission on the unit)."))
    async def service_requests_to_need(self, info: Info, ids: list[strawberry.ID],
                                       input: RequestsToNeedInput) -> RequestsToNeedPayload:
        from core.sdk import to_global_id
        from huijia_service_network import needs

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.handle")
            pks = [from_global_id(i, "ServiceRequest", "ids")[1] for i in ids]
            need = {"org_unit_id": from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")[1],
                    "category": input.category, "title": input.title, "description": input.description,
                    "budget_fen": input.budget_fen}
            need_id = await needs.open_need(tenant, principal, info.context.actor, pks, need)
            found = [await resolve_request(info, pk) for pk in sorted(set(pks))]
            return {"need_id": strawberry.ID(to_global_id("ServiceNeed", need_id)),
                    "requests": [r for r in found if r is not None]}

        return await run_mutation(RequestsToNeedPayload, work)

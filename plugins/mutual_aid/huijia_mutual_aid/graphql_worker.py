"""The worker's own side of mutual aid in the portal (职工之家): the plans they may claim under and their
own claims with where each stands. Both start from the caller's worker account (``require_worker``):
a worker sees no one else's claim, and the plans are the tenant's public rules."""

from __future__ import annotations

import strawberry

from core.sdk import Info, for_query, perm, raw, require_worker
from huijia_mutual_aid.graphql import MutualAidPlan
from huijia_mutual_aid.graphql_claims import MutualAidClaim, _claims_out

MY_CLAIMS_LIMIT = 100


@strawberry.type
class MutualAidWorkerQuery:
    @strawberry.field(description=perm("worker.self", "The mutual-aid plans of the worker's province, with their "
                                       "rules and claim kinds (what the claim form offers)."))
    @for_query
    async def mutual_aid_my_plans(self, info: Info) -> list[MutualAidPlan]:
        from huijia_mutual_aid.plans import plans_for

        me = await require_worker(info)
        return [MutualAidPlan.of(p) for p in plans_for(me.tenant).values()]

    @strawberry.field(description=perm("worker.self", "The logged-in worker's own claims, newest first (at most "
                                       "100), with their state, benefit and documents."))
    @for_query
    async def mutual_aid_my_claims(self, info: Info) -> list[MutualAidClaim]:
        from huijia_mutual_aid.claims import CLAIMS_SQL

        me = await require_worker(info)
        rows = await raw(CLAIMS_SQL + " AND c.member_id = {} ORDER BY c.id DESC LIMIT {}", me.tenant.id,
                         me.require_member(), MY_CLAIMS_LIMIT)
        return await _claims_out(me.tenant, rows)

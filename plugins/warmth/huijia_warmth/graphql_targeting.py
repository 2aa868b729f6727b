"""The warmth capability's GraphQL for targeting: the preview (counts and amounts by group and org
unit against the budget), building a draft's list from its target groups, and removals with a reason."""

from __future__ import annotations

from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    UserError,
    for_query,
    from_global_id,
    in_subtree,
    perm,
    raw,
    run_mutation,
    to_global_id,
)
from huijia_warmth.graphql import _CAMPAIGNS


@strawberry.type(description="One row of a campaign's preview: a target group at an org unit.")
class WarmthPreviewRow:
    group: str
    org_unit_id: strawberry.ID
    eligible: int = strawberry.field(description="Found by targeting and not yet on the list.")
    already_covered: int = strawberry.field(description="Already on the campaign's list.")
    duplicate: int = strawberry.field(description="Left out: the person or their household already has a benefit "
                                                  "in this campaign.")
    recent: int = strawberry.field(description="Left out by the tenant's no-repeat window across campaigns.")
    not_eligible: int = strawberry.field(description="Refused by campaign_eligibility or without an amount.")
    amount_fen: BigInt = strawberry.field(description="Cash for the eligible and the covered.")  # type: ignore[valid-type]


@strawberry.type(description="What a campaign would give before it is submitted.")
class WarmthPreview:
    rows: list[WarmthPreviewRow]
    total_fen: BigInt  # type: ignore[valid-type]
    budget_fen: BigInt  # type: ignore[valid-type]
    within_budget: bool


@strawberry.type
class WarmthBuildPayload:
    added: int = 0
    errors: list[UserError]


@strawberry.type
class WarmthRemovePayload:
    removed: bool = False
    errors: list[UserError]


@strawberry.type
class WarmthTargetingQuery:
    @strawberry.field(description=perm("warmth.read", "Preview a campaign's targeting: counts and cash by group and "
                                                      "org unit, and the total against the budget."))
    @for_query
    async def warmth_preview(self, info: Info, campaign_id: strawberry.ID) -> WarmthPreview:
        from huijia_warmth.targeting import DUPLICATE, ELIGIBLE, NOT_ELIGIBLE, ON_LIST, RECENT, candidates

        tenant, principal = info.context.require("warmth.read")
        pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
        rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
        if not rows or not in_subtree(principal, "warmth.read", rows[0]["unit_path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
        found = await candidates(tenant, pk)
        keys = sorted({(g, u) for g, u, _ in found.counts})
        out = [WarmthPreviewRow(group=g, org_unit_id=strawberry.ID(to_global_id("OrgUnit", u)),
                                eligible=found.counts.get((g, u, ELIGIBLE), 0),
                                already_covered=found.counts.get((g, u, ON_LIST), 0),
                                duplicate=found.counts.get((g, u, DUPLICATE), 0),
                                recent=found.counts.get((g, u, RECENT), 0),
                                not_eligible=found.counts.get((g, u, NOT_ELIGIBLE), 0),
                                amount_fen=found.amounts.get((g, u), 0)) for g, u in keys]
        budget = int((await raw("SELECT COALESCE(SUM(budget_fen), 0) AS s FROM warmth_campaign_budget WHERE tenant_id = {} "
                                "AND campaign_id = {}", tenant.id, pk))[0]["s"])
        total = sum(found.amounts.values())
        return WarmthPreview(rows=out, total_fen=total, budget_fen=budget, within_budget=total <= budget)


@strawberry.type
class WarmthTargetingMutation:
    @strawberry.mutation(description=perm("warmth.write", "Add every eligible person of a draft campaign's target "
                                                          "groups to its list (the preview's eligible)."))
    async def warmth_targeting_build(self, info: Info, campaign_id: strawberry.ID) -> WarmthBuildPayload:
        from huijia_warmth.targeting import build_list

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
            return {"added": await build_list(tenant, principal, info.context.actor, pk)}

        return await run_mutation(WarmthBuildPayload, work)

    @strawberry.mutation(description=perm("warmth.write", "Remove a person from a draft campaign's list, with a reason."))
    async def warmth_beneficiary_remove(self, info: Info, campaign_id: strawberry.ID, beneficiary_id: strawberry.ID,
                                        reason: str) -> WarmthRemovePayload:
        from huijia_warmth.graphql_distribution import _beneficiary_pk
        from huijia_warmth.targeting import remove_beneficiary

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
            await remove_beneficiary(tenant, principal, info.context.actor, pk, _beneficiary_pk(beneficiary_id), reason)
            return {"removed": True}

        return await run_mutation(WarmthRemovePayload, work)

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


@strawberry.type(description="A row of a cross-match file that was refused (its content is never echoed or stored).")
class WarmthRowError:
    row: int = strawberry.field(description="The row number as a spreadsheet shows it (the header is row 1).")
    code: str
    message: str
    message_zh: str


@strawberry.type(description="A member a cross-match found inside the campaign's tree.")
class WarmthMatchedMember:
    member_id: strawberry.ID
    org_unit_id: strawberry.ID
    on_list: bool = strawberry.field(description="Already on the campaign's list; false: new.")


@strawberry.type(description="An archived hardship household the campaign's list does not cover.")
class WarmthMissedHousehold:
    household_id: strawberry.ID
    member_id: strawberry.ID | None
    org_unit_id: strawberry.ID


@strawberry.type(description="The result of matching an outside line's list to the members (十条线).")
class WarmthCrossMatch:
    line: str
    rows: int
    matched: int
    new: int
    unmatched: int
    invalid: int
    errors: list[WarmthRowError]
    members: list[WarmthMatchedMember]
    missed_households: list[WarmthMissedHousehold]


@strawberry.type
class WarmthCrossMatchPayload:
    result: WarmthCrossMatch | None = None
    errors: list[UserError]


@strawberry.type
class WarmthCrossMatchStartPayload:
    job_id: strawberry.ID | None = strawberry.field(default=None, description="Poll it with `job(id)`.")
    errors: list[UserError]


def _file(content_base64: str, limit: int) -> bytes:
    import base64
    import binascii

    if len(content_base64) > limit * 4 // 3 + 8:
        mb = limit // (1024 * 1024)
        raise DomainError(ErrorCode.INVALID_INPUT, f"the file is larger than {mb} MB"
                          + ("; use warmthCrossMatchStart (a job) for larger files" if mb < 20 else ""),
                          "contentBase64", f"文件超过{mb}MB" + ("，请使用后台任务比对大文件" if mb < 20 else ""))
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(ErrorCode.INVALID_INPUT, "contentBase64 is not base64", "contentBase64",
                          "文件编码不正确") from None


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

    @strawberry.mutation(description=perm("warmth.write", "Match an outside line's list (CSV, UTF-8 or GB18030, with "
                                                          "a 身份证号 column; base64) to the members by ID number. Reports "
                                                          "bad rows by number, the matched (on the list or new) and the "
                                                          "archived households the campaign misses; stores nothing of "
                                                          "the file. line: civil_affairs_low_income, work_injury, "
                                                          "poor_students, disabled or other."))
    async def warmth_cross_match(self, info: Info, campaign_id: strawberry.ID, line: str,
                                 content_base64: str) -> WarmthCrossMatchPayload:
        from huijia_warmth.crossmatch import SYNC_MAX_BYTES, cross_match

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            content = _file(content_base64, SYNC_MAX_BYTES)
            pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
            r = await cross_match(tenant, principal, info.context.actor, pk, line, content)

            def gid(kind: str, v: int | None) -> strawberry.ID | None:
                return strawberry.ID(to_global_id(kind, v)) if v is not None else None

            return {"result": WarmthCrossMatch(
                line=r.line, rows=r.rows, matched=len(r.members), new=sum(1 for m in r.members if not m.on_list),
                unmatched=r.unmatched, invalid=r.invalid,
                errors=[WarmthRowError(row=n, code=code, message=en, message_zh=zh) for n, code, en, zh in r.errors[:1000]],
                members=[WarmthMatchedMember(member_id=strawberry.ID(to_global_id("Member", m.member_id)),
                                             org_unit_id=strawberry.ID(to_global_id("OrgUnit", m.org_unit_id)),
                                             on_list=m.on_list) for m in r.members],
                missed_households=[WarmthMissedHousehold(household_id=strawberry.ID(to_global_id("Household", h.household_id)),
                                                         member_id=gid("Member", h.member_id),
                                                         org_unit_id=strawberry.ID(to_global_id("OrgUnit", h.org_unit_id)))
                                   for h in r.missed])}

        return await run_mutation(WarmthCrossMatchPayload, work)

    @strawberry.mutation(description=perm("warmth.write", "Cross-match a large list (CSV or XLSX, up to 20 MB) as a job: "
                                                          "poll `job(id)`; its result has the fields of WarmthCrossMatch. "
                                                          "The file is kept encrypted only until the job has read it."))
    async def warmth_cross_match_start(self, info: Info, campaign_id: strawberry.ID, line: str,
                                       content_base64: str) -> WarmthCrossMatchStartPayload:
        from huijia_warmth.crossmatch import MAX_BYTES, start_job

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            content = _file(content_base64, MAX_BYTES)
            pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
            job_id = await start_job(tenant, principal, info.context.actor, pk, line, content)
            return {"job_id": strawberry.ID(to_global_id("Job", job_id))}

        return await run_mutation(WarmthCrossMatchStartPayload, work)

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

"""The warmth capability's GraphQL: campaigns (list, by id, Node), target groups, and creation.

The host gates every field for tenants without the capability. What this module checks itself is
the subtree rule: a campaign belongs to its org unit, the by-id resolver (and so ``node(id)``) hides
campaigns outside the caller's ``warmth.read`` subtree, the list keeps only those inside it, and a
create checks the TARGET unit against ``warmth.write``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    Node,
    UserError,
    for_query,
    from_global_id,
    in_subtree,
    perm,
    raw,
    run_mutation,
    scope_clause,
    to_global_id,
    workflow_step,
)
from huijia_warmth.interface import KINDS
from huijia_warmth.workflow import CAMPAIGN, PERSON_STEPS


@strawberry.type(description="A group campaigns can target (built in, or registered by the province plugin).")
class WarmthTargetGroup:
    code: str
    label_zh: str
    per_household: bool = strawberry.field(description="True when the group is counted by household.")


@strawberry.type(description="A target group of a campaign and the benefit it gets.")
class WarmthBenefit:
    group: str
    form: str = strawberry.field(description="cash or in_kind.")
    amount_fen: BigInt = strawberry.field(description="Cash per beneficiary, or the unit value of the item; "  # type: ignore[valid-type]
                                          "0 leaves the amount to the province's rule.")
    item: str | None
    per_household: bool


@strawberry.type(description="A campaign's budget for one org unit of its subtree.")
class WarmthBudget:
    org_unit_id: strawberry.ID
    budget_fen: BigInt  # type: ignore[valid-type]


@strawberry.type(description="A warmth campaign (送温暖活动).")
class WarmthCampaign(Node):
    id: strawberry.ID
    name: str
    kind: str = strawberry.field(description="spring_festival (元旦春节), summer_cool (夏送清凉) or autumn_study (金秋助学).")
    kind_zh: str
    starts_on: dt.date
    ends_on: dt.date
    fund: str = strawberry.field(description="The paying fund's code.")
    org_unit_id: strawberry.ID
    state: str = strawberry.field(description="draft, submitted, approved, distributing, distributed, closed or cancelled.")
    state_zh: str
    version: int = strawberry.field(description="The case version, for expectedVersion on the next step.")
    distribution_job_id: strawberry.ID | None = strawberry.field(
        description="The distribution job (query it with `job(id)` for status and progress); null before distribution.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> WarmthCampaign:
        return cls(id=strawberry.ID(to_global_id("WarmthCampaign", r["id"])), name=r["name"], kind=r["kind"],
                   kind_zh=KINDS.get(r["kind"], r["kind"]), starts_on=r["starts_on"], ends_on=r["ends_on"],
                   fund=r["fund"], org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])),
                   state=r["state"], state_zh=CAMPAIGN.labels_zh.get(r["state"], r["state"]), version=r["version"],
                   distribution_job_id=strawberry.ID(to_global_id("Job", r["distribution_job_id"]))
                   if r.get("distribution_job_id") else None, pk=r["id"])

    @strawberry.field(description="Target groups and their benefits.")
    async def benefits(self, info: Info) -> list[WarmthBenefit]:
        tenant, _ = info.context.require("warmth.read")
        rows = await raw("SELECT * FROM warmth_campaign_group WHERE tenant_id = {} AND campaign_id = {} ORDER BY id",
                         tenant.id, self.pk)
        return [WarmthBenefit(group=r["group_code"], form=r["form"], amount_fen=r["amount_fen"], item=r["item"],
                              per_household=r["per_household"]) for r in rows]

    @strawberry.field(description="The beneficiary list, in the order added.")
    async def beneficiaries(self, info: Info) -> list[WarmthBeneficiary]:
        tenant, _ = info.context.require("warmth.read")
        rows = await raw("SELECT * FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {} ORDER BY id LIMIT 5000",
                         tenant.id, self.pk)
        return [_beneficiary(r) for r in rows]

    @strawberry.field(description="Budgets by org unit.")
    async def budgets(self, info: Info) -> list[WarmthBudget]:
        tenant, _ = info.context.require("warmth.read")
        rows = await raw("SELECT * FROM warmth_campaign_budget WHERE tenant_id = {} AND campaign_id = {} ORDER BY id",
                         tenant.id, self.pk)
        return [WarmthBudget(org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])),
                             budget_fen=r["budget_fen"]) for r in rows]


# Each campaign with its unit's path (the subtree rule) and its lifecycle state (core's workflow_case).
@strawberry.type(description="One person on a campaign's list; amountFen is fixed when the campaign is approved.")
class WarmthBeneficiary:
    id: strawberry.ID
    member_id: strawberry.ID
    group: str
    reason: str
    amount_fen: BigInt | None  # type: ignore[valid-type]
    frozen: bool
    paid: bool = strawberry.field(description="True once the distribution paid the cash or gave the goods.")
    paid_at: dt.datetime | None
    item_given: str | None = strawberry.field(description="The goods given (in-kind benefits).")
    receipt_status: str = strawberry.field(description="not_given, unconfirmed or confirmed.")
    receipt_method: str | None = strawberry.field(description="portal, signature, fingerprint or photo.")
    receipt_at: dt.datetime | None
    receipt_file_url: str | None = strawberry.field(
        default=None, description="GET this URL (Bearer token) for the signature, fingerprint or photo a clerk "
                                  "recorded as the receipt; null when there is none.")


def _beneficiary(r: dict[str, Any]) -> WarmthBeneficiary:
    paid_at, receipt_at = r.get("paid_at"), r.get("receipt_at")
    return WarmthBeneficiary(id=strawberry.ID(str(r["id"])), member_id=strawberry.ID(to_global_id("Member", r["member_id"])),
                             group=r["group_code"], reason=r["reason"], amount_fen=r["amount_fen"],
                             frozen=r["frozen_at"] is not None, paid=paid_at is not None, paid_at=paid_at,
                             item_given=r.get("item_given"),
                             receipt_status="not_given" if paid_at is None else "confirmed" if receipt_at else "unconfirmed",
                             receipt_method=r.get("receipt_method"), receipt_at=receipt_at,
                             receipt_file_url=(f"/warmth-files/receipts/{int(r['receipt_file_id'])}"
                                               if r.get("receipt_file_id") else None))


_CAMPAIGNS = ("SELECT c.*, o.path AS unit_path, w.state, w.version FROM warmth_campaign c "
              "JOIN org_unit o ON o.id = c.org_unit_id AND o.tenant_id = c.tenant_id "
              "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'warmth' "
              "AND w.case_type = 'campaign' AND w.case_id = c.id WHERE c.tenant_id = {}")


async def resolve_campaign(info: Info, pk: int) -> WarmthCampaign | None:
    tenant, principal = info.context.require("warmth.read")
    rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
    # Outside the caller's subtree the campaign does not exist for them.
    if not rows or not in_subtree(principal, "warmth.read", rows[0]["unit_path"]):
        return None
    return WarmthCampaign.from_row(rows[0])


@strawberry.type
class WarmthQuery:
    @strawberry.field(description=perm("warmth.read", "Campaigns in your subtree, newest first."))
    @for_query
    async def warmth_campaigns(self, info: Info) -> list[WarmthCampaign]:
        tenant, principal = info.context.require("warmth.read")
        scope, params = scope_clause(principal, "warmth.read", "c.org_unit_id", tenant.id)
        rows = await raw(f"{_CAMPAIGNS} AND {scope} ORDER BY c.id DESC LIMIT 500", tenant.id, *params)
        return [WarmthCampaign.from_row(r) for r in rows]

    @strawberry.field(description=perm("warmth.read", "One campaign."))
    @for_query
    async def warmth_campaign(self, info: Info, id: strawberry.ID) -> WarmthCampaign | None:
        return await resolve_campaign(info, from_global_id(id, "WarmthCampaign")[1])

    @strawberry.field(description=perm("warmth.read", "The groups a campaign can target in this tenant."))
    @for_query
    async def warmth_target_groups(self, info: Info) -> list[WarmthTargetGroup]:
        from huijia_warmth.campaigns import target_groups

        tenant, _ = info.context.require("warmth.read")
        return [WarmthTargetGroup(code=g.code, label_zh=g.label_zh, per_household=g.per_household)
                for g in target_groups(tenant)]


@strawberry.input(description="A target group and its benefit.")
class WarmthBenefitInput:
    group: str
    form: str = strawberry.field(description="cash or in_kind.")
    amount_fen: BigInt = 0  # type: ignore[valid-type]
    item: str | None = None


@strawberry.input(description="One org unit's budget.")
class WarmthBudgetInput:
    org_unit_id: strawberry.ID
    budget_fen: BigInt  # type: ignore[valid-type]


@strawberry.input(description="A new campaign.")
class WarmthCampaignInput:
    org_unit_id: strawberry.ID
    name: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    fund: str
    benefits: list[WarmthBenefitInput]
    budgets: list[WarmthBudgetInput] = strawberry.field(default_factory=list)


@strawberry.type
class WarmthCampaignPayload:
    campaign: WarmthCampaign | None = None
    errors: list[UserError]


@strawberry.type
class WarmthMutation:
    @strawberry.mutation(description=perm("warmth.write", "Create a campaign (a draft) at an org unit in your subtree."))
    async def warmth_campaign_create(self, info: Info, input: WarmthCampaignInput) -> WarmthCampaignPayload:
        from huijia_warmth.campaigns import BenefitIn, CampaignIn, create_campaign

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            budgets = [(from_global_id(b.org_unit_id, "OrgUnit", "budgets")[1], b.budget_fen) for b in input.budgets]
            data = CampaignIn(
                org_unit_id=from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")[1], name=input.name,
                kind=input.kind, starts_on=input.starts_on, ends_on=input.ends_on, fund=input.fund,
                benefits=tuple(BenefitIn(b.group, b.form, b.amount_fen, b.item) for b in input.benefits),
                budgets=tuple(budgets))
            row = await create_campaign(tenant, principal, info.context.actor, data)
            rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, row["id"])
            return {"campaign": WarmthCampaign.from_row(rows[0])}

        return await run_mutation(WarmthCampaignPayload, work)

    @strawberry.mutation(description=perm("warmth.read", "Take a lifecycle step on a campaign: submit, return, "
                                                         "approve, distribute, close or cancel (each needs its own "
                                                         "permission at the campaign's unit; return and cancel a reason)."))
    async def warmth_campaign_step(self, info: Info, id: strawberry.ID, transition: str,
                                   reasons: list[str] | None = None,
                                   expected_version: int | None = None) -> WarmthCampaignPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.read")
            pk = from_global_id(id, "WarmthCampaign")[1]
            if transition not in PERSON_STEPS:
                raise DomainError(ErrorCode.INVALID_INPUT, f"unknown step {transition[:40]!r}", "transition",
                                  "不支持的操作")
            # core's step checks the campaign's unit against the transition's permission, the state,
            # the reasons and the guard, and writes nothing when it refuses
            await workflow_step(tenant, CAMPAIGN, pk, transition, actor=info.context.actor, principal=principal,
                                reasons=reasons or (), expected_version=expected_version)
            if transition == "distribute":
                from huijia_warmth.money import start_distribution

                # After the step committed: the job must find the campaign distributing.
                await start_distribution(tenant, info.context.actor, pk)
            rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
            return {"campaign": WarmthCampaign.from_row(rows[0])}

        return await run_mutation(WarmthCampaignPayload, work)


@strawberry.type
class WarmthBeneficiaryPayload:
    beneficiary: WarmthBeneficiary | None = None
    errors: list[UserError]


@strawberry.type
class WarmthBeneficiaryMutation:
    @strawberry.mutation(description=perm("warmth.write", "Add a member to a draft campaign's list, with a reason; "
                                                          "one benefit per person and per household."))
    async def warmth_beneficiary_add(self, info: Info, campaign_id: strawberry.ID, member_id: strawberry.ID,
                                     group: str, reason: str) -> WarmthBeneficiaryPayload:
        from huijia_warmth.beneficiaries import add_beneficiary

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            row = await add_beneficiary(tenant, principal, info.context.actor,
                                        campaign_id=from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1],
                                        member_id=from_global_id(member_id, "Member", "memberId")[1],
                                        group=group, reason=reason)
            return {"beneficiary": _beneficiary(row)}

        return await run_mutation(WarmthBeneficiaryPayload, work)

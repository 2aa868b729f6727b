"""Automatic targeting and its preview: the candidates of a campaign's target groups, each asked
``campaign_eligibility`` and ``campaign_amount``, sorted into eligible, already on the list, and
excluded by the duplicate guard (one benefit per person and per household, and the tenant's
no-repeat window across campaigns).

Where candidates come from: archived hardship households through ``warmth_hardship_households``
(the hardship capability implements it; without it the group is empty), every other group from
member tags: ``model_worker``; ``new_form`` from ``new_employment`` and ``outdoor_worker``; any other
group (built in or a province's) from the tag with the group's own code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core.sdk import (
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    hooks_for,
    in_subtree,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)
from huijia_warmth.interface import CampaignInfo, Candidate

TAGS_OF_GROUP: dict[str, tuple[str, ...]] = {"new_form": ("new_employment", "outdoor_worker")}
MAX_CANDIDATES = 200_000

ELIGIBLE, ON_LIST, DUPLICATE, RECENT, NOT_ELIGIBLE = "eligible", "on_list", "duplicate", "recent", "not_eligible"


@dataclass
class Sorted:
    """Candidates by outcome; ``eligible`` holds what building the list would add."""

    eligible: list[tuple[Candidate, int]] = field(default_factory=list)
    counts: dict[tuple[str, int, str], int] = field(default_factory=dict)  # (group, unit id, outcome) -> n
    amounts: dict[tuple[str, int], int] = field(default_factory=dict)  # (group, unit id) -> fen of the eligible

    def count(self, group: str, unit: int, outcome: str, fen: int = 0) -> None:
        self.counts[(group, unit, outcome)] = self.counts.get((group, unit, outcome), 0) + 1
        if outcome in (ELIGIBLE, ON_LIST):
            self.amounts[(group, unit)] = self.amounts.get((group, unit), 0) + fen


async def campaign_info(tenant: TenantContext, campaign_id: int) -> tuple[CampaignInfo, dict[str, Any], dict[str, Any]]:
    c = (await raw("SELECT c.*, o.path AS unit_path FROM warmth_campaign c JOIN org_unit o ON o.tenant_id = c.tenant_id "
                   "AND o.id = c.org_unit_id WHERE c.tenant_id = {} AND c.id = {}", tenant.id, campaign_id))[0]
    groups = {r["group_code"]: r for r in await raw(
        "SELECT * FROM warmth_campaign_group WHERE tenant_id = {} AND campaign_id = {} ORDER BY id", tenant.id, campaign_id)}
    info = CampaignInfo(id=c["id"], kind=c["kind"], name=c["name"], starts_on=c["starts_on"], ends_on=c["ends_on"],
                        org_unit_id=c["org_unit_id"], groups=tuple(groups),
                        amounts_fen={g: r["amount_fen"] for g, r in groups.items() if r["amount_fen"] > 0})
    return info, c, groups


async def _hardship_candidates(tenant: TenantContext, unit_path: str) -> list[Any]:
    found: list[Any] = []
    for answer in hooks_for(tenant).warmth_hardship_households(tenant=tenant, unit_path=unit_path):
        found.extend(await answer if hasattr(answer, "__await__") else answer or [])
    return found


async def candidates(tenant: TenantContext, campaign_id: int) -> Sorted:
    """Every candidate of the campaign's groups, sorted (no writes)."""
    from huijia_warmth.settings import for_tenant

    info, c, groups = await campaign_info(tenant, campaign_id)
    path = str(c["unit_path"])
    units = {r["id"]: r for r in await raw("SELECT id, path, area_code FROM org_unit WHERE tenant_id = {} AND path LIKE {}",
                                           tenant.id, path + "%")}
    listed = await raw("SELECT member_id, household_id, group_code FROM warmth_beneficiary WHERE tenant_id = {} AND "
                       "campaign_id = {}", tenant.id, campaign_id)
    on_list = {r["member_id"]: r["group_code"] for r in listed}
    households = {r["household_id"] for r in listed if r["household_id"] is not None}
    window = for_tenant(tenant).no_repeat_days
    recent: set[int] = set()
    if window > 0:
        since = utcnow() - dt.timedelta(days=window)
        recent = {r["member_id"] for r in await raw(
            "SELECT DISTINCT member_id FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id <> {} AND "
            "paid_at IS NOT NULL AND paid_at >= {}", tenant.id, campaign_id, since)}
    hooks = hooks_for(tenant)
    out = Sorted()
    seen: set[int] = set()
    # Added by hand, in a group targeting would not find them in: still on the list, still counted.
    found_on_list: set[int] = set()
    for group, g in groups.items():
        pool: list[tuple[int | None, int | None, int]] = []
        if group == "hardship_household":
            for h in await _hardship_candidates(tenant, path):
                pool.append((h.member_id, h.household_id, h.org_unit_id))
        else:
            tags = list(TAGS_OF_GROUP.get(group, (group,)))
            rows = await raw("SELECT m.id, m.household_id, m.org_unit_id FROM member m JOIN org_unit o ON o.tenant_id = "
                             "m.tenant_id AND o.id = m.org_unit_id WHERE m.tenant_id = {} AND m.state = 'joined' AND "
                             "o.path LIKE {} AND m.id IN (SELECT member_id FROM member_tag WHERE tenant_id = {} AND "
                             "tag IN (" + ", ".join("{}" for _ in tags) + ")) ORDER BY m.id LIMIT {}",
                             tenant.id, path + "%", tenant.id, *tags, MAX_CANDIDATES)
            pool = [(r["id"], r["household_id"], r["org_unit_id"]) for r in rows]
        for member_id, household_id, unit_id in pool:
            unit = units.get(unit_id)
            if unit is None or member_id is None:
                continue  # outside the campaign's tree
            who = Candidate(member_id=member_id, household_id=household_id, org_unit_id=unit_id,
                            region_code=unit["area_code"], group=group)
            if on_list.get(member_id) == group:
                out.count(group, unit_id, ON_LIST, _cash(hooks, tenant, info, g, who))
                found_on_list.add(member_id)
                continue
            # One benefit per person and per household in a campaign, whatever the group.
            if member_id in seen or member_id in on_list or (household_id is not None and household_id in households):
                out.count(group, unit_id, DUPLICATE)
                continue
            if member_id in recent:
                out.count(group, unit_id, RECENT)
                continue
            if not hooks.campaign_eligibility(tenant=tenant, campaign=info, candidate=who):
                out.count(group, unit_id, NOT_ELIGIBLE)
                continue
            amount = g["amount_fen"] if g["form"] == "in_kind" else hooks.campaign_amount(
                tenant=tenant, campaign=info, candidate=who)
            if amount is None or amount < 0:
                out.count(group, unit_id, NOT_ELIGIBLE)
                continue
            seen.add(member_id)
            if household_id is not None:
                households.add(household_id)
            out.eligible.append((who, int(amount)))
            out.count(group, unit_id, ELIGIBLE, int(amount) if g["form"] != "in_kind" else 0)
    for r in await raw("SELECT b.member_id, b.household_id, b.org_unit_id, b.group_code, o.area_code FROM "
                       "warmth_beneficiary b JOIN org_unit o ON o.tenant_id = b.tenant_id AND o.id = b.org_unit_id "
                       "WHERE b.tenant_id = {} AND b.campaign_id = {}", tenant.id, campaign_id):
        if r["member_id"] not in found_on_list and r["group_code"] in groups:
            who = Candidate(member_id=r["member_id"], household_id=r["household_id"], org_unit_id=r["org_unit_id"],
                            region_code=r["area_code"], group=r["group_code"])
            out.count(r["group_code"], r["org_unit_id"], ON_LIST, _cash(hooks, tenant, info, groups[r["group_code"]], who))
    return out


def _cash(hooks: Any, tenant: TenantContext, info: CampaignInfo, g: dict[str, Any], who: Candidate) -> int:
    if g["form"] == "in_kind":
        return 0
    return int(hooks.campaign_amount(tenant=tenant, campaign=info, candidate=who) or 0)


async def _draft_for_write(tenant: TenantContext, principal: Principal, campaign_id: int) -> dict[str, Any]:
    from huijia_warmth.beneficiaries import _campaign_for_update

    c = await _campaign_for_update(tenant, campaign_id)
    if c is None or not in_subtree(principal, "warmth.read", c["unit_path"]):
        raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
    require_in_subtree(principal, "warmth.write", c["unit_path"], what="campaign", field="campaignId",
                       read_action="warmth.read")
    if c["state"] != "draft":
        raise DomainError(ErrorCode.INVALID_STATE, "the list is frozen once the campaign is submitted", "campaignId",
                          "活动已提交，名单不能再修改")
    return c


async def build_list(tenant: TenantContext, principal: Principal, actor: Any, campaign_id: int) -> int:
    """Add every eligible candidate to a draft's list (reason: automatic targeting); returns how many."""
    async with transaction():
        await _draft_for_write(tenant, principal, campaign_id)
        found = await candidates(tenant, campaign_id)
        if not found.eligible:
            return 0
        rows = [(tenant.id, campaign_id, who.member_id, who.household_id, who.org_unit_id, who.group,
                 "自动筛选", principal.user_id) for who, _ in found.eligible]
        for i in range(0, len(rows), 1000):
            part = rows[i:i + 1000]
            values = ", ".join("({}, {}, {}, {}, {}, {}, {}, {})" for _ in part)
            await raw("INSERT INTO warmth_beneficiary (tenant_id, campaign_id, member_id, household_id, org_unit_id, "
                      "group_code, reason, added_by) VALUES " + values, *[v for r in part for v in r])
        await audit_record(tenant, actor, "warmth.beneficiary.build", "WarmthCampaign", campaign_id, {"added": len(rows)})
    return len(rows)


async def remove_beneficiary(tenant: TenantContext, principal: Principal, actor: Any, campaign_id: int,
                             beneficiary_id: int, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise DomainError(ErrorCode.INVALID_INPUT, "a reason of 1 to 200 characters is required", "reason",
                          "移出名单须说明理由")
    async with transaction():
        await _draft_for_write(tenant, principal, campaign_id)
        gone = await raw("DELETE FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {} AND id = {} "
                         "RETURNING member_id, group_code", tenant.id, campaign_id, beneficiary_id)
        if not gone:
            raise DomainError(ErrorCode.NOT_FOUND, "beneficiary not found", "beneficiaryId")
        await audit_record(tenant, actor, "warmth.beneficiary.remove", "WarmthCampaign", campaign_id,
                           {"member_id": gone[0]["member_id"], "group": gone[0]["group_code"], "reason": reason})

"""A campaign's beneficiary list: manual additions (each with a reason) while the campaign is a
draft, the duplicate guard, and the freeze at approval that fixes every amount."""

from __future__ import annotations

from typing import Any

from core.sdk import (
    DomainError,
    DomainErrors,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    get_member,
    hooks_for,
    in_subtree,
    on_citus,
    on_postgres,
    raw,
    require_in_subtree,
    transaction,
)
from huijia_warmth.interface import CampaignInfo, Candidate

MAX_REASON = 200


async def _campaign_for_update(tenant: TenantContext, campaign_id: int) -> dict[str, Any] | None:
    # The case row's lock is the one the approve step takes: an addition and an approval run one
    # after the other, so nothing slips onto a list that is being frozen.
    rows = await raw("SELECT c.*, w.state, o.path AS unit_path FROM warmth_campaign c "
                     "JOIN org_unit o ON o.id = c.org_unit_id AND o.tenant_id = c.tenant_id "
                     "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'warmth' "
                     "AND w.case_type = 'campaign' AND w.case_id = c.id "
                     "WHERE c.tenant_id = {} AND c.id = {}" + (" FOR UPDATE OF w" if on_postgres() else ""),
                     tenant.id, campaign_id)
    return rows[0] if rows else None


async def add_beneficiary(tenant: TenantContext, principal: Principal, actor: Any, *, campaign_id: int,
                          member_id: int, group: str, reason: str) -> dict[str, Any]:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise DomainError(ErrorCode.INVALID_INPUT, f"a reason of 1 to {MAX_REASON} characters is required", "reason",
                          "手工添加须说明理由")
    async with transaction():
        campaign = await _campaign_for_update(tenant, campaign_id)
        if campaign is None or not in_subtree(principal, "warmth.read", campaign["unit_path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
        require_in_subtree(principal, "warmth.write", campaign["unit_path"], what="campaign", field="campaignId",
                           read_action="warmth.read")
        if campaign["state"] != "draft":
            raise DomainError(ErrorCode.INVALID_STATE, "the list is frozen once the campaign is submitted", "campaignId",
                              "活动已提交，名单不能再修改")
        groups = {r["group_code"] for r in await raw(
            "SELECT group_code FROM warmth_campaign_group WHERE tenant_id = {} AND campaign_id = {}", tenant.id, campaign_id)}
        if group not in groups:
            raise DomainError(ErrorCode.INVALID_INPUT, f"the campaign does not target {group[:40]!r}", "group",
                              "本活动不包含该慰问对象类别")
        member = await get_member(tenant, member_id)
        # A member of another tenant, or outside the campaign's tree, does not exist here.
        if member is None or not (await _unit_path(tenant, member["org_unit_id"])).startswith(str(campaign["unit_path"])):
            raise DomainError(ErrorCode.NOT_FOUND, "member not found", "memberId")
        taken = await raw("SELECT member_id, household_id FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {} "
                          "AND (member_id = {} OR (household_id IS NOT NULL AND household_id = {}))",
                          tenant.id, campaign_id, member_id, member.get("household_id"))
        if taken:
            same_person = any(t["member_id"] == member_id for t in taken)
            raise DomainError(ErrorCode.DUPLICATE, "already on the list" if same_person else
                              "the member's household is already on the list", "memberId",
                              "该职工已在名单中" if same_person else "该职工家庭已在名单中（一户一份）")
        await _check_no_repeat(tenant, campaign_id, member_id)
        row = (await raw("INSERT INTO warmth_beneficiary (tenant_id, campaign_id, member_id, household_id, org_unit_id, "
                         "group_code, reason, added_by) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) RETURNING *",
                         tenant.id, campaign_id, member_id, member.get("household_id"), member["org_unit_id"], group,
                         reason, principal.user_id))[0]
        await audit_record(tenant, actor, "warmth.beneficiary.add", "WarmthCampaign", campaign_id,
                           {"member_id": member_id, "group": group})
    return row


async def _check_no_repeat(tenant: TenantContext, campaign_id: int, member_id: int) -> None:
    """The tenant's no-repeat window holds for a person added by hand as it does for the targeted ones:
    served by another campaign within it, they are refused (NOT_ELIGIBLE, naming the window)."""
    import datetime as dt

    from core.sdk import utcnow
    from huijia_warmth.settings import for_tenant

    window = for_tenant(tenant).no_repeat_days
    if window <= 0:
        return
    served = await raw("SELECT paid_at FROM warmth_beneficiary WHERE tenant_id = {} AND member_id = {} AND "
                       "campaign_id <> {} AND paid_at IS NOT NULL AND paid_at >= {} ORDER BY paid_at DESC LIMIT 1",
                       tenant.id, member_id, campaign_id, utcnow() - dt.timedelta(days=window))
    if served:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, f"the member was served by another campaign on "
                          f"{served[0]['paid_at'].date().isoformat()}, within the tenant's no-repeat window of "
                          f"{window} days", "memberId", f"该职工在{window}天不重复慰问期内已受过慰问，不能再次添加")


async def _unit_path(tenant: TenantContext, unit_id: int) -> str:
    rows = await raw("SELECT path FROM org_unit WHERE tenant_id = {} AND id = {}", tenant.id, unit_id)
    return rows[0]["path"] if rows else ""


async def freeze(ctx: Any) -> None:
    """The approve step's effect, in its transaction: ask the hooks for each beneficiary's
    eligibility and amount and write them on the row, or refuse the approval naming who fails."""
    tenant, campaign_id = ctx.tenant, ctx.case.case_id
    c = (await raw("SELECT * FROM warmth_campaign WHERE tenant_id = {} AND id = {}", tenant.id, campaign_id))[0]
    groups = {r["group_code"]: r for r in await raw(
        "SELECT * FROM warmth_campaign_group WHERE tenant_id = {} AND campaign_id = {}", tenant.id, campaign_id)}
    info = CampaignInfo(id=c["id"], kind=c["kind"], name=c["name"], starts_on=c["starts_on"], ends_on=c["ends_on"],
                        org_unit_id=c["org_unit_id"], groups=tuple(groups),
                        amounts_fen={g: r["amount_fen"] for g, r in groups.items() if r["amount_fen"] > 0})
    rows = await raw("SELECT b.id, b.member_id, b.household_id, b.org_unit_id, b.group_code, o.area_code, o.path "
                     "FROM warmth_beneficiary b JOIN org_unit o ON o.id = b.org_unit_id "
                     "AND o.tenant_id = b.tenant_id WHERE b.tenant_id = {} AND b.campaign_id = {} ORDER BY b.id",
                     tenant.id, campaign_id)
    # Each person is paid from the budget of the deepest budget unit above their union.
    budgets = sorted(await raw("SELECT b.id, b.budget_fen, o.path, o.name FROM warmth_campaign_budget b "
                               "JOIN org_unit o ON o.id = b.org_unit_id AND o.tenant_id = b.tenant_id "
                               "WHERE b.tenant_id = {} AND b.campaign_id = {}", tenant.id, campaign_id),
                     key=lambda b: -len(str(b["path"])))
    hooks = hooks_for(tenant)
    problems: list[DomainError] = []
    frozen: list[tuple[int, int, int | None]] = []
    needed: dict[int, int] = {}
    for r in rows:
        who = Candidate(member_id=r["member_id"], household_id=r["household_id"], org_unit_id=r["org_unit_id"],
                        region_code=r["area_code"], group=r["group_code"])
        if not hooks.campaign_eligibility(tenant=tenant, campaign=info, candidate=who):
            problems.append(DomainError(ErrorCode.NOT_ELIGIBLE, f"member {r['member_id']} is not eligible", "beneficiaries",
                                        "名单中有不符合条件的人员"))
            continue
        group = groups[r["group_code"]]
        cash = group["form"] != "in_kind"
        amount = hooks.campaign_amount(tenant=tenant, campaign=info, candidate=who) if cash else group["amount_fen"]
        if amount is None or amount < 0:
            problems.append(DomainError(ErrorCode.NOT_ELIGIBLE, f"no amount for group {r['group_code']}", "beneficiaries",
                                        f"慰问对象类别「{r['group_code']}」没有慰问金额"))
            continue
        budget = next((b for b in budgets if str(r["path"]).startswith(str(b["path"]))), None)
        if budget is None and cash and amount > 0:
            problems.append(DomainError(ErrorCode.NOT_ELIGIBLE, f"no budget covers member {r['member_id']}'s union",
                                        "budgets", "有慰问对象所在单位不在任何预算单位之下"))
            continue
        if budget is not None and cash:
            needed[budget["id"]] = needed.get(budget["id"], 0) + int(amount)
        frozen.append((r["id"], int(amount), budget["id"] if budget else None))
    for b in budgets:
        if needed.get(b["id"], 0) > int(b["budget_fen"]):
            problems.append(DomainError(ErrorCode.BUDGET_EXCEEDED, f"the list needs {needed[b['id']]} fen of a budget of "
                                        f"{b['budget_fen']} fen", "budgets",
                                        f"{b['name']}的名单金额超出预算"))
    if problems:
        raise problems[0] if len(problems) == 1 else DomainErrors(problems)
    await _write_frozen(tenant, campaign_id, frozen, ctx.now)
    ctx.payload["beneficiaries"] = len(rows)


async def _write_frozen(tenant: TenantContext, campaign_id: int, frozen: list[tuple[int, int, int | None]],
                        now: Any) -> None:
    if not frozen:
        return
    if on_citus():
        # Citus 13.2 crashes the coordinator on the array-subscript SET below; a join with unnest() it
        # routes to the tenant's shard as one statement per chunk.
        for i in range(0, len(frozen), 1000):
            part = frozen[i:i + 1000]
            await raw("UPDATE warmth_beneficiary b SET amount_fen = x.a, budget_id = x.g, frozen_at = {} FROM "
                      "unnest({}::bigint[], {}::bigint[], {}::bigint[]) AS x(id, a, g) WHERE b.tenant_id = {} AND "
                      "b.campaign_id = {} AND b.paid_at IS NULL AND b.id = x.id", now, [f[0] for f in part],
                      [f[1] for f in part], [f[2] for f in part], tenant.id, campaign_id)
        return
    if on_postgres():
        # One statement per chunk: a list of 100,000 is frozen in seconds, not minutes.
        for i in range(0, len(frozen), 1000):
            part = frozen[i:i + 1000]
            ids = [f[0] for f in part]
            # No join with unnest(); the campaign, "unpaid" (every row is, before approval) and the chunk's id
            # range make the unpaid-rows index (campaign_id, id) the path, as in money._mark_paid: a list loaded
            # in bulk has no statistics yet, and the planner otherwise scanned the tenant's every row per chunk.
            await raw("UPDATE warmth_beneficiary SET amount_fen = ({}::bigint[])[array_position({}::bigint[], id)], "
                      "budget_id = ({}::bigint[])[array_position({}::bigint[], id)], frozen_at = {} "
                      "WHERE tenant_id = {} AND campaign_id = {} AND paid_at IS NULL AND id BETWEEN {} AND {} "
                      "AND id = ANY({}::bigint[])", [f[1] for f in part], ids, [f[2] for f in part], ids, now,
                      tenant.id, campaign_id, min(ids), max(ids), ids)
        return
    for bid, amount, budget_id in frozen:
        await raw("UPDATE warmth_beneficiary SET amount_fen = {}, budget_id = {}, frozen_at = {} WHERE tenant_id = {} "
                  "AND id = {}", amount, budget_id, now, tenant.id, bid)

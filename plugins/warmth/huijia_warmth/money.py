"""A campaign's money: each budget reserved in the ledger at approval, released at close (or when an
approved campaign is cancelled), and the distribution job that pays the frozen list from those
reservations, one idempotent posting per beneficiary (its own ledger key), in batches: each batch is
one transaction with one ledger call per reservation (``ledger_post_reservation_many``).

Cash benefits go through the ledger (Dr 502 维权支出 / Cr 102 cash of the budget's union, from the
campaign's fund); in-kind benefits record the item given and take one unit from the campaign's
stock. Goods are bought outside the campaign, so their value is not posted again here.
"""

from __future__ import annotations

from typing import Any

from core.sdk import (
    SYSTEM,
    Actor,
    DomainError,
    ErrorCode,
    JobContext,
    JobFailed,
    TenantContext,
    get_unit,
    job,
    ledger_post_reservation_many,
    ledger_reserve,
    ledger_void_reservation,
    on_citus,
    on_postgres,
    raw,
    transaction,
    utcnow,
    workflow_step,
)

EXPENSE_CODE = "502"  # 维权支出: 困难职工帮扶 and 送温暖 are booked there
BATCH = 500


def payment_key(campaign_id: int, beneficiary_id: int) -> str:
    """The ledger key of one beneficiary's payment: a restarted distribution finds it and pays nothing twice."""
    return f"warmth:{campaign_id}:{beneficiary_id}"


def reservation_key(campaign_id: int, budget_id: int) -> str:
    return f"warmth-campaign:{campaign_id}:budget:{budget_id}"


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


async def reserve_budgets(ctx: Any) -> None:
    """The approve step's second effect (after the freeze, in the same transaction): hold each budget
    on its union's cash account of the campaign's fund. A refusal aborts the whole approval."""
    tenant, cid = ctx.tenant, ctx.case.case_id
    c = (await raw("SELECT * FROM warmth_campaign WHERE tenant_id = {} AND id = {}", tenant.id, cid))[0]
    maker = Actor(c["created_by"], "clerk")
    budgets = await raw("SELECT * FROM warmth_campaign_budget WHERE tenant_id = {} AND campaign_id = {} AND budget_fen > 0 "
                        "ORDER BY id", tenant.id, cid)
    reserved = 0
    for b in budgets:
        unit = await get_unit(tenant, b["org_unit_id"])
        assert unit is not None
        try:
            res_id = await ledger_reserve(
                tenant, maker, unit=unit, fund=c["fund"], amount_fen=int(b["budget_fen"]), expense_code=EXPENSE_CODE,
                key=reservation_key(cid, b["id"]), memo=f"{c['name'][:60]} 预算", source_type="warmth_campaign",
                source_id=str(cid), approved_by=ctx.actor.user_id)
        except DomainError as exc:
            if exc.code in (ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.BUDGET_EXCEEDED):
                raise DomainError(ErrorCode.INSUFFICIENT_FUNDS,
                                  f"the {c['fund']} fund of org unit {unit['id']} cannot hold the campaign's budget "
                                  f"of {b['budget_fen']} fen", "budgets",
                                  f"{unit['name']}的资金可用余额不足{_yuan(int(b['budget_fen']))}元，不能审批") from None
            if exc.code is ErrorCode.NOT_FOUND:
                raise DomainError(ErrorCode.NOT_FOUND, f"fund {c['fund']!r} not found", "fund",
                                  "活动的支付资金不存在") from None
            raise
        await raw("UPDATE warmth_campaign_budget SET reservation_id = {} WHERE tenant_id = {} AND id = {}",
                  res_id, tenant.id, b["id"])
        reserved += int(b["budget_fen"])
    ctx.payload["reserved_fen"] = reserved


async def release_budgets(ctx: Any) -> None:
    """Close (and cancel after approval): give back what the reservations still hold."""
    rows = await raw("SELECT b.reservation_id FROM warmth_campaign_budget b JOIN ledger_reservation r "
                     "ON r.tenant_id = b.tenant_id AND r.id = b.reservation_id WHERE b.tenant_id = {} AND "
                     "b.campaign_id = {} AND r.status IN ('open', 'pending_approval') ORDER BY b.id",
                     ctx.tenant.id, ctx.case.case_id)
    released = 0
    for r in rows:
        after = await ledger_void_reservation(ctx.tenant, ctx.actor, int(r["reservation_id"]),
                                              reason=("; ".join(ctx.reasons) or ctx.transition.name)[:500])
        released += int(after["amount_fen"]) - int(after["posted_fen"])
    ctx.payload["released_fen"] = released


async def no_unpaid_left(ctx: Any) -> list[Any]:
    """The finish step's guard: a campaign is distributed only when every beneficiary was served."""
    rows = await raw("SELECT COUNT(*) AS n FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {} "
                     "AND paid_at IS NULL", ctx.tenant.id, ctx.case.case_id)
    if int(rows[0]["n"]):
        return [DomainError(ErrorCode.INVALID_STATE, f"{rows[0]['n']} beneficiaries are not served yet", "id",
                            "尚有慰问对象未发放")]
    return []


@job("distribute")
async def distribute_job(ctx: JobContext, campaign_id: int) -> dict[str, Any]:
    """Pay a distributing campaign's frozen list. Safe to kill and run again: each batch commits with
    the rows it served, and each payment's ledger key is the beneficiary's, so a batch cut off before
    its commit is simply done again."""
    tenant = ctx.tenant
    state = await raw("SELECT state FROM workflow_case WHERE tenant_id = {} AND capability = 'warmth' AND "
                      "case_type = 'campaign' AND case_id = {}", tenant.id, campaign_id)
    if not state:
        raise JobFailed("campaign not found")
    if state[0]["state"] == "distributed":
        return {"paid": 0, "already": True}
    if state[0]["state"] != "distributing":
        raise JobFailed(f"the campaign is {state[0]['state']}, not distributing")
    c = (await raw("SELECT * FROM warmth_campaign WHERE tenant_id = {} AND id = {}", tenant.id, campaign_id))[0]
    groups = {g["group_code"]: g for g in await raw(
        "SELECT group_code, form, item FROM warmth_campaign_group WHERE tenant_id = {} AND campaign_id = {}",
        tenant.id, campaign_id)}
    reservations = {b["id"]: b["reservation_id"] for b in await raw(
        "SELECT id, reservation_id FROM warmth_campaign_budget WHERE tenant_id = {} AND campaign_id = {}",
        tenant.id, campaign_id)}
    counts = (await raw("SELECT COUNT(*) AS total, COUNT(paid_at) AS paid FROM warmth_beneficiary "
                        "WHERE tenant_id = {} AND campaign_id = {}", tenant.id, campaign_id))[0]
    total, done = int(counts["total"]), int(counts["paid"])
    await ctx.progress(done, total)
    paid_fen = 0
    memo = f"{c['name'][:60]} 发放"
    after = 0
    while True:
        # Keyset: each batch starts past the last one. From the start of the index every batch would step
        # over the entries of all the rows paid so far (dead to the partial index only after a vacuum).
        rows = await raw("SELECT id, budget_id, group_code, amount_fen FROM warmth_beneficiary WHERE tenant_id = {} "
                         "AND campaign_id = {} AND paid_at IS NULL AND id > {} ORDER BY id LIMIT {}", tenant.id,
                         campaign_id, after, BATCH)
        if not rows:
            break
        after = int(rows[-1]["id"])
        out_of: str | None = None  # the item whose stock ran out in this batch
        served = 0
        async with transaction():
            now = utcnow()
            marks: list[tuple[int, int | None, str | None]] = []  # (beneficiary, entry, item given)
            cash: dict[int, list[dict[str, Any]]] = {}  # reservation -> its rows in this batch
            for r in rows:
                g = groups[r["group_code"]]
                if g["form"] == "in_kind":
                    taken = await raw("UPDATE warmth_stock SET quantity = quantity - 1, given = given + 1 WHERE "
                                      "tenant_id = {} AND campaign_id = {} AND item = {} AND quantity > 0 RETURNING id",
                                      tenant.id, campaign_id, g["item"])
                    if not taken:
                        # Stop cleanly: those before this row are served and committed with this batch;
                        # restocking and resuming goes on from here (nobody is served twice).
                        out_of = str(g["item"])
                        break
                    marks.append((r["id"], None, g["item"]))
                elif int(r["amount_fen"] or 0) > 0:
                    res_id = reservations.get(r["budget_id"])
                    if res_id is None:
                        raise JobFailed(f"beneficiary {r['id']} has no reserved budget")
                    cash.setdefault(int(res_id), []).append(r)
                else:
                    marks.append((r["id"], None, None))
                served += 1
            for res_id, part in cash.items():
                # One call per reservation and batch; each payment keeps its own key.
                entries = await ledger_post_reservation_many(
                    tenant, SYSTEM, res_id, [(payment_key(campaign_id, r["id"]), int(r["amount_fen"])) for r in part],
                    memo=memo)
                marks += [(r["id"], e, None) for r, e in zip(part, entries, strict=True)]
                paid_fen += sum(int(r["amount_fen"]) for r in part)
            await _mark_paid(tenant, campaign_id, marks, now)
        done += served
        await ctx.progress(done, total)
        if out_of is not None:
            raise JobFailed(f"the stock of {out_of!r} ran out after {done} of {total} beneficiaries: set the stock "
                            "(warmthStockSet) and resume (warmthDistributionResume)", code="OUT_OF_STOCK",
                            message_zh=f"慰问品「{out_of}」库存不足，已发放{done}/{total}人；补充库存后可继续发放")
    await workflow_step(tenant, _machine(), campaign_id, "finish", actor=SYSTEM, principal=None)
    return {"paid": done, "paid_fen": paid_fen}


async def _mark_paid(tenant: TenantContext, campaign_id: int, marks: list[tuple[int, int | None, str | None]],
                     now: Any) -> None:
    if not marks:
        return
    if on_citus():
        # Citus 13.2 crashes the coordinator on the array-subscript SET below: a join with unnest() instead.
        await raw("UPDATE warmth_beneficiary b SET paid_at = {}, entry_id = x.e, item_given = x.i FROM "
                  "unnest({}::bigint[], {}::bigint[], {}::text[]) AS x(id, e, i) WHERE b.tenant_id = {} AND "
                  "b.campaign_id = {} AND b.id = x.id AND b.paid_at IS NULL", now, [m[0] for m in marks],
                  [m[1] for m in marks], [m[2] for m in marks], tenant.id, campaign_id)
        return
    if on_postgres():
        # No join: a join with unnest() may get a nested loop over the whole table from a generic plan
        # (a list loaded in bulk has no statistics yet); ``id = ANY`` is a primary-key look-up.
        # The campaign and the batch's id range make the unpaid-rows index (campaign_id, id) the obvious path
        # even before the table has statistics; without them the planner scanned every unpaid row per batch.
        ids, entries, items = [m[0] for m in marks], [m[1] for m in marks], [m[2] for m in marks]
        await raw("UPDATE warmth_beneficiary SET paid_at = {}, entry_id = ({}::bigint[])[array_position({}::bigint[], id)], "
                  "item_given = ({}::text[])[array_position({}::bigint[], id)] WHERE tenant_id = {} AND campaign_id = {} "
                  "AND id BETWEEN {} AND {} AND id = ANY({}::bigint[]) AND paid_at IS NULL", now, entries, ids, items, ids,
                  tenant.id, campaign_id, min(ids), max(ids), ids)
        return
    for bid, entry_id, item in marks:
        await raw("UPDATE warmth_beneficiary SET paid_at = {}, entry_id = {}, item_given = {} WHERE tenant_id = {} "
                  "AND id = {} AND paid_at IS NULL", now, entry_id, item, tenant.id, bid)


def _machine() -> Any:
    from huijia_warmth.workflow import CAMPAIGN

    return CAMPAIGN


async def start_distribution(tenant: TenantContext, actor: Any, campaign_id: int) -> int:
    """Enqueue (or find) the campaign's one distribution job. The key is the campaign's, so a second
    start while it runs returns the same job, and one that was killed runs again from its checkpoints."""
    from core.sdk import enqueue

    c = await raw("SELECT org_unit_id FROM warmth_campaign WHERE tenant_id = {} AND id = {}", tenant.id, campaign_id)
    job_id = await enqueue(tenant, "warmth.distribute", campaign_id, key=f"warmth.distribute:{campaign_id}",
                           created_by=actor.user_id, org_unit_id=c[0]["org_unit_id"])
    await raw("UPDATE warmth_campaign SET distribution_job_id = {} WHERE tenant_id = {} AND id = {}", job_id, tenant.id,
              campaign_id)
    return job_id

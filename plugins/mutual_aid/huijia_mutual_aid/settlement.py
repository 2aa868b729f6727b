"""Year-end settlement per plan and term: premiums in, claims out, the claims ratio by unit and by level;
then, after the hard claim deadline, the term is closed and its surplus moved where the province says.

Claims count when approved or paid (their money is held or gone). Closing refuses while a claim of the
term is still open, and once closed no claim of the term is accepted any more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.sdk import (
    BASIS_POINTS,
    Actor,
    DomainError,
    EntrySpec,
    ErrorCode,
    Line,
    Principal,
    TenantContext,
    audit_record,
    hooks_for,
    ledger_account_ids,
    ledger_post,
    raw,
    require_in_subtree,
    scope_clause,
    transaction,
    utcnow,
)
from huijia_mutual_aid.interface import Plan, Settlement, SurplusMove
from huijia_mutual_aid.plans import plan_for
from huijia_mutual_aid.premiums import CASH, INCOME, plan_accounts, root_unit
from huijia_mutual_aid.rules import claim_deadline, ids_in
from huijia_mutual_aid.settings import for_tenant

SPENDING = "508"  # 其他支出: the surplus leaves the plan's fund as spending, and arrives as 408 其他收入


def ratio_bp(claims: int, premiums: int) -> int | None:
    return None if premiums <= 0 else claims * BASIS_POINTS // premiums


async def report(tenant: TenantContext, principal: Principal, plan_code: str, term_start: dt.date) -> dict[str, Any]:
    """Premiums and claims of the plan's term, in total and per unit (within what the caller may read),
    premiums by payer level, claims by the unit's level; plus the deadline and whether it is closed."""
    plan = plan_for(tenant, plan_code)
    start, _ = plan.term.bounds(term_start)
    cond, args = scope_clause(principal, "mutual_aid.read", "x.org_unit_id", tenant.id)
    premiums = await raw(
        "SELECT x.org_unit_id, x.level, sum(x.amount_fen) AS fen, count(DISTINCT x.enrolment_id) AS n FROM "
        f"mutual_aid_premium x WHERE x.tenant_id = {{}} AND x.plan_code = {{}} AND x.term_start = {{}} AND {cond} "
        "GROUP BY x.org_unit_id, x.level", tenant.id, plan.code, start, *args)
    claims = await raw(
        "SELECT x.org_unit_id, sum(x.amount_fen) AS fen, count(*) AS n, "
        "sum(CASE WHEN w.state = 'paid' THEN x.amount_fen ELSE 0 END) AS paid FROM mutual_aid_claim x "
        "JOIN workflow_case w ON w.tenant_id = x.tenant_id AND w.capability = 'mutual_aid' AND w.case_type = 'claim' "
        f"AND w.case_id = x.id WHERE x.tenant_id = {{}} AND x.plan_code = {{}} AND x.term_start = {{}} AND {cond} "
        "AND w.state IN ('approved', 'paid') GROUP BY x.org_unit_id", tenant.id, plan.code, start, *args)
    unit_ids = sorted({int(r["org_unit_id"]) for r in premiums} | {int(r["org_unit_id"]) for r in claims})
    units = {int(u["id"]): u for u in await raw(f"SELECT id, name, level FROM org_unit WHERE tenant_id = {{}} AND id "
                                                f"{ids_in(unit_ids)}", tenant.id)} if unit_ids else {}
    by_unit: dict[int, dict[str, Any]] = {u: {"unit_id": u, "name": units[u]["name"], "level": units[u]["level"],
                                              "premiums_fen": 0, "claims_fen": 0, "paid_fen": 0, "claims": 0}
                                          for u in unit_ids}
    by_payer: dict[str, int] = {}
    for r in premiums:
        by_unit[int(r["org_unit_id"])]["premiums_fen"] += int(r["fen"])
        by_payer[r["level"]] = by_payer.get(r["level"], 0) + int(r["fen"])
    for r in claims:
        row = by_unit[int(r["org_unit_id"])]
        row["claims_fen"], row["paid_fen"], row["claims"] = int(r["fen"]), int(r["paid"]), int(r["n"])
    by_level: dict[str, dict[str, int]] = {}
    for row in by_unit.values():
        row["ratio_bp"] = ratio_bp(row["claims_fen"], row["premiums_fen"])
        agg = by_level.setdefault(row["level"], {"premiums_fen": 0, "claims_fen": 0})
        agg["premiums_fen"] += row["premiums_fen"]
        agg["claims_fen"] += row["claims_fen"]
    total_p = sum(r["premiums_fen"] for r in by_unit.values())
    total_c = sum(r["claims_fen"] for r in by_unit.values())
    closed = await raw("SELECT * FROM mutual_aid_settlement WHERE tenant_id = {} AND plan_code = {} AND term_start = {}",
                       tenant.id, plan.code, start)
    return {"plan": plan, "term_start": start, "deadline": claim_deadline(plan, start), "premiums_fen": total_p,
            "claims_fen": total_c, "ratio_bp": ratio_bp(total_c, total_p), "units": list(by_unit.values()),
            "payer_levels": sorted(by_payer.items()),
            "unit_levels": [(k, v["premiums_fen"], v["claims_fen"], ratio_bp(v["claims_fen"], v["premiums_fen"]))
                            for k, v in sorted(by_level.items())],
            "settlement": closed[0] if closed else None}


def _move(tenant: TenantContext, plan: Plan, s: Settlement) -> SurplusMove | None:
    answer = hooks_for(tenant).mutual_aid_surplus(tenant=tenant, plan=plan, settlement=s)
    if answer is not None:
        return answer if answer.fund else None
    fund = for_tenant(tenant).surplus_fund
    return SurplusMove(fund, "互助保障年度结余转入") if fund else None


async def close(tenant: TenantContext, principal: Principal, actor: Actor, plan_code: str, term_start: dt.date,
                on: dt.date) -> dict[str, Any]:
    """Settle and close the term (tenant-wide, so ``mutual_aid.settle`` at the root).

    :raises DomainError: INVALID_STATE before the hard claim deadline, while a claim is open, or when
        already closed; NOT_FOUND for a surplus fund that does not exist.
    """
    plan = plan_for(tenant, plan_code)
    start, _ = plan.term.bounds(term_start)
    root = await root_unit(tenant)
    require_in_subtree(principal, "mutual_aid.settle", root["path"], what="org unit", field="plan",
                       read_action="mutual_aid.read")
    deadline = claim_deadline(plan, start)
    if on <= deadline:
        raise DomainError(ErrorCode.INVALID_STATE, f"claims of this term are accepted until {deadline.isoformat()}",
                          "termStart", message_zh=f"本期申请截止日为{deadline.isoformat()}，截止后方可结算")
    async with transaction():
        open_claims = await raw(
            "SELECT count(*) AS n FROM mutual_aid_claim x JOIN workflow_case w ON w.tenant_id = x.tenant_id AND "
            "w.capability = 'mutual_aid' AND w.case_type = 'claim' AND w.case_id = x.id WHERE x.tenant_id = {} AND "
            "x.plan_code = {} AND x.term_start = {} AND w.state IN ('entered', 'checked', 'approved')",
            tenant.id, plan.code, start)
        if int(open_claims[0]["n"]):
            raise DomainError(ErrorCode.INVALID_STATE, f"{open_claims[0]['n']} claims of the term are still open",
                              "termStart", message_zh=f"本期尚有{open_claims[0]['n']}件申请未办结，不能结算")
        totals = await raw(
            "SELECT (SELECT coalesce(sum(amount_fen), 0) FROM mutual_aid_premium WHERE tenant_id = {} AND plan_code = {} "
            "AND term_start = {}) AS premiums, (SELECT coalesce(sum(x.amount_fen), 0) FROM mutual_aid_claim x JOIN "
            "workflow_case w ON w.tenant_id = x.tenant_id AND w.capability = 'mutual_aid' AND w.case_type = 'claim' "
            "AND w.case_id = x.id WHERE x.tenant_id = {} AND x.plan_code = {} AND x.term_start = {} "
            "AND w.state = 'paid') AS claims", tenant.id, plan.code, start, tenant.id, plan.code, start)
        s = Settlement(plan.code, start, int(totals[0]["premiums"]), int(totals[0]["claims"]))
        inserted = await raw(
            "INSERT INTO mutual_aid_settlement (tenant_id, plan_code, term_start, premiums_fen, claims_fen, surplus_fen, "
            "destination, closed_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, '', {}, {}) ON CONFLICT DO NOTHING "
            "RETURNING id", tenant.id, plan.code, start, s.premiums_fen, s.claims_fen, s.surplus_fen, actor.user_id,
            utcnow())
        if not inserted:
            raise DomainError(ErrorCode.INVALID_STATE, "the term is already settled and closed", "termStart",
                              message_zh="本期已结算关闭")
        settlement_id = int(inserted[0]["id"])
        move = _move(tenant, plan, s) if s.surplus_fen > 0 else None
        if move is not None:
            entry = await _move_surplus(tenant, actor, plan, root, s, move, settlement_id, on)
            await raw("UPDATE mutual_aid_settlement SET destination = {}, entry_id = {} WHERE tenant_id = {} AND id = {}",
                      move.fund, entry, tenant.id, settlement_id)
        await audit_record(tenant, actor, "mutual_aid.settlement.close", "MutualAidSettlement", settlement_id,
                           {"plan": plan.code, "term_start": start.isoformat(), "surplus_fen": s.surplus_fen,
                            "destination": move.fund if move else ""})
    return await report(tenant, principal, plan.code, start)


async def _move_surplus(tenant: TenantContext, actor: Actor, plan: Plan, root: dict[str, Any], s: Settlement,
                        move: SurplusMove, settlement_id: int, on: dt.date) -> int:
    """Out of the plan's fund (508 / 102) into the destination fund (102 / 408) at the root union: each
    fund's side balances on its own, as the ledger requires per unit and fund."""
    _, (cash, spend) = await plan_accounts(tenant, plan, (CASH, SPENDING))
    to_cash, to_income = await ledger_account_ids(tenant, [(root["id"], move.fund, CASH), (root["id"], move.fund, INCOME)])
    amount = s.surplus_fen
    entry = await ledger_post(tenant, EntrySpec(
        key=f"sys:mutual_aid:surplus:{plan.code}:{s.term_start.isoformat()}", kind="system", entry_date=on,
        lines=[Line(spend, amount), Line(cash, -amount), Line(to_cash, amount), Line(to_income, -amount)],
        memo=(move.memo_zh or "互助保障年度结余转入")[:200], source_type="mutual_aid_settlement",
        source_id=str(settlement_id), created_by=actor.user_id))
    return entry.entry_id

"""Budgets and accounting periods."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.funds import posting
from core.funds.chart import EXPENSE_CODES
from core.funds.services.accounts import (
    clean_amount,
    get_fund,
    today,
)
from core.funds.sql import ledger_tx
from core.validation import clean_text

# ---------------------------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------------------------


async def set_budget(tenant: TenantContext, actor: Actor, *, unit: dict[str, Any], fund: str, year: int,
                     amount_fen: int) -> int:
    """Create or change the annual budget of a fund at a unit. Spending so far is counted exactly:
    the exclusive ledger lock waits for in-flight postings and holds new ones for this short moment."""
    amount_fen = clean_amount(amount_fen, allow_zero=True)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "year must be between 2000 and 2100", "year")
    f = await get_fund(tenant, fund)
    async with ledger_tx() as db:
        await posting.lock_exclusive(db, tenant)
        existing = await db.fetchrow("SELECT id, amount_fen FROM ledger_budget WHERE tenant_id = $1 AND org_unit_id = $2 "
                                     "AND fund_id = $3 AND year = $4", tenant.id, unit["id"], f["id"], year)
        if existing is not None:
            await db.execute("UPDATE ledger_budget SET amount_fen = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
                             tenant.id, existing["id"], amount_fen, utcnow())
            budget_id = existing["id"]
            changes: dict[str, Any] = {"amount_fen": [existing["amount_fen"], amount_fen]}
        else:
            codes = ", ".join(f"'{c}'" for c in EXPENSE_CODES)
            spent = await db.fetchval(
                f"SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_posting WHERE tenant_id = $1 AND org_unit_id = $2 "
                f"AND fund_id = $3 AND code IN ({codes}) AND entry_date >= $4 AND entry_date <= $5",
                tenant.id, unit["id"], f["id"], dt.date(year, 1, 1), dt.date(year, 12, 31))
            row = await db.fetchrow(
                "INSERT INTO ledger_budget (tenant_id, org_unit_id, fund_id, year, amount_fen, lifted_fen, spent_fen, "
                "reserved_fen, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6, 0, $7, $8, $8) "
                "RETURNING id", tenant.id, unit["id"], f["id"], year, amount_fen, int(spent or 0), actor.user_id,
                utcnow())
            budget_id = written(row, "budget")["id"]
            changes = {"amount_fen": amount_fen, "unit": unit["id"], "fund": f["code"], "year": year}
        await record(tenant, actor, "budget.set", "Budget", budget_id, changes)
    return budget_id


async def lift_budget(tenant: TenantContext, actor: Actor, budget_id: int, *, amount_fen: int, reason: str) -> int:
    """An approver raises a budget's limit; the lift and its reason are audited."""
    amount_fen = clean_amount(amount_fen)
    reason_ = clean_text("reason", reason, max_len=500)
    async with ledger_tx() as db:
        lock = " FOR NO KEY UPDATE" if db.pg else ""
        b = await db.fetchrow(f"SELECT id, lifted_fen, created_by FROM ledger_budget WHERE tenant_id = $1 AND id = $2"
                              f"{lock}", tenant.id, budget_id)
        if b is None:
            raise not_found("budget")
        await db.execute("UPDATE ledger_budget SET lifted_fen = lifted_fen + $3, updated_at = $4 WHERE tenant_id = $1 "
                         "AND id = $2", tenant.id, budget_id, amount_fen, utcnow())
        await db.execute("INSERT INTO ledger_budget_lift (tenant_id, budget_id, amount_fen, reason, lifted_by, created_at) "
                         "VALUES ($1, $2, $3, $4, $5, $6)", tenant.id, budget_id, amount_fen, reason_, actor.user_id,
                         utcnow())
        await record(tenant, actor, "budget.lift", "Budget", budget_id,
                     {"amount_fen": amount_fen, "reason": reason_, "lifted_fen": [b["lifted_fen"],
                                                                                  b["lifted_fen"] + amount_fen]})
    return budget_id


# ---------------------------------------------------------------------------------------------
# Accounting periods
# ---------------------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def clean_period(value: str) -> str:
    value = (value or "").strip()
    m = _PERIOD_RE.match(value)
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "period must look like 2026-03", "period")
    return value


async def close_period(tenant: TenantContext, actor: Actor, period: str) -> dict[str, Any]:
    """Close a month that has ended: nothing can be posted into it afterwards (PERIOD_CLOSED)."""
    period = clean_period(period)
    y, m = int(period[:4]), int(period[5:])
    first_of_next = dt.date(y + (m == 12), 1 if m == 12 else m + 1, 1)
    if first_of_next > today():
        raise DomainError(ErrorCode.INVALID_INPUT, f"{period} has not ended yet", "period")
    async with ledger_tx() as db:
        await posting.lock_exclusive(db, tenant)
        row = await db.fetchrow("INSERT INTO ledger_period (tenant_id, period, closed_by, closed_at) VALUES ($1, $2, $3, "
                                "$4) ON CONFLICT (tenant_id, period) DO NOTHING RETURNING id", tenant.id, period,
                                actor.user_id, utcnow())
        if row is not None:
            pending = await db.fetchval("SELECT count(*) FROM ledger_draft WHERE tenant_id = $1 AND status = "
                                        "'pending_approval' AND entry_date >= $2 AND entry_date < $3", tenant.id,
                                        dt.date(y, m, 1), first_of_next)
            await record(tenant, actor, "ledger.period.close", "LedgerPeriod", period,
                         {"period": period, "pending_drafts": int(pending or 0)})
        out = await db.fetchrow("SELECT * FROM ledger_period WHERE tenant_id = $1 AND period = $2", tenant.id, period)
    return written(out, "period")

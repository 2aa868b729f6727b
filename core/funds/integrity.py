"""Balances always equal the sum of postings: the check behind `huijia ledger check` and the tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.context import TenantContext
from core.funds.chart import EXPENSE_CODES
from core.funds.sql import read_conn


@dataclass
class CheckReport:
    ok: bool = True
    accounts: int = 0
    entries: int = 0
    budgets: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.ok = False
        if len(self.problems) < 1000:
            self.problems.append(text)


async def check(tenant: TenantContext) -> CheckReport:
    """Every account's balance = sum of its postings; reserved = open reservations' remainders;
    no-negative accounts are not negative; every entry sums to zero and balances per unit and fund;
    budgets' spent and reserved match the postings and reservations behind them."""
    r = CheckReport()
    t = tenant.id
    codes = ", ".join(f"'{c}'" for c in EXPENSE_CODES)
    async with read_conn() as db:
        r.accounts = int(await db.fetchval("SELECT count(*) FROM ledger_account WHERE tenant_id = $1", t) or 0)
        r.entries = int(await db.fetchval("SELECT count(*) FROM ledger_entry WHERE tenant_id = $1", t) or 0)
        r.budgets = int(await db.fetchval("SELECT count(*) FROM ledger_budget WHERE tenant_id = $1", t) or 0)
        for row in await db.fetch(
                "SELECT a.id, a.code, a.balance_fen, COALESCE(p.total, 0) AS total FROM ledger_account a LEFT JOIN "
                "(SELECT account_id, SUM(amount_fen) AS total FROM ledger_posting WHERE tenant_id = $1 GROUP BY "
                "account_id) p ON p.account_id = a.id WHERE a.tenant_id = $1 AND a.balance_fen <> COALESCE(p.total, 0)",
                t):
            r.problem(f"account {row['id']} ({row['code']}): balance {row['balance_fen']} != postings {row['total']}")
        for row in await db.fetch(
                "SELECT a.id, a.code, a.reserved_fen, COALESCE(x.held, 0) AS held FROM ledger_account a LEFT JOIN "
                "(SELECT account_id, SUM(amount_fen - posted_fen) AS held FROM ledger_reservation WHERE tenant_id = $1 "
                "AND status IN ('open', 'pending_approval') GROUP BY account_id) x ON x.account_id = a.id WHERE a.tenant_id = $1 AND "
                "a.reserved_fen <> COALESCE(x.held, 0)", t):
            r.problem(f"account {row['id']} ({row['code']}): reserved {row['reserved_fen']} != open reservations "
                      f"{row['held']}")
        for row in await db.fetch(
                "SELECT id, code, normal_sign * balance_fen - reserved_fen AS available FROM ledger_account WHERE "
                "tenant_id = $1 AND no_negative AND normal_sign * balance_fen - reserved_fen < 0", t):
            r.problem(f"account {row['id']} ({row['code']}) is negative: {row['available']} available")
        for row in await db.fetch(
                "SELECT entry_id, SUM(amount_fen) AS s FROM ledger_posting WHERE tenant_id = $1 GROUP BY entry_id "
                "HAVING SUM(amount_fen) <> 0 LIMIT 100", t):
            r.problem(f"entry {row['entry_id']} is unbalanced by {row['s']} fen")
        for row in await db.fetch(
                "SELECT entry_id, org_unit_id, fund_id, SUM(amount_fen) AS s FROM ledger_posting WHERE tenant_id = $1 "
                "GROUP BY entry_id, org_unit_id, fund_id HAVING SUM(amount_fen) <> 0 LIMIT 100", t):
            r.problem(f"entry {row['entry_id']}: unit {row['org_unit_id']} fund {row['fund_id']} off by {row['s']} fen")
        for row in await db.fetch(
                "SELECT e.id FROM ledger_entry e WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM ledger_posting p "
                "WHERE p.tenant_id = e.tenant_id AND p.entry_id = e.id) LIMIT 100", t):
            r.problem(f"entry {row['id']} has no postings")
        for b in await db.fetch(
                "SELECT id, org_unit_id, fund_id, year, spent_fen, reserved_fen FROM ledger_budget WHERE tenant_id = $1",
                t):
            spent = await db.fetchval(
                f"SELECT COALESCE(SUM(amount_fen), 0) FROM ledger_posting WHERE tenant_id = $1 AND org_unit_id = $2 AND "
                f"fund_id = $3 AND code IN ({codes}) AND entry_date >= $4 AND entry_date <= $5", t, b["org_unit_id"],
                b["fund_id"], _d(b["year"], 1, 1), _d(b["year"], 12, 31))
            held = await db.fetchval(
                "SELECT COALESCE(SUM(amount_fen - posted_fen), 0) FROM ledger_reservation WHERE tenant_id = $1 AND "
                "budget_id = $2 AND status IN ('open', 'pending_approval')", t, b["id"])
            if int(spent) != b["spent_fen"]:
                r.problem(f"budget {b['id']} ({b['year']}): spent {b['spent_fen']} != postings {spent}")
            if int(held) != b["reserved_fen"]:
                r.problem(f"budget {b['id']} ({b['year']}): reserved {b['reserved_fen']} != open reservations {held}")
    return r


def _d(y: int, m: int, d: int) -> dt.date:
    return dt.date(y, m, d)

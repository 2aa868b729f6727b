"""Ledger reports for any date range, aggregated over an org-unit subtree.

Every entry balances per (org unit, fund) (see :mod:`core.funds.posting`), so any subtree's trial
balance balances too, even when an entry also touches units outside it (a remittance to the parent).

All reports read ``ledger_posting`` (dates and units are copied onto each posting) joined to
``org_unit`` for the subtree, in one grouped query each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core.context import TenantContext
from core.dbutil import raw
from core.errors import DomainError, ErrorCode
from core.funds.chart import CHART, EXPENSE_CODES

MAX_RANGE_DAYS = 366 * 50


@dataclass(frozen=True)
class ReportScope:
    subtree_path: str
    date_from: dt.date | None
    date_to: dt.date
    fund_id: int | None = None

    def check(self) -> ReportScope:
        if self.date_from and self.date_from > self.date_to:
            raise DomainError(ErrorCode.INVALID_INPUT, "dateFrom is after dateTo", "dateFrom")
        if self.date_from and (self.date_to - self.date_from).days > MAX_RANGE_DAYS:
            raise DomainError(ErrorCode.INVALID_INPUT, "the date range is too long", "dateFrom")
        return self


def _where(tenant: TenantContext, scope: ReportScope, alias: str = "p") -> tuple[str, list[Any]]:
    where = (f"{alias}.tenant_id = {{}} AND {alias}.entry_date <= {{}} AND {alias}.org_unit_id IN "
             f"(SELECT id FROM org_unit WHERE tenant_id = {{}} AND path LIKE {{}})")
    args: list[Any] = [tenant.id, scope.date_to, tenant.id, scope.subtree_path + "%"]
    if scope.fund_id is not None:
        where += f" AND {alias}.fund_id = {{}}"
        args.append(scope.fund_id)
    return where, args


def _from(scope: ReportScope) -> dt.date:
    return scope.date_from or dt.date(1900, 1, 1)


# ---------------------------------------------------------------------------------------------
# Trial balance
# ---------------------------------------------------------------------------------------------


@dataclass
class TrialRow:
    code: str
    name: str
    type: str
    opening_fen: int  # signed, debit positive
    debit_fen: int
    credit_fen: int
    closing_fen: int


@dataclass
class TrialBalance:
    rows: list[TrialRow]
    total_debit_fen: int = 0
    total_credit_fen: int = 0
    opening_total_fen: int = 0
    closing_total_fen: int = 0

    @property
    def balanced(self) -> bool:
        return self.total_debit_fen == self.total_credit_fen and self.opening_total_fen == 0 and self.closing_total_fen == 0


async def trial_balance(tenant: TenantContext, scope: ReportScope) -> TrialBalance:
    where, args = _where(tenant, scope)
    start = _from(scope)
    rows = await raw(
        "SELECT p.code, "
        "SUM(CASE WHEN p.entry_date < {} THEN p.amount_fen ELSE 0 END) AS opening, "
        "SUM(CASE WHEN p.entry_date >= {} AND p.amount_fen > 0 THEN p.amount_fen ELSE 0 END) AS debit, "
        "SUM(CASE WHEN p.entry_date >= {} AND p.amount_fen < 0 THEN -p.amount_fen ELSE 0 END) AS credit "
        f"FROM ledger_posting p WHERE {where} GROUP BY p.code ORDER BY p.code", start, start, start, *args)
    out = []
    for r in rows:
        d = CHART[r["code"]]
        opening, debit, credit = int(r["opening"] or 0), int(r["debit"] or 0), int(r["credit"] or 0)
        out.append(TrialRow(r["code"], d.name, d.type, opening, debit, credit, opening + debit - credit))
    tb = TrialBalance(out)
    tb.total_debit_fen = sum(r.debit_fen for r in out)
    tb.total_credit_fen = sum(r.credit_fen for r in out)
    tb.opening_total_fen = sum(r.opening_fen for r in out)
    tb.closing_total_fen = sum(r.closing_fen for r in out)
    return tb


# ---------------------------------------------------------------------------------------------
# Fund statement per org unit
# ---------------------------------------------------------------------------------------------


@dataclass
class FundStatementRow:
    org_unit_id: int
    org_unit_code: str
    org_unit_name: str
    level: str
    fund_id: int
    opening_cash_fen: int
    income_fen: int
    expense_fen: int
    closing_cash_fen: int
    reserved_fen: int = 0

    @property
    def other_cash_fen(self) -> int:
        """Cash movements that are neither income nor spending (transfers between funds or levels, 往来)."""
        return self.closing_cash_fen - self.opening_cash_fen - self.income_fen + self.expense_fen


async def fund_statement(tenant: TenantContext, scope: ReportScope) -> list[FundStatementRow]:
    where, args = _where(tenant, scope)
    start = _from(scope)
    rows = await raw(
        "SELECT p.org_unit_id, p.fund_id, "
        "SUM(CASE WHEN p.code IN ('101','102') AND p.entry_date < {} THEN p.amount_fen ELSE 0 END) AS opening_cash, "
        "SUM(CASE WHEN p.code IN ('101','102') THEN p.amount_fen ELSE 0 END) AS closing_cash, "
        "SUM(CASE WHEN p.code LIKE '4%' AND p.entry_date >= {} THEN -p.amount_fen ELSE 0 END) AS income, "
        "SUM(CASE WHEN p.code LIKE '5%' AND p.entry_date >= {} THEN p.amount_fen ELSE 0 END) AS expense "
        f"FROM ledger_posting p WHERE {where} GROUP BY p.org_unit_id, p.fund_id", start, start, start, *args)
    if not rows:
        return []
    unit_ids = sorted({r["org_unit_id"] for r in rows})
    marks = ", ".join("{}" for _ in unit_ids)
    units = {u["id"]: u for u in await raw(
        f"SELECT id, code, name, level, path FROM org_unit WHERE tenant_id = {{}} AND id IN ({marks})",
        tenant.id, *unit_ids)}
    reserved = {(r["org_unit_id"], r["fund_id"]): int(r["reserved"] or 0) for r in await raw(
        f"SELECT org_unit_id, fund_id, SUM(reserved_fen) AS reserved FROM ledger_account WHERE tenant_id = {{}} AND "
        f"org_unit_id IN ({marks}) GROUP BY org_unit_id, fund_id", tenant.id, *unit_ids)}
    out = []
    for r in rows:
        u = units[r["org_unit_id"]]
        out.append(FundStatementRow(
            r["org_unit_id"], u["code"], u["name"], u["level"], r["fund_id"], int(r["opening_cash"] or 0),
            int(r["income"] or 0), int(r["expense"] or 0), int(r["closing_cash"] or 0),
            reserved.get((r["org_unit_id"], r["fund_id"]), 0)))
    out.sort(key=lambda x: (units[x.org_unit_id]["path"], x.fund_id))
    return out


# ---------------------------------------------------------------------------------------------
# Expenditure structure (501-508) and the grassroots share of spending
# ---------------------------------------------------------------------------------------------


@dataclass
class CategoryRow:
    code: str
    name: str
    amount_fen: int
    share_bp: int


@dataclass
class ExpenditureStructure:
    total_fen: int
    rows: list[CategoryRow]


def _bp(part: int, whole: int) -> int:
    return (part * 10000 // whole) if whole > 0 else 0


async def expenditure_structure(tenant: TenantContext, scope: ReportScope) -> ExpenditureStructure:
    where, args = _where(tenant, scope)
    rows = await raw(
        f"SELECT p.code, SUM(p.amount_fen) AS amount FROM ledger_posting p WHERE {where} AND p.code LIKE '5%' "
        "AND p.entry_date >= {} GROUP BY p.code", *args, _from(scope))
    amounts = {r["code"]: int(r["amount"] or 0) for r in rows}
    total = sum(amounts.values())
    return ExpenditureStructure(total, [CategoryRow(c, CHART[c].name, amounts.get(c, 0), _bp(amounts.get(c, 0), total))
                                        for c in EXPENSE_CODES])


@dataclass
class LevelRow:
    level: str
    spending_fen: int
    share_bp: int


@dataclass
class GrassrootsShare:
    total_spending_fen: int
    grassroots_spending_fen: int
    share_bp: int
    by_level: list[LevelRow] = field(default_factory=list)


async def grassroots_share(tenant: TenantContext, scope: ReportScope) -> GrassrootsShare:
    """Share of spending done at grassroots unions (经费向基层一线倾斜). 506 补助下级 is left out: a
    grant down is spent again by the level that receives it, and counting both would double it."""
    where, args = _where(tenant, scope)
    rows = await raw(
        f"SELECT ou.level, SUM(p.amount_fen) AS amount FROM ledger_posting p JOIN org_unit ou ON ou.id = p.org_unit_id "
        f"WHERE {where} AND p.code LIKE '5%' AND p.code <> '506' AND p.entry_date >= {{}} GROUP BY ou.level",
        *args, _from(scope))
    by_level = {r["level"]: int(r["amount"] or 0) for r in rows}
    total = sum(by_level.values())
    grassroots = by_level.get("grassroots", 0)
    order = ["province", "city", "county", "industry", "grassroots"]
    levels = [LevelRow(lv, by_level.get(lv, 0), _bp(by_level.get(lv, 0), total)) for lv in order if lv in by_level]
    return GrassrootsShare(total, grassroots, _bp(grassroots, total), levels)


# ---------------------------------------------------------------------------------------------
# Flows up and down the hierarchy
# ---------------------------------------------------------------------------------------------


@dataclass
class FlowRow:
    direction: str
    kind: str
    from_unit_id: int
    from_unit_name: str
    from_level: str
    to_unit_id: int
    to_unit_name: str
    to_level: str
    amount_fen: int
    count: int


@dataclass
class Flows:
    up_fen: int
    down_fen: int
    rows: list[FlowRow]


async def flows(tenant: TenantContext, scope: ReportScope) -> Flows:
    """Levy shares and 上解 going up, grants (补助下级) and refunds going down, where either end is in
    the subtree. Reversals count negative."""
    path = scope.subtree_path + "%"
    args: list[Any] = [tenant.id, _from(scope), scope.date_to, tenant.id, path, tenant.id, path]
    fund_sql = ""
    if scope.fund_id is not None:
        fund_sql = " AND t.fund_id = {}"
        args.append(scope.fund_id)
    rows = await raw(
        "SELECT t.direction, t.kind, t.from_unit_id, t.to_unit_id, SUM(t.amount_fen) AS amount, COUNT(*) AS n "
        "FROM ledger_transfer t WHERE t.tenant_id = {} AND t.entry_date >= {} AND t.entry_date <= {} AND "
        "(t.from_unit_id IN (SELECT id FROM org_unit WHERE tenant_id = {} AND path LIKE {}) OR t.to_unit_id IN "
        f"(SELECT id FROM org_unit WHERE tenant_id = {{}} AND path LIKE {{}})){fund_sql} "
        "GROUP BY t.direction, t.kind, t.from_unit_id, t.to_unit_id", *args)
    if not rows:
        return Flows(0, 0, [])
    ids = sorted({r["from_unit_id"] for r in rows} | {r["to_unit_id"] for r in rows})
    marks = ", ".join("{}" for _ in ids)
    units = {u["id"]: u for u in await raw(
        f"SELECT id, name, level, path FROM org_unit WHERE tenant_id = {{}} AND id IN ({marks})", tenant.id, *ids)}
    out = []
    for r in rows:
        f, t = units[r["from_unit_id"]], units[r["to_unit_id"]]
        out.append(FlowRow(r["direction"], r["kind"], f["id"], f["name"], f["level"], t["id"], t["name"], t["level"],
                           int(r["amount"] or 0), int(r["n"])))
    out.sort(key=lambda x: (x.direction, units[x.from_unit_id]["path"], units[x.to_unit_id]["path"], x.kind))
    return Flows(sum(r.amount_fen for r in out if r.direction == "up"),
                 sum(r.amount_fen for r in out if r.direction == "down"), out)


# ---------------------------------------------------------------------------------------------
# Tables for export
# ---------------------------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


async def report_table(tenant: TenantContext, report: str, scope: ReportScope, fund_codes: dict[int, str]
                       ) -> tuple[str, list[str], list[list[Any]]]:
    """(title, headers, rows) for CSV/XLSX. Amounts appear in fen (exact) and in 元."""
    if report == "trial_balance":
        tb = await trial_balance(tenant, scope)
        rows = [[r.code, r.name, r.type, r.opening_fen, r.debit_fen, r.credit_fen, r.closing_fen, _yuan(r.closing_fen)]
                for r in tb.rows]
        rows.append(["", "合计", "", tb.opening_total_fen, tb.total_debit_fen, tb.total_credit_fen, tb.closing_total_fen,
                     _yuan(tb.closing_total_fen)])
        return "试算平衡表", ["科目代码", "科目名称", "类别", "期初(分,借正)", "借方发生额(分)", "贷方发生额(分)",
                          "期末(分,借正)", "期末(元)"], rows
    if report == "fund_statement":
        st = await fund_statement(tenant, scope)
        return "经费收支情况表", ["单位代码", "单位名称", "层级", "资金", "期初现金(分)", "收入(分)", "支出(分)",
                               "其他变动(分)", "期末现金(分)", "已预留(分)", "期末现金(元)"], [
            [r.org_unit_code, r.org_unit_name, r.level, fund_codes.get(r.fund_id, str(r.fund_id)), r.opening_cash_fen,
             r.income_fen, r.expense_fen, r.other_cash_fen, r.closing_cash_fen, r.reserved_fen,
             _yuan(r.closing_cash_fen)] for r in st]
    if report == "expenditure_structure":
        es = await expenditure_structure(tenant, scope)
        rows = [[r.code, r.name, r.amount_fen, _yuan(r.amount_fen), f"{r.share_bp / 100:.2f}%"] for r in es.rows]
        rows.append(["", "合计", es.total_fen, _yuan(es.total_fen), "100.00%" if es.total_fen else "0.00%"])
        return "支出结构表", ["科目代码", "支出类别", "金额(分)", "金额(元)", "占比"], rows
    if report == "grassroots_share":
        gs = await grassroots_share(tenant, scope)
        rows = [[r.level, r.spending_fen, _yuan(r.spending_fen), f"{r.share_bp / 100:.2f}%"] for r in gs.by_level]
        rows.append(["合计", gs.total_spending_fen, _yuan(gs.total_spending_fen), "100.00%" if gs.total_spending_fen else "0.00%"])
        return "基层经费占比", ["层级", "支出(分,不含补助下级)", "支出(元)", "占比"], rows
    if report == "flows":
        fl = await flows(tenant, scope)
        rows = [[r.direction, r.kind, r.from_unit_name, r.from_level, r.to_unit_name, r.to_level, r.count, r.amount_fen,
                 _yuan(r.amount_fen)] for r in fl.rows]
        return "上下级资金往来", ["方向", "类型", "付款单位", "层级", "收款单位", "层级", "笔数", "金额(分)",
                               "金额(元)"], rows
    raise DomainError(ErrorCode.INVALID_INPUT, f"unknown report {report!r}", "report")

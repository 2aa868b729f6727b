"""Reads of the ledger. Every query filters on tenant_id (RLS is only the second fence); list
queries take ``scope_paths`` (the principal's subtree roots) and see only rows of units inside them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable

from core.context import TenantContext
from core.dbutil import raw
from core.funds.tables import Account, Budget, Draft, Entry, Fund, LedgerConfig, Period, Posting, Reservation

# ---------------------------------------------------------------------------------------------
# Funds: tiny and hot, cached per process for a few seconds (creation clears the cache).
# ---------------------------------------------------------------------------------------------

_fund_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}
_FUND_TTL = 30.0


def forget_funds(tenant: TenantContext) -> None:
    _fund_cache.pop(tenant.id, None)


async def list_funds(tenant: TenantContext) -> list[dict[str, Any]]:
    hit = _fund_cache.get(tenant.id)
    now = time.monotonic()
    if hit and now - hit[0] < _FUND_TTL:
        return hit[1]
    rows = await Fund.select().where(Fund.tenant_id == tenant.id).order_by(Fund.id)
    _fund_cache[tenant.id] = (now, rows)
    return rows


async def funds_by_code(tenant: TenantContext) -> dict[str, dict[str, Any]]:
    return {f["code"]: f for f in await list_funds(tenant)}


async def funds_by_id(tenant: TenantContext) -> dict[int, dict[str, Any]]:
    return {f["id"]: f for f in await list_funds(tenant)}


async def fund_codes(tenant: TenantContext) -> dict[int, str]:
    found = {f["id"]: f["code"] for f in await list_funds(tenant)}
    return found


async def funds_by_ids(tenant: TenantContext, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    by_id = await funds_by_id(tenant)
    if any(i not in by_id for i in ids):
        forget_funds(tenant)
        by_id = await funds_by_id(tenant)
    return [by_id.get(i) for i in ids]


# ---------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------

ACCOUNT_COLUMNS = (Account.id, Account.org_unit_id, Account.fund_id, Account.code, Account.name, Account.type,
                   Account.normal_sign, Account.no_negative, Account.balance_fen, Account.reserved_fen,
                   Account.created_at)


async def accounts_by_ids(tenant: TenantContext, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    if not ids:
        return []
    rows = await Account.select(*ACCOUNT_COLUMNS).where((Account.tenant_id == tenant.id) & Account.id.is_in(list(ids)))
    by_id = {r["id"]: r for r in rows}
    return [by_id.get(i) for i in ids]


def _scope(scope_paths: Sequence[str] | None, column: str, tenant_id: int) -> tuple[str, list[Any]]:
    if scope_paths is None:
        return "", []
    if not scope_paths:
        return " AND 1 = 0", []
    likes = " OR ".join("ou.path LIKE {}" for _ in scope_paths)
    return (f" AND {column} IN (SELECT ou.id FROM org_unit ou WHERE ou.tenant_id = {{}} AND ({likes}))",
            [tenant_id, *[p + "%" for p in scope_paths]])


@dataclass(frozen=True)
class AccountFilter:
    org_unit_id: int | None = None
    subtree_path: str | None = None
    fund_id: int | None = None
    code: str | None = None
    type: str | None = None
    nonzero: bool = False


async def list_accounts(tenant: TenantContext, flt: AccountFilter, *, scope_paths: Sequence[str] | None,
                        offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    where = "a.tenant_id = {}"
    args: list[Any] = [tenant.id]
    if flt.org_unit_id is not None:
        where += " AND a.org_unit_id = {}"
        args.append(flt.org_unit_id)
    if flt.subtree_path:
        where += " AND a.org_unit_id IN (SELECT id FROM org_unit WHERE tenant_id = {} AND path LIKE {})"
        args += [tenant.id, flt.subtree_path + "%"]
    if flt.fund_id is not None:
        where += " AND a.fund_id = {}"
        args.append(flt.fund_id)
    if flt.code:
        where += " AND a.code = {}"
        args.append(flt.code)
    if flt.type:
        where += " AND a.type = {}"
        args.append(flt.type)
    if flt.nonzero:
        where += " AND (a.balance_fen <> 0 OR a.reserved_fen <> 0)"
    s, sargs = _scope(scope_paths, "a.org_unit_id", tenant.id)
    where += s
    args += sargs
    rows = await raw(f"SELECT a.* FROM ledger_account a WHERE {where} ORDER BY a.org_unit_id, a.fund_id, a.code "
                     f"LIMIT {int(limit)} OFFSET {int(offset)}", *args)
    total = (await raw(f"SELECT count(*) AS n FROM ledger_account a WHERE {where}", *args))[0]["n"]
    return rows, int(total)


# ---------------------------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------------------------


async def get_entry(tenant: TenantContext, entry_id: int) -> dict[str, Any] | None:
    return await Entry.select().where((Entry.tenant_id == tenant.id) & (Entry.id == entry_id)).first()


async def entries_by_ids(tenant: TenantContext, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    rows = await Entry.select().where((Entry.tenant_id == tenant.id) & Entry.id.is_in(list(ids))) if ids else []
    by_id = {r["id"]: r for r in rows}
    return [by_id.get(i) for i in ids]


async def entry_lines(tenant: TenantContext, entry_id: int) -> list[dict[str, Any]]:
    return await Posting.select().where((Posting.tenant_id == tenant.id) & (Posting.entry_id == entry_id)).order_by(
        Posting.id)


async def postings_for_entries(tenant: TenantContext, entry_ids: Sequence[int]) -> list[list[dict[str, Any]]]:
    if not entry_ids:
        return []
    rows = await Posting.select().where((Posting.tenant_id == tenant.id) & Posting.entry_id.is_in(list(entry_ids))
                                        ).order_by(Posting.id)
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in entry_ids}
    for r in rows:
        out[r["entry_id"]].append(r)
    return [out[i] for i in entry_ids]


async def reversals_of(tenant: TenantContext, entry_ids: Sequence[int]) -> list[dict[str, Any] | None]:
    if not entry_ids:
        return []
    rows = await Entry.select().where((Entry.tenant_id == tenant.id) & Entry.reverses_id.is_in(list(entry_ids)))
    by = {r["reverses_id"]: r for r in rows}
    return [by.get(i) for i in entry_ids]


async def chain_links(tenant: TenantContext, entry_ids: Sequence[int]) -> list[dict[str, Any] | None]:
    from core.funds.tables import ChainLink

    if not entry_ids:
        return []
    rows = await ChainLink.select(ChainLink.entry_id, ChainLink.seq, ChainLink.hash).where(
        (ChainLink.tenant_id == tenant.id) & ChainLink.entry_id.is_in(list(entry_ids)))
    by = {r["entry_id"]: r for r in rows}
    return [by.get(i) for i in entry_ids]


@dataclass(frozen=True)
class EntryFilter:
    account_id: int | None = None
    org_unit_id: int | None = None
    subtree_path: str | None = None
    fund_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    source_type: str | None = None
    source_id: str | None = None
    kind: str | None = None
    key: str | None = None


async def list_entries(tenant: TenantContext, flt: EntryFilter, *, scope_paths: Sequence[str] | None,
                       offset: int, limit: int, descending: bool = True) -> tuple[list[dict[str, Any]], int]:
    where = "e.tenant_id = {}"
    args: list[Any] = [tenant.id]
    if flt.date_from:
        where += " AND e.entry_date >= {}"
        args.append(flt.date_from)
    if flt.date_to:
        where += " AND e.entry_date <= {}"
        args.append(flt.date_to)
    if flt.source_type:
        where += " AND e.source_type = {}"
        args.append(flt.source_type)
    if flt.source_id:
        where += " AND e.source_id = {}"
        args.append(flt.source_id)
    if flt.kind:
        where += " AND e.kind = {}"
        args.append(flt.kind)
    if flt.key:
        # A client's key is stored as user:<key>; system and pre-namespace keys as given.
        where += " AND e.idempotency_key IN ({}, {})"
        args += [f"user:{flt.key}", flt.key]
    posting_conds = []
    pargs: list[Any] = []
    if flt.account_id is not None:
        posting_conds.append("p.account_id = {}")
        pargs.append(flt.account_id)
    if flt.org_unit_id is not None:
        posting_conds.append("p.org_unit_id = {}")
        pargs.append(flt.org_unit_id)
    if flt.fund_id is not None:
        posting_conds.append("p.fund_id = {}")
        pargs.append(flt.fund_id)
    if flt.subtree_path:
        posting_conds.append("p.org_unit_id IN (SELECT id FROM org_unit WHERE tenant_id = {} AND path LIKE {})")
        pargs += [tenant.id, flt.subtree_path + "%"]
    s, sargs = _scope(scope_paths, "p.org_unit_id", tenant.id)
    if posting_conds or s:
        cond = " AND ".join(posting_conds) if posting_conds else "1 = 1"
        where += f" AND EXISTS (SELECT 1 FROM ledger_posting p WHERE p.entry_id = e.id AND p.tenant_id = {{}} AND {cond}{s})"
        args += [tenant.id, *pargs, *sargs]
    order = "DESC" if descending else "ASC"
    rows = await raw(f"SELECT e.* FROM ledger_entry e WHERE {where} ORDER BY e.entry_date {order}, e.id {order} "
                     f"LIMIT {int(limit)} OFFSET {int(offset)}", *args)
    total = (await raw(f"SELECT count(*) AS n FROM ledger_entry e WHERE {where}", *args))[0]["n"]
    return rows, int(total)


async def entry_unit_paths(tenant: TenantContext, entry_id: int) -> list[str]:
    rows = await raw("SELECT DISTINCT ou.path FROM ledger_posting p JOIN org_unit ou ON ou.id = p.org_unit_id "
                     "WHERE p.tenant_id = {} AND p.entry_id = {}", tenant.id, entry_id)
    return [r["path"] for r in rows]


# ---------------------------------------------------------------------------------------------
# Drafts, reservations, budgets, periods, config
# ---------------------------------------------------------------------------------------------


async def get_draft(tenant: TenantContext, draft_id: int) -> dict[str, Any] | None:
    return await Draft.select().where((Draft.tenant_id == tenant.id) & (Draft.id == draft_id)).first()


async def draft_unit_paths(tenant: TenantContext, draft: dict[str, Any]) -> list[str]:
    import json

    lines = draft["postings"] if isinstance(draft["postings"], list) else json.loads(draft["postings"])
    ids = [a for a, _ in lines]
    if not ids:
        return []
    marks = ", ".join("{}" for _ in ids)
    rows = await raw(f"SELECT DISTINCT ou.path FROM ledger_account a JOIN org_unit ou ON ou.id = a.org_unit_id "
                     f"WHERE a.tenant_id = {{}} AND a.id IN ({marks})", tenant.id, *ids)
    return [r["path"] for r in rows]


async def list_drafts(tenant: TenantContext, *, status: str | None, scope_paths: Sequence[str] | None,
                      offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Drafts are few (manual entries above the threshold), so the scope filter runs in Python over one
    query for the drafts and one for the org units of all their accounts."""
    import json

    cond: Combinable = Draft.tenant_id == tenant.id
    if status:
        cond &= Draft.status == status
    rows = await Draft.select().where(cond).order_by(Draft.id, ascending=False).limit(5000)
    if scope_paths is not None and rows:
        lines = {r["id"]: (r["postings"] if isinstance(r["postings"], list) else json.loads(r["postings"])) for r in rows}
        ids = sorted({a for ls in lines.values() for a, _ in ls})
        marks = ", ".join("{}" for _ in ids)
        paths = {r["id"]: r["path"] for r in await raw(
            f"SELECT a.id, ou.path FROM ledger_account a JOIN org_unit ou ON ou.id = a.org_unit_id "
            f"WHERE a.tenant_id = {{}} AND a.id IN ({marks})", tenant.id, *ids)} if ids else {}
        rows = [r for r in rows if any(paths.get(a, "").startswith(s) and paths.get(a)
                                       for a, _ in lines[r["id"]] for s in scope_paths)]
    return rows[offset:offset + limit], len(rows)


async def get_reservation(tenant: TenantContext, res_id: int) -> dict[str, Any] | None:
    return await Reservation.select().where((Reservation.tenant_id == tenant.id) & (Reservation.id == res_id)).first()


async def list_reservations(tenant: TenantContext, *, status: str | None, org_unit_id: int | None,
                            fund_id: int | None, source_type: str | None, source_id: str | None,
                            scope_paths: Sequence[str] | None, offset: int, limit: int
                            ) -> tuple[list[dict[str, Any]], int]:
    where = "r.tenant_id = {}"
    args: list[Any] = [tenant.id]
    for col, val in (("status", status), ("org_unit_id", org_unit_id), ("fund_id", fund_id),
                     ("source_type", source_type), ("source_id", source_id)):
        if val is not None:
            where += f" AND r.{col} = {{}}"
            args.append(val)
    s, sargs = _scope(scope_paths, "r.org_unit_id", tenant.id)
    where += s
    args += sargs
    rows = await raw(f"SELECT r.* FROM ledger_reservation r WHERE {where} ORDER BY r.id DESC "
                     f"LIMIT {int(limit)} OFFSET {int(offset)}", *args)
    total = (await raw(f"SELECT count(*) AS n FROM ledger_reservation r WHERE {where}", *args))[0]["n"]
    return rows, int(total)


async def get_budget(tenant: TenantContext, budget_id: int) -> dict[str, Any] | None:
    return await Budget.select().where((Budget.tenant_id == tenant.id) & (Budget.id == budget_id)).first()


async def list_budgets(tenant: TenantContext, *, year: int | None, org_unit_id: int | None, fund_id: int | None,
                       scope_paths: Sequence[str] | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    where = "b.tenant_id = {}"
    args: list[Any] = [tenant.id]
    for col, val in (("year", year), ("org_unit_id", org_unit_id), ("fund_id", fund_id)):
        if val is not None:
            where += f" AND b.{col} = {{}}"
            args.append(val)
    s, sargs = _scope(scope_paths, "b.org_unit_id", tenant.id)
    where += s
    args += sargs
    rows = await raw(f"SELECT b.* FROM ledger_budget b WHERE {where} ORDER BY b.year DESC, b.org_unit_id, b.fund_id "
                     f"LIMIT {int(limit)} OFFSET {int(offset)}", *args)
    total = (await raw(f"SELECT count(*) AS n FROM ledger_budget b WHERE {where}", *args))[0]["n"]
    return rows, int(total)


async def budget_lifts_of(tenant: TenantContext, budget_ids: Sequence[int]) -> list[list[dict[str, Any]]]:
    """The lifts of many budgets in one query (a page of budgets), each budget's in order."""
    from core.funds.tables import BudgetLift

    if not budget_ids:
        return []
    rows = await BudgetLift.select().where((BudgetLift.tenant_id == tenant.id) & BudgetLift.budget_id.is_in(list(budget_ids))
                                           ).order_by(BudgetLift.id)
    by_budget: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_budget.setdefault(r["budget_id"], []).append(r)
    return [by_budget.get(b, []) for b in budget_ids]


async def list_periods(tenant: TenantContext) -> list[dict[str, Any]]:
    return await Period.select().where(Period.tenant_id == tenant.id).order_by(Period.period, ascending=False)


async def ledger_config(tenant: TenantContext) -> dict[str, Any] | None:
    return await LedgerConfig.select().where(LedgerConfig.tenant_id == tenant.id).first()


async def fund_by_level(tenant: TenantContext, fund_code: str, year: int,
                        scope_paths: Sequence[str] | None) -> list[dict[str, Any]]:
    """One fund's money by the level of the union holding it (province, city, county, industry,
    grassroots), within ``scope_paths`` (None: the whole tenant): ``balance_fen`` on its asset
    accounts, ``reserved_fen`` held by open reservations on them, and ``spent_fen`` on expense
    accounts in ``year`` (506 补助下级 left out: a grant down is spent again by the level receiving
    it). Read from the accounts' running balances and the postings, never from a plugin's tables."""
    fund = (await funds_by_code(tenant)).get(fund_code)
    if fund is None:
        return []
    scope, scope_args = _scope(scope_paths, "a.org_unit_id", tenant.id)
    held = await raw("SELECT o.level, coalesce(sum(a.balance_fen), 0) AS balance, coalesce(sum(a.reserved_fen), 0) "
                     "AS reserved FROM ledger_account a JOIN org_unit o ON o.id = a.org_unit_id AND o.tenant_id = "
                     f"a.tenant_id WHERE a.tenant_id = {{}} AND a.fund_id = {{}} AND a.type = 'asset'{scope} "
                     "GROUP BY o.level", tenant.id, fund["id"], *scope_args)
    pscope, pscope_args = _scope(scope_paths, "p.org_unit_id", tenant.id)
    spent = await raw("SELECT o.level, coalesce(sum(p.amount_fen), 0) AS spent FROM ledger_posting p JOIN org_unit o "
                      "ON o.id = p.org_unit_id AND o.tenant_id = p.tenant_id WHERE p.tenant_id = {} AND p.fund_id = {} "
                      f"AND p.code LIKE '5%' AND p.code <> '506' AND p.entry_date >= {{}} AND p.entry_date <= {{}}"
                      f"{pscope} GROUP BY o.level", tenant.id, fund["id"], dt.date(year, 1, 1), dt.date(year, 12, 31),
                      *pscope_args)
    out: dict[str, dict[str, Any]] = {}
    for r in held:
        out.setdefault(r["level"], {"level": r["level"], "balance_fen": 0, "reserved_fen": 0, "spent_fen": 0}).update(
            balance_fen=int(r["balance"]), reserved_fen=int(r["reserved"]))
    for r in spent:
        out.setdefault(r["level"], {"level": r["level"], "balance_fen": 0, "reserved_fen": 0, "spent_fen": 0})[
            "spent_fen"] = int(r["spent"])
    order = ["province", "city", "county", "industry", "grassroots"]
    return sorted(out.values(), key=lambda x: order.index(x["level"]) if x["level"] in order else len(order))

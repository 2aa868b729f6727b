"""The posting engine: one balanced entry, atomically, with every invariant checked.

Order inside the transaction (the same for every path, so concurrent postings cannot deadlock):

1. a *shared* per-tenant advisory lock (period close and budget creation take it exclusively);
2. the entry row, ``INSERT … ON CONFLICT (tenant_id, idempotency_key) DO NOTHING``: a repeated key
   inserts nothing, waits for the first transaction to finish, and the caller gets the first entry
   back; no exception is caught inside the transaction (in a piccolo transaction that
   turns the final COMMIT into a silent ROLLBACK);
3. (reservations: their row, locked by the caller before calling in);
4. the accounts, ``ORDER BY id FOR NO KEY UPDATE`` (compatible with the KEY SHARE locks that
   foreign-key checks take, so inserting a row that references an account never deadlocks with the
   account's update);
5. the budgets touched by 5xx postings, in id order;
6. checks (per unit-and-fund balance, no-negative in Python on the locked rows; closed period and
   budget limits on the results of the write statement), balance and budget updates, the postings,
   the transfer rows and the chain queue row.

On PostgreSQL all six steps are one call of the PL/pgSQL function ``ledger_post_checked`` (see
``_post_fn``), sent without BEGIN/COMMIT when the posting has a transaction of its own: one round
trip where a bare insert of the same rows takes four. Inside it, step 4 is one ``UPDATE`` by primary
key per account in id order (the row is locked as it is written; a guard keeps the CHECK constraints
from firing so refusals keep the ledger's messages), and the usual entry, charging at most one budget,
writes its postings, that budget and reads the period's state in one statement. A database without
the function (not yet migrated) takes ``_post_pg``: steps 1–4 in one statement, step 6 in another.
SQLite and Citus go statement by statement (``_post_generic``).

Any refusal raises a DomainError out of the transaction, which rolls everything back. PostgreSQL
CHECK constraints (no-negative, non-zero postings) stand behind the Python checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from core.context import TenantContext
from core.errors import DomainError, ErrorCode
from core.funds import chain
from core.funds.chart import EXPENSE_CODES, NO_SWING_CODES
from core.funds.sql import Sql, has_function, ledger_tx, own_call_possible, read_conn

LEDGER_LOCK_NAMESPACE = 1010

# Idempotency keys live in two namespaces that can never meet: what a client sends is stored as
# ``user:<key>``, keys the ledger derives itself (a reservation's payment, a unit's yearly
# allocation, a refund) as ``sys:<...>``. A client key can then never pose as a system key (a
# manual entry keyed like a reservation payment would otherwise make the payment look done).
# Rows written before the namespaces carry bare keys; see docs/funds.md.
USER_PREFIX = "user:"
SYS_PREFIX = "sys:"


def user_key(key: str) -> str:
    return USER_PREFIX + key


def sys_key(*parts: Any) -> str:
    return SYS_PREFIX + ":".join(str(p) for p in parts)


def shown_key(stored: str) -> str:
    """The key as the client sent it (system and pre-namespace keys as stored)."""
    return stored[len(USER_PREFIX):] if stored.startswith(USER_PREFIX) else stored
MAX_AMOUNT = 10**15  # fen per posting (10 万亿元): keeps every sum far inside int64
MAX_LINES = 100


@dataclass(frozen=True, slots=True)
class Line:
    account_id: int
    amount_fen: int  # debit positive, credit negative


@dataclass(frozen=True, slots=True)
class TransferRow:
    kind: str  # remit | grant | levy | refund
    direction: str  # up | down
    from_unit_id: int
    to_unit_id: int
    fund_id: int
    amount_fen: int


@dataclass
class EntrySpec:
    key: str
    kind: str
    entry_date: dt.date
    lines: Sequence[Line]
    memo: str = ""
    source_type: str = ""
    source_id: str = ""
    reverses_id: int | None = None
    created_by: int | None = None
    approved_by: int | None = None
    transfers: Sequence[TransferRow] = ()
    # Reservation settlement, filled by the reservation service (which has locked the row):
    # amounts released from accounts' reserved_fen and from budgets' reserved_fen.
    release_accounts: dict[int, int] = field(default_factory=dict)
    release_budgets: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Posted:
    entry_id: int
    created: bool  # False: the key had been used; this is the first request's entry
    accounts: tuple[dict[str, Any], ...] = ()


class _Existing(Exception):
    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row


def request_hash(kind: str, memo: str, source_type: str, source_id: str, reverses_id: int | None,
                 lines: Sequence[Line] | Sequence[tuple[int, int]]) -> str:
    """What a request asked for (not when): a reused key with a different request is refused."""
    norm = sorted((ln.account_id, ln.amount_fen) if isinstance(ln, Line) else tuple(ln) for ln in lines)
    body = json.dumps([kind, memo, source_type, source_id, reverses_id, norm], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def check_lines(lines: Sequence[Line], field_name: str = "postings") -> None:
    """Shape checks that need no database: at least two lines, whole non-zero fen within range,
    no account twice, and a zero sum."""
    if len(lines) < 2:
        raise DomainError(ErrorCode.INVALID_INPUT, "an entry needs at least two postings", field_name)
    if len(lines) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"an entry has at most {MAX_LINES} postings", field_name)
    seen: set[int] = set()
    for ln in lines:
        a = ln.amount_fen
        if not isinstance(a, int) or isinstance(a, bool) or a == 0 or abs(a) > MAX_AMOUNT:
            raise DomainError(ErrorCode.INVALID_INPUT,
                              f"each posting amount must be a non-zero whole number of fen up to {MAX_AMOUNT}",
                              "amountFen")
        if ln.account_id in seen:
            raise DomainError(ErrorCode.INVALID_INPUT, "an account appears twice in one entry", field_name)
        seen.add(ln.account_id)
    total = sum(ln.amount_fen for ln in lines)
    if total != 0:
        raise DomainError(ErrorCode.UNBALANCED, f"debits and credits differ by {total} fen", field_name)


def period_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


async def post(tenant: TenantContext, spec: EntrySpec, *, db: Sql | None = None, notify: bool = True) -> Posted:
    """Post one entry in its own transaction (or inside ``db``'s, for callers that locked rows first).

    Returns the entry id; with a repeated idempotency key, the first entry's id and ``created=False``."""
    check_lines(spec.lines)
    rhash = request_hash(spec.kind, spec.memo, spec.source_type, spec.source_id, spec.reverses_id, spec.lines)
    created_at = dt.datetime.now(dt.UTC)
    chash = chain.content_hash(tenant.id, spec.key, spec.kind, spec.memo, spec.source_type, spec.source_id,
                               spec.entry_date, spec.reverses_id, spec.created_by, spec.approved_by, created_at,
                               [(ln.account_id, ln.amount_fen) for ln in spec.lines])
    try:
        if db is not None:
            posted = await _post_in(db, tenant, spec, rhash, chash, created_at)
        else:
            posted = await _post_own(tenant, spec, rhash, chash, created_at)
    except _Existing as hit:
        if hit.row["request_hash"] != rhash:
            raise DomainError(ErrorCode.DUPLICATE,
                              "this idempotency key was already used for a different request",
                              "idempotencyKey") from None
        return Posted(hit.row["id"], False)
    if db is None:
        await after_commit(tenant, posted, spec, created_at)
    return posted


async def after_commit(tenant: TenantContext, posted: Posted, spec: EntrySpec, created_at: dt.datetime) -> None:
    """Link the chain and tell plugins. Call only once the posting transaction has committed."""
    if not posted.created:
        return
    await chain.kick(tenant)
    await _notify(tenant, posted, spec, created_at)


async def _notify(tenant: TenantContext, posted: Posted, spec: EntrySpec, created_at: dt.datetime) -> None:
    from core.plugins import hooks_for, notify

    try:
        if not hooks_for(tenant).on_ledger_entry_posted.get_hookimpls():
            return
    except Exception:
        return
    from core.funds.queries import fund_codes
    from core.interface import EntryInfo, PostingInfo

    accounts = {a["id"]: a for a in posted.accounts}
    codes = await fund_codes(tenant)
    info = EntryInfo(
        id=posted.entry_id, key=spec.key, posted_at=created_at, memo=spec.memo,
        postings=tuple(PostingInfo(account_id=ln.account_id, account_code=accounts[ln.account_id]["code"],
                                   org_unit_id=accounts[ln.account_id]["org_unit_id"],
                                   fund=codes.get(accounts[ln.account_id]["fund_id"], ""), amount_fen=ln.amount_fen)
                       for ln in spec.lines),
        reverses_entry_id=spec.reverses_id,
    )
    await notify(tenant, "on_ledger_entry_posted", entry=info)


async def lock_shared(db: Sql, tenant: TenantContext) -> None:
    if db.pg:
        await db.execute("SELECT pg_advisory_xact_lock_shared($1, $2)", LEDGER_LOCK_NAMESPACE, tenant.id)


async def lock_exclusive(db: Sql, tenant: TenantContext) -> None:
    if db.pg:
        await db.execute("SELECT pg_advisory_xact_lock($1, $2)", LEDGER_LOCK_NAMESPACE, tenant.id)


async def _post_own(tenant: TenantContext, spec: EntrySpec, rhash: str, chash: str,
                    created_at: dt.datetime) -> Posted:
    """In a transaction of its own. Where ``ledger_post_checked`` exists the posting is that one
    statement, run outside an explicit transaction: a statement is atomic by itself, so BEGIN and
    COMMIT would only add two round trips."""
    # Pooled connections carry the tenant; Citus posts statement by statement (no checkout wasted here).
    # Called inside a caller's transaction (a settlement that created accounts a moment ago), the
    # posting joins that transaction.
    if PG_FUNCTION and own_call_possible():
        async with read_conn() as one:
            if await _function_ready(one):
                return await _post_fn(one, tenant, spec, rhash, chash, created_at)
    async with ledger_tx() as own:
        return await _post_in(own, tenant, spec, rhash, chash, created_at)


async def _post_in(db: Sql, tenant: TenantContext, spec: EntrySpec, rhash: str, chash: str,
                   created_at: dt.datetime) -> Posted:
    if db.pg and not db.citus:
        if await _function_ready(db):
            return await _post_fn(db, tenant, spec, rhash, chash, created_at)
        return await _post_pg(db, tenant, spec, rhash, chash, created_at)
    if db.citus:
        await lock_shared(db, tenant)
    return await _post_generic(db, tenant, spec, rhash, chash, created_at)


async def _raise_existing(db: Sql, tenant: TenantContext, key: str) -> NoReturn:
    existing = await db.fetchrow(
        "SELECT id, request_hash FROM ledger_entry WHERE tenant_id = $1 AND idempotency_key = $2", tenant.id, key)
    assert existing is not None
    raise _Existing(existing)


def _check_accounts(spec: EntrySpec, ids: list[int], accounts: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """The Python checks on the locked accounts: existence, each book balanced, no-negative.
    Returns (id, new balance, new reserved) for every account."""
    if len(accounts) != len(ids):
        raise DomainError(ErrorCode.NOT_FOUND, "an account of this entry does not exist", "accountId")
    by_id = {a["id"]: a for a in accounts}
    # Each org unit's books balance per fund: cross-unit or cross-fund movements go through the
    # inter-level (131/132/221/222) and net-asset accounts, so a unit's trial balance always balances.
    per_book: dict[tuple[int, int], int] = {}
    for ln in spec.lines:
        a = by_id[ln.account_id]
        k = (a["org_unit_id"], a["fund_id"])
        per_book[k] = per_book.get(k, 0) + ln.amount_fen
    for (unit_id, fund_id), total in per_book.items():
        if total:
            raise DomainError(ErrorCode.UNBALANCED,
                              f"postings for org unit {unit_id}, fund {fund_id} are off by {total} fen; each unit's "
                              "books must balance per fund", "postings")
    delta = {ln.account_id: ln.amount_fen for ln in spec.lines}
    updates: list[tuple[int, int, int]] = []
    for a in accounts:
        release = spec.release_accounts.get(a["id"], 0)
        new_balance = a["balance_fen"] + delta.get(a["id"], 0)
        new_reserved = a["reserved_fen"] - release
        if new_reserved < 0:
            raise DomainError(ErrorCode.INVALID_STATE, "more released than reserved on an account", "amountFen")
        if a["no_negative"] or a["code"] in NO_SWING_CODES:
            before = a["normal_sign"] * a["balance_fen"] - a["reserved_fen"]
            after = a["normal_sign"] * new_balance - new_reserved
            if after < 0 and after < before:
                if a["code"] in NO_SWING_CODES:
                    raise DomainError(
                        ErrorCode.INSUFFICIENT_FUNDS,
                        f"account {a['code']} (id {a['id']}) shows {max(before, 0)} fen owed upward; this entry "
                        f"settles {before - after} fen (more than is owed: was the share already paid directly?)",
                        "amountFen")
                raise DomainError(
                    ErrorCode.INSUFFICIENT_FUNDS,
                    f"account {a['code']} (id {a['id']}) has {max(before, 0)} fen available; this entry needs "
                    f"{before - after} fen", "amountFen")
        updates.append((a["id"], new_balance, new_reserved))
    return updates


def _spending(spec: EntrySpec, by_id: dict[int, dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Net 5xx amounts per (unit, fund): what the entry adds to budgets' spending."""
    spend: dict[tuple[int, int], int] = {}
    for ln in spec.lines:
        a = by_id[ln.account_id]
        if a["code"] in EXPENSE_CODES:
            k = (a["org_unit_id"], a["fund_id"])
            spend[k] = spend.get(k, 0) + ln.amount_fen
    return {k: v for k, v in spend.items() if v}


def _budget_refusal(b: dict[str, Any], added: int) -> DomainError:
    limit = b["amount_fen"] + b["lifted_fen"]
    before = b["spent_fen"] + b["reserved_fen"] - added
    return DomainError(
        ErrorCode.BUDGET_EXCEEDED,
        f"the {b['year']} budget of this fund at org unit {b['org_unit_id']} has {max(limit - before, 0)} fen left; "
        f"this entry needs {added} fen (an approver can lift the budget)", "amountFen")


# The one-call posting (migrations/funds/*_post_by_key.py): PostgreSQL only. On Citus the statement
# path runs instead: a PL/pgSQL function on the coordinator would send each of its statements to the
# shard one by one, without the single-shard routing the tenant_id equalities give the statements.
# Tests turn PG_FUNCTION off to compare the two paths.
PG_FUNCTION = True
POST_CHECKED_SQL = (
    "SELECT * FROM ledger_post_checked($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
    "$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)")
REFUSED = "HL001"  # the function's SQLSTATE for a refusal: DETAIL is the ErrorCode, HINT the field


# With its argument types: a database still holding the function's first version (another signature)
# takes the statement path until it is migrated.
POST_CHECKED_FN = (
    "ledger_post_checked(bigint, text, text, text, text, text, date, bigint, bigint, bigint, text, text, "
    "timestamptz, integer, bigint[], bigint[], bigint[], bigint[], bigint[], bigint[], bigint[], text[], text[], "
    "text[], text[], bigint[], bigint[], bigint[], bigint[])")


async def _function_ready(db: Sql) -> bool:
    return PG_FUNCTION and await has_function(db, POST_CHECKED_FN)


async def _post_fn(db: Sql, tenant: TenantContext, spec: EntrySpec, rhash: str, chash: str,
                   created_at: dt.datetime) -> Posted:
    """PostgreSQL: the whole posting in one call of ``ledger_post_checked``. It refuses with
    SQLSTATE HL001, which becomes the DomainError the statement path raises for the same case."""
    import asyncpg

    t = spec.transfers
    # Every account the entry touches, in the one lock order of the ledger.
    ids = sorted({ln.account_id for ln in spec.lines} | set(spec.release_accounts))
    try:
        row = await db.conn.fetchrow(
            POST_CHECKED_SQL, tenant.id, spec.key, spec.kind, spec.memo, spec.source_type, spec.source_id,
            spec.entry_date, spec.reverses_id, spec.created_by, spec.approved_by, rhash, chash, created_at,
            LEDGER_LOCK_NAMESPACE, ids, [ln.account_id for ln in spec.lines], [ln.amount_fen for ln in spec.lines],
            list(spec.release_accounts), list(spec.release_accounts.values()), list(spec.release_budgets),
            list(spec.release_budgets.values()), _NO_SWING, _EXPENSE,
            [x.kind for x in t], [x.direction for x in t], [x.from_unit_id for x in t], [x.to_unit_id for x in t],
            [x.fund_id for x in t], [x.amount_fen for x in t])
    except asyncpg.PostgresError as exc:
        if getattr(exc, "sqlstate", None) != REFUSED:
            raise
        raise DomainError(ErrorCode[str(exc.detail)], str(exc.message), exc.hint or None) from None
    if not row["o_created"]:
        raise _Existing({"id": row["o_entry"], "request_hash": row["o_hash"]})
    accounts = tuple({"id": i, "org_unit_id": u, "fund_id": f, "code": c}
                     for i, u, f, c in zip(row["o_ids"], row["o_units"], row["o_funds"], row["o_codes"], strict=True))
    return Posted(row["o_entry"], True, accounts)


_NO_SWING = sorted(NO_SWING_CODES)
_EXPENSE = sorted(EXPENSE_CODES)

_ACCOUNT_COLS = "a.id, a.org_unit_id, a.fund_id, a.code, a.normal_sign, a.no_negative, a.balance_fen, a.reserved_fen"


async def _post_pg(db: Sql, tenant: TenantContext, spec: EntrySpec, rhash: str, chash: str,
                   created_at: dt.datetime) -> Posted:
    """PostgreSQL: BEGIN, two statements, COMMIT — as many round trips as a bare insert of the rows.

    Statement 1 takes the shared ledger lock, inserts the entry (or nothing, for a repeated key) and
    its chain-queue row, then locks the accounts in id order — only if the entry was inserted (each CTE
    reads the one before, so they run in that order). Statement 2, whose snapshot is taken with the
    lock held, reads the period's state, updates balances and budgets and inserts postings and transfer
    rows; a closed period or an exceeded budget found in its result raises, and the rollback undoes it.
    """
    ids = sorted({ln.account_id for ln in spec.lines} | set(spec.release_accounts))
    rows = await db.fetch(
        "WITH l AS (SELECT pg_advisory_xact_lock_shared($14::integer, $15::integer)), "
        "e AS (INSERT INTO ledger_entry (tenant_id, idempotency_key, kind, memo, source_type, source_id, "
        "entry_date, reverses_id, created_by, approved_by, request_hash, content_hash, created_at) "
        "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM l "
        "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id), "
        "q AS (INSERT INTO ledger_unchained (tenant_id, entry_id, content_hash) SELECT $1, id, $12 FROM e), "
        f"a AS (SELECT {_ACCOUNT_COLS} FROM ledger_account a WHERE a.tenant_id = $1 AND a.id = ANY($16::bigint[]) "
        "AND EXISTS (SELECT 1 FROM e) ORDER BY a.id FOR NO KEY UPDATE) "
        "SELECT e.id AS entry_id, a.* FROM e LEFT JOIN a ON TRUE ORDER BY a.id",
        tenant.id, spec.key, spec.kind, spec.memo, spec.source_type, spec.source_id, spec.entry_date,
        spec.reverses_id, spec.created_by, spec.approved_by, rhash, chash, created_at, LEDGER_LOCK_NAMESPACE,
        tenant.id, ids)
    if not rows:
        await _raise_existing(db, tenant, spec.key)
    entry_id = rows[0]["entry_id"]
    accounts = [r for r in rows if r["id"] is not None]
    updates = _check_accounts(spec, ids, accounts)
    by_id = {a["id"]: a for a in accounts}
    spend = _spending(spec, by_id)
    year = spec.entry_date.year

    # Budgets. Usually one (unit, fund) spends and nothing is released: its budget row (if any) is
    # updated by natural key inside statement 2. Otherwise lock the budgets in id order first.
    by_key: tuple[list[int], list[int], list[int]] = ([], [], [])
    by_row: list[tuple[int, int, int]] = []
    if spec.release_budgets or len(spend) > 1:
        by_row = await _budgets(db, tenant, spec, spend)
    elif spend:
        (unit_id, fund_id), d = next(iter(spend.items()))
        by_key = ([unit_id], [fund_id], [d])

    args: list[Any] = [
        tenant.id, entry_id, spec.entry_date, period_of(spec.entry_date), year,
        [ln.account_id for ln in spec.lines], [by_id[ln.account_id]["org_unit_id"] for ln in spec.lines],
        [by_id[ln.account_id]["fund_id"] for ln in spec.lines], [by_id[ln.account_id]["code"] for ln in spec.lines],
        [ln.amount_fen for ln in spec.lines],
        [u[0] for u in updates], [u[1] for u in updates], [u[2] for u in updates],
        *by_key,
        [b[0] for b in by_row], [b[1] for b in by_row], [b[2] for b in by_row],
    ]
    transfers_sql = ""
    if spec.transfers:
        transfers_sql = (
            ", t AS (INSERT INTO ledger_transfer (tenant_id, entry_id, kind, direction, from_unit_id, to_unit_id, "
            "fund_id, amount_fen, entry_date) SELECT $1, $2, x.k, x.d, x.f, x.t, x.u, x.m, $3 FROM unnest("
            "$20::text[], $21::text[], $22::bigint[], $23::bigint[], $24::bigint[], $25::bigint[]) AS x(k, d, f, t, u, m))")
        args += [[t.kind for t in spec.transfers], [t.direction for t in spec.transfers],
                 [t.from_unit_id for t in spec.transfers], [t.to_unit_id for t in spec.transfers],
                 [t.fund_id for t in spec.transfers], [t.amount_fen for t in spec.transfers]]
    result = await db.fetch(
        "WITH p AS (SELECT EXISTS (SELECT 1 FROM ledger_period WHERE tenant_id = $1 AND period = $4) AS closed), "
        "u AS (UPDATE ledger_account a SET balance_fen = x.b, reserved_fen = x.r FROM unnest($11::bigint[], "
        "$12::bigint[], $13::bigint[]) AS x(i, b, r) WHERE a.id = x.i AND a.tenant_id = $1), "
        "i AS (INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date, "
        "amount_fen) SELECT $1, $2, x.a, x.u, x.f, x.c, $3, x.m FROM unnest($6::bigint[], $7::bigint[], "
        "$8::bigint[], $9::text[], $10::bigint[]) WITH ORDINALITY AS x(a, u, f, c, m, o) ORDER BY x.o), "
        "bk AS (UPDATE ledger_budget b SET spent_fen = b.spent_fen + x.d, updated_at = now() FROM unnest("
        "$14::bigint[], $15::bigint[], $16::bigint[]) AS x(u, f, d) WHERE b.tenant_id = $1 AND b.org_unit_id = x.u "
        "AND b.fund_id = x.f AND b.year = $5 RETURNING b.id, b.org_unit_id, b.year, b.amount_fen, b.lifted_fen, "
        "b.spent_fen, b.reserved_fen, x.d AS added), "
        "br AS (UPDATE ledger_budget b SET spent_fen = x.s, reserved_fen = x.r, updated_at = now() FROM unnest("
        "$17::bigint[], $18::bigint[], $19::bigint[]) AS x(i, s, r) WHERE b.id = x.i AND b.tenant_id = $1)"
        f"{transfers_sql} "
        "SELECT p.closed, bk.* FROM p LEFT JOIN bk ON TRUE", *args)
    if result[0]["closed"]:
        raise DomainError(ErrorCode.PERIOD_CLOSED, f"the accounting period {period_of(spec.entry_date)} is closed",
                          "entryDate")
    for b in result:
        if b["id"] is not None and b["added"] > 0 and b["spent_fen"] + b["reserved_fen"] > b["amount_fen"] + b["lifted_fen"]:
            raise _budget_refusal(b, b["added"])
    return Posted(entry_id, True, tuple(accounts))


async def _post_generic(db: Sql, tenant: TenantContext, spec: EntrySpec, rhash: str, chash: str,
                        created_at: dt.datetime) -> Posted:
    """SQLite (the embedded default) and Citus: the same steps one statement at a time. On SQLite the
    IMMEDIATE transaction already serialises writers; on Citus the caller took the shared ledger lock
    and the accounts are locked here in id order, as _post_pg does."""
    row = await db.fetchrow(
        "INSERT INTO ledger_entry (tenant_id, idempotency_key, kind, memo, source_type, source_id, "
        "entry_date, reverses_id, created_by, approved_by, request_hash, content_hash, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
        tenant.id, spec.key, spec.kind, spec.memo, spec.source_type, spec.source_id, spec.entry_date,
        spec.reverses_id, spec.created_by, spec.approved_by, rhash, chash, created_at)
    if row is None:
        await _raise_existing(db, tenant, spec.key)
    entry_id = row["id"]
    await db.execute("INSERT INTO ledger_unchained (tenant_id, entry_id, content_hash) VALUES ($1, $2, $3)",
                     tenant.id, entry_id, chash)
    period = period_of(spec.entry_date)
    if await db.fetchval("SELECT count(*) FROM ledger_period WHERE tenant_id = $1 AND period = $2", tenant.id, period):
        raise DomainError(ErrorCode.PERIOD_CLOSED, f"the accounting period {period} is closed", "entryDate")
    ids = sorted({ln.account_id for ln in spec.lines} | set(spec.release_accounts))
    accounts = await db.fetch(
        f"SELECT {_ACCOUNT_COLS} FROM ledger_account a WHERE a.tenant_id = $1 AND a.id IN ({db.in_list(2, len(ids))}) "
        f"ORDER BY a.id{' FOR NO KEY UPDATE' if db.pg else ''}", tenant.id, *ids)
    updates = _check_accounts(spec, ids, accounts)
    by_id = {a["id"]: a for a in accounts}
    budget_updates = await _budgets(db, tenant, spec, _spending(spec, by_id))
    # tenant_id in every WHERE: on Citus it routes the statement to the tenant's shard (an id alone
    # fans out to every shard).
    await db.executemany("UPDATE ledger_account SET balance_fen = $3, reserved_fen = $4 WHERE tenant_id = $1 "
                         "AND id = $2", [(tenant.id, *u) for u in updates])
    if budget_updates:
        await db.executemany("UPDATE ledger_budget SET spent_fen = $3, reserved_fen = $4 WHERE tenant_id = $1 "
                             "AND id = $2", [(tenant.id, *b) for b in budget_updates])
    await db.executemany(
        "INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date, "
        "amount_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(tenant.id, entry_id, ln.account_id, by_id[ln.account_id]["org_unit_id"], by_id[ln.account_id]["fund_id"],
          by_id[ln.account_id]["code"], spec.entry_date, ln.amount_fen) for ln in spec.lines])
    if spec.transfers:
        await db.executemany(
            "INSERT INTO ledger_transfer (tenant_id, entry_id, kind, direction, from_unit_id, to_unit_id, fund_id, "
            "amount_fen, entry_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [(tenant.id, entry_id, t.kind, t.direction, t.from_unit_id, t.to_unit_id, t.fund_id, t.amount_fen,
              spec.entry_date) for t in spec.transfers])
    return Posted(entry_id, True, tuple(accounts))


async def _budgets(db: Sql, tenant: TenantContext, spec: EntrySpec, spend: dict[tuple[int, int], int]
                   ) -> list[tuple[int, int, int]]:
    """Lock (id order) and check the budgets an entry touches: those of its spending (unit, fund) in
    the entry's year, and those a reservation releases. Returns (id, new spent, new reserved)."""
    year = spec.entry_date.year
    if not spend and not spec.release_budgets:
        return []
    conds = []
    args: list[Any] = [tenant.id, year]
    for unit_id, fund_id in spend:
        conds.append(f"(org_unit_id = ${len(args) + 1} AND fund_id = ${len(args) + 2})")
        args += [unit_id, fund_id]
    where = f"(year = $2 AND ({' OR '.join(conds)}))" if conds else "1 = 0"
    if spec.release_budgets:
        ids = sorted(spec.release_budgets)
        where += f" OR id IN ({db.in_list(len(args) + 1, len(ids))})"
        args += ids
    lock = " FOR NO KEY UPDATE" if db.pg else ""
    rows = await db.fetch(
        f"SELECT id, org_unit_id, fund_id, year, amount_fen, lifted_fen, spent_fen, reserved_fen FROM ledger_budget "
        f"WHERE tenant_id = $1 AND ({where}) ORDER BY id{lock}", *args)
    out = []
    for b in rows:
        d = spend.get((b["org_unit_id"], b["fund_id"]), 0) if b["year"] == year else 0
        release = spec.release_budgets.get(b["id"], 0)
        spent = b["spent_fen"] + d
        reserved = b["reserved_fen"] - release
        limit = b["amount_fen"] + b["lifted_fen"]
        before = b["spent_fen"] + b["reserved_fen"]
        if spent + reserved > limit and spent + reserved > before:
            raise DomainError(
                ErrorCode.BUDGET_EXCEEDED,
                f"the {b['year']} budget of this fund at org unit {b['org_unit_id']} has {max(limit - before, 0)} fen "
                f"left; this entry needs {spent + reserved - before} fen (an approver can lift the budget)",
                "amountFen")
        out.append((b["id"], spent, max(reserved, 0)))
    return out

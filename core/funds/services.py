"""Writes to the ledger. Every function takes the tenant first, then the actor, owns its transaction,
enforces the invariants and writes the audit record last (after every row lock, so the audit chain's
per-tenant lock is never held while waiting for an account).

The posting engine itself is :mod:`core.funds.posting`; these services turn business actions (a
manual entry, a levy, a transfer, a reservation) into balanced entries.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from core.actor import SYSTEM, Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.funds import chart, posting
from core.funds.chart import CASH, CHART, EXPENSE_CODES
from core.funds.posting import EntrySpec, Line, Posted, TransferRow
from core.funds.sql import Sql, ledger_tx
from core.settings import get_settings
from core.validation import clean_text

CHINA = ZoneInfo("Asia/Shanghai")
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")
_FUND_CODE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_FEN = posting.MAX_AMOUNT


def today() -> dt.date:
    """The accounting date: China time, whatever the server's zone."""
    return dt.datetime.now(CHINA).date()


def clean_key(value: str | None, field: str = "idempotencyKey") -> str:
    value = (value or "").strip()
    if not _KEY_RE.match(value):
        raise DomainError(ErrorCode.INVALID_INPUT,
                          f"{field} must be 1-200 printable ASCII characters without spaces", field)
    return value


USER, APP = "user", "app"


def stored_key(value: str | None, origin: str, field: str = "idempotencyKey") -> str:
    """The idempotency key as stored: ``user:<key>`` for what a client sent through the API,
    ``app:<key>`` for another domain calling these services in code. The ledger's own derived keys
    are ``sys:...`` (posting.sys_key). The namespaces never meet, so no caller can pre-empt another's
    key (a client key cannot pose as a reservation payment or a yearly allocation)."""
    raw = clean_key(value, field)
    if origin not in (USER, APP):
        raise ValueError(f"unknown key origin {origin!r}")
    return f"{origin}:{raw}"


def clean_amount(value: Any, field: str = "amountFen", *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_FEN:
        what = "zero or a positive" if allow_zero else "a positive"
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be {what} whole number of fen up to {MAX_FEN}", field)
    return value


def clean_date(value: dt.date | None, field: str = "entryDate") -> dt.date:
    value = value or today()
    if not dt.date(2000, 1, 1) <= value <= today() + dt.timedelta(days=366):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be between 2000-01-01 and a year from today", field)
    return value


def _memo(value: str | None) -> str:
    return clean_text("memo", value, max_len=500, required=False)


def _source(source_type: str | None, source_id: str | None) -> tuple[str, str]:
    st = clean_text("sourceType", source_type, max_len=32, required=False)
    si = clean_text("sourceId", source_id, max_len=64, required=False)
    if bool(st) != bool(si):
        raise DomainError(ErrorCode.INVALID_INPUT, "sourceType and sourceId go together", "sourceType")
    return st, si


# ---------------------------------------------------------------------------------------------
# Funds and accounts
# ---------------------------------------------------------------------------------------------


async def ensure_standard_funds(tenant: TenantContext) -> None:
    """Create the tenant's standard funds if missing (idempotent, race-free)."""
    from core.funds.queries import forget_funds

    async with ledger_tx() as db:
        for code, (kind, name) in chart.STANDARD_FUNDS.items():
            await db.execute(
                "INSERT INTO ledger_fund (tenant_id, code, kind, name, active, created_at) VALUES ($1, $2, $3, $4, "
                "$5, $6) ON CONFLICT (tenant_id, code) DO NOTHING", tenant.id, code, kind, name, True, utcnow())
    forget_funds(tenant)


async def get_fund(tenant: TenantContext, code: str | None, field: str = "fund") -> dict[str, Any]:
    """A fund by code; NOT_FOUND for an unknown one (the standard funds are created on first use)."""
    from core.funds.queries import funds_by_code

    code = (code or "").strip()
    funds = await funds_by_code(tenant)
    if code not in funds and code in chart.STANDARD_FUNDS:
        await ensure_standard_funds(tenant)
        funds = await funds_by_code(tenant)
    fund = funds.get(code)
    if fund is None or not fund["active"]:
        raise DomainError(ErrorCode.NOT_FOUND, f"no fund {code[:64]!r}", field)
    return fund


async def create_fund(tenant: TenantContext, actor: Actor, *, kind: str, code: str, name: str) -> dict[str, Any]:
    """A fund beyond the standard ones: one per mutual-aid plan (``mutual_aid.<plan>``)."""
    from core.funds.queries import forget_funds, funds_by_code

    if kind != chart.MUTUAL_AID:
        raise DomainError(ErrorCode.INVALID_INPUT, "only mutual-aid funds are created; the others exist already", "kind")
    code = (code or "").strip().lower()
    if not code.startswith("mutual_aid."):
        code = f"mutual_aid.{code}"
    if not _FUND_CODE_RE.match(code):
        raise DomainError(ErrorCode.INVALID_INPUT, "code must be lower-case letters, digits, '_', '.' or '-'", "code")
    name = clean_text("name", name, max_len=100)
    async with ledger_tx() as db:
        row = await db.fetchrow(
            "INSERT INTO ledger_fund (tenant_id, code, kind, name, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (tenant_id, code) DO NOTHING RETURNING id", tenant.id, code, kind, name, True, utcnow())
        if row is None:
            raise DomainError(ErrorCode.DUPLICATE, f"fund {code!r} already exists", "code")
        await record(tenant, actor, "fund.create", "Fund", row["id"], {"code": code, "kind": kind, "name": name})
    forget_funds(tenant)
    return (await funds_by_code(tenant))[code]


async def ensure_mutual_aid_fund(tenant: TenantContext, plan_code: str, name: str) -> dict[str, Any]:
    """For the mutual-aid capability: the plan's fund, created on demand."""
    from core.funds.queries import funds_by_code

    code = f"mutual_aid.{plan_code.strip().lower()}"
    found = (await funds_by_code(tenant)).get(code)
    if found:
        return found
    try:
        return await create_fund(tenant, SYSTEM, kind=chart.MUTUAL_AID, code=code, name=name)
    except DomainError as exc:
        if exc.code is ErrorCode.DUPLICATE:
            return (await funds_by_code(tenant))[code]
        raise


@dataclass(frozen=True)
class AccountRef:
    """An account by id, or by (org unit, fund code, account code): created on first use."""

    account_id: int | None = None
    org_unit_id: int | None = None
    fund: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Resolved:
    unit: dict[str, Any]
    fund: dict[str, Any]
    code: str
    account_id: int | None


async def resolve(tenant: TenantContext, refs: Sequence[AccountRef]) -> list[Resolved]:
    """Check that every referenced account, unit and fund exists in this tenant (NOT_FOUND otherwise,
    never a hint about other tenants) and return their org units for permission checks."""
    from core.funds.queries import accounts_by_ids, funds_by_id
    from core.tenancy.queries import units_by_ids

    ids = [r.account_id for r in refs if r.account_id is not None]
    accounts = {a["id"]: a for a in await accounts_by_ids(tenant, ids) if a} if ids else {}
    unit_ids = {r.org_unit_id for r in refs if r.account_id is None and r.org_unit_id is not None}
    unit_ids |= {a["org_unit_id"] for a in accounts.values()}
    units = {u["id"]: u for u in await units_by_ids(tenant, sorted(unit_ids)) if u} if unit_ids else {}
    funds = await funds_by_id(tenant)
    out = []
    for r in refs:
        if r.account_id is not None:
            a = accounts.get(r.account_id)
            if a is None:
                raise not_found("account", "accountId")
            out.append(Resolved(units[a["org_unit_id"]], funds[a["fund_id"]], a["code"], a["id"]))
            continue
        if r.org_unit_id is None or r.org_unit_id not in units:
            raise not_found("org unit", "orgUnitId")
        fund = await get_fund(tenant, r.fund)
        code = (r.code or "").strip()
        if code not in CHART:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{code[:8]!r} is not an account code of the chart", "code")
        out.append(Resolved(units[r.org_unit_id], fund, code, None))
    return out


async def ensure_accounts(db: Sql, tenant: TenantContext, items: Sequence[tuple[int, int, str]]) -> list[int]:
    """Account ids for (unit id, fund id, code), creating missing rows (INSERT … ON CONFLICT DO NOTHING
    then SELECT: concurrent creators never fail, and nothing is caught inside the transaction)."""
    wanted = list(dict.fromkeys(items))
    if not wanted:
        return []
    found = await _select_accounts(db, tenant, wanted)
    missing = [w for w in wanted if w not in found]
    if missing:
        now = utcnow()
        rows = []
        for unit_id, fund_id, code in missing:
            d = CHART[code]
            rows.append((tenant.id, unit_id, fund_id, code, d.name, d.type, d.normal_sign, d.no_negative, 0, 0, now))
        await db.executemany(
            "INSERT INTO ledger_account (tenant_id, org_unit_id, fund_id, code, name, type, normal_sign, no_negative, "
            "balance_fen, reserved_fen, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (tenant_id, org_unit_id, fund_id, code) DO NOTHING", rows)
        found.update(await _select_accounts(db, tenant, missing))
    return [found[i] for i in items]


async def _select_accounts(db: Sql, tenant: TenantContext, items: Sequence[tuple[int, int, str]]
                           ) -> dict[tuple[int, int, str], int]:
    conds, args = [], [tenant.id]
    for unit_id, fund_id, code in items:
        n = len(args)
        conds.append(f"(org_unit_id = ${n + 1} AND fund_id = ${n + 2} AND code = ${n + 3})")
        args += [unit_id, fund_id, code]
    rows = await db.fetch(
        f"SELECT id, org_unit_id, fund_id, code FROM ledger_account WHERE tenant_id = $1 AND ({' OR '.join(conds)})",
        *args)
    return {(r["org_unit_id"], r["fund_id"], r["code"]): r["id"] for r in rows}


async def _ids_for(db: Sql, tenant: TenantContext, resolved: Sequence[Resolved]) -> list[int]:
    need = [(r.unit["id"], r.fund["id"], r.code) for r in resolved if r.account_id is None]
    made = iter(await ensure_accounts(db, tenant, need))
    return [r.account_id if r.account_id is not None else next(made) for r in resolved]


async def account_ids(tenant: TenantContext, items: Sequence[tuple[int, str, str]]) -> list[int]:
    """(unit id, fund code, account code) -> account ids, created if missing. For other domains and tests."""
    funds = [await get_fund(tenant, f) for _, f, _ in items]
    async with ledger_tx() as db:
        return await ensure_accounts(db, tenant, [(u, f["id"], c) for (u, _, c), f in zip(items, funds, strict=True)])


# ---------------------------------------------------------------------------------------------
# Posting through the engine, with the audit record, then chain + plugins after commit
# ---------------------------------------------------------------------------------------------


async def _post_audited(tenant: TenantContext, actor: Actor, spec: EntrySpec, resolved: Sequence[Resolved] = (),
                        audit_action: str | None = None, audit: dict[str, Any] | None = None,
                        db: Sql | None = None) -> Posted:
    async def body(tx: Sql) -> Posted:
        if resolved:
            ids = await _ids_for(tx, tenant, resolved)
            spec.lines = [Line(i, ln.amount_fen) for i, ln in zip(ids, spec.lines, strict=True)]
        done = await posting.post(tenant, spec, db=tx)
        if done.created and audit_action:
            await record(tenant, actor, audit_action, "LedgerEntry", done.entry_id, audit or {})
        return done

    if db is not None:
        return await body(db)
    created_at_marker = utcnow()
    async with ledger_tx() as tx:
        done = await body(tx)
    await posting.after_commit(tenant, done, spec, created_at_marker)
    return done


# ---------------------------------------------------------------------------------------------
# Manual entries and maker-checker
# ---------------------------------------------------------------------------------------------


async def manual_threshold(tenant: TenantContext) -> int:
    from core.funds.queries import ledger_config

    cfg = await ledger_config(tenant)
    if cfg and cfg["manual_entry_threshold_fen"] is not None:
        return cfg["manual_entry_threshold_fen"]
    return get_settings().manual_entry_threshold_fen


async def set_manual_threshold(tenant: TenantContext, actor: Actor, threshold_fen: int | None) -> int:
    if threshold_fen is not None:
        clean_amount(threshold_fen, "manualEntryThresholdFen", allow_zero=True)
    async with ledger_tx() as db:
        await db.execute(
            "INSERT INTO ledger_config (tenant_id, manual_entry_threshold_fen, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (tenant_id) DO UPDATE SET manual_entry_threshold_fen = excluded.manual_entry_threshold_fen, "
            "updated_at = excluded.updated_at", tenant.id, threshold_fen, utcnow())
        await record(tenant, actor, "ledger.config", "LedgerConfig", tenant.id,
                     {"manual_entry_threshold_fen": threshold_fen})
    return await manual_threshold(tenant)


async def needs_approval(tenant: TenantContext, amount_fen: int) -> bool:
    """Maker-checker, the one rule for every path that moves money out (manual entries, reversals,
    transfers between levels, small-payer refunds, reservations): above the tenant's threshold a
    second person with ``ledger.approve`` must approve before the money moves."""
    return amount_fen > await manual_threshold(tenant)


async def _must_wait(tenant: TenantContext, key: str, amount_fen: int) -> bool:
    """Above the threshold, and not already posted under this key: repeating a request whose draft
    was approved returns the posted entry (the posting path checks it is the same request)."""
    if not await needs_approval(tenant, amount_fen):
        return False
    from core.dbutil import raw

    return not await raw("SELECT id FROM ledger_entry WHERE tenant_id = {} AND idempotency_key = {}", tenant.id, key)


@dataclass(frozen=True)
class ManualResult:
    entry_id: int | None = None
    draft_id: int | None = None


def signed_lines(items: Sequence[tuple[str, int]]) -> list[int]:
    """(side, positive amount) pairs -> signed fen (debit positive)."""
    out = []
    for side, amount in items:
        clean_amount(amount)
        if side not in ("debit", "credit"):
            raise DomainError(ErrorCode.INVALID_INPUT, "side must be DEBIT or CREDIT", "side")
        out.append(amount if side == "debit" else -amount)
    return out


async def create_manual_entry(tenant: TenantContext, actor: Actor, *, refs: Sequence[AccountRef],
                              amounts: Sequence[int], key: str, entry_date: dt.date | None = None,
                              memo: str | None = None, source_type: str | None = None, source_id: str | None = None,
                              resolved: Sequence[Resolved] | None = None, origin: str = APP) -> ManualResult:
    """Post a manual entry, or park it for approval when its debits exceed the tenant's threshold."""
    key = stored_key(key, origin)
    entry_date = clean_date(entry_date)
    memo_ = _memo(memo)
    st, si = _source(source_type, source_id)
    posting.check_lines([Line(-(i + 1), a) for i, a in enumerate(amounts)])
    resolved = list(resolved) if resolved is not None else await resolve(tenant, refs)
    total = sum(a for a in amounts if a > 0)
    spec = EntrySpec(key=key, kind=chart.MANUAL, entry_date=entry_date, memo=memo_, source_type=st, source_id=si,
                     lines=[Line(0, a) for a in amounts], created_by=actor.user_id)
    if not await _must_wait(tenant, key, total):
        done = await _post_audited(tenant, actor, spec, resolved, "ledger.entry.post",
                                   {"key": key, "total_fen": total, "date": entry_date.isoformat()})
        return ManualResult(entry_id=done.entry_id)
    return ManualResult(draft_id=await _create_draft(tenant, actor, spec, resolved, total))


async def _create_draft(tenant: TenantContext, actor: Actor, spec: EntrySpec, resolved: Sequence[Resolved],
                        total: int) -> int:
    period = posting.period_of(spec.entry_date)
    async with ledger_tx() as db:
        existing = await db.fetchrow("SELECT id FROM ledger_entry WHERE tenant_id = $1 AND idempotency_key = $2",
                                     tenant.id, spec.key)
        draft = await db.fetchrow("SELECT id, request_hash FROM ledger_draft WHERE tenant_id = $1 AND "
                                  "idempotency_key = $2", tenant.id, spec.key)
        if existing is not None and draft is None:
            raise DomainError(ErrorCode.DUPLICATE, "this idempotency key was already used for a posted entry",
                              "idempotencyKey")
        ids = await _ids_for(db, tenant, resolved) if resolved else [ln.account_id for ln in spec.lines]
        lines = [[i, ln.amount_fen] for i, ln in zip(ids, spec.lines, strict=True)]
        rhash = posting.request_hash(spec.kind, spec.memo, spec.source_type, spec.source_id, spec.reverses_id,
                                     [tuple(x) for x in lines])
        if draft is not None:
            if draft["request_hash"] != rhash:
                raise DomainError(ErrorCode.DUPLICATE, "this idempotency key was already used for a different request",
                                  "idempotencyKey")
            return draft["id"]
        if await db.fetchval("SELECT count(*) FROM ledger_period WHERE tenant_id = $1 AND period = $2",
                             tenant.id, period):
            raise DomainError(ErrorCode.PERIOD_CLOSED, f"the accounting period {period} is closed", "entryDate")
        await _check_books_balance(db, tenant, lines)
        transfers = [[t.kind, t.direction, t.from_unit_id, t.to_unit_id, t.fund_id, t.amount_fen]
                     for t in spec.transfers]
        row = await db.fetchrow(
            "INSERT INTO ledger_draft (tenant_id, idempotency_key, status, entry_date, memo, source_type, source_id, "
            "postings, total_fen, request_hash, created_by, reason, created_at, kind, reverses_id, transfers) VALUES "
            "($1, $2, 'pending_approval', $3, $4, $5, $6, $7, $8, $9, $10, '', $11, $12, $13, $14) "
            "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
            tenant.id, spec.key, spec.entry_date, spec.memo, spec.source_type, spec.source_id, json.dumps(lines),
            total, rhash, actor.user_id, utcnow(), spec.kind, spec.reverses_id, json.dumps(transfers))
        if row is None:  # a concurrent identical request won; return its draft
            again = await db.fetchrow("SELECT id FROM ledger_draft WHERE tenant_id = $1 AND idempotency_key = $2",
                                      tenant.id, spec.key)
            return again["id"]  # type: ignore[index]
        await record(tenant, actor, "ledger.draft.create", "LedgerDraft", row["id"],
                     {"key": spec.key, "kind": spec.kind, "total_fen": total, "date": spec.entry_date.isoformat()})
    return row["id"]


async def _check_books_balance(db: Sql, tenant: TenantContext, lines: Sequence[Sequence[int]]) -> None:
    ids = [ln[0] for ln in lines]
    rows = await db.fetch(f"SELECT id, org_unit_id, fund_id FROM ledger_account WHERE tenant_id = $1 AND id IN "
                          f"({db.in_list(2, len(ids))})", tenant.id, *ids)
    meta = {r["id"]: (r["org_unit_id"], r["fund_id"]) for r in rows}
    books: dict[tuple[int, int], int] = {}
    for account_id, amount in lines:
        books[meta[account_id]] = books.get(meta[account_id], 0) + amount
    if any(books.values()):
        raise DomainError(ErrorCode.UNBALANCED, "each org unit's books must balance per fund", "postings")


async def decide_draft(tenant: TenantContext, actor: Actor, draft_id: int, *, approve: bool,
                       reason: str | None = None) -> ManualResult:
    """Approve (post) or reject a pending manual entry. The maker can do neither (SELF_APPROVAL)."""
    from asyncpg import UniqueViolationError

    reason_ = clean_text("reason", reason, max_len=500, required=not approve)
    try:
        return await _decide_draft(tenant, actor, draft_id, approve=approve, reason_=reason_)
    except UniqueViolationError:
        # Approving a reversal raced another reversal of the same entry: the unique index on
        # reverses_id let one through, and this transaction rolled back whole.
        raise DomainError(ErrorCode.INVALID_STATE, "the entry was already reversed", "id") from None


async def _decide_draft(tenant: TenantContext, actor: Actor, draft_id: int, *, approve: bool,
                        reason_: str) -> ManualResult:
    posted: Posted | None = None
    spec: EntrySpec | None = None
    async with ledger_tx() as db:
        lock = " FOR NO KEY UPDATE" if db.pg else ""
        d = await db.fetchrow(f"SELECT * FROM ledger_draft WHERE tenant_id = $1 AND id = $2{lock}", tenant.id, draft_id)
        if d is None:
            raise not_found("draft entry")
        if d["status"] != "pending_approval":
            raise DomainError(ErrorCode.INVALID_STATE, f"the draft is already {d['status'].replace('_', ' ')}", "id")
        if actor.user_id is not None and actor.user_id == d["created_by"]:
            raise DomainError(ErrorCode.SELF_APPROVAL, "you cannot approve or reject an entry you made yourself", "id")
        now = utcnow()
        if approve:
            lines = d["postings"] if isinstance(d["postings"], list) else json.loads(d["postings"])
            transfers = d.get("transfers") or []
            transfers = transfers if isinstance(transfers, list) else json.loads(transfers)
            reverses_id = d.get("reverses_id")
            if reverses_id is not None:
                already = await db.fetchval("SELECT id FROM ledger_entry WHERE tenant_id = $1 AND reverses_id = $2",
                                            tenant.id, reverses_id)
                if already is not None:
                    raise DomainError(ErrorCode.INVALID_STATE,
                                      f"entry {reverses_id} was already reversed by entry {already}", "id")
            spec = EntrySpec(key=d["idempotency_key"], kind=d.get("kind") or chart.MANUAL,
                             entry_date=_as_date(d["entry_date"]), memo=d["memo"], source_type=d["source_type"],
                             source_id=d["source_id"], reverses_id=reverses_id,
                             lines=[Line(a, m) for a, m in lines], created_by=d["created_by"],
                             approved_by=actor.user_id, transfers=[TransferRow(*t) for t in transfers])
            posted = await posting.post(tenant, spec, db=db)
            await db.execute("UPDATE ledger_draft SET status = 'approved', decided_by = $3, decided_at = $4, "
                             "entry_id = $5, reason = $6 WHERE tenant_id = $1 AND id = $2",
                             tenant.id, draft_id, actor.user_id, now, posted.entry_id, reason_)
            await record(tenant, actor, "ledger.draft.approve", "LedgerDraft", draft_id,
                         {"entry_id": posted.entry_id, "total_fen": d["total_fen"]})
        else:
            await db.execute("UPDATE ledger_draft SET status = 'rejected', decided_by = $3, decided_at = $4, "
                             "reason = $5 WHERE tenant_id = $1 AND id = $2", tenant.id, draft_id, actor.user_id, now,
                             reason_)
            await record(tenant, actor, "ledger.draft.reject", "LedgerDraft", draft_id, {"reason": reason_})
    if posted is not None and spec is not None:
        await posting.after_commit(tenant, posted, spec, utcnow())
        return ManualResult(entry_id=posted.entry_id, draft_id=draft_id)
    return ManualResult(draft_id=draft_id)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


# ---------------------------------------------------------------------------------------------
# Reversals
# ---------------------------------------------------------------------------------------------


async def reverse_entry(tenant: TenantContext, actor: Actor, entry_id: int, *, key: str, memo: str | None = None,
                        entry_date: dt.date | None = None, origin: str = APP) -> ManualResult:
    """Post the mirror image of an entry (dated today unless given), linked by ``reverses_id``; above
    the approval threshold it waits for an approver as a draft (a reversal moves money too)."""
    from core.funds.queries import entry_lines, get_entry

    key = stored_key(key, origin)
    entry_date = clean_date(entry_date)
    original = await get_entry(tenant, entry_id)
    if original is None:
        raise not_found("ledger entry")
    if original["reverses_id"] is not None:
        raise DomainError(ErrorCode.INVALID_STATE, "a reversing entry cannot itself be reversed", "id")
    lines = await entry_lines(tenant, entry_id)
    transfers = await _transfers_of(tenant, entry_id)
    memo_ = _memo(memo) or f"冲销 #{entry_id}"
    spec = EntrySpec(key=key, kind=chart.REVERSAL, entry_date=entry_date, memo=memo_,
                     source_type=original["source_type"], source_id=original["source_id"], reverses_id=entry_id,
                     lines=[Line(p["account_id"], -p["amount_fen"]) for p in lines], created_by=actor.user_id,
                     transfers=[TransferRow(t["kind"], t["direction"], t["from_unit_id"], t["to_unit_id"],
                                            t["fund_id"], -t["amount_fen"]) for t in transfers])
    from asyncpg import UniqueViolationError

    total = sum(ln.amount_fen for ln in spec.lines if ln.amount_fen > 0)
    if await _must_wait(tenant, key, total):
        from core.dbutil import raw

        already = await raw("SELECT id FROM ledger_entry WHERE tenant_id = {} AND reverses_id = {}", tenant.id, entry_id)
        if already:
            raise DomainError(ErrorCode.INVALID_STATE,
                              f"entry {entry_id} was already reversed by entry {already[0]['id']}", "id")
        return ManualResult(draft_id=await _create_draft(tenant, actor, spec, (), total))
    try:
        async with ledger_tx() as db:
            already = await db.fetchrow("SELECT id, idempotency_key FROM ledger_entry WHERE tenant_id = $1 AND "
                                        "reverses_id = $2", tenant.id, entry_id)
            if already is not None and already["idempotency_key"] != key:
                raise DomainError(ErrorCode.INVALID_STATE,
                                  f"entry {entry_id} was already reversed by entry {already['id']}", "id")
            done = await posting.post(tenant, spec, db=db)
            if done.created:
                await record(tenant, actor, "ledger.entry.reverse", "LedgerEntry", done.entry_id,
                             {"reverses": entry_id, "key": key})
    except UniqueViolationError:
        # Two reversals of one entry raced: the unique index on reverses_id let one through. The
        # error left the transaction (rolled back), so nothing of this attempt was written.
        raise DomainError(ErrorCode.INVALID_STATE, f"entry {entry_id} was already reversed", "id") from None
    await posting.after_commit(tenant, done, spec, utcnow())
    return ManualResult(entry_id=done.entry_id)


async def _transfers_of(tenant: TenantContext, entry_id: int) -> list[dict[str, Any]]:
    from core.funds.tables import Transfer

    return await Transfer.select().where((Transfer.tenant_id == tenant.id) & (Transfer.entry_id == entry_id))


# ---------------------------------------------------------------------------------------------
# Transfers between levels
# ---------------------------------------------------------------------------------------------


def _is_ancestor(upper: dict[str, Any], lower: dict[str, Any]) -> bool:
    return lower["path"].startswith(upper["path"]) and upper["id"] != lower["id"]


@dataclass(frozen=True)
class TransferResult:
    entry_id: int | None
    direction: str
    draft_id: int | None = None


async def transfer(tenant: TenantContext, actor: Actor, *, from_unit: dict[str, Any], to_unit: dict[str, Any],
                   fund: str, amount_fen: int, key: str, memo: str | None = None,
                   entry_date: dt.date | None = None, origin: str = APP) -> TransferResult:
    """上解 (to an ancestor) or 补助下级 (to a descendant): both sides in one entry.

    Up:   payer Dr 221 应付上级经费 / Cr 102;  receiver Dr 102 / Cr 132 应收下级经费.
    Down: payer Dr 506 补助下级支出 / Cr 102;  receiver Dr 102 / Cr 403 上级补助收入.

    Up settles what the payer owes (221); the engine refuses paying up more than is owed. Above the
    approval threshold the transfer waits for an approver as a draft.
    """
    amount_fen = clean_amount(amount_fen)
    key = stored_key(key, origin)
    entry_date = clean_date(entry_date)
    if from_unit["id"] == to_unit["id"]:
        raise DomainError(ErrorCode.INVALID_INPUT, "a transfer needs two different org units", "toOrgUnitId")
    if _is_ancestor(to_unit, from_unit):
        direction, kind, entry_kind = "up", "remit", chart.TRANSFER_UP
        codes = (("221", amount_fen), (CASH, -amount_fen), (CASH, amount_fen), ("132", -amount_fen))
    elif _is_ancestor(from_unit, to_unit):
        direction, kind, entry_kind = "down", "grant", chart.TRANSFER_DOWN
        codes = (("506", amount_fen), (CASH, -amount_fen), (CASH, amount_fen), ("403", -amount_fen))
    else:
        raise DomainError(ErrorCode.INVALID_HIERARCHY,
                          "transfers go between a unit and one of its ancestors or descendants", "toOrgUnitId")
    f = await get_fund(tenant, fund)
    units = (from_unit, from_unit, to_unit, to_unit)
    resolved = [Resolved(u, f, c, None) for u, (c, _) in zip(units, codes, strict=True)]
    default_memo = "上解上级经费" if direction == "up" else "补助下级"
    spec = EntrySpec(key=key, kind=entry_kind, entry_date=entry_date, memo=_memo(memo) or default_memo,
                     lines=[Line(0, a) for _, a in codes], created_by=actor.user_id,
                     transfers=[TransferRow(kind, direction, from_unit["id"], to_unit["id"], f["id"], amount_fen)])
    if await _must_wait(tenant, key, amount_fen):
        return TransferResult(None, direction, await _create_draft(tenant, actor, spec, resolved, amount_fen))
    done = await _post_audited(tenant, actor, spec, resolved, f"ledger.transfer.{direction}",
                               {"from": from_unit["id"], "to": to_unit["id"], "fund": f["code"], "amount_fen": amount_fen})
    return TransferResult(done.entry_id, direction)


# ---------------------------------------------------------------------------------------------
# Levy intake (拨缴) and the small-payer refund
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevyResult:
    entry_id: int
    levy_fen: int
    grassroots_fen: int
    upward_fen: int
    rule: str
    to_unit_id: int


async def record_levy(tenant: TenantContext, actor: Actor, *, unit: dict[str, Any], parent: dict[str, Any],
                      period_start: dt.date, period_end: dt.date, payroll_fen: int, levy_fen: int | None,
                      key: str, upward_settled: bool = True, entry_date: dt.date | None = None,
                      origin: str = APP) -> LevyResult:
    """A grassroots union's 2 % payroll levy, split by hook ``fund_levy_split`` (general fund).

    Settled (税务代征, the default): the collector pays each level its share directly:
        union Dr 102 / Cr 402 (its share);  parent Dr 102 / Cr 402 (upward share).
    Accrued: the union receives the whole levy and owes the upward share, settled later by 上解:
        union Dr 102 (all) / Cr 402 (its share) / Cr 221;  parent Dr 132 / Cr 402.
    """
    from core.interface import LevyInfo, LevySplit
    from core.plugins import hooks_for

    key = stored_key(key, origin)
    entry_date = clean_date(entry_date)
    payroll_fen = clean_amount(payroll_fen, "payrollFen", allow_zero=True)
    if levy_fen is None:
        levy_fen = payroll_fen * 2 // 100
    levy_fen = clean_amount(levy_fen, "levyFen")
    if levy_fen > payroll_fen:
        raise DomainError(ErrorCode.INVALID_INPUT, f"levyFen ({levy_fen}) cannot exceed payrollFen ({payroll_fen}): the "
                          "levy is a share of the payroll", "levyFen")
    if period_end < period_start:
        raise DomainError(ErrorCode.INVALID_INPUT, "periodEnd is before periodStart", "periodEnd")
    if unit["level"] != "grassroots":
        raise DomainError(ErrorCode.INVALID_INPUT, "the levy is recorded for a grassroots union", "orgUnitId")
    info = LevyInfo(org_unit_id=unit["id"], period_start=period_start, period_end=period_end,
                    payroll_fen=payroll_fen, levy_fen=levy_fen, region_code=await region_code_of(tenant, unit))
    split = hooks_for(tenant).fund_levy_split(tenant=tenant, levy=info)
    if not isinstance(split, LevySplit):
        raise DomainError(ErrorCode.PLUGIN_CONFIG, "no plugin answered fund_levy_split", "levyFen")
    try:
        split.check_covers(info)
    except ValueError as exc:
        raise DomainError(ErrorCode.PLUGIN_CONFIG, str(exc), "levyFen") from None
    g, u = split.grassroots_fen, split.upward_fen
    f = await get_fund(tenant, chart.GENERAL)
    items: list[tuple[dict[str, Any], str, int]] = []
    transfers: list[TransferRow] = []
    if upward_settled:
        if g:
            items += [(unit, CASH, g), (unit, "402", -g)]
        if u:
            items += [(parent, CASH, u), (parent, "402", -u)]
            transfers.append(TransferRow("levy", "up", unit["id"], parent["id"], f["id"], u))
    else:
        items.append((unit, CASH, levy_fen))
        if g:
            items.append((unit, "402", -g))
        if u:
            items += [(unit, "221", -u), (parent, "132", u), (parent, "402", -u)]
    spec = EntrySpec(key=key, kind=chart.LEVY, entry_date=entry_date,
                     memo=f"拨缴经费 {period_start.isoformat()}~{period_end.isoformat()}",
                     source_type="levy", source_id=f"{unit['id']}:{period_start.isoformat()}",
                     lines=[Line(0, a) for _, _, a in items], created_by=actor.user_id, transfers=transfers)
    resolved = [Resolved(un, f, c, None) for un, c, _ in items]
    done = await _post_audited(tenant, actor, spec, resolved, "ledger.levy",
                               {"unit": unit["id"], "levy_fen": levy_fen, "grassroots_fen": g, "upward_fen": u,
                                "rule": split.rule, "settled": upward_settled})
    return LevyResult(done.entry_id, levy_fen, g, u, split.rule, parent["id"])


async def region_code_of(tenant: TenantContext, unit: dict[str, Any]) -> str | None:
    """The unit's own area code, else its nearest ancestor's: grassroots unions rarely have one of
    their own, and a province's per-region rules (levy split overrides) are keyed by area code."""
    if unit.get("area_code"):
        return unit["area_code"]
    from core.tenancy.queries import ancestors

    for upper in reversed(await ancestors(tenant, unit)):  # nearest first
        if upper.get("area_code"):
            return upper["area_code"]
    return None


@dataclass(frozen=True)
class RefundResult:
    entry_id: int | None
    eligible: bool
    upward_paid_fen: int
    draft_id: int | None = None


async def upward_paid(tenant: TenantContext, unit_id: int, start: dt.date, end: dt.date) -> dict[int, int]:
    """What a union sent upward (levy shares and 上解) between two dates, by receiving unit."""
    from core.dbutil import raw

    rows = await raw(
        "SELECT to_unit_id, SUM(amount_fen) AS total FROM ledger_transfer WHERE tenant_id = {} AND from_unit_id = {} "
        "AND direction = 'up' AND kind IN ('levy', 'remit') AND entry_date >= {} AND entry_date <= {} "
        "GROUP BY to_unit_id", tenant.id, unit_id, start, end)
    return {r["to_unit_id"]: int(r["total"]) for r in rows if r["total"]}


async def small_payer_refund(tenant: TenantContext, actor: Actor, *, unit: dict[str, Any], policy_year: int,
                             is_soe: bool = False, is_budget_funded: bool = False, claims_micro_refund: bool = False,
                             staff_count: int | None = None, entry_date: dt.date | None = None,
                             authorize: Any = None) -> RefundResult:
    """小额缴费工会全额返还: the levels that received a small union's upward payments over the policy
    year (10-01 .. 09-30) pay them all back (Dr 506 / Cr 102 at each; union Dr 102 / Cr 403 上级补助收入-回拨).
    Eligibility is hook ``fund_small_payer_refund``. Once per union and policy year."""
    from core.interface import SmallPayerInfo
    from core.plugins import hooks_for

    if not isinstance(policy_year, int) or not 2000 <= policy_year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "policyYear must be a year between 2000 and 2100", "policyYear")
    if staff_count is not None:
        staff_count = int(clean_amount(staff_count, "staffCount", allow_zero=True))
    if unit["level"] != "grassroots":
        raise DomainError(ErrorCode.INVALID_INPUT, "the refund is for grassroots unions", "orgUnitId")
    start, end = dt.date(policy_year, 10, 1), dt.date(policy_year + 1, 9, 30)
    entry_date = clean_date(entry_date)
    if entry_date <= end:
        raise DomainError(ErrorCode.INVALID_STATE, f"policy year {policy_year} runs until {end.isoformat()}",
                          "policyYear")
    by_receiver = await upward_paid(tenant, unit["id"], start, end)
    total = sum(by_receiver.values())
    payer = SmallPayerInfo(org_unit_id=unit["id"], policy_year=policy_year, upward_paid_fen=total, is_soe=is_soe,
                           is_budget_funded=is_budget_funded, claims_micro_refund=claims_micro_refund,
                           staff_count=staff_count)
    eligible = bool(hooks_for(tenant).fund_small_payer_refund(tenant=tenant, payer=payer))
    if not eligible:
        raise DomainError(ErrorCode.NOT_ELIGIBLE,
                          f"not eligible for the small-payer refund ({total} fen paid upward in policy year "
                          f"{policy_year})", "orgUnitId")
    if total <= 0:
        raise DomainError(ErrorCode.INVALID_STATE, "nothing was paid upward in that policy year", "policyYear")
    from core.tenancy.queries import units_by_ids

    receivers = {u["id"]: u for u in await units_by_ids(tenant, sorted(by_receiver)) if u}
    if authorize is not None:
        authorize(list(receivers.values()))  # the paying levels: the caller checks its permissions
    f = await get_fund(tenant, chart.GENERAL)
    items: list[tuple[dict[str, Any], str, int]] = [(unit, CASH, total), (unit, "403", -total)]
    transfers = []
    for rid, amount in sorted(by_receiver.items()):
        if amount > 0:
            items += [(receivers[rid], "506", amount), (receivers[rid], CASH, -amount)]
            transfers.append(TransferRow("refund", "down", rid, unit["id"], f["id"], amount))
    legacy = await _legacy_entry(tenant, f"small-payer-refund:{unit['id']}:{policy_year}", chart.REFUND,
                                 "small_payer_refund", f"{unit['id']}:{policy_year}")
    if legacy is not None:  # refunded before keys had namespaces
        return RefundResult(legacy, True, total)
    spec = EntrySpec(key=posting.sys_key("small-payer-refund", unit["id"], policy_year), kind=chart.REFUND,
                     entry_date=entry_date,
                     memo=f"小额缴费工会全额返还 {policy_year}年度", source_type="small_payer_refund",
                     source_id=f"{unit['id']}:{policy_year}", lines=[Line(0, a) for _, _, a in items],
                     created_by=actor.user_id, transfers=transfers)
    resolved = [Resolved(un, f, c, None) for un, c, _ in items]
    if await _must_wait(tenant, spec.key, total):
        return RefundResult(None, True, total, await _create_draft(tenant, actor, spec, resolved, total))
    done = await _post_audited(tenant, actor, spec, resolved, "ledger.small_payer_refund",
                               {"unit": unit["id"], "policy_year": policy_year, "amount_fen": total})
    return RefundResult(done.entry_id, True, total)


async def _legacy_entry(tenant: TenantContext, key: str, kind: str, source_type: str, source_id: str) -> int | None:
    """An entry the ledger posted under a bare system key, before keys had namespaces: counted only
    if it is what that key meant (kind and source), so a client entry that took the key is ignored."""
    from core.dbutil import raw

    rows = await raw("SELECT id FROM ledger_entry WHERE tenant_id = {} AND idempotency_key = {} AND kind = {} AND "
                     "source_type = {} AND source_id = {}", tenant.id, key, kind, source_type, source_id)
    return rows[0]["id"] if rows else None


# ---------------------------------------------------------------------------------------------
# Special fund allocation (yearly)
# ---------------------------------------------------------------------------------------------


def check_allocation_year(year: Any) -> int:
    """Only a year that has ended (China time): until then income can still arrive, and a run
    would allocate a share of part of the year."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "year must be between 2000 and 2100", "year")
    if year >= today().year:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{year} has not ended; the special fund is allocated for a past "
                          "year", "year")
    return year


async def allocate_special_fund(tenant: TenantContext, year: int, actor: Actor = SYSTEM,
                                progress: Any = None) -> dict[str, Any]:
    """Move ``ratio`` of each unit's year income (4xx of the general fund, less 403 grants from above,
    which the granting level already counted) into the hardship special fund:
    general Dr 311 / Cr 102; hardship Dr 102 / Cr 311.

    Every run recomputes, per unit, what is due now against what the ledger shows allocated for
    the year so far (allocation entries less their reversals) and posts only the difference. So a
    second run after late levies tops up, a unit skipped for lack of cash is retried, and a rerun
    with nothing new posts nothing. The key of a top-up names how many allocation entries (and
    reversals of them) the unit has for the year (``sys:special-allocation:<year>:<unit>:<n>``): two
    runs racing on the same state post it once, and a run after a reversal gets a fresh key. Dated
    12-31 of the year, or today if that December is closed. An over-allocation (income reversed after
    the run) is reported, never taken back automatically."""
    from core.dbutil import raw
    from core.plugins import hooks_for

    year = check_allocation_year(year)
    bp = hooks_for(tenant).fund_special_allocation_ratio(tenant=tenant, year=year)
    if not isinstance(bp, int) or isinstance(bp, bool) or not 0 <= bp <= 10000:
        raise DomainError(ErrorCode.PLUGIN_CONFIG, f"fund_special_allocation_ratio gave {bp!r}; expected 0..10000 bp",
                          "year")
    general = await get_fund(tenant, chart.GENERAL)
    hardship = await get_fund(tenant, chart.HARDSHIP)
    rows = await raw(
        "SELECT org_unit_id, -SUM(amount_fen) AS income FROM ledger_posting WHERE tenant_id = {} AND fund_id = {} "
        "AND code IN ('401','402','404','405','406','407','408') AND entry_date >= {} AND entry_date <= {} "
        "GROUP BY org_unit_id ORDER BY org_unit_id", tenant.id, general["id"], dt.date(year, 1, 1),
        dt.date(year, 12, 31))
    # What was allocated for the year so far: the hardship cash moved by allocation entries (only the
    # ledger writes that kind; a client cannot) and by reversals of them.
    done_rows = await raw(
        "SELECT p.org_unit_id, SUM(p.amount_fen) AS allocated, COUNT(*) AS n FROM ledger_posting p JOIN ledger_entry e ON "
        "e.id = p.entry_id AND e.tenant_id = p.tenant_id WHERE p.tenant_id = {} AND p.fund_id = {} AND p.code = {} "
        "AND e.source_type = 'special_allocation' AND e.source_id LIKE {} AND (e.kind = {} OR (e.kind = {} AND "
        "e.reverses_id IN (SELECT id FROM ledger_entry WHERE tenant_id = {} AND kind = {}))) GROUP BY p.org_unit_id",
        tenant.id, hardship["id"], CASH, f"{year}:%", chart.ALLOCATION, chart.REVERSAL, tenant.id, chart.ALLOCATION)
    allocated = {r["org_unit_id"]: int(r["allocated"] or 0) for r in done_rows}
    seen = {r["org_unit_id"]: int(r["n"] or 0) for r in done_rows}  # one hardship-cash posting per entry
    december_closed = bool(await raw("SELECT id FROM ledger_period WHERE tenant_id = {} AND period = {}", tenant.id,
                                     f"{year:04d}-12"))
    entry_date = today() if december_closed else dt.date(year, 12, 31)
    from core.tenancy.queries import units_by_ids

    units = {u["id"]: u for u in await units_by_ids(tenant, [r["org_unit_id"] for r in rows]) if u}
    posted, already, skipped, over, total = 0, 0, [], [], 0
    for i, r in enumerate(rows):
        due = max(int(r["income"] or 0), 0) * bp // 10000
        so_far = allocated.get(r["org_unit_id"], 0)
        amount = due - so_far
        if progress is not None:
            await progress(i + 1, len(rows))
        if amount < 0:
            over.append({"org_unit_id": r["org_unit_id"], "due_fen": due, "allocated_fen": so_far})
            continue
        if amount == 0:
            already += 1 if due else 0
            continue
        unit = units[r["org_unit_id"]]
        memo = f"{year}年度计提解困脱困专项资金 ({bp / 100:.2f}%)" + (" 补提" if so_far else "")
        spec = EntrySpec(key=posting.sys_key("special-allocation", year, unit["id"], seen.get(unit["id"], 0)),
                         kind=chart.ALLOCATION,
                         entry_date=entry_date, memo=memo, source_type="special_allocation",
                         source_id=f"{year}:{unit['id']}",
                         lines=[Line(0, amount), Line(0, -amount), Line(0, amount), Line(0, -amount)],
                         created_by=actor.user_id)
        resolved = [Resolved(unit, general, "311", None), Resolved(unit, general, CASH, None),
                    Resolved(unit, hardship, CASH, None), Resolved(unit, hardship, "311", None)]
        try:
            done = await _post_audited(tenant, actor, spec, resolved)
        except DomainError as exc:
            # Insufficient cash, or a racing run saw other income: nothing was allocated for this
            # unit by this attempt, so the next run tries again.
            skipped.append({"org_unit_id": unit["id"], "code": exc.code.value, "message": exc.message})
            continue
        if done.created:
            posted += 1
            total += amount
        else:
            already += 1
    summary = {"year": year, "ratio_bp": bp, "posted": posted, "already_done": already, "allocated_fen": total,
               "skipped": skipped[:100], "over_allocated": over[:100]}
    if posted or skipped or over:
        await record(tenant, actor, "ledger.special_allocation", "LedgerYear", year, summary)
    return summary


# ---------------------------------------------------------------------------------------------
# Reservations (two-phase spending)
# ---------------------------------------------------------------------------------------------


async def reserve(tenant: TenantContext, actor: Actor, *, unit: dict[str, Any], fund: str, amount_fen: int,
                  expense_code: str, key: str, funding_code: str = CASH, expires_at: dt.datetime | None = None,
                  memo: str | None = None, source_type: str | None = None, source_id: str | None = None,
                  origin: str = APP, approved_by: int | None = None) -> int:
    """Hold money on the fund's account (cash by default) for a later payment to ``expense_code``.
    Reduces the available balance and, when the unit has a budget for the fund this year, its headroom.

    Above the approval threshold the reservation is created ``pending_approval`` (the money is held,
    so approving cannot fail for lack of it) and cannot be paid until a second person approves it
    (:func:`approve_reservation`). A domain whose own workflow already had a second person approve
    passes that person as ``approved_by`` (never the actor: SELF_APPROVAL)."""
    amount_fen = clean_amount(amount_fen)
    key = stored_key(key, origin)
    if approved_by is not None and approved_by == actor.user_id:
        raise DomainError(ErrorCode.SELF_APPROVAL, "the maker of a reservation cannot also be its approver", "id")
    pending = approved_by is None and await needs_approval(tenant, amount_fen)
    memo_ = _memo(memo)
    st, si = _source(source_type, source_id)
    if expense_code not in EXPENSE_CODES:
        raise DomainError(ErrorCode.INVALID_INPUT, "expenseCode must be a spending account (501-508)", "expenseCode")
    if funding_code not in ("101", "102"):
        raise DomainError(ErrorCode.INVALID_INPUT, "fundingCode must be 101 or 102", "fundingCode")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise DomainError(ErrorCode.INVALID_INPUT, "expiresAt must be a future time with a zone", "expiresAt")
    f = await get_fund(tenant, fund)
    year = today().year
    async with ledger_tx() as db:
        await posting.lock_shared(db, tenant)
        funding_id, expense_id = await ensure_accounts(db, tenant, [(unit["id"], f["id"], funding_code),
                                                                   (unit["id"], f["id"], expense_code)])
        now = utcnow()
        row = await db.fetchrow(
            "INSERT INTO ledger_reservation (tenant_id, idempotency_key, account_id, expense_account_id, org_unit_id, "
            "fund_id, amount_fen, posted_fen, status, expires_at, source_type, source_id, memo, created_by, created_at, "
            "updated_at, approved_by, approved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $14, $8, $9, $10, $11, $12, "
            "$13, $13, $15, $16) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
            tenant.id, key, funding_id, expense_id, unit["id"], f["id"], amount_fen, expires_at, st, si, memo_,
            actor.user_id, now, "pending_approval" if pending else "open", approved_by,
            now if approved_by is not None else None)
        if row is None:
            existing = await db.fetchrow("SELECT id, account_id, amount_fen, expense_account_id FROM ledger_reservation "
                                         "WHERE tenant_id = $1 AND idempotency_key = $2", tenant.id, key)
            assert existing is not None
            if (existing["account_id"], existing["expense_account_id"], existing["amount_fen"]) != (
                    funding_id, expense_id, amount_fen):
                raise DomainError(ErrorCode.DUPLICATE, "this idempotency key was already used for a different "
                                  "reservation", "idempotencyKey")
            return existing["id"]
        res_id = row["id"]
        lock = " FOR NO KEY UPDATE" if db.pg else ""
        acc = await db.fetchrow(f"SELECT id, code, normal_sign, balance_fen, reserved_fen FROM ledger_account "
                                f"WHERE tenant_id = $1 AND id = $2{lock}", tenant.id, funding_id)
        available = acc["normal_sign"] * acc["balance_fen"] - acc["reserved_fen"]
        if available < amount_fen:
            raise DomainError(ErrorCode.INSUFFICIENT_FUNDS,
                              f"account {acc['code']} has {max(available, 0)} fen available; {amount_fen} fen requested",
                              "amountFen")
        await db.execute("UPDATE ledger_account SET reserved_fen = reserved_fen + $3 WHERE tenant_id = $1 AND id = $2",
                         tenant.id, funding_id, amount_fen)
        budget = await db.fetchrow(
            f"SELECT id, amount_fen, lifted_fen, spent_fen, reserved_fen FROM ledger_budget WHERE tenant_id = $1 AND "
            f"org_unit_id = $2 AND fund_id = $3 AND year = $4{lock}", tenant.id, unit["id"], f["id"], year)
        if budget is not None:
            left = budget["amount_fen"] + budget["lifted_fen"] - budget["spent_fen"] - budget["reserved_fen"]
            if amount_fen > left:
                raise DomainError(ErrorCode.BUDGET_EXCEEDED,
                                  f"the {year} budget has {max(left, 0)} fen left; {amount_fen} fen requested "
                                  "(an approver can lift the budget)", "amountFen")
            await db.execute("UPDATE ledger_budget SET reserved_fen = reserved_fen + $3, updated_at = $4 WHERE "
                             "tenant_id = $1 AND id = $2", tenant.id, budget["id"], amount_fen, utcnow())
            await db.execute("UPDATE ledger_reservation SET budget_id = $3 WHERE tenant_id = $1 AND id = $2",
                             tenant.id, res_id, budget["id"])
        await record(tenant, actor, "ledger.reservation.create", "Reservation", res_id,
                     {"amount_fen": amount_fen, "unit": unit["id"], "fund": f["code"], "key": key,
                      "pending_approval": pending, "approved_by": approved_by})
    return res_id


async def approve_reservation(tenant: TenantContext, actor: Actor, res_id: int) -> dict[str, Any]:
    """The checker approves a reservation above the threshold; only then can it be paid."""
    async with ledger_tx() as db:
        r = await _lock_reservation(db, tenant, res_id)
        if r["status"] != "pending_approval":
            raise DomainError(ErrorCode.INVALID_STATE, f"the reservation is {r['status'].replace('_', ' ')}", "id")
        if actor.user_id is not None and actor.user_id == r["created_by"]:
            raise DomainError(ErrorCode.SELF_APPROVAL, "you cannot approve a reservation you made yourself", "id")
        now = utcnow()
        await db.execute("UPDATE ledger_reservation SET status = 'open', approved_by = $3, approved_at = $4, "
                         "updated_at = $4 WHERE tenant_id = $1 AND id = $2", tenant.id, res_id, actor.user_id, now)
        await record(tenant, actor, "ledger.reservation.approve", "Reservation", res_id,
                     {"amount_fen": r["amount_fen"], "maker": r["created_by"]})
        out = await db.fetchrow("SELECT * FROM ledger_reservation WHERE tenant_id = $1 AND id = $2", tenant.id, res_id)
    return out  # type: ignore[return-value]


async def _lock_reservation(db: Sql, tenant: TenantContext, res_id: int) -> dict[str, Any]:
    lock = " FOR NO KEY UPDATE" if db.pg else ""
    r = await db.fetchrow(f"SELECT * FROM ledger_reservation WHERE tenant_id = $1 AND id = $2{lock}", tenant.id, res_id)
    if r is None:
        raise not_found("reservation")
    return r


async def post_reservation(tenant: TenantContext, actor: Actor, res_id: int, *, key: str, amount_fen: int | None = None,
                           final: bool = False, memo: str | None = None, entry_date: dt.date | None = None) -> int:
    """Pay from a reservation: Dr the expense account / Cr the funding account, releasing the same
    amount from the reservation. ``final`` releases whatever is left; so does paying the remainder.

    The payment's key is derived from the reservation (``sys:reservation:<id>:<key>``), so no other
    request can take it; a repeated key returns the first payment only after checking that it is
    this reservation's payment of this amount (DUPLICATE otherwise, never a silent "already paid")."""
    raw_key = clean_key(key)
    entry_date = clean_date(entry_date)
    memo_ = _memo(memo)
    if amount_fen is not None:
        amount_fen = clean_amount(amount_fen)
    async with ledger_tx() as db:
        await posting.lock_shared(db, tenant)
        r = await _lock_reservation(db, tenant, res_id)
        entry_key = posting.sys_key("reservation", res_id, raw_key)
        prior = await _prior_payment(db, tenant, r, entry_key, f"reservation:{res_id}:{raw_key}", amount_fen)
        if prior is not None:
            return prior
        if r["status"] == "pending_approval":
            raise DomainError(ErrorCode.INVALID_STATE, "the reservation is above the approval threshold and waits "
                              "for an approver (reservationApprove)", "id")
        if r["status"] != "open":
            raise DomainError(ErrorCode.INVALID_STATE, f"the reservation is {r['status']}", "id")
        if r["expires_at"] is not None and _aware(r["expires_at"]) <= utcnow():
            raise DomainError(ErrorCode.INVALID_STATE, "the reservation has expired", "id")
        remaining = r["amount_fen"] - r["posted_fen"]
        amount = remaining if amount_fen is None else clean_amount(amount_fen)
        if amount > remaining:
            raise DomainError(ErrorCode.INVALID_INPUT, f"only {remaining} fen remain on the reservation", "amountFen")
        release = remaining if final else amount
        spec = EntrySpec(key=entry_key, kind=chart.PAYOUT, entry_date=entry_date, memo=memo_ or r["memo"],
                         source_type=r["source_type"], source_id=r["source_id"], created_by=actor.user_id,
                         lines=[Line(r["expense_account_id"], amount), Line(r["account_id"], -amount)],
                         release_accounts={r["account_id"]: release},
                         release_budgets={r["budget_id"]: release} if r["budget_id"] else {})
        done = await posting.post(tenant, spec, db=db)
        posted_total = r["posted_fen"] + amount
        status = "posted" if final or posted_total == r["amount_fen"] else "open"
        await db.execute("UPDATE ledger_reservation SET posted_fen = $3, status = $4, updated_at = $5 WHERE "
                         "tenant_id = $1 AND id = $2", tenant.id, res_id, posted_total, status, utcnow())
        await record(tenant, actor, "ledger.reservation.post", "Reservation", res_id,
                     {"entry_id": done.entry_id, "amount_fen": amount, "final": status == "posted"})
    await posting.after_commit(tenant, done, spec, utcnow())
    return done.entry_id


async def _prior_payment(db: Sql, tenant: TenantContext, r: dict[str, Any], key: str, legacy_key: str,
                         amount_fen: int | None) -> int | None:
    """The entry a repeated payment key points at, checked to be this reservation's payment (kind,
    accounts, amount). A mismatch under the system key is DUPLICATE; a mismatching entry under the
    pre-namespace key is someone else's entry that took the key, and is ignored."""
    rows = await db.fetch("SELECT id, idempotency_key, kind FROM ledger_entry WHERE tenant_id = $1 AND "
                          "idempotency_key IN ($2, $3)", tenant.id, key, legacy_key)
    for row in sorted(rows, key=lambda x: x["idempotency_key"] != key):  # the system key first
        lines = await db.fetch("SELECT account_id, amount_fen FROM ledger_posting WHERE tenant_id = $1 AND entry_id = $2",
                               tenant.id, row["id"])
        got = {ln["account_id"]: ln["amount_fen"] for ln in lines}
        paid = got.get(r["expense_account_id"], 0)
        matches = (row["kind"] == chart.PAYOUT and len(got) == 2 and paid > 0
                   and got.get(r["account_id"]) == -paid and (amount_fen is None or amount_fen == paid))
        if matches:
            return row["id"]
        if row["idempotency_key"] == key:
            raise DomainError(ErrorCode.DUPLICATE, "this idempotency key was already used for a different payment "
                              "from this reservation", "idempotencyKey")
    return None


def _aware(value: Any) -> dt.datetime:
    from core.dbutil import as_utc

    return as_utc(value)


async def void_reservation(tenant: TenantContext, actor: Actor, res_id: int, *, expired: bool = False,
                           reason: str | None = None) -> dict[str, Any]:
    """Release what is left of a reservation (status voided, or expired when the job does it)."""
    reason_ = clean_text("reason", reason, max_len=500, required=False)
    async with ledger_tx() as db:
        r = await _lock_reservation(db, tenant, res_id)
        if r["status"] not in ("open", "pending_approval"):
            if expired:
                return r
            raise DomainError(ErrorCode.INVALID_STATE, f"the reservation is {r['status']}", "id")
        rest = r["amount_fen"] - r["posted_fen"]
        lock = " FOR NO KEY UPDATE" if db.pg else ""
        await db.fetchrow(f"SELECT id FROM ledger_account WHERE tenant_id = $1 AND id = $2{lock}", tenant.id,
                          r["account_id"])
        await db.execute("UPDATE ledger_account SET reserved_fen = reserved_fen - $3 WHERE tenant_id = $1 AND id = $2",
                         tenant.id, r["account_id"], rest)
        if r["budget_id"]:
            await db.fetchrow(f"SELECT id FROM ledger_budget WHERE tenant_id = $1 AND id = $2{lock}", tenant.id,
                              r["budget_id"])
            await db.execute("UPDATE ledger_budget SET reserved_fen = reserved_fen - $3, updated_at = $4 WHERE "
                             "tenant_id = $1 AND id = $2", tenant.id, r["budget_id"], rest, utcnow())
        status = "expired" if expired else "voided"
        await db.execute("UPDATE ledger_reservation SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
                         tenant.id, res_id, status, utcnow())
        await record(tenant, actor, f"ledger.reservation.{'expire' if expired else 'void'}", "Reservation", res_id,
                     {"released_fen": rest, "reason": reason_})
        r = await db.fetchrow("SELECT * FROM ledger_reservation WHERE tenant_id = $1 AND id = $2", tenant.id, res_id)
    return r  # type: ignore[return-value]


async def expire_reservations(tenant: TenantContext, now: dt.datetime | None = None) -> int:
    """Void every open reservation past its expiry (the job runs this)."""
    from core.dbutil import raw

    now = now or utcnow()
    rows = await raw("SELECT id FROM ledger_reservation WHERE tenant_id = {} AND status IN ('open', 'pending_approval') "
                     "AND expires_at IS NOT "
                     "NULL AND expires_at <= {} ORDER BY id LIMIT 10000", tenant.id, now)
    for r in rows:
        await void_reservation(tenant, SYSTEM, r["id"], expired=True, reason="expired")
    return len(rows)


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
            budget_id = row["id"]  # type: ignore[index]
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
    return out  # type: ignore[return-value]


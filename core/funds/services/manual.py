"""Manual entries, maker-checker drafts and reversals."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.funds import chart, posting
from core.funds.posting import EntrySpec, Line, Posted, TransferRow
from core.funds.services.accounts import (
    APP,
    AccountRef,
    Resolved,
    _ids_for,
    _memo,
    _post_audited,
    _source,
    clean_amount,
    clean_date,
    resolve,
    stored_key,
)
from core.funds.sql import Sql, ledger_tx
from core.settings import get_settings
from core.validation import clean_text

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
                                     [(x[0], x[1]) for x in lines])
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
            return written(again, "draft")["id"]
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
            prior = await db.fetchrow("SELECT id, idempotency_key FROM ledger_entry WHERE tenant_id = $1 AND "
                                      "reverses_id = $2", tenant.id, entry_id)
            if prior is not None and prior["idempotency_key"] != key:
                raise DomainError(ErrorCode.INVALID_STATE,
                                  f"entry {entry_id} was already reversed by entry {prior['id']}", "id")
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

"""Reservations: two-phase spending (reserve, approve, post, void, expire)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from core.actor import SYSTEM, Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.funds import bulk, chart, posting
from core.funds.chart import CASH, EXPENSE_CODES
from core.funds.posting import EntrySpec, Line
from core.funds.services.accounts import (
    APP,
    _memo,
    _source,
    clean_amount,
    clean_date,
    clean_key,
    ensure_accounts,
    get_fund,
    stored_key,
    today,
)
from core.funds.services.manual import (
    needs_approval,
)
from core.funds.sql import Sql, ledger_tx
from core.validation import clean_text

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
        acc = written(await db.fetchrow(f"SELECT id, code, normal_sign, balance_fen, reserved_fen FROM ledger_account "
                                        f"WHERE tenant_id = $1 AND id = $2{lock}", tenant.id, funding_id), "account")
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
    return written(out, "reservation")


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


async def post_reservation_many(tenant: TenantContext, actor: Actor, res_id: int, payments: Sequence[tuple[str, int]],
                                *, memo: str | None = None, entry_date: dt.date | None = None) -> list[int]:
    """Pay many (key, amount) payments from one reservation in one transaction: an entry per payment
    (Dr expense / Cr funding) under the same derived key as :func:`post_reservation`, so each payment
    stays idempotent on its own, and a repeated key returns its first entry after the same check.
    One reservation lock, one look-up of the keys, one reservation update and one audit record for
    the batch: what a distribution to thousands of people needs. Returns the entry ids in order."""
    if not payments or len(payments) > 5000:
        raise DomainError(ErrorCode.INVALID_INPUT, "1 to 5000 payments per call", "payments")
    entry_date = clean_date(entry_date)
    memo_ = _memo(memo)
    wanted = [(clean_key(k), clean_amount(a)) for k, a in payments]
    if len({k for k, _ in wanted}) != len(wanted):
        raise DomainError(ErrorCode.INVALID_INPUT, "a payment key appears twice", "payments")
    done: list[posting.Posted] = []
    specs: list[EntrySpec] = []
    async with ledger_tx() as db:
        await posting.lock_shared(db, tenant)
        r = await _lock_reservation(db, tenant, res_id)
        keys = {posting.sys_key("reservation", res_id, k): (k, a) for k, a in wanted}
        if db.pg:
            # One unique-index probe per key (LATERAL … LIMIT 1). ``idempotency_key = ANY(…)`` and IN (…) let the
            # planner scan the tenant's entries instead whenever the table's statistics lag behind its size
            # (a distribution adds 100,000 entries in minutes): a batch then cost a scan of every entry.
            used = {row["idempotency_key"] for row in await db.fetch(
                "SELECT e.idempotency_key FROM unnest($2::text[]) AS k(key), LATERAL (SELECT idempotency_key FROM "
                "ledger_entry WHERE tenant_id = $1 AND idempotency_key = k.key LIMIT 1) AS e", tenant.id, list(keys))}
        else:
            marks = ", ".join(f"${i}" for i in range(2, len(keys) + 2))
            used = {row["idempotency_key"] for row in await db.fetch(
                f"SELECT idempotency_key FROM ledger_entry WHERE tenant_id = $1 AND idempotency_key IN ({marks})",
                tenant.id, *keys)}
        if len(used) < len(keys):
            if r["status"] != "open":
                raise DomainError(ErrorCode.INVALID_STATE, f"the reservation is {r['status'].replace('_', ' ')}", "id")
            if r["expires_at"] is not None and _aware(r["expires_at"]) <= utcnow():
                raise DomainError(ErrorCode.INVALID_STATE, "the reservation has expired", "id")
        remaining = r["amount_fen"] - r["posted_fen"]
        ids: list[int] = []
        paid = 0
        for entry_key, (raw_key, amount) in keys.items():
            if entry_key in used:
                prior = await _prior_payment(db, tenant, r, entry_key, f"reservation:{res_id}:{raw_key}", amount)
                assert prior is not None  # a mismatch raised DUPLICATE
                ids.append(prior)
                continue
            if paid + amount > remaining:
                raise DomainError(ErrorCode.INVALID_INPUT, f"only {remaining - paid} fen remain on the reservation",
                                  "amountFen")
            spec = EntrySpec(key=entry_key, kind=chart.PAYOUT, entry_date=entry_date, memo=memo_ or r["memo"],
                             source_type=r["source_type"], source_id=r["source_id"], created_by=actor.user_id,
                             lines=[Line(r["expense_account_id"], amount), Line(r["account_id"], -amount)],
                             release_accounts={r["account_id"]: amount},
                             release_budgets={r["budget_id"]: amount} if r["budget_id"] else {})
            specs.append(spec)
            ids.append(-len(specs))  # filled in below from the batch's entries
            paid += amount
        if specs:
            # One set-based posting for the batch, with the single path's checks entry by entry.
            done = await bulk.post_many(tenant, specs, db=db)
            ids = [done[-i - 1].entry_id if i < 0 else i for i in ids]
        if paid:
            posted_total = r["posted_fen"] + paid
            status = "posted" if posted_total == r["amount_fen"] else "open"
            await db.execute("UPDATE ledger_reservation SET posted_fen = $3, status = $4, updated_at = $5 WHERE "
                             "tenant_id = $1 AND id = $2", tenant.id, res_id, posted_total, status, utcnow())
            await record(tenant, actor, "ledger.reservation.post_many", "Reservation", res_id,
                         {"entries": len(done), "amount_fen": paid, "first_entry_id": done[0].entry_id,
                          "final": status == "posted"})
    if done:
        await bulk.after_commit_many(tenant, done, specs, utcnow())
    return ids


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
        after = await db.fetchrow("SELECT * FROM ledger_reservation WHERE tenant_id = $1 AND id = $2", tenant.id, res_id)
    return written(after, "reservation")


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

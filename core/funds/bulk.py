"""Bulk posting: many balanced entries in one transaction, set-based, with exactly the guarantees of
:func:`core.funds.posting.post` for each of them.

A distribution to a hundred thousand people through the single path costs two statements (and the
driver's per-statement overhead) per entry. Here a batch costs a handful of statements whatever its
size, in the single path's lock order:

1. the shared per-tenant ledger lock, then one ``INSERT … SELECT FROM unnest(…) ORDER BY`` of the
   entries (``ON CONFLICT (tenant_id, idempotency_key) DO NOTHING``) with their chain-queue rows.
   The batch is taken in the order of its keys: a key another transaction is inserting makes the
   insert wait for it, so two batches sharing keys must meet them in the same order or they could
   deadlock (the single path, one key per transaction, never can). Entry ids come from the sequence
   in that order, and the chain (which links queued entries in id order) appends them in it;
2. one look-up of the keys that inserted nothing: each must carry the same request hash (the first
   request's entry comes back) or the batch is refused (DUPLICATE), as a repeated single key is;
3. the accounts, in id order, ``FOR NO KEY UPDATE``; then the budgets the batch touches, in id order;
4. the checks, in Python, entry by entry on running balances, reusing the single path's own check
   functions: a batch is refused whole when any of its entries would have been refused posted alone
   after the ones before it (balanced books per unit and fund, no-negative, reserved never below
   zero, budget limits, closed periods);
5. one statement writing the final balances, budgets, every posting (entry order, line order: the
   order the content hash was computed over) and the transfer rows.

On SQLite (the embedded default, one writer at a time) the batch is simply the single path in a loop
inside one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core.context import TenantContext
from core.errors import DomainError, ErrorCode
from core.funds import chain
from core.funds.posting import (
    _ACCOUNT_COLS,
    LEDGER_LOCK_NAMESPACE,
    EntrySpec,
    Posted,
    _check_accounts,
    _spending,
    check_lines,
    period_of,
    post,
    request_hash,
)
from core.funds.sql import Sql, ledger_tx

MAX_ENTRIES = 5000


def _prepare(tenant: TenantContext, specs: Sequence[EntrySpec], created_at: dt.datetime) -> list[tuple[str, str]]:
    """Shape checks and hashes, before any database work: (request hash, content hash) per entry."""
    if not specs or len(specs) > MAX_ENTRIES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"1 to {MAX_ENTRIES} entries per batch", "entries")
    if len({s.key for s in specs}) != len(specs):
        raise DomainError(ErrorCode.INVALID_INPUT, "an idempotency key appears twice in one batch", "idempotencyKey")
    out = []
    for s in specs:
        check_lines(s.lines)
        out.append((
            request_hash(s.kind, s.memo, s.source_type, s.source_id, s.reverses_id, s.lines),
            chain.content_hash(tenant.id, s.key, s.kind, s.memo, s.source_type, s.source_id, s.entry_date,
                               s.reverses_id, s.created_by, s.approved_by, created_at,
                               [(ln.account_id, ln.amount_fen) for ln in s.lines]),
        ))
    return out


async def post_many(tenant: TenantContext, specs: Sequence[EntrySpec], *, db: Sql | None = None,
                    notify: bool = True) -> list[Posted]:
    """Post ``specs`` (at most 5000) in one transaction, or inside ``db``'s for callers that locked
    rows first (then they call :func:`after_commit_many` once they committed).

    Returns one :class:`Posted` per spec, in the given order; a key used before gives its first entry
    back with ``created=False`` (after checking it was the same request). The entries are posted, checked
    and chained in the order of their keys. Any refusal rolls back the batch."""
    created_at = dt.datetime.now(dt.UTC)
    hashes = _prepare(tenant, specs, created_at)
    if db is not None:
        return await _post_many_in(db, tenant, specs, hashes, created_at)
    async with ledger_tx() as own:
        done = await _post_many_in(own, tenant, specs, hashes, created_at)
    if notify:
        await after_commit_many(tenant, done, specs, created_at)
    return done


async def after_commit_many(tenant: TenantContext, done: Sequence[Posted], specs: Sequence[EntrySpec],
                            created_at: dt.datetime) -> None:
    """One chain kick for the batch, then ``on_ledger_entry_posted`` for each new entry, as the single
    path does for one. Call only once the transaction has committed."""
    from core.funds.posting import _notify
    from core.plugins import hooks_for

    if not any(p.created for p in done):
        return
    await chain.kick(tenant)
    try:
        listening = bool(hooks_for(tenant).on_ledger_entry_posted.get_hookimpls())
    except Exception:
        listening = False
    if not listening:
        return
    for posted, spec in zip(done, specs, strict=True):
        if posted.created:
            await _notify(tenant, posted, spec, created_at)


async def _post_many_in(db: Sql, tenant: TenantContext, specs: Sequence[EntrySpec], hashes: list[tuple[str, str]],
                        created_at: dt.datetime) -> list[Posted]:
    if not db.pg or db.citus:
        # SQLite: the single path per entry; the IMMEDIATE transaction already serialises writers.
        # Citus writes an INSERT ... SELECT from unnest with COPY, which row-level security refuses:
        # the single path (statement at a time there) in the batch's one transaction.
        return [await post(tenant, s, db=db) for s in specs]
    return await _post_many_pg(db, tenant, specs, hashes, created_at)


async def _post_many_pg(db: Sql, tenant: TenantContext, given: Sequence[EntrySpec], given_hashes: list[tuple[str, str]],
                        created_at: dt.datetime) -> list[Posted]:
    # Key order from here on (see the module's docstring); the answer comes back in the caller's order.
    order = sorted(range(len(given)), key=lambda i: given[i].key)
    specs, hashes = [given[i] for i in order], [given_hashes[i] for i in order]
    # 1. Lock, entries and their chain-queue rows in one statement.
    inserted = {r["idempotency_key"]: r["id"] for r in await db.fetch(
        "WITH l AS (SELECT pg_advisory_xact_lock_shared($13::integer, $14::integer)), "
        "e AS (INSERT INTO ledger_entry (tenant_id, idempotency_key, kind, memo, source_type, source_id, entry_date, "
        "reverses_id, created_by, approved_by, request_hash, content_hash, created_at) "
        "SELECT $1, x.k, x.kind, x.memo, x.st, x.si, x.d, x.rev, x.cb, x.ab, x.rh, x.ch, $12 FROM l, unnest("
        "$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::bigint[], $9::bigint[], "
        "$10::bigint[], $11::text[], $15::text[]) WITH ORDINALITY AS x(k, kind, memo, st, si, d, rev, cb, ab, rh, ch, o) "
        "ORDER BY x.o ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id, idempotency_key, content_hash), "
        "q AS (INSERT INTO ledger_unchained (tenant_id, entry_id, content_hash) SELECT $1, id, content_hash FROM e) "
        "SELECT id, idempotency_key FROM e",
        tenant.id, [s.key for s in specs], [s.kind for s in specs], [s.memo for s in specs],
        [s.source_type for s in specs], [s.source_id for s in specs], [s.entry_date for s in specs],
        [s.reverses_id for s in specs], [s.created_by for s in specs], [s.approved_by for s in specs],
        [h[0] for h in hashes], created_at, LEDGER_LOCK_NAMESPACE, tenant.id, [h[1] for h in hashes])}

    # 2. One look-up for the keys that were there already (or that a concurrent batch took first).
    existing: dict[str, int] = {}
    if len(inserted) < len(specs):
        wanted = {s.key: h[0] for s, h in zip(specs, hashes, strict=True) if s.key not in inserted}
        for row in await db.fetch("SELECT id, idempotency_key, request_hash FROM ledger_entry WHERE tenant_id = $1 AND "
                                  "idempotency_key = ANY($2::text[])", tenant.id, list(wanted)):
            if row["request_hash"] != wanted[row["idempotency_key"]]:
                raise DomainError(ErrorCode.DUPLICATE, "this idempotency key was already used for a different request",
                                  "idempotencyKey")
            existing[row["idempotency_key"]] = row["id"]
        assert len(existing) == len(wanted), "an entry key neither inserted nor found"
    new = [s for s in specs if s.key in inserted]
    if not new:
        return [Posted(existing[s.key], False) for s in given]

    # 3. Accounts in id order, then the budgets, in id order.
    ids = sorted({ln.account_id for s in new for ln in s.lines} | {a for s in new for a in s.release_accounts})
    accounts = await db.fetch(f"SELECT {_ACCOUNT_COLS} FROM ledger_account a WHERE a.tenant_id = $1 AND "
                              "a.id = ANY($2::bigint[]) ORDER BY a.id FOR NO KEY UPDATE", tenant.id, ids)
    state = {a["id"]: dict(a) for a in accounts}
    if len(state) != len(ids):
        raise DomainError(ErrorCode.NOT_FOUND, "an account of this entry does not exist", "accountId")
    frozen = tuple(accounts)

    # 4. Each entry checked on the balances the entries before it left, as if posted one by one.
    spends: list[dict[tuple[int, int], int]] = []
    for s in new:
        own = sorted({ln.account_id for ln in s.lines} | set(s.release_accounts))
        for account_id, balance, reserved in _check_accounts(s, own, [state[i] for i in own]):
            a = state[account_id]
            a["balance_fen"], a["reserved_fen"] = balance, reserved
        spends.append(_spending(s, state))
    budgets = await _budgets(db, tenant, new, spends)
    closed = await db.fetch("SELECT period FROM ledger_period WHERE tenant_id = $1 AND period = ANY($2::text[])",
                            tenant.id, sorted({period_of(s.entry_date) for s in new}))
    if closed:
        raise DomainError(ErrorCode.PERIOD_CLOSED, f"the accounting period {min(r['period'] for r in closed)} is "
                          "closed", "entryDate")

    # 5. Final balances and budgets, every posting in entry and line order, the transfer rows.
    lines = [(inserted[s.key], ln.account_id, s.entry_date, ln.amount_fen) for s in new for ln in s.lines]
    transfers = [(inserted[s.key], t, s.entry_date) for s in new for t in s.transfers]
    changed = list(state.values())
    await db.execute(
        "WITH u AS (UPDATE ledger_account a SET balance_fen = x.b, reserved_fen = x.r FROM unnest($2::bigint[], "
        "$3::bigint[], $4::bigint[]) AS x(i, b, r) WHERE a.id = x.i AND a.tenant_id = $1), "
        "b AS (UPDATE ledger_budget b SET spent_fen = x.s, reserved_fen = x.r, updated_at = now() FROM unnest("
        "$5::bigint[], $6::bigint[], $7::bigint[]) AS x(i, s, r) WHERE b.id = x.i AND b.tenant_id = $1), "
        "t AS (INSERT INTO ledger_transfer (tenant_id, entry_id, kind, direction, from_unit_id, to_unit_id, fund_id, "
        "amount_fen, entry_date) SELECT $1, x.e, x.k, x.d, x.f, x.t, x.u, x.m, x.dt FROM unnest($8::bigint[], "
        "$9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::date[]) "
        "AS x(e, k, d, f, t, u, m, dt)) "
        "INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date, "
        "amount_fen) SELECT $1, x.e, x.a, acc.org_unit_id, acc.fund_id, acc.code, x.d, x.m FROM unnest($16::bigint[], "
        "$17::bigint[], $18::date[], $19::bigint[]) WITH ORDINALITY AS x(e, a, d, m, o) JOIN unnest($20::bigint[], "
        "$21::bigint[], $22::bigint[], $23::text[]) AS acc(id, org_unit_id, fund_id, code) ON acc.id = x.a "
        "ORDER BY x.o",
        tenant.id, [a["id"] for a in changed], [a["balance_fen"] for a in changed], [a["reserved_fen"] for a in changed],
        [b[0] for b in budgets], [b[1] for b in budgets], [b[2] for b in budgets],
        [t[0] for t in transfers], [t[1].kind for t in transfers], [t[1].direction for t in transfers],
        [t[1].from_unit_id for t in transfers], [t[1].to_unit_id for t in transfers], [t[1].fund_id for t in transfers],
        [t[1].amount_fen for t in transfers], [t[2] for t in transfers],
        [x[0] for x in lines], [x[1] for x in lines], [x[2] for x in lines], [x[3] for x in lines],
        [a["id"] for a in changed], [a["org_unit_id"] for a in changed], [a["fund_id"] for a in changed],
        [a["code"] for a in changed])
    return [Posted(inserted[s.key], True, frozen) if s.key in inserted else Posted(existing[s.key], False)
            for s in given]


async def _budgets(db: Sql, tenant: TenantContext, new: Sequence[EntrySpec],
                   spends: Sequence[dict[tuple[int, int], int]]) -> list[tuple[int, int, int]]:
    """Lock the budgets the batch touches (id order) and run the single path's budget check entry by
    entry on running totals. Returns (id, final spent, final reserved) for each."""
    keys = {(u, f, s.entry_date.year) for s, spend in zip(new, spends, strict=True) for (u, f) in spend}
    release_ids = sorted({b for s in new for b in s.release_budgets})
    if not keys and not release_ids:
        return []
    ku, kf, ky = ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys])
    rows = await db.fetch(
        "SELECT id, org_unit_id, fund_id, year, amount_fen, lifted_fen, spent_fen, reserved_fen FROM ledger_budget b "
        "WHERE tenant_id = $1 AND (id = ANY($2::bigint[]) OR (org_unit_id, fund_id, year) IN (SELECT * FROM unnest("
        "$3::bigint[], $4::bigint[], $5::integer[]))) ORDER BY id FOR NO KEY UPDATE", tenant.id, release_ids, ku, kf, ky)
    by_key = {(b["org_unit_id"], b["fund_id"], b["year"]): b for b in rows}
    by_id = {b["id"]: b for b in rows}
    touched: dict[int, list[int]] = {}  # id -> [spent, reserved]
    for s, spend in zip(new, spends, strict=True):
        year = s.entry_date.year
        hit: dict[int, tuple[int, int]] = {}  # budget id -> (spent added, reserved released) by this entry
        for (u, f), d in spend.items():
            b = by_key.get((u, f, year))
            if b is not None:
                hit[b["id"]] = (d, 0)
        for bid, release in s.release_budgets.items():
            if bid in by_id:
                hit[bid] = (hit.get(bid, (0, 0))[0], release)
        for bid in sorted(hit):
            b = by_id[bid]
            cur = touched.setdefault(bid, [b["spent_fen"], b["reserved_fen"]])
            d, release = hit[bid]
            spent, reserved = cur[0] + d, cur[1] - release
            limit = b["amount_fen"] + b["lifted_fen"]
            before = cur[0] + cur[1]
            if spent + reserved > limit and spent + reserved > before:
                raise DomainError(
                    ErrorCode.BUDGET_EXCEEDED,
                    f"the {b['year']} budget of this fund at org unit {b['org_unit_id']} has {max(limit - before, 0)} "
                    f"fen left; this entry needs {spent + reserved - before} fen (an approver can lift the budget)",
                    "amountFen")
            cur[0], cur[1] = spent, max(reserved, 0)
    return [(bid, v[0], v[1]) for bid, v in sorted(touched.items())]

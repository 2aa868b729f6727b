"""The per-tenant hash chain over ledger entries, linked in batches.

Each entry gets a *content hash* when it is posted (its fields and postings, computed in Python
before the insert) and a row in ``ledger_unchained``, both in the posting transaction. The chainer
then links committed entries in batches: under a per-tenant advisory lock it takes the queued rows
(``DELETE … RETURNING``), orders them by entry id and appends links ``seq, prev_hash, hash`` where
``hash = sha256(tenant | seq | entry id | content hash | prev_hash)``.

Why batches: a chain computed inside each posting transaction has to hold a per-tenant lock until
COMMIT, which serialises every posting of a province on one lock (and one WAL flush at a time).
Linking after commit keeps postings concurrent; the lock is held for one short transaction per
batch, whatever the batch size. Each posting kicks the chainer once it has committed (a process
keeps one chainer per tenant running while there is work), the ``funds.chain`` cron job catches
anything left when another process held the lock, and ``verify`` links the queue before checking.

The chain's head (``chain_head``, chain "ledger") moves in each linking transaction, under the same
lock, so ``verify`` notices the newest links and entries deleted; signed checkpoints kept outside
the database catch a rewrite of links and head together (see core/audit/anchor.py).

Until it is linked an entry is still protected: ``ledger_entry``/``ledger_posting`` refuse UPDATE and
DELETE (trigger), its queue row carries the content hash fixed at posting time, and ``verify``
reports an entry that is neither linked nor queued.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.audit import anchor
from core.context import TenantContext
from core.dbutil import as_utc
from core.funds.sql import Sql, has_function, ledger_tx, own_call_possible, read_conn

log = logging.getLogger("huijia.funds")

CHAIN_LOCK_NAMESPACE = 1011
CHAIN = "ledger"
HEAD_UPSERT = anchor.upsert_head_sql(("$1", "$2", "$3", "$4"))
HEAD_SELECT = "SELECT seq, hash FROM chain_head WHERE tenant_id = $1 AND chain = $2"
# The last link and the anchored head, in one round trip; the next link goes on from the further.
LAST_AND_HEAD = (
    "SELECT * FROM (SELECT 0 AS k, seq, hash FROM ledger_chain WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1) r "
    "UNION ALL SELECT 1, seq, hash FROM chain_head WHERE tenant_id = $1 AND chain = $2"
)
BATCH = 5000
# A batch: every queued entry up to the ``limit``-th entry id, read through the (tenant_id, entry_id)
# index. Not ``id IN (SELECT … LIMIT n)``: without statistics on the queue the planner ran that as a
# nested loop over the whole queue per row taken (seconds for 60 rows of a large backlog). An entry
# with a lower id committing between the two reads is taken too, so a batch may exceed ``limit``;
# what the DELETE returned is what gets linked.
QUEUE_TAKE = (
    "DELETE FROM ledger_unchained WHERE tenant_id = $1 AND entry_id <= (SELECT max(s.entry_id) FROM (SELECT "
    "entry_id FROM ledger_unchained WHERE tenant_id = $1 ORDER BY entry_id LIMIT $2) s) "
    "RETURNING entry_id, content_hash")


def content_hash(tenant_id: int, key: str, kind: str, memo: str, source_type: str, source_id: str,
                 entry_date: dt.date | str, reverses_id: int | None, created_by: int | None,
                 approved_by: int | None, created_at: dt.datetime | str,
                 lines: Iterable[tuple[int, int]]) -> str:
    """What an entry is: recomputed by ``verify`` from the stored rows and compared."""
    if isinstance(entry_date, str):
        entry_date = dt.date.fromisoformat(entry_date[:10])
    body = [
        tenant_id, key, kind, memo, source_type, source_id, entry_date.isoformat(), reverses_id, created_by,
        approved_by, as_utc(created_at).isoformat(timespec="microseconds"), [[a, m] for a, m in lines],
    ]
    canonical = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def link_hash(tenant_id: int, seq: int, entry_id: int, chash: str, prev_hash: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{seq}|{entry_id}|{chash}|{prev_hash}".encode()).hexdigest()


# The one-call linker (migrations/funds/*_link_pending.py): PostgreSQL only (on Citus a PL/pgSQL
# function would send each of its statements to the shard one by one, as for the posting). Tests turn
# PG_FUNCTION off to compare the two paths.
PG_FUNCTION = True
LINK_FN_SQL = "SELECT ledger_link_pending($1, $2, $3, $4)"


async def _function_ready(db: Sql) -> bool:
    return PG_FUNCTION and await has_function(db, "ledger_link_pending")


async def link_pending(tenant: TenantContext, limit: int = BATCH) -> int:
    """Link up to ``limit`` queued entries. Returns how many, or -1 when another process holds the lock."""
    if PG_FUNCTION and own_call_possible():
        async with read_conn() as one:
            if await _function_ready(one):
                return int(await one.conn.fetchval(LINK_FN_SQL, tenant.id, limit, CHAIN_LOCK_NAMESPACE, CHAIN))
    async with ledger_tx() as db:
        if await _function_ready(db):
            return int(await db.conn.fetchval(LINK_FN_SQL, tenant.id, limit, CHAIN_LOCK_NAMESPACE, CHAIN))
        if db.citus and not await db.fetchval("SELECT pg_try_advisory_xact_lock($1::integer, $2::integer)",
                                              CHAIN_LOCK_NAMESPACE, tenant.id):
            return -1
        if db.pg and not db.citus:
            # One round trip: try the lock and, only if it was granted, take the queued rows. The chain's
            # head is read by a later statement, so under a snapshot taken while the lock is held (rows
            # another linker took and committed meanwhile are skipped by the DELETE: they are gone).
            rows = await db.fetch(
                "WITH l AS (SELECT pg_try_advisory_xact_lock($3::integer, $4::integer) AS got), "
                "d AS (DELETE FROM ledger_unchained WHERE tenant_id = $1 AND entry_id <= (SELECT max(s.entry_id) "
                "FROM (SELECT u.entry_id FROM ledger_unchained u, l WHERE l.got AND u.tenant_id = $1 "
                "ORDER BY u.entry_id LIMIT $2) s) RETURNING entry_id, content_hash) "
                "SELECT l.got, d.entry_id, d.content_hash FROM l LEFT JOIN d ON TRUE",
                tenant.id, limit, CHAIN_LOCK_NAMESPACE, tenant.id)
            if not rows[0]["got"]:
                return -1
            rows = [r for r in rows if r["entry_id"] is not None]
        else:
            rows = await db.fetch(QUEUE_TAKE, tenant.id, limit)
        if not rows:
            return 0
        rows.sort(key=lambda r: r["entry_id"])
        last = anchor.continue_from(*await db.fetch(LAST_AND_HEAD, tenant.id, CHAIN))
        seq = last["seq"] if last else 0
        prev = last["hash"] if last else ""
        links = []
        for r in rows:
            seq += 1
            h = link_hash(tenant.id, seq, r["entry_id"], r["content_hash"], prev)
            links.append((tenant.id, seq, r["entry_id"], r["content_hash"], prev, h))
            prev = h
        await _insert_links(db, links, seq, prev)
        return len(rows)


async def _insert_links(db: Sql, links: list[tuple[Any, ...]], seq: int, head: str) -> None:
    """The links and the chain's new head."""
    if db.pg and not db.citus:
        # One round trip for both: the head upsert reads nothing the link insert writes.
        cols = list(zip(*links, strict=True))
        await db.execute(
            "WITH i AS (INSERT INTO ledger_chain (tenant_id, seq, entry_id, content_hash, prev_hash, hash, chained_at) "
            "SELECT t, s, e, c, p, h, now() FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], "
            "$5::text[], $6::text[]) AS x(t, s, e, c, p, h)) "
            + anchor.upsert_head_sql(("$7::bigint", "$8", "$9::bigint", "$10")),
            list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]), list(cols[5]),
            links[0][0], CHAIN, seq, head,
        )
    else:
        now = dt.datetime.now(dt.UTC)
        await db.executemany(
            "INSERT INTO ledger_chain (tenant_id, seq, entry_id, content_hash, prev_hash, hash, chained_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)", [(*link, now) for link in links])
        await db.execute(HEAD_UPSERT, links[0][0], CHAIN, seq, head)


async def link_all(tenant: TenantContext) -> int:
    """Link everything queued (used by verify, the cron job and the benchmark). -1 if locked elsewhere."""
    total = 0
    while True:
        n = await link_pending(tenant)
        if n < 0:
            return -1 if total == 0 else total
        total += n
        if n < BATCH:
            return total


@dataclass
class _Chainer:
    running: bool = False
    dirty: bool = False


_chainers: dict[int, _Chainer] = {}
_background: set[asyncio.Task[None]] = set()
# Passes a posting request makes before it hands the rest to a background task: one links its own
# entry when nothing else is linking; under sustained load there is always more to link, and the
# request that happened to kick must not keep linking for everyone (each pass it waits for is a
# posting it does not send).
KICK_PASSES = 1


# Under sustained posting the background linker waits this long before each pass, so that one pass
# links the entries of many postings: every pass is a transaction with a commit of its own, and
# passes run back to back linked about 13 entries each (bench-ledger, 8 clients: about 190 passes per
# 2,400 entries). At 0.05 s a pass took about 60 entries and the passes still cost the database about
# 70 µs per entry more than at 0.2 s (820 against 747 µs of database CPU per posted entry, bench
# rounds back to back), where a pass takes a few hundred. The chain then lags by about this much
# under load; entries waiting meanwhile are queued with their content hash and their rows are
# immutable, and verify links the queue before it checks.
BACKGROUND_PAUSE = 0.2


async def _drain(tenant: TenantContext, state: _Chainer, max_passes: int, pause: float = 0.0) -> None:
    passes = 0
    while state.dirty and passes < max_passes:
        if pause:
            await asyncio.sleep(pause)  # kicks meanwhile set dirty again: this pass takes their entries
        state.dirty = False
        passes += 1
        if await link_pending(tenant) < 0:
            state.dirty = False  # another process is linking; the cron job sweeps what it may miss
            return


async def kick(tenant: TenantContext) -> None:
    """Called after a posting commits. At most one linker per tenant runs in a process; the others
    mark it dirty, and it loops until a pass starts with nothing new (so nothing committed before a
    kick is left behind by this process). Never raises: the entry is posted whatever happens here."""
    state = _chainers.setdefault(tenant.id, _Chainer())
    state.dirty = True
    if state.running:
        return
    state.running = True
    handed_off = False
    try:
        await _drain(tenant, state, KICK_PASSES)
        if state.dirty:
            task = asyncio.get_running_loop().create_task(_drain_in_background(tenant, state))
            _background.add(task)
            task.add_done_callback(_background.discard)
            handed_off = True
    except Exception:
        log.exception("ledger chain: linking failed", extra={"tenant": tenant.code})
    finally:
        if not handed_off:
            state.running = False


async def _drain_in_background(tenant: TenantContext, state: _Chainer) -> None:
    from core.context import tenant_scope

    try:
        with tenant_scope(tenant):
            await _drain(tenant, state, 1_000_000, BACKGROUND_PAUSE)
    except Exception:
        log.exception("ledger chain: background linking failed", extra={"tenant": tenant.code})
    finally:
        state.running = False


async def wait_background(timeout: float = 10.0) -> None:
    """Let background linkers finish (tests, shutdown)."""
    if _background:
        await asyncio.wait(list(_background), timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


@dataclass
class ChainReport:
    ok: bool = True
    checked: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)
    # The anchored head as verify read it before scanning, and found in the chain when ok.
    head_seq: int = 0
    head_hash: str = ""

    def problem(self, text: str) -> None:
        self.ok = False
        if len(self.problems) < 1000:
            self.problems.append(text)


def entry_content_hash(tenant_id: int, e: dict[str, Any], lines: Sequence[tuple[int, int]]) -> str:
    return content_hash(tenant_id, e["idempotency_key"], e["kind"], e["memo"], e["source_type"], e["source_id"],
                        e["entry_date"], e["reverses_id"], e["created_by"], e["approved_by"], e["created_at"], lines)


async def verify(tenant: TenantContext, *, link_first: bool = True, chunk: int = 2000,
                 checkpoint: dict[str, Any] | None = None) -> ChainReport:
    """Recompute every link and every entry's content. Reports edited entries or postings (content
    mismatch), deleted or inserted links (seq gaps, broken prev links), entries missing from the chain,
    a deleted tail (the anchored head points past the last link) and, given a checkpoint (see
    anchor.parse_checkpoint), a chain that no longer holds the checkpoint's head at its seq."""
    if link_first:
        await wait_background()
        await link_all(tenant)
    report = ChainReport()
    async with read_conn() as db:
        prev_hash = ""
        expected = 1
        after = 0
        last_seq = 0
        hash_at: str | None = None
        hash_at_head: str | None = None
        head_before = await db.fetchrow(HEAD_SELECT, tenant.id, CHAIN)
        while True:
            links = await db.fetch(
                "SELECT seq, entry_id, content_hash, prev_hash, hash FROM ledger_chain WHERE tenant_id = $1 "
                "AND seq > $2 ORDER BY seq LIMIT $3", tenant.id, after, chunk)
            if not links:
                break
            ids = [lk["entry_id"] for lk in links]
            entries = {e["id"]: e for e in await db.fetch(
                f"SELECT * FROM ledger_entry WHERE tenant_id = $1 AND id IN ({db.in_list(2, len(ids))})",
                tenant.id, *ids)}
            lines: dict[int, list[tuple[int, int]]] = {}
            for p in await db.fetch(
                    f"SELECT entry_id, account_id, amount_fen FROM ledger_posting WHERE tenant_id = $1 "
                    f"AND entry_id IN ({db.in_list(2, len(ids))}) ORDER BY id", tenant.id, *ids):
                lines.setdefault(p["entry_id"], []).append((p["account_id"], p["amount_fen"]))
            for lk in links:
                seq = lk["seq"]
                if seq != expected:
                    report.problem(f"seq {expected}..{seq - 1} missing (deleted links)")
                if lk["prev_hash"] != prev_hash:
                    report.problem(f"seq {seq}: link to the previous entry is broken")
                if link_hash(tenant.id, seq, lk["entry_id"], lk["content_hash"], lk["prev_hash"]) != lk["hash"]:
                    report.problem(f"seq {seq}: link does not match its hash (edited)")
                e = entries.get(lk["entry_id"])
                if e is None:
                    report.problem(f"seq {seq}: entry {lk['entry_id']} is missing (deleted)")
                else:
                    entry_lines = lines.get(e["id"], [])
                    if entry_content_hash(tenant.id, e, entry_lines) != lk["content_hash"]:
                        report.problem(f"seq {seq}: entry {e['id']} does not match its hash (edited entry or postings)")
                    if sum(a for _, a in entry_lines) != 0:
                        report.problem(f"entry {e['id']}: postings do not sum to zero")
                if checkpoint is not None and seq == checkpoint["seq"]:
                    hash_at = lk["hash"]
                if head_before is not None and seq == head_before["seq"]:
                    hash_at_head = lk["hash"]
                prev_hash = lk["hash"]
                expected = seq + 1
                last_seq = seq
                report.checked += 1
            after = links[-1]["seq"]
        report.pending = int(await db.fetchval(
            "SELECT count(*) FROM ledger_unchained WHERE tenant_id = $1", tenant.id) or 0)
        missing = await db.fetch(
            "SELECT e.id FROM ledger_entry e WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM ledger_chain c "
            "WHERE c.tenant_id = e.tenant_id AND c.entry_id = e.id) AND NOT EXISTS (SELECT 1 FROM ledger_unchained u "
            "WHERE u.tenant_id = e.tenant_id AND u.entry_id = e.id) "
            "ORDER BY e.id LIMIT 100", tenant.id)
        for m in missing:
            report.problem(f"entry {m['id']} is in neither the chain nor the queue")
        head_after = await db.fetchrow(HEAD_SELECT, tenant.id, CHAIN)
        if head_before is not None:
            report.head_seq, report.head_hash = head_before["seq"], head_before["hash"]
        for problem in anchor.head_problems(CHAIN, head_before, head_after, last_seq, hash_at_head):
            report.problem(problem)
        if checkpoint is not None:
            for problem in anchor.checkpoint_problems(checkpoint, tenant, hash_at, last_seq):
                report.problem(problem)
    return report


async def checkpoint(tenant: TenantContext) -> dict[str, Any]:
    """A signed checkpoint of the ledger chain's head, for an auditor to keep outside the database.
    Links what is queued, verifies the whole chain and names the head that verify found in it;
    refused (CheckpointError) when verify finds problems (signing a damaged chain would vouch for the
    damage) or nothing is linked yet."""
    r = await verify(tenant)
    if not r.ok:
        raise anchor.CheckpointError(f"{r.problems[0]}; run `huijia ledger verify` (the chain is damaged)")
    if not r.head_seq:
        raise anchor.CheckpointError("the ledger chain is empty: nothing to checkpoint")
    return anchor.make_checkpoint(tenant, CHAIN, r.head_seq, r.head_hash)

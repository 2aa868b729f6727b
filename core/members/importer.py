"""Roster import: upload, dry-run preview, and a resumable bulk commit.

The flow (docs/members.md has the whole story):

1. ``receive_upload`` streams the request body into an encrypted store file (``filestore``), then
   sniffs the type and encoding and finds the header row. A file that cannot be a roster (empty,
   wrong type, unknown encoding, no matching header, garbage) is refused here, before any job.
2. The ``member.import.preview`` job reads every row and applies every rule (GB 11643, phone, unit
   in this tenant and in the uploader's scope, grassroots level, tags, dates, the tenant's
   ``member_validate`` plugin rules, duplicates within the file, and what the row would do to an
   existing member), without writing any member. It stores counts and the row errors.
3. ``memberImportCommit`` starts the ``member.import.commit`` job. Rows are validated again and
   written in batches. Each batch is one transaction that also advances the import's
   ``committed_through_row`` checkpoint, so after a crash the import record says exactly which rows
   went in, and running the commit again continues after the checkpoint. Re-importing the same
   people updates them (dedup by the blind index of the ID number); unchanged rows write nothing but
   a marker.

The bulk path on PostgreSQL: per batch, ``COPY`` (asyncpg ``copy_records_to_table`` on the
transaction's own pooled connection) into temporary staging tables, then one ``INSERT ... SELECT``
for new members and one ``UPDATE ... FROM`` for changed ones, each writing its history rows in the
same statement. (``COPY`` straight into ``member`` is impossible: PostgreSQL refuses ``COPY FROM``
into tables with row-level security, and the upsert needs the staging step anyway.) On SQLite (the
embedded default) the same batches go through ``executemany``.

Row validation and encryption run off the event loop: in a helper thread, or in
``HUIJIA_IMPORT_WORKERS`` worker processes. Personal data stays in memory: job arguments are the
import id, error messages never quote values, and the stored file is encrypted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import pickle
import sys
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import engine, on_postgres, transaction, utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.members import filestore, personal, pii_keys, queries, roster
from core.members.tables import MemberImport, MemberImportError
from core.members.validation import (
    CONFLICT,
    DUPLICATE,
    FIELDS,
    STATE,
    RowContext,
    clean_member,
    plugin_problems,
)

log = logging.getLogger("huijia.members.import")

KIND = "imports"
BATCH_ROWS = 5000
PIPELINE_DEPTH = 2
MAX_STORED_ERRORS = 100_000
FAIL_FAST_ROWS = 1000
IMPORT_LOCK_NAMESPACE = 1403
STALE_SECONDS = 600

# (row_no, field, code, message)
RowError = tuple[int, str, str, str]


# ---------------------------------------------------------------------------------------------
# Row preparation (pure; runs in a thread or a worker process)
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Prepared:
    row_no: int
    name: str
    name_search: str
    id_number: str
    gender: str
    birth_date: dt.date
    phone: str | None
    org_unit_id: int
    employer: str
    work_status: str
    tags: tuple[str, ...]
    joined_on: dt.date | None
    given: tuple[str, ...]
    region_code: str | None
    id_bidx: bytes  # under the index key to write with
    phone_bidx: bytes | None
    id_enc: str | None = None
    phone_enc: str | None = None
    # The same values under the tenant's other index keys to match (only while a rotation is in
    # progress or pending): an existing member may still be under one of them.
    id_alt: tuple[bytes, ...] = ()
    phone_alt: tuple[bytes, ...] = ()


_CONTEXTS: dict[str, tuple[RowContext, bool, personal.IndexKeys]] = {}
WORKER_PEAK_RSS_KB = 0
_CTX_LOCK = threading.Lock()


def _init_worker(key: str, payload: bytes, owner_pid: int) -> None:
    _CONTEXTS[key] = pickle.loads(payload)
    threading.Thread(target=_exit_with_owner, args=(owner_pid,), name="import-owner-watch", daemon=True).start()


def _exit_with_owner(owner_pid: int) -> None:
    """Exit when the process that started this worker does. A killed ``huijia worker`` would leave
    its pool workers blocked on their task queue for good (each holds the queue's write end, so it
    never sees EOF), and with them the forkserver and the resource tracker, whose pipes they hold."""
    import os
    import select
    import time

    try:
        fd = os.pidfd_open(owner_pid)
    except (AttributeError, OSError):  # not Linux, or the owner is already gone
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while True:
            time.sleep(1)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
    os._exit(1)


def prepare_batch(key: str, rows: list[tuple[int, dict[str, Any]]]) -> tuple[list[Prepared], list[RowError]]:
    """Validate (core + plugin rules), blind-index and (for a commit) encrypt one batch of rows."""
    from core.plugins import hooks_for

    ctx, encrypt, ix = _CONTEXTS[key]
    tenant_id = ctx.tenant.id
    hook = hooks_for(ctx.tenant).member_validate if ctx.run_plugins else None
    ring = pii_keys.keyring()
    id_ctx = personal.context("member", "id_number", tenant_id)
    phone_ctx = personal.context("member", "phone", tenant_id)
    out: list[Prepared] = []
    errors: list[RowError] = []
    for row_no, values in rows:
        clean, problems = clean_member(values, ctx)
        if clean is not None and hook is not None:
            problems = plugin_problems(ctx, clean, None, hook)
        if problems:
            errors.extend((row_no, p.field, p.code, p.message) for p in problems)
            continue
        assert clean is not None
        phone = clean.phone
        item = Prepared(
            row_no, clean.name, clean.name_search, clean.id_number, clean.gender, clean.birth_date, phone,
            clean.org_unit_id, clean.employer, clean.work_status, clean.tags, clean.joined_on, clean.given,
            clean.region_code, b"", None,
        )
        _index(item, ix)
        if encrypt:
            item.id_enc = ring.encrypt(clean.id_number, context=id_ctx)
            item.phone_enc = ring.encrypt(phone, context=phone_ctx) if phone else None
        out.append(item)
    return out, errors


def _index(item: Prepared, ix: personal.IndexKeys) -> None:
    """Blind-index a row's ID number and phone under the write key, and under the other keys to match."""
    ids = ix.id_bidxs(item.id_number)
    item.id_bidx, item.id_alt = ids[0], tuple(ids[1:])
    if item.phone:
        phones = ix.phone_bidxs(item.phone)
        item.phone_bidx, item.phone_alt = phones[0], tuple(phones[1:])
    else:
        item.phone_bidx, item.phone_alt = None, ()


def _lookup_bidxs(rows: Sequence[Prepared]) -> list[bytes]:
    return [b for r in rows for b in (r.id_bidx, *r.id_alt)]


class Preparer:
    """Runs ``prepare_batch`` off the event loop: one helper thread, or N worker processes.
    ``ix``: the tenant's index keys when the job started (a commit batch re-checks them)."""

    def __init__(self, ctx: RowContext, encrypt: bool, workers: int, ix: personal.IndexKeys) -> None:
        self.key = uuid.uuid4().hex
        self.ix = ix
        self.executor: Executor
        if workers > 0:
            import multiprocessing
            import os

            payload = pickle.dumps((ctx, encrypt, ix))
            self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                                                initializer=_init_worker, initargs=(self.key, payload, os.getpid()))
        else:
            with _CTX_LOCK:
                _CONTEXTS[self.key] = (ctx, encrypt, ix)
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="member-import")
            # The helper thread is CPU-bound; with the default 5 ms GIL switch interval every small
            # database round trip of the event loop waited up to 5 ms for the GIL (measured: a third
            # of the commit's time). 0.5 ms gives the loop its turn promptly.
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._interval, 0.0005))

    def submit(self, rows: list[tuple[int, dict[str, Any]]]) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().run_in_executor(self.executor, prepare_batch, self.key, rows)

    def close(self) -> None:
        global WORKER_PEAK_RSS_KB
        for proc in list(getattr(self.executor, "_processes", {}).values()):
            try:  # peak resident set of each worker, for the benchmark's report
                with open(f"/proc/{proc.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            WORKER_PEAK_RSS_KB = max(WORKER_PEAK_RSS_KB, int(line.split()[1]))
            except OSError:
                pass
        self.executor.shutdown(wait=True, cancel_futures=True)
        with _CTX_LOCK:
            _CONTEXTS.pop(self.key, None)
            if hasattr(self, "_interval") and not any(k for k in _CONTEXTS):
                sys.setswitchinterval(self._interval)


# ---------------------------------------------------------------------------------------------
# Classification against existing members (shared by preview and commit)
# ---------------------------------------------------------------------------------------------

EXISTING_COLUMNS = ("id", "id_number_bidx", "state", "org_unit_id", "name", "employer", "work_status", "tags",
                    "joined_on", "phone_bidx", "phone_enc", "last_import_id", "last_import_row", "version")


@dataclass(slots=True)
class Plan:
    creates: list[Prepared] = field(default_factory=list)
    updates: list[tuple[Prepared, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # row, existing, changes
    unchanged: list[tuple[Prepared, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _tags_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])


def _same_phone(stored: bytes | None, r: Prepared) -> bool:
    """The stored phone blind index is the row's phone, under any of the keys to match."""
    stored = bytes(stored or b"")
    if r.phone_bidx is None:
        return not stored
    return stored == r.phone_bidx or stored in r.phone_alt


def plan_batch(rows: Sequence[Prepared], existing: dict[bytes, dict[str, Any]], import_id: int | None) -> Plan:
    """What each valid row would do: create, update (with the changed fields), or nothing; or why
    it cannot (a second row for one person, a member in a transfer, deceased, or in another union)."""
    plan = Plan()
    first_in_batch: dict[bytes, int] = {}
    for r in rows:
        # All rows of a batch are indexed under the same write key, so this finds repeats.
        earlier = first_in_batch.get(r.id_bidx)
        if earlier is not None:
            plan.errors.append((r.row_no, "id_number", DUPLICATE, f"与第{earlier}行是同一人（身份证号码重复）"))
            continue
        first_in_batch[r.id_bidx] = r.row_no
        # During an index key rotation the member may still be under the old key (or already under
        # the new one): one person, whichever key their row is under.
        e = existing.get(r.id_bidx)
        for alt in r.id_alt:
            if e is not None:
                break
            e = existing.get(alt)
        if e is None:
            plan.creates.append(r)
            continue
        if import_id is not None and e["last_import_id"] == import_id and e["last_import_row"] is not None \
                and e["last_import_row"] < r.row_no:
            plan.errors.append((r.row_no, "id_number", DUPLICATE, f"与第{e['last_import_row']}行是同一人（身份证号码重复）"))
            continue
        if e["state"] == "deceased":
            plan.errors.append((r.row_no, "id_number", STATE, "该人员已登记为去世，不能通过导入更新"))
            continue
        if e["state"] == "transferring":
            plan.errors.append((r.row_no, "id_number", STATE, "该人员正在办理会籍转移，转移办结前不能通过导入更新"))
            continue
        if e["state"] == "joined" and e["org_unit_id"] != r.org_unit_id:
            plan.errors.append((r.row_no, "org_unit", CONFLICT,
                                "该人员已是本省（市）其他基层工会的会员：调整所属工会须办理会籍转移"))
            continue
        changes: dict[str, Any] = {}
        if e["state"] == "left":
            changes["state"] = ["left", "joined"]
            if e["org_unit_id"] != r.org_unit_id:
                changes["org_unit_id"] = [e["org_unit_id"], r.org_unit_id]
        if e["name"] != r.name:
            changes["name"] = [e["name"], r.name]
        if "employer" in r.given and e["employer"] != r.employer:
            changes["employer"] = [e["employer"], r.employer]
        if "work_status" in r.given and e["work_status"] != r.work_status:
            changes["work_status"] = [e["work_status"], r.work_status]
        if "tags" in r.given and _tags_of(e["tags"]) != list(r.tags):
            changes["tags"] = [_tags_of(e["tags"]), list(r.tags)]
        if "joined_on" in r.given and e["joined_on"] != r.joined_on:
            changes["joined_on"] = [e["joined_on"].isoformat() if e["joined_on"] else None,
                                    r.joined_on.isoformat() if r.joined_on else None]
        if "phone" in r.given and not _same_phone(e["phone_bidx"], r):
            changes["phone"] = "changed"
        if changes:
            plan.updates.append((r, e, changes))
        else:
            plan.unchanged.append((r, e))
    return plan


# ---------------------------------------------------------------------------------------------
# Storage back ends
# ---------------------------------------------------------------------------------------------


async def _staging_tables(conn: Any) -> None:
    """Session temporary tables for one batch's rows, emptied at each commit. Created once per pooled
    connection (IF NOT EXISTS), not per batch: a per-batch CREATE/DROP churns the catalog."""
    await conn.execute("""
        CREATE TEMP TABLE IF NOT EXISTS _import_new (id bigint, row_no int, org_unit_id bigint, name text,
            name_search text, gender text, birth_date date, id_enc text, id_bidx bytea, phone_enc text, phone_bidx bytea,
            employer text, work_status text, tags varchar[], joined_on date) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS _import_upd (id bigint, row_no int, org_unit_id bigint, name text,
            name_search text, phone_enc text, phone_bidx bytea, employer text, work_status text, tags varchar[],
            joined_on date, state text, action text, changes jsonb) ON COMMIT DELETE ROWS""")


# The bulk look-ups (``member.id_number_bidx = ANY(<5,000 values>)``) must probe the unique index,
# 5,000 times, whatever the table's size and statistics; PostgreSQL chooses otherwise on its own:
# - a generic plan (kept after five executions of a prepared statement) made while a tenant's table
#   was empty scans every row of the tenant in each later batch: a preview into an empty tenant fixed
#   it, and the commit that followed reused it while the table grew to 1,000,000 rows (100,000 rows
#   took 62 s instead of 5 s);
# - with its default page costs, a custom plan prefers a (parallel) sequential or tenant-prefix scan
#   with a filter up to several hundred thousand rows: 50-400 ms a batch instead of 20 ms.
# So these statements, and only they, are planned for each batch with sequential and bitmap scans
# off. (For a whole batch transaction the settings would also re-plan every foreign-key check, an SPI
# plan per inserted row, which doubled the commit's time.)
_CUSTOM_PLANS = "SET plan_cache_mode = force_custom_plan; SET enable_seqscan = off; SET enable_bitmapscan = off"
_DEFAULT_PLANS = "RESET plan_cache_mode; RESET enable_seqscan; RESET enable_bitmapscan"


class _Statistics:
    """Keeps the planner's statistics of ``member`` in step with a bulk load.

    A first roster can grow the table from nothing to a million rows in a few minutes, faster than
    autovacuum re-analyses it (and this machine's PostgreSQL runs with autovacuum off). On the old
    statistics the planner costs the tenant's rows as a few hundred and serves each batch's look-up
    of 5,000 blind indexes by walking all of the tenant's rows through another index, even with
    sequential and bitmap scans off (see _CUSTOM_PLANS): measured, 2.3 s per batch at a million rows
    and 190 s of a 246 s commit. So the commit analyses the table each time the rows it created
    have doubled it (about eight times for a million rows, well under a second each) and at the
    end, which also leaves later searches well planned. ANALYZE needs the table's owner, which the
    app role is not (docs/operations.md, "Database roles"): it calls huijia_analyze_member(), a
    SECURITY DEFINER function of the owner's that analyses this one table and nothing else."""

    FIRST = 5_000

    def __init__(self, size: int) -> None:
        self.size = size
        self.since_refresh = 0

    @classmethod
    async def start(cls) -> _Statistics:
        async with engine().pool.acquire() as conn:
            size = await conn.fetchval("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'member'::regclass")
        return cls(int(size or 0))

    def note(self, created: int) -> bool:
        """Count created rows; True when the table has grown enough to analyse it again."""
        self.since_refresh += created
        return self.since_refresh >= max(self.FIRST, self.size)

    def stale(self) -> bool:
        return self.since_refresh >= max(self.FIRST, self.size // 10)

    async def refresh(self) -> None:
        async with engine().pool.acquire() as conn:
            await conn.execute("SELECT huijia_analyze_member()")
        self.size += self.since_refresh
        self.since_refresh = 0


async def _fetch_custom_plan(conn: Any, sql: str, *args: Any) -> list[Any]:
    await conn.execute(_CUSTOM_PLANS)
    try:
        rows = await conn.fetch(sql, *args)
    except BaseException:
        # Inside a transaction the rollback undoes the SET; outside one it would stay on the
        # pooled connection.
        if not conn.is_in_transaction():
            await conn.execute(_DEFAULT_PLANS)
        raise
    await conn.execute(_DEFAULT_PLANS)
    return rows


class PgStore:
    """Bulk reads and writes on one asyncpg connection (a transaction's, or a dedicated one)."""

    def __init__(self, conn: Any, tenant: TenantContext) -> None:
        self.conn = conn
        self.tenant = tenant

    async def existing(self, bidxs: list[bytes]) -> dict[bytes, dict[str, Any]]:
        if not bidxs:
            return {}
        rows = await _fetch_custom_plan(
            self.conn,
            f"SELECT {', '.join(EXISTING_COLUMNS)} FROM member WHERE tenant_id = $1 AND id_number_bidx = ANY($2::bytea[]) "
            "ORDER BY id_number_bidx", self.tenant.id, bidxs)
        return {bytes(r["id_number_bidx"]): dict(r) for r in rows}

    async def lock_existing(self, bidxs: list[bytes]) -> dict[bytes, dict[str, Any]]:
        if not bidxs:
            return {}
        rows = await _fetch_custom_plan(
            self.conn,
            f"SELECT {', '.join(EXISTING_COLUMNS)} FROM member WHERE tenant_id = $1 AND id_number_bidx = ANY($2::bytea[]) "
            "ORDER BY id_number_bidx FOR UPDATE", self.tenant.id, bidxs)
        return {bytes(r["id_number_bidx"]): dict(r) for r in rows}

    # -- preview: duplicates across the whole file, in a temporary table (constant memory) --------

    async def seen_start(self) -> None:
        await self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _import_seen (row_no int, bidx bytea, kind text)")
        await self.conn.execute("TRUNCATE _import_seen")

    async def seen_add(self, items: list[tuple[int, bytes, str]]) -> None:
        if items:
            await self.conn.copy_records_to_table("_import_seen", records=items)

    async def seen_duplicates(self, limit: int) -> tuple[list[tuple[int, int]], dict[str, int]]:
        dup_sql = ("SELECT row_no, first_row, kind FROM (SELECT row_no, kind, min(row_no) OVER (PARTITION BY bidx) "
                   "AS first_row FROM _import_seen) s WHERE row_no <> first_row")
        counts = {r["kind"]: r["n"] for r in await self.conn.fetch(f"SELECT kind, count(*) AS n FROM ({dup_sql}) d GROUP BY kind")}
        rows = await self.conn.fetch(f"{dup_sql} ORDER BY row_no LIMIT $1", limit)
        return [(r["row_no"], r["first_row"]) for r in rows], {str(k): v for k, v in counts.items()}

    async def seen_end(self) -> None:
        await self.conn.execute("DROP TABLE IF EXISTS _import_seen")

    # -- commit ----------------------------------------------------------------------------------

    async def write(self, plan: Plan, import_id: int, actor: Actor) -> list[tuple[int, Prepared]]:
        """Insert new members, update changed ones, mark unchanged ones, each with its history rows
        in the same statement. Returns (member id, row) of the members created.

        New members get their ids from the sequence first, so the insert needs neither RETURNING
        nor ON CONFLICT (each costs about a third more per row): the batch holds the tenant's import
        lock and has looked every person up under FOR UPDATE, so only a concurrent single create
        can collide, and that aborts the batch with a unique violation, which the caller retries."""
        t = self.tenant.id
        conn = self.conn
        created: list[tuple[int, Prepared]] = []
        await _staging_tables(conn)
        if plan.creates:
            ids = [r["id"] for r in await conn.fetch(
                "SELECT nextval(pg_get_serial_sequence('member', 'id')) AS id FROM generate_series(1, $1)", len(plan.creates))]
            today = dt.date.today()
            await conn.copy_records_to_table("_import_new", records=[
                (mid, r.row_no, r.org_unit_id, r.name, r.name_search, r.gender, r.birth_date, r.id_enc, r.id_bidx,
                 r.phone_enc, r.phone_bidx, r.employer, r.work_status, list(r.tags), r.joined_on or today)
                for mid, r in zip(ids, plan.creates, strict=True)])
            await conn.execute("""
                WITH ins AS (
                  INSERT INTO member (id, tenant_id, org_unit_id, name, name_search, gender, birth_date, id_number_enc,
                    id_number_bidx, phone_enc, phone_bidx, employer, work_status, tags, state, joined_on, version,
                    last_import_id, last_import_row, created_at, updated_at)
                  SELECT id, $1, org_unit_id, name, name_search, gender, birth_date, id_enc, id_bidx, phone_enc, phone_bidx,
                    employer, work_status, tags, 'joined', joined_on, 1, $2, row_no, now(), now() FROM _import_new),
                tg AS (
                  INSERT INTO member_tag (tenant_id, member_id, tag) SELECT $1, id, unnest(tags) FROM _import_new)
                INSERT INTO member_history (tenant_id, member_id, action, changes, actor_id, actor_name, import_id, at)
                SELECT $1, id, 'import.create', jsonb_build_object('row', row_no), $3, $4, $2, now() FROM _import_new""",
                               t, import_id, actor.user_id, actor.username[:64])
            created = list(zip(ids, plan.creates, strict=True))
        if plan.updates:
            records = []
            for r, e, changes in plan.updates:
                rejoin = "state" in changes
                phone_given = "phone" in r.given
                records.append((
                    e["id"], r.row_no, r.org_unit_id, r.name, r.name_search,
                    r.phone_enc if phone_given else e["phone_enc"], r.phone_bidx if phone_given else e["phone_bidx"],
                    r.employer if "employer" in r.given else e["employer"],
                    r.work_status if "work_status" in r.given else e["work_status"],
                    list(r.tags) if "tags" in r.given else _tags_of(e["tags"]),
                    (r.joined_on or dt.date.today()) if rejoin else (r.joined_on if "joined_on" in r.given else e["joined_on"]),
                    "joined", "import.rejoin" if rejoin else "import.update",
                    json.dumps({"row": r.row_no, **changes}, ensure_ascii=False),
                ))
            await conn.copy_records_to_table("_import_upd", records=records)
            await conn.execute("""DELETE FROM member_tag t USING _import_upd u WHERE t.tenant_id = $1 AND t.member_id = u.id
                AND u.changes ? 'tags'""", t)
            await conn.execute("""INSERT INTO member_tag (tenant_id, member_id, tag)
                SELECT $1, id, unnest(tags) FROM _import_upd WHERE changes ? 'tags'""", t)
            await conn.execute("""
                WITH upd AS (
                  UPDATE member m SET org_unit_id = u.org_unit_id, name = u.name, name_search = u.name_search,
                    phone_enc = u.phone_enc, phone_bidx = u.phone_bidx, employer = u.employer,
                    work_status = u.work_status, tags = u.tags, joined_on = u.joined_on, state = u.state,
                    left_on = CASE WHEN u.action = 'import.rejoin' THEN NULL ELSE m.left_on END,
                    version = m.version + 1, last_import_id = $2, last_import_row = u.row_no, updated_at = now()
                  FROM _import_upd u WHERE m.tenant_id = $1 AND m.id = u.id)
                INSERT INTO member_history (tenant_id, member_id, action, changes, actor_id, actor_name, import_id, at)
                SELECT $1, id, action, changes, $3, $4, $2, now() FROM _import_upd""", t, import_id, actor.user_id,
                               actor.username[:64])
        return created

    async def add_errors(self, import_id: int, phase: str, errors: list[RowError]) -> None:
        if not errors:
            return
        await self.conn.execute("""INSERT INTO member_import_error (tenant_id, import_id, phase, row_no, column_name, code, message)
            SELECT $1, $2, $3, e.r, e.c, e.k, e.m FROM unnest($4::int[], $5::text[], $6::text[], $7::text[]) AS e(r, c, k, m)""",
                                self.tenant.id, import_id, phase, [e[0] for e in errors],
                                [FIELDS.get(e[1], ("", ""))[0] for e in errors], [e[2] for e in errors],
                                [e[3][:300] for e in errors])


class SqliteStore:
    """The same operations for the embedded default, on one aiosqlite connection (or none: reads
    go through piccolo). Duplicate detection for the preview keeps a dict in memory: embedded
    deployments hold small rosters."""

    def __init__(self, conn: Any, tenant: TenantContext) -> None:
        self.conn = conn
        self.tenant = tenant
        self._seen: dict[bytes, tuple[int, str]] = {}
        self._dups: list[tuple[int, int, str]] = []

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        if self.conn is None:
            from core.dbutil import raw

            return await raw(sql.replace("?", "{}"), *params)
        cursor = await self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [row if isinstance(row, dict) else dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]

    async def existing(self, bidxs: list[bytes]) -> dict[bytes, dict[str, Any]]:
        out: dict[bytes, dict[str, Any]] = {}
        for i in range(0, len(bidxs), 500):
            chunk = bidxs[i: i + 500]
            rows = await self._fetch(f"SELECT {', '.join(EXISTING_COLUMNS)} FROM member WHERE tenant_id = ? AND "
                                     f"id_number_bidx IN ({', '.join('?' for _ in chunk)})", [self.tenant.id, *chunk])
            for r in rows:
                if isinstance(r["joined_on"], str):
                    r["joined_on"] = dt.date.fromisoformat(r["joined_on"])
                out[bytes(r["id_number_bidx"])] = r
        return out

    lock_existing = existing

    async def seen_start(self) -> None:
        self._seen.clear()
        self._dups.clear()

    async def seen_add(self, items: list[tuple[int, bytes, str]]) -> None:
        for row_no, bidx, kind in items:
            first = self._seen.get(bidx)
            if first is None:
                self._seen[bidx] = (row_no, kind)
            else:
                self._dups.append((row_no, first[0], kind))

    async def seen_duplicates(self, limit: int) -> tuple[list[tuple[int, int]], dict[str, int]]:
        counts: dict[str, int] = {}
        for _, _, kind in self._dups:
            counts[kind] = counts.get(kind, 0) + 1
        return [(r, f) for r, f, _ in self._dups[:limit]], counts

    async def seen_end(self) -> None:
        self._seen.clear()

    async def write(self, plan: Plan, import_id: int, actor: Actor) -> list[tuple[int, Prepared]]:
        t = self.tenant.id
        now = utcnow()
        today = dt.date.today()
        created: list[tuple[int, Prepared]] = []
        for r in plan.creates:
            cursor = await self.conn.execute(
                "INSERT INTO member (tenant_id, org_unit_id, name, name_search, gender, birth_date, id_number_enc, "
                "id_number_bidx, phone_enc, phone_bidx, employer, work_status, tags, state, joined_on, version, "
                "last_import_id, last_import_row, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'joined', ?, 1, ?, ?, ?, ?) "
                "ON CONFLICT (tenant_id, id_number_bidx) DO NOTHING RETURNING id",
                (t, r.org_unit_id, r.name, r.name_search, r.gender, r.birth_date, r.id_enc, r.id_bidx, r.phone_enc,
                 r.phone_bidx, r.employer, r.work_status, json.dumps(list(r.tags)), r.joined_on or today, import_id,
                 r.row_no, now, now))
            row = await cursor.fetchone()
            if row is None:
                plan.errors.append((r.row_no, "id_number", CONFLICT, "该人员刚被其他操作登记为会员：请重新导入此行"))
                continue
            created.append((_first(row), r))
        history = [(t, mid, "import.create", json.dumps({"row": r.row_no}), actor.user_id, actor.username[:64], import_id, now)
                   for mid, r in created]
        tag_rows = [(t, mid, tag) for mid, r in created for tag in r.tags]
        for r, e, changes in plan.updates:
            rejoin = "state" in changes
            phone_given = "phone" in r.given
            await self.conn.execute(
                "UPDATE member SET org_unit_id = ?, name = ?, name_search = ?, phone_enc = ?, phone_bidx = ?, employer = ?, "
                "work_status = ?, tags = ?, joined_on = ?, state = 'joined', left_on = CASE WHEN ? THEN NULL ELSE left_on END, "
                "version = version + 1, last_import_id = ?, last_import_row = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                (r.org_unit_id, r.name, r.name_search, r.phone_enc if phone_given else e["phone_enc"],
                 r.phone_bidx if phone_given else e["phone_bidx"],
                 r.employer if "employer" in r.given else e["employer"],
                 r.work_status if "work_status" in r.given else e["work_status"],
                 json.dumps(list(r.tags) if "tags" in r.given else _tags_of(e["tags"])),
                 (r.joined_on or today) if rejoin else (r.joined_on if "joined_on" in r.given else e["joined_on"]),
                 1 if rejoin else 0, import_id, r.row_no, now, t, e["id"]))
            if "tags" in changes:
                await self.conn.execute("DELETE FROM member_tag WHERE tenant_id = ? AND member_id = ?", (t, e["id"]))
                tag_rows += [(t, e["id"], tag) for tag in r.tags]
            history.append((t, e["id"], "import.rejoin" if rejoin else "import.update",
                            json.dumps({"row": r.row_no, **changes}, ensure_ascii=False), actor.user_id,
                            actor.username[:64], import_id, now))
        if tag_rows:
            await self.conn.executemany("INSERT INTO member_tag (tenant_id, member_id, tag) VALUES (?, ?, ?)", tag_rows)
        if history:
            await self.conn.executemany(
                "INSERT INTO member_history (tenant_id, member_id, action, changes, actor_id, actor_name, import_id, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", history)
        return created

    async def add_errors(self, import_id: int, phase: str, errors: list[RowError]) -> None:
        if not errors:
            return
        rows = [(self.tenant.id, import_id, phase, e[0], FIELDS.get(e[1], ("", ""))[0], e[2], e[3][:300]) for e in errors]
        if self.conn is None:
            await MemberImportError.insert(*[MemberImportError(
                tenant_id=r[0], import_id=r[1], phase=r[2], row_no=r[3], column_name=r[4], code=r[5], message=r[6])
                for r in rows])
            return
        await self.conn.executemany(
            "INSERT INTO member_import_error (tenant_id, import_id, phase, row_no, column_name, code, message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


# ---------------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    import unicodedata

    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "<>:\"|?*")
    return name.strip()[:200] or "roster"


async def receive_upload(tenant: TenantContext, actor: Actor, scope_paths: Sequence[str], filename: str,
                         body: AsyncIterator[bytes], max_bytes: int) -> dict[str, Any]:
    """Store the upload encrypted, check that it can be a roster, and start the preview job."""
    from core.jobs.runner import enqueue

    async with transaction():
        import_id = (await MemberImport.insert(MemberImport(
            tenant_id=tenant.id, created_by=actor.user_id, created_by_name=actor.username[:100],
            scope_paths=list(scope_paths), filename=safe_filename(filename), status="uploading",
        )).returning(MemberImport.id))[0]["id"]
    digest = hashlib.sha256()
    writer = filestore.EncryptedWriter(filestore.path_for(KIND, tenant.id, import_id), KIND, tenant.id, import_id)
    too_large = False
    try:
        async for piece in body:
            if writer.size + len(piece) > max_bytes:
                too_large = True
                break
            digest.update(piece)
            writer.write(piece)
    except BaseException as exc:
        writer.abort()
        # A multipart form found broken after its file part says why (core.multipart.MultipartProblem).
        message = getattr(exc, "message_zh", None) or "上传中断"
        await _mark(tenant, import_id, status="failed", file_error={"code": "UPLOAD", "message": message, "row": None, "column": ""})
        raise
    if too_large:
        writer.abort()
        await _mark(tenant, import_id, status="invalid", file_error={
            "code": "FILE_TOO_LARGE", "row": None, "column": "",
            "message": f"文件超过{max_bytes // (1024 * 1024)}MB上限：请拆分为多个文件后分别导入"})
        return await queries.get_import(tenant, import_id)  # type: ignore[return-value]
    writer.close()
    values: dict[Any, Any] = {MemberImport.size_bytes: writer.size, MemberImport.sha256: digest.hexdigest()}
    try:
        header, sniffed = await asyncio.to_thread(_check_file, tenant.id, import_id)
    except roster.FileProblem as problem:
        filestore.delete_stored(KIND, tenant.id, import_id)
        await _mark(tenant, import_id, status="invalid", file_error=problem.as_dict(), extra=values)
        await _audit(tenant, actor, "member.import.upload", import_id, {"size": writer.size, "invalid": problem.code})
        return await queries.get_import(tenant, import_id)  # type: ignore[return-value]
    values.update({MemberImport.format: sniffed.format, MemberImport.encoding: sniffed.encoding,
                   MemberImport.header: [{"field": f, "column": FIELDS[f][0], "index": i} for f, i in header.columns.items()]
                   + [{"field": None, "column": u, "index": None} for u in header.unknown]})
    await _mark(tenant, import_id, status="uploaded", extra=values)
    await _audit(tenant, actor, "member.import.upload", import_id,
                 {"size": writer.size, "format": sniffed.format, "encoding": sniffed.encoding})
    job_id = await enqueue(tenant, "member.import.preview", import_id, key=f"member.import.preview:{import_id}",
                           created_by=actor.user_id)
    await _mark(tenant, import_id, extra={MemberImport.preview_job_id: job_id})
    return await queries.get_import(tenant, import_id)  # type: ignore[return-value]


def _check_file(tenant_id: int, import_id: int) -> tuple[roster.Header, roster.Sniffed]:
    with filestore.open_stored(KIND, tenant_id, import_id) as f:
        sniffed = roster.sniff(f)
        rows = roster.open_rows(f, sniffed)
        try:
            header = roster.find_header(rows)
            # Read one more row so that a file whose body is undecodable fails now, not in the job.
            next(iter(rows), None)
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
    return header, sniffed


async def _mark(tenant: TenantContext, import_id: int, *, status: str | None = None,
                file_error: dict[str, Any] | None = None, extra: dict[Any, Any] | None = None) -> None:
    values: dict[Any, Any] = {MemberImport.updated_at: utcnow(), **(extra or {})}
    if status is not None:
        values[MemberImport.status] = status
        if status in ("committed", "invalid", "failed", "discarded"):
            values[MemberImport.finished_at] = utcnow()
    if file_error is not None:
        values[MemberImport.file_error] = file_error
    await MemberImport.update(values).where((MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id))


async def _audit(tenant: TenantContext, actor: Actor, action: str, import_id: int, changes: dict[str, Any]) -> None:
    async with transaction():
        await record(tenant, actor, action, "MemberImport", import_id, changes)


# ---------------------------------------------------------------------------------------------
# Reading rows in batches
# ---------------------------------------------------------------------------------------------


def _batches(tenant_id: int, import_id: int, after_row: int = 0,
             where: dict[str, int] | None = None) -> Iterator[tuple[list[tuple[int, dict[str, Any]]], int]]:
    """(rows, last row number) per batch, for the data rows after ``after_row``. ``where`` (if
    given) is kept up to date with the bytes read so far (``pos``) of the file's ``size``."""
    with filestore.open_stored(KIND, tenant_id, import_id) as f:
        if where is not None:
            where["size"] = f.raw.size  # type: ignore[attr-defined]
        sniffed = roster.sniff(f)
        rows = roster.open_rows(f, sniffed)
        header = roster.find_header(rows)
        batch: list[tuple[int, dict[str, Any]]] = []
        last = header.row
        for row_no, values in roster.data_rows(rows, header):
            last = row_no
            if row_no <= after_row:
                continue
            batch.append((row_no, values))
            if len(batch) >= BATCH_ROWS:
                if where is not None:
                    where["pos"] = f.tell()
                yield batch, last
                batch = []
        if where is not None:
            where["pos"] = where.get("size", 0)
        if batch or last > after_row:
            yield batch, last


async def _next_batch(it: Iterator[Any]) -> Any:
    """The next batch, read (and decrypted, decoded, parsed) in a thread so the loop stays free."""
    read = asyncio.ensure_future(asyncio.to_thread(next, it, None))
    try:
        return await asyncio.shield(read)
    except asyncio.CancelledError:
        # A stopping worker cancels the job: the thread cannot be stopped, so let it finish the
        # batch; closing the generator while it runs raised "generator already executing" instead.
        await asyncio.wait([read])
        if not read.cancelled():
            read.exception()  # retrieved: the cancellation is what the caller hears about
        raise


def _context(tenant: TenantContext, units: Any, scope_paths: Sequence[str]) -> RowContext:
    from core.members.services import row_context

    return row_context(tenant, units, scope_paths)


# ---------------------------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------------------------


async def _prepared_batches(it: Iterator[Any], preparer: Any, timing: dict[str, float] | None = None) -> Any:
    """Yield (prepared rows, errors, row count, last row number) per batch, in file order, while up to
    PIPELINE_DEPTH later batches are already being prepared in the worker processes."""
    import time

    clock = time.perf_counter
    pending: deque[tuple[asyncio.Future[Any], int, int]] = deque()
    exhausted = False
    while True:
        while not exhausted and len(pending) < PIPELINE_DEPTH:
            t0 = clock()
            nxt = await _next_batch(it)
            if timing is not None:
                timing["read_s"] += clock() - t0
            if nxt is None:
                exhausted = True
                break
            rows, last = nxt
            pending.append((preparer.submit(rows), len(rows), last))
        if not pending:
            return
        fut, n, last = pending.popleft()
        t0 = clock()
        prepared, errors = await fut
        if timing is not None:
            timing["prepare_wait_s"] += clock() - t0
        yield prepared, errors, n, last


def _estimated_rows(done: int, where: Mapping[str, int]) -> int:
    """The preview's total, before the file has been read to its end: the rows so far scaled by the
    share of the file's bytes they took (rows are about the same size), so the UI can show a
    percentage. Never below ``done``; exact once the file has been read."""
    pos, size = where.get("pos", 0), where.get("size", 0)
    if pos <= 0 or size <= 0:
        return done
    return max(done, round(done * size / pos))


async def run_preview(tenant: TenantContext, import_id: int, progress: Any = None) -> dict[str, Any]:
    from core.members.services import unit_directory

    imp = await queries.get_import(tenant, import_id)
    if imp is None:
        raise not_found("import", message_zh="导入记录不存在，或您无权查看")
    if imp["status"] not in ("uploaded", "previewing"):
        return {"status": imp["status"]}
    await _mark(tenant, import_id, status="previewing")
    await MemberImportError.delete().where((MemberImportError.tenant_id == tenant.id)
                                           & (MemberImportError.import_id == import_id) & (MemberImportError.phase == "preview"))
    ctx = _context(tenant, await unit_directory(tenant), imp["scope_paths"])
    preparer = Preparer(ctx, encrypt=False, workers=_workers(size=imp["size_bytes"]),
                        ix=await personal.index_keys(tenant))
    counts = {"total": 0, "valid": 0, "c": 0, "u": 0, "n": 0, "errors": 0}
    stored = 0
    where: dict[str, int] = {}

    async def run(store: Any) -> None:
        nonlocal stored
        await store.seen_start()
        it = _batches(tenant.id, import_id, where=where)
        try:
            await _preview_loop(store, it)
        finally:
            it.close()
        if counts["total"] == 0:
            raise roster.FileProblem("NO_DATA_ROWS", "名册中没有数据行（只有表头）：空文件不能导入，请在表头下逐行填写会员信息后重新上传")
        dups, dup_counts = await store.seen_duplicates(MAX_STORED_ERRORS)
        dup_errors = [(r, "id_number", DUPLICATE, f"与第{first}行是同一人（身份证号码重复）") for r, first in dups]
        room = max(0, MAX_STORED_ERRORS - stored)
        await store.add_errors(import_id, "preview", dup_errors[:room])
        for kind, n in dup_counts.items():
            counts[kind] -= n
        counts["errors"] += sum(dup_counts.values())  # duplicates are found among valid rows only
        await store.seen_end()

    async def _preview_loop(store: Any, it: Iterator[Any]) -> None:
        nonlocal stored
        async for prepared, errors, n, _last in _prepared_batches(it, preparer):
            counts["total"] += n
            plan = plan_batch(prepared, await store.existing(_lookup_bidxs(prepared)), None)
            errors = errors + plan.errors
            kinds = [(r.row_no, r.id_bidx, "c") for r in plan.creates] + \
                    [(r.row_no, r.id_bidx, "u") for r, _, _ in plan.updates] + \
                    [(r.row_no, r.id_bidx, "n") for r, _ in plan.unchanged]
            await store.seen_add(kinds)
            counts["c"] += len(plan.creates)
            counts["u"] += len(plan.updates)
            counts["n"] += len(plan.unchanged)
            counts["errors"] += len({e[0] for e in errors})  # a batch's rows are its own: constant memory
            if stored < MAX_STORED_ERRORS:
                chunk = errors[: MAX_STORED_ERRORS - stored]
                await store.add_errors(import_id, "preview", chunk)
                stored += len(chunk)
            if counts["total"] >= FAIL_FAST_ROWS and counts["c"] + counts["u"] + counts["n"] == 0:
                raise roster.FileProblem("NO_VALID_ROWS", f"前{counts['total']}行没有一行有效，已停止检查：请确认这是会员名册，并对照下面的错误修改")
            if progress:
                await progress(counts["total"], _estimated_rows(counts["total"], where))

    try:
        if on_postgres():
            async with engine().pool.acquire() as conn:
                try:
                    await run(PgStore(conn, tenant))
                finally:
                    await conn.execute("DROP TABLE IF EXISTS _import_seen")
        else:
            await run(SqliteStore(None, tenant))
    except roster.FileProblem as problem:
        await _mark(tenant, import_id, status="invalid", file_error=problem.as_dict(), extra={
            MemberImport.total_rows: counts["total"], MemberImport.error_rows: counts["errors"]})
        return {"status": "invalid", "error": problem.code}
    finally:
        preparer.close()
    valid = counts["c"] + counts["u"] + counts["n"]
    if progress:
        await progress(counts["total"], counts["total"])
    await _mark(tenant, import_id, status="previewed", extra={
        MemberImport.total_rows: counts["total"], MemberImport.valid_rows: valid,
        MemberImport.error_rows: counts["errors"], MemberImport.would_create: counts["c"],
        MemberImport.would_update: counts["u"], MemberImport.would_unchange: counts["n"],
    })
    return {"status": "previewed", "total": counts["total"], "valid": valid, "errors": counts["errors"]}


# Below this many rows (or bytes, before the row count is known) a helper thread is used: starting
# worker processes costs about a second.
PROCESS_MIN_ROWS = 20_000
PROCESS_MIN_BYTES = 2 * 1024 * 1024


def _workers(rows: int = 0, size: int = 0) -> int:
    """Worker processes for validation and encryption: HUIJIA_IMPORT_WORKERS, or by default (-1) up
    to 2 (one core is left for the database on small machines) for large files, else none."""
    import os

    from core.settings import get_settings

    configured = get_settings().import_workers
    if configured == 0 or (rows < PROCESS_MIN_ROWS and size < PROCESS_MIN_BYTES):
        return 0
    if configured > 0:
        return configured
    cpus = os.cpu_count() or 1
    return 0 if cpus < 2 else min(2, cpus)


# ---------------------------------------------------------------------------------------------
# Commit
# ---------------------------------------------------------------------------------------------


async def commit_activity(tenant: TenantContext, imp: dict[str, Any]) -> str:
    """Whether a commit is under way for this import: "live" (its job is queued or running with a
    fresh heartbeat), or "stopped" (no commit job, or it was interrupted, failed or finished). The
    job's status is read through ``get_job``, which marks a run with a stale heartbeat interrupted,
    so a commit whose worker died counts as stopped as soon as its heartbeat is stale. Resume and
    discard both decide from this one answer."""
    from core.jobs.runner import get_job

    if imp["status"] not in ("committing", "interrupted"):
        return "stopped"
    if not imp["commit_job_id"]:
        # A commit being started: the status moved and the job is about to be recorded.
        return "live" if (utcnow() - imp["updated_at"]).total_seconds() < STALE_SECONDS else "stopped"
    job = await get_job(tenant, imp["commit_job_id"])
    if job is None:
        return "stopped"
    if job["status"] == "running":
        return "live"
    if job["status"] == "queued":
        # A queued job has no heartbeat yet; one no worker took for this long is presumed lost.
        return "live" if (utcnow() - job["updated_at"]).total_seconds() < STALE_SECONDS else "stopped"
    return "stopped"


async def shown_status(tenant: TenantContext, imp: dict[str, Any]) -> str:
    """The status to report, from the commit job rather than the import row alone: a commit whose
    job stopped (its worker died) is INTERRUPTED and may be resumed; one whose job runs is COMMITTING."""
    if imp["status"] in ("committing", "interrupted"):
        return "committing" if await commit_activity(tenant, imp) == "live" else "interrupted"
    return imp["status"]


BEING_COMMITTED = "this import is being committed right now: wait for it to finish"
BEING_COMMITTED_ZH = "该名册正在导入中，请等待完成"


async def start_commit(tenant: TenantContext, actor: Actor, import_id: int, *, allow_errors: bool) -> dict[str, Any]:
    """Check that the import may be committed (or resumed) and start the commit job."""
    from core.jobs.runner import enqueue
    from core.settings import get_settings

    async with transaction():
        imp = await queries.get_import(tenant, import_id)
        if imp is None:
            raise not_found("import", message_zh="导入记录不存在，或您无权查看")
        status = imp["status"]
        if status in ("committing", "interrupted"):
            if await commit_activity(tenant, imp) == "live":
                raise DomainError(ErrorCode.INVALID_STATE, BEING_COMMITTED, "id", BEING_COMMITTED_ZH)
        elif status == "committed":
            raise DomainError(ErrorCode.INVALID_STATE, "this import is already committed", "id", "该名册已导入完成")
        elif status == "discarded":
            raise DomainError(ErrorCode.INVALID_STATE, "this import was discarded: upload the file again", "id",
                              "该名册已放弃，请重新上传")
        elif status == "expired":
            raise DomainError(ErrorCode.INVALID_STATE, "the upload has expired (its file was deleted after "
                              f"{get_settings().import_retention_hours} hours without activity): upload it again", "id",
                              f"上传的名册已过期（{get_settings().import_retention_hours} 小时未操作，文件已删除），请重新上传")
        elif status != "previewed":
            raise DomainError(ErrorCode.INVALID_STATE, f"an import can be committed after its preview (status: {status})", "id",
                              "名册须先完成校验预览才能导入")
        if imp["valid_rows"] == 0:
            raise DomainError(ErrorCode.INVALID_STATE, "the preview found no valid rows", "id", "校验未发现有效的数据行，不能导入")
        stored = await MemberImportError.count().where((MemberImportError.tenant_id == tenant.id)
                                                       & (MemberImportError.import_id == import_id)
                                                       & (MemberImportError.phase == "preview"))
        if stored >= MAX_STORED_ERRORS:
            raise DomainError(ErrorCode.INVALID_INPUT, f"the preview found more than {MAX_STORED_ERRORS} errors: fix the "
                              "file and upload it again", "id",
                              f"校验发现超过 {MAX_STORED_ERRORS} 处错误，请修改文件后重新上传")
        if imp["error_rows"] and not (allow_errors or imp["allow_errors"]):
            raise DomainError(ErrorCode.INVALID_INPUT, f"the preview found {imp['error_rows']} rows with errors: fix the "
                              "file and upload it again, or commit with allowErrors to skip those rows", "allowErrors",
                              f"校验发现 {imp['error_rows']} 行有错误：请修改文件后重新上传，或选择跳过这些行导入")
        if not filestore.stored_exists(KIND, tenant.id, import_id):
            raise DomainError(ErrorCode.INVALID_STATE, "the uploaded file is no longer stored; upload it again", "id",
                              "上传的文件已不存在，请重新上传")
        # Only from the status read above: the retention job may have expired the import (and
        # deleted its file) since; its own update checks status and age the same way.
        # Compare-and-set on the commit job too: two resumes of a stopped commit both read the same
        # status, and only the first may start a job. The job id is cleared until the new job is
        # recorded, so the stopped job no longer speaks for the import.
        same_job = (MemberImport.commit_job_id == imp["commit_job_id"]) if imp["commit_job_id"] \
            else MemberImport.commit_job_id.is_null()
        moved = await MemberImport.update({MemberImport.status: "committing",
                                           MemberImport.allow_errors: bool(allow_errors or imp["allow_errors"]),
                                           MemberImport.commit_job_id: None,
                                           MemberImport.updated_at: utcnow()}).where(
            (MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id) & (MemberImport.status == status)
            & same_job
        ).returning(MemberImport.id)
        if not moved:
            raise DomainError(ErrorCode.INVALID_STATE, "the import changed meanwhile (expired or taken by another "
                              "commit); reload it", "id")
        await record(tenant, actor, "member.import.commit", "MemberImport", import_id,
                     {"resume_after_row": imp["committed_through_row"], "allow_errors": bool(allow_errors)})
    job_id = await enqueue(tenant, "member.import.commit", import_id, created_by=actor.user_id)
    await _mark(tenant, import_id, extra={MemberImport.commit_job_id: job_id})
    return await queries.get_import(tenant, import_id)  # type: ignore[return-value]


# Tests set this to a callable(batch_number) that raises, to simulate a crash between batches.
CRASH_AFTER_BATCH: Any = None


async def run_commit(tenant: TenantContext, import_id: int, progress: Any = None) -> dict[str, Any]:
    from core.members.services import joined_notice, unit_directory

    imp = await queries.get_import(tenant, import_id)
    if imp is None:
        raise not_found("import", message_zh="导入记录不存在，或您无权查看")
    if imp["status"] == "committed":
        return {"status": "committed"}
    if imp["status"] not in ("committing", "interrupted"):
        return {"status": imp["status"]}
    actor = Actor(imp["created_by"], imp["created_by_name"] or "import")
    with filestore.open_stored(KIND, tenant.id, import_id) as f:
        if await asyncio.to_thread(_sha256, f) != imp["sha256"]:
            await _mark(tenant, import_id, status="failed", file_error={"code": "FILE_CHANGED", "row": None, "column": "",
                                                                        "message": "存储的文件与预览时不一致：请重新上传"})
            return {"status": "failed"}
    await _mark(tenant, import_id, status="committing")
    start = imp["committed_through_row"]
    ctx = _context(tenant, await unit_directory(tenant), imp["scope_paths"])
    duplicates = await _preview_duplicates(tenant, import_id)
    preparer = Preparer(ctx, encrypt=True, workers=_workers(rows=imp["total_rows"]),
                        ix=await personal.index_keys(tenant))
    notify_joins = _has_join_listeners(tenant)
    done_rows = 0
    batch_no = 0
    timing = {"read_s": 0.0, "prepare_wait_s": 0.0, "write_s": 0.0}
    clock = __import__("time").perf_counter
    it = _batches(tenant.id, import_id, after_row=start)
    stats = await _Statistics.start() if on_postgres() else None
    try:
        async for prepared, errors, n, last in _prepared_batches(it, preparer, timing):
            t0 = clock()
            for attempt in range(3):
                try:
                    created = await _commit_batch(tenant, import_id, actor, prepared, errors, last, n, duplicates,
                                                  preparer.ix)
                    break
                except Exception as exc:  # a single create raced the batch: look the people up again
                    from core.members.services import _unique_violation

                    if attempt == 2 or not _unique_violation(exc):
                        raise
            if stats is not None and stats.note(len(created)):
                await stats.refresh()
            timing["write_s"] += clock() - t0
            done_rows += n
            batch_no += 1
            if progress:
                await progress(start_rows(imp, done_rows), imp["total_rows"] or None)
            if notify_joins:
                for member_id, _ in created:
                    await joined_notice(tenant, member_id)
            if CRASH_AFTER_BATCH is not None:
                CRASH_AFTER_BATCH(batch_no)
    except roster.FileProblem as problem:
        await _mark(tenant, import_id, status="failed", file_error=problem.as_dict())
        return {"status": "failed", "error": problem.code}
    except BaseException:
        _forget_broken_transaction()
        try:
            # Only from committing: a run declared dead and replaced by a resume must not mark the
            # import interrupted behind the resume's back (or after it committed).
            await MemberImport.update({MemberImport.status: "interrupted", MemberImport.updated_at: utcnow()}).where(
                (MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id)
                & (MemberImport.status == "committing"))
        except Exception:
            log.warning("could not mark import interrupted", extra={"job_id": import_id})
        raise
    finally:
        it.close()
        preparer.close()
    if stats is not None and stats.stale():
        await stats.refresh()  # leave searches (and the next import) with the table as it now is
    final = await queries.get_import(tenant, import_id)
    assert final is not None
    await _mark(tenant, import_id, status="committed")
    filestore.delete_stored(KIND, tenant.id, import_id)
    result = {"created": final["created_count"], "updated": final["updated_count"],
              "unchanged": final["unchanged_count"], "failed": final["failed_count"],
              "committed_through_row": final["committed_through_row"]}
    await _audit(tenant, actor, "member.import.finish", import_id, result)
    return {"status": "committed", **result, "timing": {k: round(v, 2) for k, v in timing.items()}}


def _forget_broken_transaction() -> None:
    """When a connection dies inside a transaction, piccolo's rollback raises before it clears its
    "current transaction" context variable, and every later query in this task would try the dead
    connection. We are outside our own transactions here, so clear it."""
    current = getattr(engine(), "current_transaction", None)
    if current is not None and current.get() is not None:
        current.set(None)


def start_rows(imp: dict[str, Any], done: int) -> int:
    return done + (imp["created_count"] + imp["updated_count"] + imp["unchanged_count"] + imp["failed_count"])


def _sha256(f: Any) -> str:
    digest = hashlib.sha256()
    for piece in iter(lambda: f.read(1024 * 1024), b""):
        digest.update(piece)
    return digest.hexdigest()


def _has_join_listeners(tenant: TenantContext) -> bool:
    from core.plugins import hooks_for

    return bool(hooks_for(tenant).on_member_joined.get_hookimpls())


async def _preview_duplicates(tenant: TenantContext, import_id: int) -> dict[int, str]:
    """Rows the preview found to repeat an earlier row's person (the file is the same: its SHA-256
    is checked). The commit skips them, so rows that change nothing need not be marked."""
    rows = await MemberImportError.select(MemberImportError.row_no, MemberImportError.message).where(
        (MemberImportError.tenant_id == tenant.id) & (MemberImportError.import_id == import_id)
        & (MemberImportError.phase == "preview") & (MemberImportError.code == DUPLICATE))
    return {r["row_no"]: r["message"] for r in rows}


async def _commit_batch(tenant: TenantContext, import_id: int, actor: Actor, prepared: list[Prepared],
                        errors: list[RowError], last_row: int, n_rows: int,
                        duplicates: dict[int, str] | None = None,
                        prepared_keys: personal.IndexKeys | None = None) -> list[tuple[int, Prepared]]:
    """One batch in one transaction, with the checkpoint: it all lands, or none of it.
    ``prepared_keys``: the index keys the rows were blind-indexed with (re-done here if a rotation
    started since)."""
    if duplicates:
        errors = errors + [(r.row_no, "id_number", DUPLICATE, duplicates[r.row_no]) for r in prepared if r.row_no in duplicates]
        prepared = [r for r in prepared if r.row_no not in duplicates]
    async with transaction() as tx:
        conn = tx.connection
        store: Any = PgStore(conn, tenant) if on_postgres() else SqliteStore(conn, tenant)
        if on_postgres():
            # One writing batch per tenant at a time: two imports listing the same people then see
            # each other's rows (update) instead of racing to insert them (the unique index would
            # refuse one). Validation and encryption, the slow part, still run in parallel.
            # A batch need not wait for its WAL flush: if the server crashes right after, the batch and
            # its checkpoint are lost together (same transaction), and the resume redoes it.
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", IMPORT_LOCK_NAMESPACE, tenant.id)
            checkpoint = await conn.fetchval("SELECT committed_through_row FROM member_import WHERE tenant_id = $1 AND id = $2",
                                             tenant.id, import_id)
        else:
            cursor = await conn.execute("SELECT committed_through_row FROM member_import WHERE tenant_id = ? AND id = ?",
                                        (tenant.id, import_id))
            checkpoint = _first(await cursor.fetchone())
        if checkpoint >= last_row:
            return []  # another runner already committed this batch
        prepared = [r for r in prepared if r.row_no > checkpoint]
        errors = [e for e in errors if e[0] > checkpoint]
        # After the import lock, so a rotation batch (which takes it too) is not half-way through
        # this tenant's rows; shared index lock, so a rotation cannot start until this commits.
        ix = await personal.index_keys(tenant, for_write=True)
        if ix != prepared_keys:
            for r in prepared:
                _index(r, ix)
        plan = await _plan_locked(store, prepared, import_id)
        created = await store.write(plan, import_id, actor)
        all_errors = errors + plan.errors
        stored = await _stored_errors(conn, tenant, import_id)
        if stored < MAX_STORED_ERRORS:
            await store.add_errors(import_id, "commit", all_errors[: MAX_STORED_ERRORS - stored])
        failed_rows = len({e[0] for e in all_errors})
        values = (last_row, len(created), len(plan.updates), len(plan.unchanged), failed_rows)
        if on_postgres():
            await conn.execute("""UPDATE member_import SET committed_through_row = $3, batches_committed = batches_committed + 1,
                created_count = created_count + $4, updated_count = updated_count + $5, unchanged_count = unchanged_count + $6,
                failed_count = failed_count + $7, updated_at = now() WHERE tenant_id = $1 AND id = $2""",
                               tenant.id, import_id, *values)
        else:
            await conn.execute("""UPDATE member_import SET committed_through_row = ?, batches_committed = batches_committed + 1,
                created_count = created_count + ?, updated_count = updated_count + ?, unchanged_count = unchanged_count + ?,
                failed_count = failed_count + ?, updated_at = ? WHERE tenant_id = ? AND id = ?""",
                               (*values, utcnow(), tenant.id, import_id))
    return created


async def _plan_locked(store: Any, prepared: list[Prepared], import_id: int) -> Plan:
    """Plan the batch from a plain read, then lock only the people it will change and plan those
    again from the locked rows.

    Locking every person looked up (``FOR UPDATE`` on the whole batch) writes a lock into each row
    it finds, so re-importing an unchanged roster rewrote every member's tuple and its page: at
    1,000,000 rows that was most of the re-import's database time. A row left unchanged is not
    written, so it needs no lock: a concurrent edit of it simply wins, as it would had it come
    after the import. Rows to create are guarded by the unique index (a concurrent create aborts
    the batch, which the caller retries); rows to update are re-read under the lock, so a change
    made between the two reads is planned against, never overwritten."""
    plan = plan_batch(prepared, await store.existing(_lookup_bidxs(prepared)), import_id)
    if not plan.updates:
        return plan
    changing = [r for r, _, _ in plan.updates]
    again = plan_batch(changing, await store.lock_existing(_lookup_bidxs(changing)), import_id)
    plan.updates = again.updates
    plan.unchanged += again.unchanged
    plan.creates += again.creates  # the person left the tenant in between (a transfer): create again
    plan.errors += again.errors
    return plan


async def _stored_errors(conn: Any, tenant: TenantContext, import_id: int) -> int:
    if on_postgres():
        return await conn.fetchval("SELECT count(*) FROM member_import_error WHERE tenant_id = $1 AND import_id = $2 AND phase = 'commit'",
                                   tenant.id, import_id)
    cursor = await conn.execute("SELECT count(*) FROM member_import_error WHERE tenant_id = ? AND import_id = ? AND phase = 'commit'",
                                (tenant.id, import_id))
    return _first(await cursor.fetchone())


def _first(row: Any) -> Any:
    """The first column of a SQLite row (piccolo's connections return rows as dicts)."""
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


async def discard(tenant: TenantContext, actor: Actor, import_id: int) -> dict[str, Any]:
    """Drop an import that was not committed (deletes the stored file; the record stays)."""
    imp = await queries.get_import(tenant, import_id)
    if imp is None:
        raise not_found("import", message_zh="导入记录不存在，或您无权查看")
    status = imp["status"]
    if status in ("committing", "interrupted"):
        if await commit_activity(tenant, imp) == "live":
            raise DomainError(ErrorCode.INVALID_STATE, BEING_COMMITTED, "id", BEING_COMMITTED_ZH)
        if imp["committed_through_row"]:
            raise DomainError(ErrorCode.INVALID_STATE, "rows of this import were already written: resume it to "
                              "finish (memberImportCommit continues after the last committed row)", "id",
                              "该名册已有部分数据写入，请继续导入以完成")
    elif status == "committed":
        raise DomainError(ErrorCode.INVALID_STATE, "this import is already committed", "id", "该名册已导入完成")
    elif status == "discarded":
        raise DomainError(ErrorCode.INVALID_STATE, "this import is already discarded", "id", "该名册已放弃")
    elif status == "expired":
        raise DomainError(ErrorCode.INVALID_STATE, "the upload has expired; its file is already deleted", "id",
                              "上传的名册已过期，文件已删除")
    filestore.delete_stored(KIND, tenant.id, import_id)
    await _mark(tenant, import_id, status="discarded")
    await _audit(tenant, actor, "member.import.discard", import_id, {})
    return await queries.get_import(tenant, import_id)  # type: ignore[return-value]


def error_report_rows(errors: Sequence[dict[str, Any]]) -> Iterator[list[Any]]:
    yield ["行号", "列", "错误说明"]
    for e in errors:
        yield [e["row_no"], e["column_name"], e["message"]]


"""Roster import, the writing part: the PostgreSQL (COPY into staging tables) and SQLite back ends, and
one batch's transaction with its checkpoint (:func:`commit_batch`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from core.actor import Actor
from core.context import TenantContext
from core.db import tenant_connection
from core.dbutil import engine, on_postgres, transaction, utcnow
from core.members import personal
from core.members.import_rows import (
    EXISTING_COLUMNS,
    Plan,
    Prepared,
    RowError,
    _lookup_bidxs,
    _tags_of,
    indexer,
    plan_batch,
)
from core.members.tables import MemberImportError
from core.members.validation import (
    CONFLICT,
    DUPLICATE,
    FIELDS,
)

MAX_STORED_ERRORS = 100_000
IMPORT_LOCK_NAMESPACE = 1403


def on_citus() -> bool:
    """Whether the database is a Citus coordinator (detected when the pool connects, core/db.py)."""
    return on_postgres() and bool(getattr(engine(), "citus", False))


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
        async with tenant_connection() as conn:
            size = await conn.fetchval("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'member'::regclass")
        return cls(int(size or 0))

    def note(self, created: int) -> bool:
        """Count created rows; True when the table has grown enough to analyse it again."""
        self.since_refresh += created
        return self.since_refresh >= max(self.FIRST, self.size)

    def stale(self) -> bool:
        return self.since_refresh >= max(self.FIRST, self.size // 10)

    async def refresh(self) -> None:
        async with tenant_connection() as conn:
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


_MEMBER_SEQUENCE: str | None = None


async def _member_sequence(conn: Any) -> str:
    """The member id sequence as a quoted SQL literal. Named as a constant, ``nextval`` takes it as a
    regclass once; ``nextval(pg_get_serial_sequence(...))`` looked the name up again for every id
    (measured: 14-18 ms per 5,000 ids against under 2 ms, about 3 s of a 1,000,000-row commit)."""
    global _MEMBER_SEQUENCE
    if _MEMBER_SEQUENCE is None:
        name = await conn.fetchval("SELECT pg_get_serial_sequence('member', 'id')")
        _MEMBER_SEQUENCE = "'" + str(name).replace("'", "''") + "'"
    return _MEMBER_SEQUENCE


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
        if on_citus():
            return await self._write_citus(plan, import_id, actor)
        t = self.tenant.id
        conn = self.conn
        created: list[tuple[int, Prepared]] = []
        await _staging_tables(conn)
        if plan.creates:
            ids = [r["id"] for r in await conn.fetch(
                f"SELECT nextval({await _member_sequence(conn)}::regclass) AS id FROM generate_series(1, $1)",
                len(plan.creates))]
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
            records = _update_records(plan)
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

    async def _write_citus(self, plan: Plan, import_id: int, actor: Actor) -> list[tuple[int, Prepared]]:
        """The same writes on Citus, as ``INSERT ... VALUES`` and single-row ``UPDATE`` statements
        (asyncpg ``executemany``: one round trip per batch, not per row). The staged path cannot run
        there: an ``INSERT ... SELECT`` from a coordinator-local temporary table (or from ``unnest``,
        or a writing CTE) is executed by Citus as a ``COPY`` into the shards, which row-level
        security refuses. Every statement names ``tenant_id``, so each is routed to the tenant's
        shard. No ``UPDATE ... SET x = arr[i]`` with array parameters: Citus 13.2 crashes the
        coordinator on it."""
        t = self.tenant.id
        conn = self.conn
        name = actor.username[:64]
        created: list[tuple[int, Prepared]] = []
        if plan.creates:
            ids = [r["id"] for r in await conn.fetch(
                "SELECT nextval(pg_get_serial_sequence('member', 'id')) AS id FROM generate_series(1, $1)", len(plan.creates))]
            today = dt.date.today()
            created = list(zip(ids, plan.creates, strict=True))
            await conn.executemany("""
                INSERT INTO member (id, tenant_id, org_unit_id, name, name_search, gender, birth_date, id_number_enc,
                  id_number_bidx, phone_enc, phone_bidx, employer, work_status, tags, state, joined_on, version,
                  last_import_id, last_import_row, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'joined', $15, 1, $16, $17, now(), now())""",
                [(mid, t, r.org_unit_id, r.name, r.name_search, r.gender, r.birth_date, r.id_enc, r.id_bidx, r.phone_enc,
                  r.phone_bidx, r.employer, r.work_status, list(r.tags), r.joined_on or today, import_id, r.row_no)
                 for mid, r in created])
            tags = [(t, mid, tag) for mid, r in created for tag in r.tags]
            if tags:
                await conn.executemany("INSERT INTO member_tag (tenant_id, member_id, tag) VALUES ($1, $2, $3)", tags)
            await conn.executemany("""INSERT INTO member_history (tenant_id, member_id, action, changes, actor_id,
                actor_name, import_id, at) VALUES ($1, $2, 'import.create', $3::jsonb, $4, $5, $6, now())""",
                                   [(t, mid, json.dumps({"row": r.row_no}), actor.user_id, name, import_id)
                                    for mid, r in created])
        if plan.updates:
            records = _update_records(plan)
            retagged = [rec[0] for rec, (_, _, changes) in zip(records, plan.updates, strict=True) if "tags" in changes]
            if retagged:
                await conn.execute("DELETE FROM member_tag WHERE tenant_id = $1 AND member_id = ANY($2::bigint[])",
                                   t, retagged)
                tags = [(t, rec[0], tag) for rec, (_, _, changes) in zip(records, plan.updates, strict=True)
                        if "tags" in changes for tag in rec[9]]
                if tags:
                    await conn.executemany("INSERT INTO member_tag (tenant_id, member_id, tag) VALUES ($1, $2, $3)", tags)
            await conn.executemany("""
                UPDATE member SET org_unit_id = $3, name = $4, name_search = $5, phone_enc = $6, phone_bidx = $7,
                  employer = $8, work_status = $9, tags = $10, joined_on = $11, state = $12,
                  left_on = CASE WHEN $13 = 'import.rejoin' THEN NULL ELSE left_on END,
                  version = version + 1, last_import_id = $14, last_import_row = $15, updated_at = now()
                WHERE tenant_id = $1 AND id = $2""",
                                   [(t, rec[0], *rec[2:13], import_id, rec[1]) for rec in records])
            await conn.executemany("""INSERT INTO member_history (tenant_id, member_id, action, changes, actor_id,
                actor_name, import_id, at) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, now())""",
                                   [(t, rec[0], rec[12], rec[13], actor.user_id, name, import_id) for rec in records])
        return created

    async def _add_errors_citus(self, import_id: int, phase: str, errors: list[RowError]) -> None:
        await self.conn.executemany("""INSERT INTO member_import_error (tenant_id, import_id, phase, row_no,
            column_name, code, message) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                                    [(self.tenant.id, import_id, phase, e[0], FIELDS.get(e[1], ("", ""))[0], e[2],
                                      e[3][:300]) for e in errors])

    async def add_errors(self, import_id: int, phase: str, errors: list[RowError]) -> None:
        if not errors:
            return
        if on_citus():  # INSERT ... SELECT FROM unnest is a COPY into the shards there (see _write_citus)
            await self._add_errors_citus(import_id, phase, errors)
            return
        await self.conn.execute("""INSERT INTO member_import_error (tenant_id, import_id, phase, row_no, column_name, code, message)
            SELECT $1, $2, $3, e.r, e.c, e.k, e.m FROM unnest($4::int[], $5::text[], $6::text[], $7::text[]) AS e(r, c, k, m)""",
                                self.tenant.id, import_id, phase, [e[0] for e in errors],
                                [FIELDS.get(e[1], ("", ""))[0] for e in errors], [e[2] for e in errors],
                                [e[3][:300] for e in errors])


def _update_records(plan: Plan) -> list[tuple[Any, ...]]:
    """One staging record per member to update: (id, row, unit, name, name_search, phone_enc,
    phone_bidx, employer, work_status, tags, joined_on, state, action, changes as JSON)."""
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
    return records


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


async def _commit_batch(tenant: TenantContext, import_id: int, actor: Actor, prepared: list[Prepared],
                        errors: list[RowError], last_row: int, n_rows: int,
                        duplicates: dict[int, str] | None = None,
                        prepared_keys: personal.IndexKeys | None = None,
                        pg_store: type[PgStore] | None = None) -> list[tuple[int, Prepared]]:
    """One batch in one transaction, with the checkpoint: it all lands, or none of it.
    ``prepared_keys``: the index keys the rows were blind-indexed with (re-done here if a rotation
    started since). ``pg_store``: a subclass of :class:`PgStore` to write with (see ``ImportOptions``)."""
    if duplicates:
        errors = errors + [(r.row_no, "id_number", DUPLICATE, duplicates[r.row_no]) for r in prepared if r.row_no in duplicates]
        prepared = [r for r in prepared if r.row_no not in duplicates]
    async with transaction() as tx:
        conn = tx.connection
        store: Any = (pg_store or PgStore)(conn, tenant) if on_postgres() else SqliteStore(conn, tenant)
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
            index = indexer(ix)
            for r in prepared:
                index(r)
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

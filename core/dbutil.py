"""Small database helpers shared by the domains."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

_T = TypeVar("_T")


def written(row: _T | None, what: str) -> _T:
    """``row``, read back by the caller after writing or locking it in the same transaction: it
    exists. Says so to the type checker, and fails loudly (naming ``what``) if that ever breaks."""
    if row is None:
        raise LookupError(f"{what} missing right after it was written")
    return row


def engine() -> Any:
    return engine_finder()


def on_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def on_citus() -> bool:
    """The database is a Citus cluster (detected once when the pool starts, core/db.py). A few bulk
    statement shapes differ there: see :func:`insert_rows`."""
    return bool(getattr(engine(), "citus", False))


# asyncpg allows 32767 bind parameters per statement; SQLite's default limit is 32766.
_MAX_PARAMS = 30_000


async def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``INSERT INTO table (columns) VALUES (…), (…)`` for ``rows`` (values in ``columns`` order), in as
    few statements as the parameter limit allows. Runs on every engine; it is how bulk writes are done on
    Citus, which executes an ``INSERT … SELECT`` from ``unnest`` of arrays (or a CTE) by ``COPY`` into the
    shards, and PostgreSQL refuses ``COPY FROM`` under row-level security. A multi-row ``VALUES`` of one
    tenant's rows goes to that tenant's shard as it is. The parameters take their types from the target
    columns (pass json as text). ``table`` and ``columns`` are the caller's identifiers, never input."""
    width = len(columns)
    if not rows or not width:
        return
    per = max(1, _MAX_PARAMS // width)
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    row_sql = "(" + ", ".join(["{}"] * width) + ")"
    for i in range(0, len(rows), per):
        part = rows[i:i + per]
        await raw(head + ", ".join([row_sql] * len(part)), *[v for r in part for v in r])


def transaction() -> Any:
    """A database transaction. Piccolo nests by doing nothing: the outer one commits.

    On SQLite it is IMMEDIATE: a DEFERRED transaction that reads and then writes fails at once
    with "database is locked" when another writer got in between (no busy wait applies to the
    upgrade), which in-process jobs running beside a request make likely."""
    db = engine()
    if isinstance(db, PostgresEngine):
        return db.transaction()
    from piccolo.engine.sqlite import TransactionType

    return db.transaction(transaction_type=TransactionType.immediate)


async def start_database() -> None:
    """Open the PostgreSQL connection pool (SQLite needs none). Re-exported by core.bootstrap."""
    from core.settings import get_settings

    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is None:
        await db.start_connection_pool(max_size=get_settings().db_pool_max, min_size=1)


async def stop_database() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()


async def with_database(fn: Any) -> Any:
    """Run ``await fn()`` with the connection pool open (CLI commands)."""
    await start_database()
    try:
        return await fn()
    finally:
        await stop_database()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: Any) -> dt.datetime:
    """Timestamps come back as aware datetimes on PostgreSQL and sometimes as strings on SQLite."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


async def advisory_xact_lock(namespace: int, key: int) -> None:
    """Serialise writers on (namespace, key) until the transaction ends. SQLite serialises all
    writers already, so it needs nothing."""
    if on_postgres():
        await raw("SELECT pg_advisory_xact_lock({}, {})", namespace, key)


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run raw SQL with {} placeholders through piccolo (so transactions and RLS apply)."""
    from piccolo.querystring import QueryString

    return [dict(r) for r in await engine().run_querystring(QueryString(sql, *args))]


async def raw_records(sql: str, *args: Any) -> list[Any]:
    """Like raw() but rows come as the driver gives them (mapping-like): for hot paths that read
    each row once and would only copy it."""
    from piccolo.querystring import QueryString

    return list(await engine().run_querystring(QueryString(sql, *args)))


async def copy_records(table: str, records: list[tuple[Any, ...]], columns: list[str] | None = None) -> None:
    """PostgreSQL ``COPY`` of ``records`` into ``table`` (binary, on the current transaction's connection,
    so its tenant and row-level security apply): for staging a bulk job's rows in a temporary table
    and writing them with one ``INSERT ... SELECT``. Must run inside :func:`transaction`."""
    tx = engine().current_transaction.get()
    if tx is None:
        raise RuntimeError("copy_records runs inside a transaction")
    if records:
        await tx.connection.copy_records_to_table(table, records=records, columns=columns)


async def rescope_transaction(tenant_id: int) -> None:
    """Point the current transaction's connection at another tenant.

    Connections get their tenant when acquired; a transaction that switches tenant half-way (a
    platform operator creating a province, manifest sync) must say so on its own connection.
    """
    if on_postgres():
        from core.db import forget_tenant

        tx = engine().current_transaction.get()
        if tx is not None:
            # If this transaction rolls back, PostgreSQL undoes the SET: make the next borrower of
            # this connection set its tenant afresh rather than trust what we would remember.
            forget_tenant(tx.connection)
        await raw("SELECT set_config('app.tenant_id', {}, false)", str(tenant_id))
        if getattr(engine(), "citus", False) and tx is not None:
            # The workers see only what the transaction sets locally (core/db.py, "Citus").
            from core.db import tenant_local_sql

            await raw(tenant_local_sql(str(tenant_id)))

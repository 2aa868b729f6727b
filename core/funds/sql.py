"""A thin SQL layer for the ledger's hot paths: the current transaction's driver connection, with
``$1``-style parameters on both engines.

Piccolo builds every query string in Python (measured: that is where bulk inserts lose their time, about 25,000 rows/s against a
driver's million),
so posting talks to the driver connection of piccolo's own transaction directly: same transaction,
same row-level-security tenant, a fraction of the overhead. On SQLite (the embedded default) the
numbered parameters become ``?NNN`` and the few PostgreSQL-only constructs are swapped by the caller
checking :attr:`Sql.pg`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from core.dbutil import engine as _find_engine

_engine: Any = None


def engine() -> Any:
    """The piccolo engine, looked up once (engine_finder re-reads piccolo_conf on every call)."""
    global _engine
    if _engine is None:
        _engine = _find_engine()
    return _engine


def on_postgres() -> bool:
    from piccolo.engine.postgres import PostgresEngine

    return isinstance(engine(), PostgresEngine)

_PARAM = re.compile(r"\$(\d+)")


class Sql:
    __slots__ = ("citus", "conn", "pg", "tx")

    def __init__(self, tx: Any) -> None:
        self.tx = tx
        self.conn = tx.connection
        self.pg = on_postgres()
        # On Citus, an INSERT ... SELECT whose rows do not come from co-located tables (a CTE, unnest)
        # is written into the shards with COPY, which row-level security refuses: the paths built
        # that way take the statement-at-a-time route there (docs/scale.md).
        self.citus = self.pg and bool(getattr(engine(), "citus", False))

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.pg:
            return [dict(r) for r in await self.conn.fetch(sql, *args)]
        cursor = await self.conn.execute(_PARAM.sub(r"?\1", sql), args)
        rows = await cursor.fetchall()
        await cursor.close()
        return [dict(r) for r in rows]

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return next(iter(row.values())) if row else None

    async def execute(self, sql: str, *args: Any) -> None:
        if self.pg:
            await self.conn.execute(sql, *args)
        else:
            cursor = await self.conn.execute(_PARAM.sub(r"?\1", sql), args)
            await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.pg:
            await self.conn.executemany(sql, list(rows))
        else:
            await self.conn.executemany(_PARAM.sub(r"?\1", sql), [tuple(r) for r in rows])

    def in_list(self, start: int, count: int) -> str:
        """``$start, $start+1, …`` for an IN (...) list (SQLite has no arrays)."""
        return ", ".join(f"${i}" for i in range(start, start + count))


@contextlib.asynccontextmanager
async def ledger_tx() -> AsyncIterator[Sql]:
    """A write transaction. On SQLite it starts IMMEDIATE (take the write lock first, so a
    read-then-write never fails half-way with 'database is locked')."""
    db = engine()
    if on_postgres():
        tx_cm = db.transaction()
    else:
        from piccolo.engine.sqlite import TransactionType

        tx_cm = db.transaction(transaction_type=TransactionType.immediate)
    async with tx_cm as tx:
        yield Sql(tx)


@contextlib.asynccontextmanager
async def read_conn() -> AsyncIterator[Sql]:
    """A connection for several reads in a row (one pool checkout instead of one per query)."""
    db = engine()
    if on_postgres():
        if db.pool is not None:
            from core.db import tenant_connection

            async with tenant_connection() as conn:
                yield Sql(_Holder(conn))
        else:
            async with _single(db) as conn:
                yield Sql(_Holder(conn))
    else:
        async with db.transaction() as tx:
            yield Sql(tx)


class _Holder:
    __slots__ = ("connection",)

    def __init__(self, connection: Any) -> None:
        self.connection = connection


@contextlib.asynccontextmanager
async def _single(db: Any) -> AsyncIterator[Any]:
    conn = await db.get_new_connection()
    try:
        if getattr(db, "citus", False):
            # The connection's session-level tenant stamp never reaches the workers (core/db.py):
            # the reads run in a transaction that sets it locally.
            from core.db import tenant_local_sql

            async with conn.transaction():
                await conn.execute(tenant_local_sql())
                yield conn
        else:
            yield conn
    finally:
        await conn.close()


def own_call_possible() -> bool:
    """Whether a server-side function can be called alone on a pooled connection: plain PostgreSQL
    with a pool, and no caller's transaction open (inside one, the call joins it, since another
    connection would not see its uncommitted rows). A statement is atomic by itself, so no BEGIN or
    COMMIT is sent around it."""
    eng = engine()
    return (on_postgres() and eng.pool is not None and not getattr(eng, "citus", False)
            and eng.current_transaction.get() is None)


_functions_seen: set[tuple[int, str]] = set()


async def has_function(db: Sql, name: str) -> bool:
    """Whether this plain PostgreSQL database has the server-side function ``name`` (never on SQLite
    or Citus); ``name`` may carry its argument types, ``f(bigint, text[])``, to ask for one version.
    Remembered per engine once it has: a database migrated by an older release keeps the
    statement path, and is asked again later in case it has been migrated meanwhile."""
    if not db.pg or db.citus:
        return False
    key = (id(engine()), name)
    if key in _functions_seen:
        return True
    lookup = "to_regprocedure" if "(" in name else "to_regproc"
    if await db.fetchval(f"SELECT {lookup}($1) IS NOT NULL", name):
        _functions_seen.add(key)
        return True
    return False

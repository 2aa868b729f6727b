"""Database engine set-up and the tenant fence.

PostgreSQL (production, tests) runs with row-level security: the app role has no BYPASSRLS, every
tenant-owned table has FORCE ROW LEVEL SECURITY with a policy on ``app.tenant_id``, and this module
sets ``app.tenant_id`` on every connection *as it is acquired* from the pool, from the acquiring
task's ``current_tenant``. That is per connection, not per GraphQL operation: graphql-core resolves
sibling fields concurrently, each resolver acquires its own connection, and each acquisition copies
the tenant of the task that asked (asyncio copies ContextVars into tasks it creates). The value
is (re)set on acquire whenever it differs from the borrower's tenant, so it never leaks to the
next borrower (see _set_tenant for why it is not reset on release).

SQLite (the embedded default) has no RLS; the app-level tenant filter is the only fence there.

Query capture (tests): with ``HUIJIA_DB_QUERY_CAPTURE=1`` every pooled or new PostgreSQL connection
gets an asyncpg query logger, and :func:`capture_queries` records the statements sent while it is
open, from its task and every task started inside it (a request's resolvers, DataLoader batches).
Off by default: with no logger installed asyncpg skips its logging path altogether.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine

from core.context import current_tenant
from core.settings import Settings, get_settings

# Sentinel for "no tenant": an id no tenant has, so policies fail closed rather than erroring.
NO_TENANT = "0"


def _tenant_setting() -> str:
    tenant = current_tenant.get()
    return str(tenant.id) if tenant is not None else NO_TENANT


# What app.tenant_id holds on each pooled connection, as far as we know. Setting it costs a round
# trip, and so did asyncpg's default RESET ALL on release; keeping the value across borrowers and
# setting it only when the next borrower's tenant differs saves both on every query. The known
# value is dropped (so the next acquire sets it again) whenever it may have changed behind our
# back: a transaction that re-scoped itself (its SET is undone if it rolls back), or a new
# connection.
_known_tenant: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _raw_connection(connection: Any) -> Any:
    return getattr(connection, "_con", connection)  # a pool proxy wraps the real connection


async def _set_tenant(connection: Any) -> None:
    wanted = _tenant_setting()
    raw = _raw_connection(connection)
    if _known_tenant.get(raw) == wanted:
        return
    # SET cannot take bind parameters; set_config can. is_local=false: for the session.
    await connection.execute(TENANT_STAMP, wanted)
    _known_tenant[raw] = wanted


def forget_tenant(connection: Any) -> None:
    raw = _raw_connection(connection)
    # A pool proxy already released (a transaction that failed and gave its connection back, e.g. when a
    # node went away) holds None: nothing to forget, and WeakKeyDictionary cannot even look None up.
    if raw is not None:
        _known_tenant.pop(raw, None)


async def _reset(connection: Any) -> None:
    """Release hook. asyncpg has already rolled back any open transaction; we keep the session
    settings (only app.tenant_id is ever set, and _set_tenant checks it on every acquire).
    Open cursors and advisory locks are transaction-scoped in this code base."""
    return None


# ---------------------------------------------------------------------------------------------
# Query capture
# ---------------------------------------------------------------------------------------------

TENANT_STAMP = "SELECT set_config('app.tenant_id', $1, false)"
# The transaction-local stamp on Citus (see below).
_LOCAL_STAMP_PREFIXES = ("SET LOCAL app.tenant_id", "BEGIN; SET LOCAL app.tenant_id")


def _driver_statements() -> frozenset[str]:
    from asyncpg import introspection

    return frozenset(getattr(introspection, name) for name in ("INTRO_LOOKUP_TYPES", "INTRO_LOOKUP_TYPES_13",
                                                               "TYPE_BY_NAME") if hasattr(introspection, name))


def _is_overhead(query: str) -> bool:
    """Statements no code of ours asked for: the tenant stamp (a cost of acquiring a connection), and
    asyncpg's look-up of a type the first time a connection meets it (with the jit switch around
    it). How many of these a request sends depends on which pooled connections it borrows."""
    return (query == TENANT_STAMP or query in _DRIVER_STATEMENTS or "set_config('jit'" in query
            or query.startswith(_LOCAL_STAMP_PREFIXES))


_DRIVER_STATEMENTS = _driver_statements()


@dataclass
class CapturedQueries:
    """The SQL statements sent while a :func:`capture_queries` block was open, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def queries(self) -> list[str]:
        """What the code asked for: every statement but the connection overhead (see _is_overhead)."""
        return [q for q in self.statements if not _is_overhead(q)]

    @property
    def count(self) -> int:
        return len(self.queries)

    def report(self) -> str:
        """The distinct statements, first-seen order, each with how often it was sent."""
        seen: dict[str, int] = {}
        for q in self.queries:
            text = " ".join(q.split())
            seen[text] = seen.get(text, 0) + 1
        return "\n".join(f"{n:4} x {text[:240]}" for text, n in seen.items())


_captured: ContextVar[CapturedQueries | None] = ContextVar("huijia_captured_queries", default=None)


def _log_query(record: Any) -> None:
    # asyncpg calls loggers with loop.call_soon, which runs them in a copy of the context of the
    # task that sent the statement: the capture open there, if any.
    captured = _captured.get()
    if captured is not None:
        captured.statements.append(record.query)


@contextlib.asynccontextmanager
async def capture_queries() -> AsyncIterator[CapturedQueries]:
    """Record the SQL this task (and the tasks it starts) sends to PostgreSQL inside the block.

    Needs ``HUIJIA_DB_QUERY_CAPTURE=1`` (the test environment sets it) before the pool starts.
    Statements sent through asyncpg's query methods are seen (``execute``, ``fetch*``,
    ``executemany``: everything piccolo sends); COPY and server-side cursors are not."""
    engine = _current_engine()
    if not isinstance(engine, TenantPostgresEngine) or not engine.capture_queries:
        raise RuntimeError("query capture is off: it needs PostgreSQL and HUIJIA_DB_QUERY_CAPTURE=1 at start-up")
    captured = CapturedQueries()
    token = _captured.set(captured)
    try:
        yield captured
    finally:
        # Loggers run with call_soon: one turn of the loop lets the last statements' loggers run.
        await asyncio.sleep(0)
        _captured.reset(token)


def _current_engine() -> Any:
    from piccolo.engine.finder import engine_finder

    return engine_finder()


def _watch(connection: Any) -> None:
    connection.add_query_logger(_log_query)


# ---------------------------------------------------------------------------------------------
# Citus
# ---------------------------------------------------------------------------------------------
# On Citus the tables' shards live on the workers, and the coordinator reaches them over connections
# of its own: a session-level setting on our connection never gets there, so RLS on the shards would
# see no tenant and every query would read nothing. A SET LOCAL inside a transaction does reach them
# when citus.propagate_set_commands is 'local' (set for the session when the pool connects). So on
# Citus every statement runs in a transaction that starts with SET LOCAL app.tenant_id: piccolo's
# transactions get it after BEGIN, and a statement outside one is wrapped in one of its own (BEGIN and
# SET in one round trip). On plain PostgreSQL nothing changes: the session-level stamp on acquire.

CITUS_SESSION = {"citus.propagate_set_commands": "local"}


def tenant_local_sql(tenant_setting: str | None = None) -> str:
    """``SET LOCAL app.tenant_id`` for the current tenant. SET takes no bind parameters, so the value
    is inlined: it is always the decimal id of a tenant (or NO_TENANT), checked here."""
    value = tenant_setting if tenant_setting is not None else _tenant_setting()
    if not value.isdigit():
        raise ValueError(f"tenant setting {value!r} is not an id")
    return f"SET LOCAL app.tenant_id = '{value}'"


async def _citus_enabled(config: dict[str, Any]) -> bool:
    import asyncpg

    conn = await asyncpg.connect(**config)
    try:
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"))
    finally:
        await conn.close()


class TenantPostgresEngine(PostgresEngine):
    """A PostgresEngine that stamps the current tenant on every connection it hands out, and (when
    ``capture_queries``) lets :func:`capture_queries` see the statements sent on them. On Citus it
    also sets the tenant transaction-locally, so the workers see it (above)."""

    def __init__(self, *args: Any, capture_queries: bool = False, **kwargs: Any) -> None:
        self.capture_queries = capture_queries  # first: the base class may connect in __init__
        self.citus = False
        self._citus_checked = False
        super().__init__(*args, **kwargs)

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("setup", _set_tenant)
        kwargs.setdefault("reset", _reset)
        if self.capture_queries:
            kwargs.setdefault("init", _init_watched)
        if self.pool is None:
            self.citus = await _citus_enabled(dict(self.config))
            self._citus_checked = True
            if self.citus:
                from core.citus import install_tenant_joins

                install_tenant_joins()
                kwargs["server_settings"] = {**self.config.get("server_settings", {}), **CITUS_SESSION}
        await super().start_connection_pool(**kwargs)

    async def get_new_connection(self) -> Any:
        connection = await super().get_new_connection()
        if self.capture_queries:
            _watch(connection)
        await connection.execute(TENANT_STAMP, _tenant_setting())
        if not self._citus_checked:
            self.citus = bool(await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"))
            self._citus_checked = True
        if self.citus:
            await connection.execute("SET citus.propagate_set_commands = 'local'")
        return connection

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        if self.citus:
            return _CitusTransaction(engine=self, allow_nested=allow_nested)
        return super().transaction(allow_nested=allow_nested)

    async def _run_in_pool(self, query: str, args: Any = None) -> Any:
        if not self.citus:
            return await super()._run_in_pool(query, args)
        if self.pool is None:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire() as connection:
            return await _fetch_in_tenant_transaction(connection, query, args or [])

    async def _run_in_new_connection(self, query: str, args: Any = None) -> Any:
        if not self.citus:
            return await super()._run_in_new_connection(query, args)
        connection = await self.get_new_connection()
        try:
            return await _fetch_in_tenant_transaction(connection, query, args or [])
        finally:
            await connection.close()


async def _fetch_in_tenant_transaction(connection: Any, query: str, args: Any) -> Any:
    await connection.execute("BEGIN; " + tenant_local_sql())
    try:
        rows = await connection.fetch(query, *args)
    except BaseException:
        if not connection.is_closed():
            await connection.execute("ROLLBACK")
        raise
    await connection.execute("COMMIT")
    return rows


class _CitusTransaction(PostgresTransaction):
    async def begin(self) -> None:
        await super().begin()
        await self.connection.execute(tenant_local_sql())


@contextlib.asynccontextmanager
async def tenant_connection() -> AsyncIterator[Any]:
    """A pooled connection for several statements in a row, fenced to the current tenant: on Citus
    inside a transaction that set it locally (the workers see nothing else), elsewhere as acquired."""
    db = _current_engine()
    async with db.pool.acquire() as connection:
        if getattr(db, "citus", False):
            async with connection.transaction():
                await connection.execute(tenant_local_sql())
                yield connection
        else:
            yield connection


async def _init_watched(connection: Any) -> None:
    _watch(connection)


SQLITE_NAME_COLLATION = "zh_pinyin"


def pinyin_key(text: str) -> tuple[tuple[int, bytes], ...]:
    """A sort key putting Chinese names in pinyin order without a pinyin table: GB 2312 orders its
    3,755 level-1 characters (nearly every surname and common given name) by pinyin. Latin letters
    and digits come first, then level-1 characters, then everything else (level-2 characters,
    by radical, and characters outside GB 2312) in encoding order."""
    key = []
    for ch in text:
        try:
            b = ch.encode("gbk")
        except UnicodeEncodeError:
            key.append((3, ch.encode("utf-8")))
            continue
        if len(b) == 1:
            key.append((0, b))
        elif 0xB0 <= b[0] <= 0xD7 and b[1] >= 0xA1:
            key.append((1, b))
        else:
            key.append((2, b))
    return tuple(key)


def _pinyin_collate(a: str, b: str) -> int:
    ka, kb = pinyin_key(a), pinyin_key(b)
    return (ka > kb) - (ka < kb) or (a > b) - (a < b)


class _PinyinConnection(sqlite3.Connection):
    """Every SQLite connection (piccolo opens one per query outside a transaction) knows the names'
    collation, so ``ORDER BY name_search COLLATE zh_pinyin`` works wherever it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.create_collation(SQLITE_NAME_COLLATION, _pinyin_collate)


def build_engine(settings: Settings | None = None) -> PostgresEngine | SQLiteEngine:
    settings = settings or get_settings()
    if settings.is_postgres:
        return TenantPostgresEngine(config={"dsn": settings.database_url}, log_queries=False,
                                    capture_queries=settings.db_query_capture)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # timeout: wait for the write lock rather than fail (the embedded default has concurrent writers).
    return SQLiteEngine(path=str(path), timeout=30, factory=_PinyinConnection)


def is_postgres(engine: Any) -> bool:
    return isinstance(engine, PostgresEngine)


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")

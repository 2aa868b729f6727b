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
"""

from __future__ import annotations

import sqlite3
import weakref
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.postgres import PostgresEngine
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
    await connection.execute("SELECT set_config('app.tenant_id', $1, false)", wanted)
    _known_tenant[raw] = wanted


def forget_tenant(connection: Any) -> None:
    _known_tenant.pop(_raw_connection(connection), None)


async def _reset(connection: Any) -> None:
    """Release hook. asyncpg has already rolled back any open transaction; we keep the session
    settings (only app.tenant_id is ever set, and _set_tenant checks it on every acquire).
    Open cursors and advisory locks are transaction-scoped in this code base."""
    return None


class TenantPostgresEngine(PostgresEngine):
    """A PostgresEngine that stamps the current tenant on every connection it hands out."""

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("setup", _set_tenant)
        kwargs.setdefault("reset", _reset)
        await super().start_connection_pool(**kwargs)

    async def get_new_connection(self) -> Any:
        connection = await super().get_new_connection()
        await connection.execute("SELECT set_config('app.tenant_id', $1, false)", _tenant_setting())
        return connection


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
        return TenantPostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # timeout: wait for the write lock rather than fail (the embedded default has concurrent writers).
    return SQLiteEngine(path=str(path), timeout=30, factory=_PinyinConnection)


def is_postgres(engine: Any) -> bool:
    return isinstance(engine, PostgresEngine)


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")

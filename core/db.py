"""Database engine set-up and the tenant fence.

PostgreSQL (production, tests) runs with row-level security: the app role has no BYPASSRLS, every
tenant-owned table has FORCE ROW LEVEL SECURITY with a policy on ``app.tenant_id``, and this module
sets ``app.tenant_id`` on every connection *as it is acquired* from the pool, from the acquiring
task's ``current_tenant``. That is per connection, not per GraphQL operation: graphql-core resolves
sibling fields concurrently, each resolver acquires its own connection, and each acquisition copies
the tenant of the task that asked (asyncio copies ContextVars into tasks it creates). asyncpg's
pool runs RESET ALL when a connection is released, so a tenant never leaks to the next borrower.

SQLite (the embedded default) has no RLS; the app-level tenant filter is the only fence there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from core.settings import Settings, get_settings
from core.tenancy.context import current_tenant

# Sentinel for "no tenant": an id no tenant has, so policies fail closed rather than erroring.
NO_TENANT = "0"


def _tenant_setting() -> str:
    tenant = current_tenant.get()
    return str(tenant.id) if tenant is not None else NO_TENANT


async def _set_tenant(connection: Any) -> None:
    # SET cannot take bind parameters; set_config can. is_local=false: the whole session until the
    # pool's RESET ALL on release.
    await connection.execute("SELECT set_config('app.tenant_id', $1, false)", _tenant_setting())


class TenantPostgresEngine(PostgresEngine):
    """A PostgresEngine that stamps the current tenant on every connection it hands out."""

    async def start_connection_pool(self, **kwargs: Any) -> None:
        kwargs.setdefault("setup", _set_tenant)
        await super().start_connection_pool(**kwargs)

    async def get_new_connection(self) -> Any:
        connection = await super().get_new_connection()
        await _set_tenant(connection)
        return connection


def build_engine(settings: Settings | None = None) -> PostgresEngine | SQLiteEngine:
    settings = settings or get_settings()
    if settings.is_postgres:
        return TenantPostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # timeout: wait for the write lock rather than fail (the embedded default has concurrent writers).
    return SQLiteEngine(path=str(path), timeout=30)


def is_postgres(engine: Any) -> bool:
    return isinstance(engine, PostgresEngine)


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")

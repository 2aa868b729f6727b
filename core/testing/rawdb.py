"""Raw database connections for tests that go around the app (tamper drills, fence checks), correct on
plain PostgreSQL and on a Citus cluster alike.

On Citus a session-level ``set_config('app.tenant_id', …)`` never reaches the workers (their shards'
row-level security then sees no tenant and every statement touches nothing), and neither does a
session-level ``session_replication_role``. Settings reach the shards only when made with ``SET LOCAL``
inside a transaction with ``citus.propagate_set_commands = 'local'``. So every statement here runs in a
transaction of its own that sets what it needs locally first; on plain PostgreSQL the same SET LOCALs
do what the session-level settings did.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg


class RawConnection:
    """An asyncpg connection whose ``execute``/``fetch``/``fetchrow``/``fetchval`` each run in their own
    transaction, with the tenant (if given) and ``settings`` set locally so the shards see them too.
    A statement that fails rolls back only itself."""

    def __init__(self, conn: asyncpg.Connection, citus: bool, tenant_id: int | None,
                 settings: dict[str, str]) -> None:
        self.conn = conn
        self.citus = citus
        self.tenant_id = tenant_id
        self.settings = dict(settings)

    def _prelude(self) -> list[str]:
        local = dict(self.settings)
        if self.tenant_id is not None:
            local["app.tenant_id"] = str(int(self.tenant_id))
        out = ["SET LOCAL citus.propagate_set_commands = 'local'"] if self.citus else []
        # SET takes no bind parameters: names are ours, values are quoted as literals.
        out += [f"SET LOCAL {name} = '{value.replace(chr(39), chr(39) * 2)}'" for name, value in local.items()]
        return out

    async def _run(self, method: str, sql: str, *args: Any) -> Any:
        async with self.conn.transaction():
            for stmt in self._prelude():
                await self.conn.execute(stmt)
            return await getattr(self.conn, method)(sql, *args)

    async def execute(self, sql: str, *args: Any) -> Any:
        return await self._run("execute", sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return await self._run("fetch", sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchrow", sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchval", sql, *args)

    async def script(self, *statements: str, args: tuple[Any, ...] = ()) -> None:
        """Several statements in one transaction (all or nothing), each given ``args``."""
        async with self.conn.transaction():
            for stmt in self._prelude():
                await self.conn.execute(stmt)
            for sql in statements:
                await self.conn.execute(sql, *args)


@contextlib.asynccontextmanager
async def connect(dsn: str, tenant_id: int | None = None, *,
                  triggers_off: bool = False) -> AsyncIterator[RawConnection]:
    """A :class:`RawConnection` on ``dsn`` for ``tenant_id``'s rows. ``triggers_off`` (superuser only):
    ``session_replication_role = replica`` in every statement's transaction, which skips ordinary
    triggers on the coordinator and, set locally, on the shards: what a DBA going around the append-only
    triggers would do, and the way to do it that works on Citus (``ALTER TABLE … DISABLE TRIGGER`` on a
    distributed table needs ``citus.enable_unsafe_triggers``, and leaves every other
    session unguarded meanwhile)."""
    conn = await asyncpg.connect(dsn)
    try:
        citus = bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"))
        settings = {"session_replication_role": "replica"} if triggers_off else {}
        yield RawConnection(conn, citus, tenant_id, settings)
    finally:
        await conn.close()

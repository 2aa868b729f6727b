"""The test environment: settings, a fresh database and Redis key space per run, and the plugin under test."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import itertools
import os
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "correct-horse-battery"
# The staff roles a plugin's tests usually need, each at the root and at a district.
ROLES = ("tenant_admin", "approver", "clerk", "finance", "auditor")
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


# -------------------------------------------------------------------------
# Environment, database and Redis
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestEnvironment:
    """Where this test run keeps its data; every name carries the run id, so parallel runs never meet."""

    __test__ = False  # not a test class, whatever pytest's naming rules say

    run_id: str
    admin_dsn: str  # a superuser connection to the server's maintenance database
    app_role: str  # the NOSUPERUSER NOBYPASSRLS role the app connects as; it owns nothing
    owner_role: str  # owns the database and runs the migrations, as in production
    database: str
    redis_url: str
    queue: str
    # Citus workers (host:port) joined to the run's database; empty on plain PostgreSQL.
    citus_workers: tuple[str, ...] = ()

    @property
    def citus_worker_dsns(self) -> list[str]:
        """Superuser connections to each worker's maintenance database (as admin_dsn's user)."""
        user = self.admin_dsn.split("://", 1)[-1].split("@", 1)[0]
        return [f"postgresql://{user}@{w}/postgres" for w in self.citus_workers]

    @property
    def database_url(self) -> str:
        host = self.admin_dsn.split("@", 1)[-1].split("/", 1)[0]
        return f"postgresql://{self.app_role}@{host}/{self.database}"

    @property
    def owner_url(self) -> str:
        host = self.admin_dsn.split("@", 1)[-1].split("/", 1)[0]
        return f"postgresql://{self.owner_role}@{host}/{self.database}"

    @classmethod
    def new(cls, run_id: str | None = None) -> TestEnvironment:
        run_id = run_id or uuid.uuid4().hex[:10]
        return cls(
            run_id=run_id,
            admin_dsn=os.environ.get("HUIJIA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"),
            app_role="huijia_app_test",
            owner_role="huijia_owner_test",
            database=f"huijia_test_{run_id}",
            redis_url=os.environ.get("HUIJIA_TEST_REDIS", "redis://127.0.0.1:6379/0"),
            queue=f"huijia-test:{run_id}",
            citus_workers=tuple(w.strip() for w in os.environ.get("HUIJIA_TEST_CITUS_WORKERS", "").split(",")
                                if w.strip()),
        )


def configure_environment(env: TestEnvironment, extra_plugins: list[str] | tuple[str, ...] = ()) -> None:
    """Point core at ``env``: must run before core's settings or piccolo_conf are first imported.

    ``extra_plugins`` (module paths) are added to ``HUIJIA_PLUGINS_EXTRA``, keeping what is there.
    """
    extra = [p for p in os.environ.get("HUIJIA_PLUGINS_EXTRA", "").split(",") if p.strip()]
    extra += [p for p in extra_plugins if p not in extra]
    os.environ.update(
        {
            "HUIJIA_ENV": "test",
            "DATABASE_URL": env.database_url,
            "REDIS_URL": env.redis_url,
            "HUIJIA_JOB_QUEUE": env.queue,
            "HUIJIA_LOG_LEVEL": os.environ.get("HUIJIA_LOG_LEVEL", "WARNING"),
            "HUIJIA_LOGIN_MAX_FAILURES": "5",
            "HUIJIA_DB_POOL_MAX": "30",
            "HUIJIA_DB_QUERY_CAPTURE": "1",
            "HUIJIA_PLUGINS_EXTRA": ",".join(extra),
        }
    )
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


async def create_test_database(env: TestEnvironment) -> None:
    """Create the run's database, owned by the owner role; both roles are created if missing.

    The one place that decides who owns the test database and as whom the app connects. Roles as in
    production (docs/operations.md): the owner owns the database and runs the migrations
    (:func:`migrate_as_owner`); the app, and so every test, connects as a NOSUPERUSER NOBYPASSRLS role
    that owns nothing and may only read and write rows. Row-level security fences it, and FORCE ROW
    LEVEL SECURITY fences the owner too, which the isolation tests rely on.
    """
    import asyncpg

    for dsn in (env.admin_dsn, *env.citus_worker_dsns):
        conn = await asyncpg.connect(dsn)
        try:
            for role in (env.app_role, env.owner_role):
                exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
                if not exists:
                    # a parallel run may win the race
                    with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                        await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
            await conn.execute(f"CREATE DATABASE {env.database} OWNER {env.owner_role}")
        finally:
            await conn.close()
    if env.citus_workers:
        await join_citus_nodes(env)


async def join_citus_nodes(env: TestEnvironment) -> None:
    """On a Citus cluster (``HUIJIA_TEST_CITUS_WORKERS``): Citus keeps its metadata per database, so the
    run's database gets the extension on every node and the coordinator adds the workers to it. A
    superuser's work, as in production; ``huijia migrate`` then distributes the tables as the owner."""
    import asyncpg

    for dsn in env.citus_worker_dsns:
        conn = await asyncpg.connect(_with_database(dsn, env.database))
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
        finally:
            await conn.close()
    conn = await asyncpg.connect(_with_database(env.admin_dsn, env.database))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
        host, port = _host_port(env.admin_dsn)
        await conn.execute("SELECT citus_set_coordinator_host($1, $2)", host, port)
        for worker in env.citus_workers:
            whost, wport = worker.rsplit(":", 1)
            await conn.execute("SELECT citus_add_node($1, $2)", whost, int(wport))
    finally:
        await conn.close()


def _host_port(dsn: str) -> tuple[str, int]:
    from urllib.parse import urlparse

    parsed = urlparse(dsn)
    return parsed.hostname or "127.0.0.1", parsed.port or 5432


def _with_database(dsn: str, database: str) -> str:
    return dsn.rsplit("/", 1)[0] + "/" + database


async def migrate_as_owner(env: TestEnvironment) -> None:
    """``huijia migrate --owner-url`` in a subprocess (a process has one engine, and this one is the
    app's): the owner creates every table, core's and the installed plugins', then grants the app
    role row access only."""
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "migrate", "--owner-url", env.owner_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"huijia migrate --owner-url failed:\n{out.decode()}")


async def drop_test_database(env: TestEnvironment) -> None:
    import asyncpg

    for dsn in (env.admin_dsn, *env.citus_worker_dsns):
        conn = await asyncpg.connect(dsn)
        try:
            # WITH (FORCE) terminates the sessions it sees, but on a Citus node a maintenance or
            # remote-transaction session can connect again in between; it goes away within moments.
            for attempt in range(10):
                try:
                    await conn.execute(f"DROP DATABASE IF EXISTS {env.database} WITH (FORCE)")
                    break
                except asyncpg.ObjectInUseError:
                    if attempt == 9:
                        raise
                    await asyncio.sleep(0.5)
        finally:
            await conn.close()


async def clean_redis(env: TestEnvironment) -> None:
    from redis.asyncio import Redis

    r = Redis.from_url(env.redis_url)
    try:
        keys = [k async for k in r.scan_iter(match=f"*{env.queue}*")]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


# -------------------------------------------------------------------------
# The plugin under test
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginUnderTest:
    """The plugins a package declares under ``[project.entry-points."huijia.plugins"]``: name -> module."""

    root: Path
    plugins: dict[str, str]


def plugin_under_test(start: Path) -> PluginUnderTest | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that declares Huijia plugins, if any."""
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        declared = data.get("project", {}).get("entry-points", {}).get("huijia.plugins", {})
        if declared:
            return PluginUnderTest(folder, dict(declared))
    return None


def _uninstalled_modules(found: PluginUnderTest | None) -> list[str]:
    """Modules of the plugins under test that are not installed (a fresh scaffold, a checkout on PYTHONPATH)."""
    if found is None:
        return []
    installed = {ep.name for ep in importlib.metadata.entry_points(group="huijia.plugins")}
    return [module for name, module in found.plugins.items() if name not in installed]


_current: TestEnvironment | None = None


def current_environment() -> TestEnvironment:
    """This process's test environment, made on first use (a conftest may read it before pytest_configure)."""
    global _current
    if _current is None:
        _current = TestEnvironment.new()
    return _current

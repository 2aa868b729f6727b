"""Test set-up: a fresh PostgreSQL database and Redis key space per run, the app driven in-process.

The environment is set before any core module is imported (settings and the piccolo engine are
read once). Roles as in production (docs/operations.md): an owner role owns the database and runs
the migrations (`huijia migrate --owner-url`, in a subprocess: a process has one engine); the app,
and so every test, connects as a NOSUPERUSER NOBYPASSRLS role that owns nothing and may only read
and write rows. Row-level security fences it, and FORCE ROW LEVEL SECURITY fences the owner too.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

RUN_ID = uuid.uuid4().hex[:10]
PG_ADMIN_DSN = os.environ.get("HUIJIA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
APP_ROLE = "huijia_app_test"
OWNER_ROLE = "huijia_owner_test"
TEST_DB = f"huijia_test_{RUN_ID}"
OWNER_DSN = f"postgresql://{OWNER_ROLE}@127.0.0.1:5432/{TEST_DB}"
REDIS_URL = os.environ.get("HUIJIA_TEST_REDIS", "redis://127.0.0.1:6379/0")
QUEUE = f"huijia-test:{RUN_ID}"

os.environ.update(
    {
        "HUIJIA_ENV": "test",
        "DATABASE_URL": f"postgresql://{APP_ROLE}@127.0.0.1:5432/{TEST_DB}",
        "REDIS_URL": REDIS_URL,
        "HUIJIA_JOB_QUEUE": QUEUE,
        "HUIJIA_LOG_LEVEL": "WARNING",
        "HUIJIA_LOGIN_MAX_FAILURES": "5",
        "HUIJIA_DB_POOL_MAX": "30",
        # A small capability plugin and a province plugin serving it (tests/capability_dummy), installed
        # for the whole run as a real one would be: its tables migrate with core's and the isolation
        # tests walk them.
        "HUIJIA_PLUGINS_EXTRA": "tests.capability_dummy.plugin,tests.capability_dummy.province",
    }
)
os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


async def _create_database() -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        for role in (APP_ROLE, OWNER_ROLE):
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                try:
                    await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
                except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):  # a parallel run won the race
                    pass
        await conn.execute(f"CREATE DATABASE {TEST_DB} OWNER {OWNER_ROLE}")
    finally:
        await conn.close()


async def _migrate_as_owner() -> None:
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "migrate", "--owner-url", OWNER_DSN,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"huijia migrate --owner-url failed:\n{out.decode()}")


async def _drop_database() -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
    finally:
        await conn.close()


async def _clean_redis() -> None:
    from redis.asyncio import Redis

    r = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in r.scan_iter(match=f"*{QUEUE}*")]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


@pytest.fixture(scope="session")
async def database():
    await _create_database()
    await _migrate_as_owner()
    from core.bootstrap import start_database, stop_database
    from core.tenancy.manifest import sync_all

    await start_database()
    await sync_all()
    yield TEST_DB
    from core.jobs.runner import close_runner, drain_local

    await drain_local(5)
    await close_runner()
    await stop_database()
    await _clean_redis()
    await _drop_database()


# The subtree walk's hooks, and the test capability's contribution to it (a real capability package
# would load its own through a ``pytest11`` entry point instead).
pytest_plugins = ["tests.fixtures.api", "tests.fixtures.subtree_walk", "tests.capability_dummy.walk_samples"]

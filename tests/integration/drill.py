"""Helpers of the backup, restore and upgrade drills: scratch databases beside the run's, and the
`huijia` command run against them in its own process (a process has one database engine)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from core.testing import current_environment

ENV = current_environment()
ROOT = Path(__file__).resolve().parents[2]
HOST = ENV.admin_dsn.split("@", 1)[-1].split("/", 1)[0]
def admin_url(db: str) -> str:
    return ENV.admin_dsn.rsplit("/", 1)[0] + f"/{db}"


def app_url(db: str) -> str:
    return f"postgresql://{ENV.app_role}@{HOST}/{db}"


def owner_url(db: str) -> str:
    return f"postgresql://{ENV.owner_role}@{HOST}/{db}"


async def huijia(db: str, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the `huijia` command against ``db`` as the app role, in its own process (one engine each)."""
    full = {**os.environ, "DATABASE_URL": app_url(db), "HUIJIA_DATA_DIR": str(data_dir), **(env or {})}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "core.cli", *args, env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def ok(db: str, data_dir: Path, *args: str) -> str:
    code, out = await huijia(db, data_dir, *args)
    assert code == 0, out
    return out


async def create_db(name: str) -> None:
    conn = await asyncpg.connect(ENV.admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name} OWNER {ENV.owner_role}")
    finally:
        await conn.close()


async def drop_db(name: str) -> None:
    conn = await asyncpg.connect(ENV.admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def fetch(db: str, sql: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(admin_url(db))
    try:
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


# Areas and contexts as the members, funds and hardship stores write them.
STORED = [("members", "exports", ""), ("funds", "reports", "funds/"), ("hardship", "attachment", "hardship/")]


def plaintext(area: str, tenant_id: int, n: int) -> bytes:
    # Over one chunk, so the files are more than one sealed line.
    return f"{area}:{tenant_id}:{n}:".encode() * 70_000


@contextlib.asynccontextmanager
async def demo_deployment(name: str, data: Path, *, demo: bool = True) -> AsyncIterator[tuple[str, Path, dict[str, int]]]:
    """A scratch deployment as `huijia demo` makes it (members, households, 13 months of ledger, audit
    records in three provinces) with one stored file per area in each province: (database, data
    directory, tenant ids by code). Dropped afterwards. ``demo=False``: the provinces only, no rows."""
    from core.files import FileStore

    db = f"huijia_drill_{name}_{ENV.run_id}"
    await create_db(db)
    try:
        await ok(db, data, "migrate", "--owner-url", owner_url(db))
        await ok(db, data, *(("demo", "--force") if demo else ("tenants", "sync")))
        tenants = {r["code"]: r["id"] for r in await fetch(db, "SELECT id, code FROM tenant")}
        for area, kind, prefix in STORED:
            st = FileStore(area, root=lambda a=area: data / a, context_prefix=prefix)
            for code in ("shanghai", "fujian", "beijing"):
                st.store_stream(iter([plaintext(area, tenants[code], 1)]), kind, tenants[code], 1)
        yield db, data, tenants
    finally:
        await drop_db(db)


async def execute(db: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url(db))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()

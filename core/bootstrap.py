"""Start-up and shut-down shared by the web app, the worker, the CLI and the tests."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.dbutil import engine
from core.settings import get_settings

log = logging.getLogger("huijia")
T = TypeVar("T")


def load_job_modules() -> None:
    """Register every plugin's jobs (core's domains included) with the runner; refuses duplicates."""
    from core.jobs.runner import install_jobs

    install_jobs()


async def with_database(fn: Callable[[], Awaitable[T]]) -> T:
    """Run ``fn`` with the connection pool open (CLI commands)."""
    await start_database()
    try:
        return await fn()
    finally:
        await stop_database()


async def start_database() -> None:
    from piccolo.engine.postgres import PostgresEngine

    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is None:
        await db.start_connection_pool(max_size=get_settings().db_pool_max, min_size=1)


async def stop_database() -> None:
    from piccolo.engine.postgres import PostgresEngine

    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()


async def migrate(quiet: bool = True) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")


async def run_registered_checks() -> None:
    """The start-up checks domains and plugins registered (e.g. members' blind-index keys)."""
    from core.registry import get_registry

    for _plugin, check in get_registry().startup_checks:
        await check()


async def startup_checks() -> dict[str, Any]:
    """Load plugins (core-version check, pending hooks), collect and check everything they register
    (duplicate fields, permissions, jobs; province plugins serving unknown capabilities), and validate
    every tenant's settings and capabilities, so a bad plugin or manifest stops start-up with a
    message naming tenant, plugin and key; then run the checks domains registered."""
    from core.plugins import validate_plugin_settings
    from core.registry import get_registry
    from core.tenancy.services import list_tenants

    registry = get_registry().check()
    for tenant in await list_tenants(include_platform=True):
        registry.validate_tenant(tenant.code, list(tenant.plugins), list(tenant.capabilities))
        validate_plugin_settings(tenant.code, list(tenant.plugins), dict(tenant.settings),
                                 capabilities=list(tenant.capabilities))
    await run_registered_checks()
    load_job_modules()
    return {}

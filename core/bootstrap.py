"""Start-up and shut-down shared by the web app, the worker, the CLI and the tests."""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

from core.dbutil import start_database, stop_database, with_database

__all__ = ["load_job_modules", "migrate", "run_registered_checks", "start_database", "startup_checks",
           "stop_database", "with_database"]

log = logging.getLogger("huijia")


def load_job_modules() -> None:
    """Register every plugin's jobs (core's domains included) with the runner; refuses duplicates."""
    from core.jobs.runner import install_jobs

    install_jobs()


async def migrate(quiet: bool = True, grant_to: str | None = None) -> None:
    """Run the migrations. ``grant_to``: connected as the owner role, then grant that app role
    row access (core/dbroles.py)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
    from core.dbutil import on_postgres

    if on_postgres():
        # On Citus (the extension is in this database): distribute what the migrations created. Before
        # the grants, so they reach the shards.
        from core.citus import distribute, is_citus
        from core.dbutil import engine, raw

        if await is_citus(raw):
            # One transaction: a failure half-way leaves the tables as the migrations made them.
            async with engine().transaction():
                await distribute(raw, engine().run_ddl)
    if grant_to:
        from core.dbroles import grant_app_role

        await grant_app_role(grant_to)


async def run_registered_checks() -> None:
    """The start-up checks domains and plugins registered (e.g. members' blind-index keys)."""
    from core.registry import get_registry

    await get_registry().run_startup_checks()


async def startup_checks() -> dict[str, Any]:
    """Load plugins (core-version check, pending hooks), collect and check everything they register
    (duplicate fields, permissions, jobs; province plugins serving unknown capabilities), and validate
    every tenant's settings and capabilities, so a bad plugin or manifest stops start-up with a
    message naming tenant, plugin and key; then run the checks domains registered."""
    from core.plugins import validate_plugin_settings
    from core.registry import get_registry
    from core.tenancy.queries import list_tenants

    registry = get_registry().check()
    for tenant in await list_tenants(include_platform=True):
        registry.validate_tenant(tenant.code, list(tenant.plugins), list(tenant.capabilities))
        validate_plugin_settings(tenant.code, list(tenant.plugins), dict(tenant.settings),
                                 capabilities=list(tenant.capabilities))
    await run_registered_checks()
    load_job_modules()
    return {}

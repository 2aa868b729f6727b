"""Start-up and shut-down shared by the web app, the worker, the CLI and the tests."""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
from typing import Any

from core.dbutil import engine
from core.settings import get_settings

log = logging.getLogger("huijia")

# Modules whose import registers @job functions.
JOB_MODULES = ["core.jobs.builtin", "core.funds.jobs", "core.members.jobs"]


def load_job_modules() -> None:
    from core.jobs.runner import REGISTRY, job
    from core.plugins import get_plugin_manager

    for name in JOB_MODULES:
        importlib.import_module(name)
    for jobs in get_plugin_manager().hook.register_jobs():
        for fn in jobs or ():
            if getattr(fn, "__name__", None) and fn.__name__ not in REGISTRY:
                job(getattr(fn, "job_name", fn.__name__))(fn)


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


async def migrate(quiet: bool = True, grant_to: str | None = None) -> None:
    """Run the migrations. ``grant_to``: connected as the owner role, then grant that app role
    row access (core/dbroles.py)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
    if grant_to:
        from core.dbroles import grant_app_role

        await grant_app_role(grant_to)


async def startup_checks() -> dict[str, Any]:
    """Load plugins (core-version check, pending hooks) and validate every tenant's settings, so a
    bad manifest setting stops start-up with a message naming tenant, plugin and key; and check that
    the blind-index keys every tenant's stored indexes need are configured."""
    from core.members.keys import check_index_keys
    from core.plugins import get_plugin_manager, validate_plugin_settings
    from core.tenancy.services import list_tenants

    get_plugin_manager()
    for tenant in await list_tenants(include_platform=True):
        validate_plugin_settings(tenant.code, list(tenant.plugins), dict(tenant.settings))
    await check_index_keys()
    load_job_modules()
    return {}

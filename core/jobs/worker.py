"""arq worker settings: `huijia worker` runs these against REDIS_URL."""

from __future__ import annotations

from typing import Any

from core.jobs.runner import redis_settings
from core.settings import get_settings

__all__ = ["cron_job_list", "redis_settings", "run_job", "worker_settings"]


async def run_job(ctx: dict[str, Any], tenant_id: int, job_id: int) -> str:
    from core.jobs.runner import execute

    return await execute(tenant_id, job_id)


async def startup(ctx: dict[str, Any]) -> None:
    from core.dbutil import start_database
    from core.registry import get_registry

    await start_database()
    # A worker writes members too (imports, transfers): the same registered checks as the web app.
    await get_registry().run_startup_checks()


async def shutdown(ctx: dict[str, Any]) -> None:
    from core.dbutil import stop_database

    await stop_database()


def cron_job_list() -> list[Any]:
    """Every cron job of the platform (arq CronJob objects from ``register_cron``; the embedded
    scheduler runs them too)."""
    from core.registry import get_registry

    return list(get_registry().cron)


def worker_settings(**overrides: Any) -> dict[str, Any]:
    from core.jobs.runner import install_jobs
    from core.registry import get_registry

    get_registry().check()  # a conflicting plugin stops the worker too, before it takes any job
    install_jobs()
    settings: dict[str, Any] = {
        "functions": [run_job],
        "redis_settings": redis_settings(),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_tries": 3,
        "queue_name": get_settings().job_queue,
        "job_timeout": 3600,
        "cron_jobs": cron_job_list(),
    }
    settings.update(overrides)
    return settings

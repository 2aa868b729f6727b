"""arq worker settings: `huijia worker` runs these against REDIS_URL."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings

from core.settings import get_settings


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379")


async def run_job(ctx: dict[str, Any], tenant_id: int, job_id: int) -> str:
    from core.jobs.runner import execute

    return await execute(tenant_id, job_id)


async def startup(ctx: dict[str, Any]) -> None:
    from core.bootstrap import run_registered_checks, start_database

    await start_database()
    # A worker writes members too (imports, transfers): the same registered checks as the web app.
    await run_registered_checks()


async def shutdown(ctx: dict[str, Any]) -> None:
    from core.bootstrap import stop_database

    await stop_database()


def cron_job_list() -> list[Any]:
    """Every cron job of the platform (arq CronJob objects from ``register_cron``; the embedded
    scheduler runs them too)."""
    from core.registry import get_registry

    return list(get_registry().cron)


def worker_settings(**overrides: Any) -> dict[str, Any]:
    from core.bootstrap import load_job_modules

    load_job_modules()
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

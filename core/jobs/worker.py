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
    from core.bootstrap import start_database
    from core.members.keys import check_index_keys

    await start_database()
    # A worker writes members too (imports, transfers): same refusal as the web app.
    await check_index_keys()


async def shutdown(ctx: dict[str, Any]) -> None:
    from core.bootstrap import stop_database

    await stop_database()


def cron_job_list() -> list[Any]:
    """Every cron job of the platform (arq CronJob objects; the embedded scheduler runs them too)."""
    from core.funds.jobs import cron_jobs as funds_cron_jobs
    from core.jobs.heartbeat import cron_jobs as liveness_cron_jobs
    from core.members.jobs import cron_jobs as members_cron_jobs

    return [*liveness_cron_jobs(), *funds_cron_jobs(), *members_cron_jobs()]


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

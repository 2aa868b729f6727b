"""Cron for the embedded default.

With Redis, `huijia worker` runs the cron jobs (arq's scheduler). Without it nothing would, so
reservations would never expire and the ledger chain would wait for a worker that does not exist.
This runs the very same arq ``CronJob`` definitions inside `huijia serve`, on the same schedule
(arq's own ``next_cron``), and each cron function enqueues per-tenant jobs with deterministic keys
as it does under arq, so a run that fires twice does the work once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

log = logging.getLogger("huijia.cron")


def cron_jobs() -> list[Any]:
    from core.jobs.worker import cron_job_list

    return cron_job_list()


async def run_cron(stop: asyncio.Event, jobs: list[Any] | None = None) -> None:
    jobs = cron_jobs() if jobs is None else jobs
    now = dt.datetime.now(dt.UTC)
    for job in jobs:
        job.calculate_next(now)
    while not stop.is_set() and jobs:
        due = min(j.next_run for j in jobs)
        delay = max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds())
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return
        except TimeoutError:
            pass
        now = dt.datetime.now(dt.UTC)
        for job in jobs:
            if job.next_run <= now:
                try:
                    await job.coroutine({})
                except Exception:
                    log.exception("cron job failed", extra={"job": job.name})
                job.calculate_next(now)

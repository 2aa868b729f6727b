"""The embedded cron loop runs arq CronJob definitions on their schedule and survives failures."""

import asyncio

from arq import cron

from core.jobs.scheduler import run_cron


async def test_cron_loop_runs_due_jobs_and_keeps_going_after_a_failure():
    calls: list[str] = []

    async def every_second(ctx):
        calls.append("tick")

    async def broken(ctx):
        calls.append("broken")
        raise RuntimeError("boom")

    jobs = [cron(every_second, name="tick", second=None, microsecond=0),
            cron(broken, name="broken", second=None, microsecond=0)]
    stop = asyncio.Event()
    task = asyncio.create_task(run_cron(stop, jobs))
    await asyncio.sleep(2.6)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert calls.count("tick") >= 2 and calls.count("broken") >= 2


async def test_the_platform_cron_list_is_what_the_worker_runs():
    from core.jobs.scheduler import cron_jobs
    from core.jobs.worker import worker_settings

    names = {j.name for j in cron_jobs()}
    assert names == {j.name for j in worker_settings()["cron_jobs"]}
    assert {"funds.cron.expire_reservations", "funds.cron.chain"} <= names

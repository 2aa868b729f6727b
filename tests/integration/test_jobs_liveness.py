"""Jobs that survive a crash: a heartbeat per run, dead runs marked INTERRUPTED (sweeper and check on
read), `jobRetry` that runs the job once more from its checkpoint, and one run per record however
many runners or retries race for it. Thresholds and clocks are passed in, not patched."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from core.context import tenant_scope
from core.dbutil import utcnow
from core.graphql.base import from_global_id, json_loads_maybe, to_global_id
from core.jobs import heartbeat, runner
from core.jobs.tables import JobRecord
from tests.fixtures.api import persona

BLOCK = "tests.liveness.block"

JOB = "query($id: ID!) { job(id: $id) { id status attempts retryable heartbeatAt errors } }"
RETRY = "mutation($id: ID!) { jobRetry(id: $id) { job { id status attempts } errors { field code message } } }"


class Gate:
    """What the test job does: each run checks in, then waits until the test opens the gate."""

    def __init__(self) -> None:
        self.started = 0
        self.finished = 0
        self.open = asyncio.Event()
        self.running = asyncio.Event()


GATES: dict[str, Gate] = {}


async def blocking_job(ctx: runner.JobContext, gate: str) -> dict[str, Any]:
    g = GATES[gate]
    g.started += 1
    g.running.set()
    await g.open.wait()
    g.finished += 1
    return {"runs": g.finished}


@pytest.fixture(autouse=True)
def in_process_with_test_job(in_process_jobs, monkeypatch):
    monkeypatch.setitem(runner.REGISTRY, BLOCK, blocking_job)
    yield
    for g in GATES.values():
        g.open.set()


_gates = iter(range(1, 10_000))


async def tenant_of(code: str):
    from core.tenancy.services import get_tenant

    return await get_tenant(code=code)


async def user_id(p) -> int:
    res = await p.api.gql("{ me { user { id } } }")
    return from_global_id(res["data"]["me"]["user"]["id"], "User")[1]


async def new_record(tenant, created_by: int | None = None) -> tuple[int, Gate]:
    """A queued job record of the blocking test job, not yet handed to any runner."""
    name = f"g{next(_gates)}"
    GATES[name] = Gate()
    with tenant_scope(tenant):
        rows = await JobRecord.insert(JobRecord(tenant_id=tenant.id, job_key=f"{BLOCK}:{name}", name=BLOCK, args=[name],
                                                created_by=created_by)).returning(JobRecord.id)
    return rows[0]["id"], GATES[name]


async def record(tenant, job_id: int) -> dict[str, Any]:
    with tenant_scope(tenant):
        row = await JobRecord.select().where((JobRecord.tenant_id == tenant.id) & (JobRecord.id == job_id)).first()
    assert row is not None
    return {**row, "errors": json_loads_maybe(row["errors"]), "result": json_loads_maybe(row["result"])}


def start_run(tenant, job_id: int, **kw: Any) -> asyncio.Task[str]:
    """One runner (what `huijia worker` or the in-process runner calls), as a task the test controls."""
    return asyncio.create_task(runner.execute(tenant.id, job_id, **kw))


async def test_a_running_job_beats_and_the_sweeper_leaves_it_alone(api):
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant)
    task = start_run(tenant, job_id, heartbeat_every=0.1)
    await asyncio.wait_for(gate.running.wait(), 10)
    first = (await record(tenant, job_id))["heartbeat_at"]
    for _ in range(200):  # it advances while the job runs (polled: how soon depends on the machine)
        if (await record(tenant, job_id))["heartbeat_at"] > first:
            break
        await asyncio.sleep(0.05)
    assert (await record(tenant, job_id))["heartbeat_at"] > first
    with tenant_scope(tenant):
        assert job_id not in await heartbeat.interrupt_stale(tenant.id, stale_after=0.4)
        assert (await runner.get_job(tenant, job_id, stale_after=0.4))["status"] == "running"
    gate.open.set()
    assert await task == "succeeded"
    done = await record(tenant, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 1 and gate.finished == 1
    await asyncio.sleep(0.3)
    assert (await record(tenant, job_id))["heartbeat_at"] == done["heartbeat_at"]  # the beat ended with the run


async def test_a_run_whose_heartbeat_stops_is_interrupted_on_read_and_by_the_sweeper(api, sh_admin, bj_admin):
    sh, bj = await tenant_of("shanghai"), await tenant_of("beijing")
    # Hung runs: they hold their records but never beat again (a frozen or killed worker looks
    # the same from the database).
    sh_job, sh_gate = await new_record(sh)
    bj_job, bj_gate = await new_record(bj)
    sh_task = start_run(sh, sh_job, heartbeat_every=3600)
    bj_task = start_run(bj, bj_job, heartbeat_every=3600)
    await asyncio.wait_for(asyncio.gather(sh_gate.running.wait(), bj_gate.running.wait()), 10)
    with tenant_scope(sh):
        assert (await runner.get_job(sh, sh_job, stale_after=2))["status"] == "running"  # within the threshold
    later = utcnow() + dt.timedelta(seconds=2)  # two seconds on: a second past the threshold below
    # The check on read: the API's read path marks it before answering.
    with tenant_scope(sh):
        row = await runner.get_job(sh, sh_job, now=later, stale_after=1)
    assert row["status"] == "interrupted" and json_loads_maybe(row["errors"])[0]["code"] == "INTERRUPTED"
    shown = (await sh_admin.api.gql(JOB, {"id": to_global_id("Job", sh_job)}))["data"]["job"]
    assert shown["status"] == "INTERRUPTED" and shown["retryable"] is True and shown["heartbeatAt"]
    # The sweeper: every tenant, each under its own scope.
    assert await heartbeat.sweep(now=later, stale_after=1) >= 1
    assert (await record(bj, bj_job))["status"] == "interrupted"
    assert (await bj_admin.api.gql(JOB, {"id": to_global_id("Job", bj_job)}))["data"]["job"]["status"] == "INTERRUPTED"
    assert (await sh_admin.api.gql(JOB, {"id": to_global_id("Job", bj_job)}))["data"]["job"] is None
    for t in (sh_task, bj_task):
        t.cancel()
    await asyncio.gather(sh_task, bj_task, return_exceptions=True)


async def test_a_run_declared_dead_stops_itself_and_the_retry_completes_exactly_once(api, sh_admin):
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant, created_by=await user_id(sh_admin))
    stalled = start_run(tenant, job_id, heartbeat_every=0.2)
    await asyncio.wait_for(gate.running.wait(), 10)
    # As if the worker froze for a minute (a paused VM): the sweeper, a minute later, declares it dead.
    with tenant_scope(tenant):
        assert job_id in await heartbeat.interrupt_stale(tenant.id, now=utcnow() + dt.timedelta(seconds=60), stale_after=40)
    out = (await sh_admin.api.gql(RETRY, {"id": to_global_id("Job", job_id)}))["data"]["jobRetry"]
    assert out["errors"] == [] and out["job"]["status"] in ("QUEUED", "RUNNING")
    # The stalled run wakes, finds its record taken at its next beat, and stops without finishing.
    assert await asyncio.wait_for(stalled, 10) == "superseded"
    assert gate.finished == 0
    gate.open.set()
    await runner.drain_local()
    done = await record(tenant, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2 and done["result"] == {"runs": 1}
    assert (gate.started, gate.finished) == (2, 1)


async def test_a_cancelled_run_is_interrupted_at_once_and_a_retry_resumes_it(api, sh_admin):
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant, created_by=await user_id(sh_admin))
    task = start_run(tenant, job_id)
    await asyncio.wait_for(gate.running.wait(), 10)
    task.cancel()  # worker shutdown, arq's job timeout
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await record(tenant, job_id)
    assert row["status"] == "interrupted" and row["errors"][0]["code"] == "INTERRUPTED"
    gate.open.set()
    out = (await sh_admin.api.gql(RETRY, {"id": to_global_id("Job", job_id)}))["data"]["jobRetry"]
    assert out["errors"] == []
    await runner.drain_local()
    job = (await sh_admin.api.gql(JOB, {"id": to_global_id("Job", job_id)}))["data"]["job"]
    assert job["status"] == "SUCCEEDED" and job["attempts"] == 2 and job["retryable"] is False
    assert gate.finished == 1


async def test_two_retries_at_once_run_the_job_once(api, sh_admin):
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant, created_by=await user_id(sh_admin))
    task = start_run(tenant, job_id)
    await asyncio.wait_for(gate.running.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    gid = to_global_id("Job", job_id)
    a, b = await asyncio.gather(sh_admin.api.gql(RETRY, {"id": gid}), sh_admin.api.gql(RETRY, {"id": gid}))
    errors = sorted([a["data"]["jobRetry"]["errors"], b["data"]["jobRetry"]["errors"]], key=len)
    assert errors[0] == [] and [e["code"] for e in errors[1]] == ["INVALID_STATE"]
    await asyncio.sleep(0.2)
    gate.open.set()
    await runner.drain_local()
    done = await record(tenant, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2
    assert (gate.started, gate.finished) == (2, 1)  # the cancelled run, then exactly one retry


async def test_two_runners_delivered_the_same_record_run_it_once(api):
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant)
    first, second = start_run(tenant, job_id), start_run(tenant, job_id)
    await asyncio.wait_for(gate.running.wait(), 10)
    await asyncio.sleep(0.2)
    gate.open.set()
    results = sorted(await asyncio.gather(first, second))
    assert results == ["already-running", "succeeded"]
    assert (gate.started, gate.finished) == (1, 1) and (await record(tenant, job_id))["attempts"] == 1
    assert await runner.execute(tenant.id, job_id) == "already-done"


async def test_job_retry_is_for_the_starter_or_a_root_admin_and_only_for_stopped_jobs(api, sh_admin, bj_admin):
    tenant = await tenant_of("shanghai")
    clerk = await persona(api, "shanghai", "clerk")
    other_clerk = await persona(api, "shanghai", "clerk")
    county_admin = await persona(api, "shanghai", "tenant_admin", "sh-huangpu")
    job_id, gate = await new_record(tenant, created_by=await user_id(clerk))
    gid = to_global_id("Job", job_id)

    # Running (fresh heartbeat): nobody may retry it.
    task = start_run(tenant, job_id)
    await asyncio.wait_for(gate.running.wait(), 10)
    out = (await clerk.api.gql(RETRY, {"id": gid}))["data"]["jobRetry"]
    assert out["job"] is None and out["errors"][0]["code"] == "INVALID_STATE" and "running" in out["errors"][0]["message"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    # Interrupted: another clerk (who may read it, but did not start it) may not; for an admin below the
    # root a province-wide job does not exist at all (the subtree rule: outside your subtree, NOT_FOUND).
    out = (await other_clerk.api.gql(RETRY, {"id": gid}))["data"]["jobRetry"]
    assert out["job"] is None and out["errors"][0]["code"] == "FORBIDDEN", out
    out = (await county_admin.api.gql(RETRY, {"id": gid}))["data"]["jobRetry"]
    assert out["job"] is None and out["errors"][0]["code"] == "NOT_FOUND", out
    # Another tenant does not see it at all.
    out = (await bj_admin.api.gql(RETRY, {"id": gid}))["data"]["jobRetry"]
    assert out["job"] is None and out["errors"][0]["code"] == "NOT_FOUND"
    # Not a job id.
    bad = await clerk.api.gql(RETRY, {"id": to_global_id("Member", job_id)})
    assert bad["data"] is None or bad["data"]["jobRetry"]["errors"]
    assert (await record(tenant, job_id))["status"] == "interrupted"

    # The starter may; then it is queued or running, so a second retry is refused; the root admin
    # could have retried it too (checked after it succeeds: succeeded jobs are not retried).
    gate.open.set()
    out = (await clerk.api.gql(RETRY, {"id": gid}))["data"]["jobRetry"]
    assert out["errors"] == []
    await runner.drain_local()
    out = (await sh_admin.api.gql(RETRY, {"id": gid}))["data"]["jobRetry"]
    assert out["errors"][0]["code"] == "INVALID_STATE" and "already succeeded" in out["errors"][0]["message"]


async def test_a_root_admin_may_retry_a_job_someone_else_started(api, sh_admin):
    tenant = await tenant_of("shanghai")
    clerk = await persona(api, "shanghai", "clerk")
    job_id, gate = await new_record(tenant, created_by=await user_id(clerk))
    task = start_run(tenant, job_id)
    await asyncio.wait_for(gate.running.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    gate.open.set()
    out = (await sh_admin.api.gql(RETRY, {"id": to_global_id("Job", job_id)}))["data"]["jobRetry"]
    assert out["errors"] == []
    await runner.drain_local()
    assert (await record(tenant, job_id))["status"] == "succeeded"


async def test_enqueuing_the_key_of_a_dead_run_runs_the_same_record_again(api):
    """What `specialAllocationRun` for the same year does: the deterministic key finds the record,
    the dead run is seen as such (not "running"), and the same record runs again."""
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant)
    hung = start_run(tenant, job_id, heartbeat_every=3600)
    await asyncio.wait_for(gate.running.wait(), 10)
    key = (await record(tenant, job_id))["job_key"]
    assert await runner.enqueue(tenant, BLOCK, "unused", key=key) == job_id  # live: nothing new starts
    await asyncio.sleep(0.05)
    assert gate.started == 1
    with tenant_scope(tenant):
        await heartbeat.interrupt_stale(tenant.id, now=utcnow() + dt.timedelta(seconds=60))
    assert await runner.enqueue(tenant, BLOCK, "unused", key=key) == job_id
    for _ in range(100):
        if gate.started == 2:
            break
        await asyncio.sleep(0.05)
    assert gate.started == 2  # the same record, with its own argument, runs again
    gate.open.set()
    await runner.drain_local()
    # The hung run never beat, so it ran on; but its final write is fenced by its run token.
    assert await hung == "superseded"
    done = await record(tenant, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2


SQLITE_SCRIPT = '''
import asyncio, datetime as dt
from core.bootstrap import migrate, start_database
from core.dbutil import utcnow
from core.jobs import heartbeat, runner
from core.jobs.tables import JobRecord
from core.context import tenant_scope
from core.tenancy.manifest import sync_all
from core.tenancy.services import get_tenant

gate = asyncio.Event()
runs = []

async def block(ctx, name):
    runs.append(ctx.attempt)
    await gate.wait()
    return {"attempt": ctx.attempt}

# @job only names a function; jobs are installed from the plugins' register_jobs, so a test job joins
# the registry after that.
runner.install_jobs()
runner.REGISTRY["tests.sqlite.block"] = block

async def main():
    await migrate()
    await sync_all()
    tenant = await get_tenant(code="fujian")
    with tenant_scope(tenant):
        job_id = (await JobRecord.insert(JobRecord(tenant_id=tenant.id, job_key="sqlite-block", name="tests.sqlite.block",
                                                   args=["x"])).returning(JobRecord.id))[0]["id"]
        hung = asyncio.create_task(runner.execute(tenant.id, job_id, heartbeat_every=3600))
        while not runs:
            await asyncio.sleep(0.05)
        print("SECOND", await runner.execute(tenant.id, job_id))
        print("LIVE", await heartbeat.sweep(stale_after=30))
        print("SWEPT", await heartbeat.sweep(now=utcnow() + dt.timedelta(seconds=2), stale_after=1))
        print("READ", (await runner.get_job(tenant, job_id))["status"])
        await runner.retry(tenant, job_id)
        while len(runs) < 2:
            await asyncio.sleep(0.05)
        gate.set()
        print("HUNG", await hung)
        await runner.drain_local()
        row = await runner.get_job(tenant, job_id)
        print("DONE", row["status"], row["attempts"])

asyncio.run(main())
'''


def test_liveness_on_the_embedded_default_sqlite(tmp_path):
    """Claim, heartbeat staleness, sweep and retry on SQLite (its timestamps and UPDATE … RETURNING)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env["HUIJIA_DATA_DIR"] = str(tmp_path)
    env["HUIJIA_ENV"] = "development"
    run = subprocess.run([sys.executable, "-c", SQLITE_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    assert lines["SECOND"] == "already-running"  # a second delivery while the first beats
    assert lines["LIVE"] == "0"
    assert lines["SWEPT"] == "1" and lines["READ"] == "interrupted"
    assert lines["HUNG"] == "superseded" and lines["DONE"] == "succeeded 2"


async def test_a_retry_that_cannot_reach_the_queue_leaves_the_job_retryable(api, sh_admin, monkeypatch):
    tenant = await tenant_of("shanghai")
    job_id, gate = await new_record(tenant, created_by=await user_id(sh_admin))
    task = start_run(tenant, job_id)
    await asyncio.wait_for(gate.running.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    async def queue_down(*args: Any, **kw: Any) -> None:
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(runner, "dispatch", queue_down)
    with pytest.raises(ConnectionError), tenant_scope(tenant):
        await runner.retry(tenant, job_id)
    row = await record(tenant, job_id)
    assert row["status"] == "interrupted" and row["errors"][0]["code"] == "INTERRUPTED"
    monkeypatch.undo()
    monkeypatch.setitem(runner.REGISTRY, BLOCK, blocking_job)
    gate.open.set()
    with runner.jobs_in_process(), tenant_scope(tenant):
        await runner.retry(tenant, job_id)
    await runner.drain_local()
    assert (await record(tenant, job_id))["status"] == "succeeded" and gate.finished == 1

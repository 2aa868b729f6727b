"""An import whose worker dies mid-commit: the dead run is seen within the stale threshold, the
import may be resumed (or its job retried) at once, and it ends with exactly the right rows.
Resume and discard answer from one state: while a commit runs both say "wait", once it stopped
resume is allowed and discard says "resume it"."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from core.context import tenant_scope
from core.dbutil import utcnow
from core.graphql.base import from_global_id, to_global_id
from core.jobs import heartbeat, runner
from core.members import importer, queries
from tests.members.members_helpers import MEMBERS, commit, import_state, make_id, roster_csv, upload

pytestmark = pytest.mark.slow  # minutes, not seconds: left out of make test-fast

UNIT = "sh-huangpu-bailian"
ROOT = Path(__file__).resolve().parents[2]

DISCARD = "mutation($id: ID!) { memberImportDiscard(id: $id) { memberImport { status } errors { field code message } } }"
COMMIT = "mutation($id: ID!) { memberImportCommit(id: $id) { memberImport { status } errors { field code message } } }"
RETRY = "mutation($id: ID!) { jobRetry(id: $id) { job { id status } errors { field code message } } }"
JOB_OF_IMPORT = "query($id: ID!) { memberImport(id: $id) { status commitJob { id status retryable } } }"


def rows(prefix: str, n: int) -> list[list[str]]:
    return [[f"{prefix}{i:05d}", make_id(), UNIT, f"139{i:08d}", "", "", "", ""] for i in range(n)]


async def count(p, prefix: str) -> int:
    res = await p.api.gql(MEMBERS, {"f": {"namePrefix": prefix}, "first": 1})
    return res["data"]["members"]["totalCount"]


async def shanghai():
    from core.tenancy.services import get_tenant

    return await get_tenant(code="shanghai")


async def raw_import(tenant, gid: str) -> dict:
    with tenant_scope(tenant):
        imp = await queries.get_import(tenant, from_global_id(gid, "MemberImport")[1])
    assert imp is not None
    return imp


async def errors_of(p, query: str, gid: str, field: str) -> list[dict]:
    return (await p.api.gql(query, {"id": gid}))["data"][field]["errors"]


async def test_resume_and_discard_agree_while_a_commit_runs_and_after_it_is_declared_dead(sh_admin, in_process_jobs,
                                                                                          import_options):
    import_options(batch_rows=10)
    up = await upload(sh_admin, roster_csv(rows("心跳甲", 35)))
    gid = up["import"]["id"]
    gate, inside = asyncio.Event(), asyncio.Event()
    calls = {"n": 0}

    class SlowSecondBatch(importer.PgStore):
        async def write(self, plan, import_id, actor):
            calls["n"] += 1
            if calls["n"] == 2:  # batch 1 is in; batch 2 hangs (a worker stuck mid-batch)
                inside.set()
                await gate.wait()
            return await super().write(plan, import_id, actor)

    import_options(pg_store=SlowSecondBatch)
    assert (await sh_admin.api.gql(COMMIT, {"id": gid}))["data"]["memberImportCommit"]["errors"] == []
    await asyncio.wait_for(inside.wait(), 30)

    # Live: both answer "wait for it".
    shown = (await sh_admin.api.gql(JOB_OF_IMPORT, {"id": gid}))["data"]["memberImport"]
    assert shown["status"] == "COMMITTING" and shown["commitJob"]["status"] == "RUNNING"
    resume = await errors_of(sh_admin, COMMIT, gid, "memberImportCommit")
    discard = await errors_of(sh_admin, DISCARD, gid, "memberImportDiscard")
    assert resume[0]["code"] == discard[0]["code"] == "INVALID_STATE"
    assert resume[0]["message"] == discard[0]["message"] == importer.BEING_COMMITTED

    # The run is declared dead (as the sweeper would a minute after its worker froze).
    tenant = await shanghai()
    job_pk = from_global_id(shown["commitJob"]["id"], "Job")[1]
    with tenant_scope(tenant):
        assert job_pk in await heartbeat.interrupt_stale(tenant.id, now=utcnow() + dt.timedelta(seconds=60))
    shown = (await sh_admin.api.gql(JOB_OF_IMPORT, {"id": gid}))["data"]["memberImport"]
    assert shown["status"] == "INTERRUPTED" and shown["commitJob"]["status"] == "INTERRUPTED"
    discard = await errors_of(sh_admin, DISCARD, gid, "memberImportDiscard")
    assert discard[0]["code"] == "INVALID_STATE" and "resume it" in discard[0]["message"]
    # Resume is allowed at once, while the stuck run still holds its batch.
    assert await errors_of(sh_admin, COMMIT, gid, "memberImportCommit") == []
    gate.set()  # the stuck run wakes: both now write under the checkpoint, neither twice
    await runner.drain_local(120)
    imp = await import_state(sh_admin, gid)
    assert imp["status"] == "COMMITTED" and (imp["created"], imp["failed"]) == (35, 0)
    assert imp["committedThroughRow"] == 36 and await count(sh_admin, "心跳甲") == 35


async def test_an_interrupted_import_without_written_rows_may_be_discarded_or_resumed(sh_admin, in_process_jobs,
                                                                                     import_options):
    import_options(batch_rows=10)
    up = await upload(sh_admin, roster_csv(rows("心跳乙", 5)))
    gid = up["import"]["id"]

    class Dies(importer.PgStore):
        async def write(self, plan, import_id, actor):
            raise ConnectionError("worker lost its database mid-batch")

    import_options(pg_store=Dies)
    await commit(sh_admin, gid)
    assert (await import_state(sh_admin, gid))["status"] == "INTERRUPTED"
    out = (await sh_admin.api.gql(DISCARD, {"id": gid}))["data"]["memberImportDiscard"]
    assert out["errors"] == [] and out["memberImport"]["status"] == "DISCARDED"
    again = await errors_of(sh_admin, COMMIT, gid, "memberImportCommit")
    assert again[0]["code"] == "INVALID_STATE" and "discarded" in again[0]["message"]


async def start_worker(tmp_path: Path, name: str) -> asyncio.subprocess.Process:
    """`huijia worker` with a 1 s heartbeat and a 3 s stale threshold, sharing the test's file store."""
    env = {**os.environ, "HUIJIA_DATA_DIR": str(tmp_path / "data"), "HUIJIA_IMPORT_WORKERS": "0",
           "HUIJIA_JOB_HEARTBEAT_SECONDS": "1", "HUIJIA_JOB_STALE_SECONDS": "3", "HUIJIA_LOG_LEVEL": "WARNING"}
    with open(tmp_path / f"{name}.log", "wb") as log:
        return await asyncio.create_subprocess_exec(str(Path(sys.executable).parent / "huijia"), "worker",
                                                    cwd=str(ROOT), env=env, stdout=log, stderr=log)


async def stop_worker(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _release_orphans() -> None:
    """A SIGKILLed arq worker leaves its job in the queue under an in-progress key that lives for
    job_timeout. Production lets arq redeliver it later (the claim then skips it); this test run
    removes it so that later burst workers in the session can drain the queue."""
    from redis.asyncio import Redis

    from core.settings import get_settings

    s = get_settings()
    r = Redis.from_url(s.redis_url)
    try:
        for raw in await r.zrange(s.job_queue, 0, -1):
            job_id = raw.decode()
            if await r.exists(f"arq:in-progress:{job_id}"):
                await r.zrem(s.job_queue, job_id)
                await r.delete(f"arq:in-progress:{job_id}", f"arq:job:{job_id}", f"arq:retry:{job_id}")
    finally:
        await r.aclose()


@pytest.mark.parametrize("resume_by", ["memberImportCommit", "jobRetry"])
async def test_an_import_killed_mid_commit_under_a_real_worker_resumes_at_once_with_exactly_the_right_rows(
        sh_admin, tmp_path, _members_file_store, resume_by):
    n_rows = 25_000  # five batches of the worker's 5,000: the kill lands after the first
    prefix = "崩溃甲" if resume_by == "memberImportCommit" else "崩溃乙"
    with runner.jobs_in_process():  # the preview runs here; the commit goes to the arq queue below
        up = await upload(sh_admin, roster_csv(rows(prefix, n_rows)))
    gid = up["import"]["id"]
    assert (await import_state(sh_admin, gid))["validRows"] == n_rows

    # `huijia worker` in its own process, on this run's queue and database, sharing the file store.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "members").symlink_to(_members_file_store, target_is_directory=True)
    tenant = await shanghai()
    proc = await start_worker(tmp_path, "first")
    try:
        assert (await sh_admin.api.gql(COMMIT, {"id": gid}))["data"]["memberImportCommit"]["errors"] == []
        deadline = time.monotonic() + 120
        while True:
            imp = await raw_import(tenant, gid)
            if imp["batches_committed"] >= 1:
                break
            assert proc.returncode is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the worker never committed a batch"
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        await stop_worker(proc)
    killed_at = time.monotonic()
    imp = await raw_import(tenant, gid)
    assert imp["status"] == "committing" and 0 < imp["created_count"] < n_rows, "the kill must land mid-commit"
    job_pk = imp["commit_job_id"]
    with tenant_scope(tenant):
        assert (await runner.get_job(tenant, job_pk))["status"] == "running"  # nobody recorded the death

    # The sweeper (threshold 3 s, as the worker's) marks it within the threshold plus one beat.
    while True:
        with tenant_scope(tenant):
            marked = job_pk in await heartbeat.interrupt_stale(tenant.id, stale_after=3)
        if marked:
            break
        assert time.monotonic() - killed_at < 6, "the dead run was not detected within the threshold"
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - killed_at

    shown = (await sh_admin.api.gql(JOB_OF_IMPORT, {"id": gid}))["data"]["memberImport"]
    assert shown["status"] == "INTERRUPTED" and shown["commitJob"] == {
        "id": to_global_id("Job", job_pk), "status": "INTERRUPTED", "retryable": True}
    discard = await errors_of(sh_admin, DISCARD, gid, "memberImportDiscard")
    assert "resume it" in discard[0]["message"]

    if resume_by == "memberImportCommit":
        with runner.jobs_in_process():
            assert await errors_of(sh_admin, COMMIT, gid, "memberImportCommit") == []
        await runner.drain_local(300)
    else:
        # The same job record again, under arq, on a restarted worker, with a new arq job id: the
        # killed worker's in-progress key for the first id (alive for an hour) does not block it.
        proc = await start_worker(tmp_path, "second")
        try:
            out = (await sh_admin.api.gql(RETRY, {"id": shown["commitJob"]["id"]}))["data"]["jobRetry"]
            assert out["errors"] == []
            deadline = time.monotonic() + 300
            while (await raw_import(tenant, gid))["status"] != "committed":
                assert proc.returncode is None, (tmp_path / "second.log").read_text()
                assert time.monotonic() < deadline, "the retry did not finish"
                await asyncio.sleep(0.2)
            with tenant_scope(tenant):
                while (await runner.get_job(tenant, job_pk))["status"] == "running":
                    await asyncio.sleep(0.1)
        finally:
            await stop_worker(proc)
    await _release_orphans()

    imp = await import_state(sh_admin, gid)
    assert imp["status"] == "COMMITTED", imp
    assert (imp["created"], imp["updated"], imp["unchanged"], imp["failed"]) == (n_rows, 0, 0, 0)
    assert imp["committedThroughRow"] == n_rows + 1
    assert await count(sh_admin, prefix) == n_rows  # every row once: none lost, none twice
    job = (await sh_admin.api.gql("query($id: ID!) { job(id: $id) { status attempts } }",
                                  {"id": to_global_id("Job", job_pk)}))["data"]["job"]
    if resume_by == "jobRetry":
        assert job == {"status": "SUCCEEDED", "attempts": 2}
    print(f"dead run detected {elapsed:.1f} s after SIGKILL (threshold 3 s, heartbeat 1 s)")

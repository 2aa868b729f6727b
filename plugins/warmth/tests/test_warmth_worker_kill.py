"""A distribution whose `huijia worker` is killed (SIGKILL) after its first batch: the dead run is
marked interrupted, the distribution is resumed on a second worker, and every beneficiary is paid
exactly once, in the ledger and on the list."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
N = 1_200  # three batches of the job's 500: the kill lands after the first commits
AMOUNT = 1_000

CREATE = """mutation($i: WarmthCampaignInput!) { warmthCampaignCreate(input: $i) { campaign { id } errors { code } } }"""
STEP = """mutation($id: ID!, $t: String!) { warmthCampaignStep(id: $id, transition: $t) {
  campaign { state distributionJobId } errors { field code message } } }"""
RESUME = """mutation($c: ID!) { warmthDistributionResume(campaignId: $c) { campaign { state } errors { code message } } }"""


async def sql(tenant: Any, query: str, *args: Any) -> list[dict[str, Any]]:
    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(tenant):
        return await raw(query, *args)


async def start_worker(tmp_path: Path, name: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "HUIJIA_DATA_DIR": str(tmp_path / "data"), "HUIJIA_JOB_HEARTBEAT_SECONDS": "1",
           "HUIJIA_JOB_STALE_SECONDS": "3", "HUIJIA_LOG_LEVEL": "WARNING"}
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


async def release_orphans() -> None:
    """A SIGKILLed arq worker leaves its job under an in-progress key that lives for job_timeout;
    remove it so later burst workers in the session can drain the queue (as core's crash test does)."""
    from redis.asyncio import Redis

    from core.settings import get_settings

    s = get_settings()
    r = Redis.from_url(s.redis_url)
    try:
        for raw_id in await r.zrange(s.job_queue, 0, -1):
            job_id = raw_id.decode()
            if await r.exists(f"arq:in-progress:{job_id}"):
                await r.zrem(s.job_queue, job_id)
                await r.delete(f"arq:in-progress:{job_id}", f"arq:job:{job_id}", f"arq:retry:{job_id}")
    finally:
        await r.aclose()


async def test_a_distribution_killed_under_a_real_worker_resumes_and_pays_each_beneficiary_once(
        plugin_tenant, clerk, approver, tmp_path) -> None:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.dbutil import utcnow
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.jobs import heartbeat, runner
    from core.sdk import from_global_id

    pt = plugin_tenant
    tenant = await pt.context()
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 10**12)
        for unit_code in (pt.root_unit, pt.district_unit):
            unit = (await sql(tenant, "SELECT id FROM org_unit WHERE code = {}", unit_code))[0]
            await create_manual_entry(tenant, Actor(None, "test"), refs=[
                AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                AccountRef(org_unit_id=unit["id"], fund="general", code="404")], amounts=[10**8, -(10**8)],
                key=f"warmth-kill-{uuid.uuid4().hex}", memo="test funding")
    made = (await clerk.data(CREATE, {"i": {
        "orgUnitId": pt.unit_ids[pt.root_unit], "name": "送温暖", "kind": "spring_festival", "startsOn": "2024-12-22",
        "endsOn": "2025-02-12", "fund": "general",
        "benefits": [{"group": "holiday_frontline", "form": "cash", "amountFen": AMOUNT}],
        "budgets": [{"orgUnitId": pt.unit_ids[pt.district_unit], "budgetFen": N * AMOUNT}]}}))["warmthCampaignCreate"]
    cid = made["campaign"]["id"]
    pk = from_global_id(cid)[1]
    g1 = (await sql(tenant, "SELECT id FROM org_unit WHERE code = {}", pt.grassroots_unit))[0]["id"]
    # The list as setup (the list copies what it needs and joins no member row): synthetic member ids.
    await sql(tenant, "INSERT INTO warmth_beneficiary (tenant_id, campaign_id, member_id, org_unit_id, group_code, "
                      "reason) SELECT {}, {}, 900000000 + m, {}, 'holiday_frontline', '节日坚守' FROM "
                      "generate_series(1, {}) AS m", tenant.id, pk, g1, N)
    assert (await clerk.data(STEP, {"id": cid, "t": "submit"}))["warmthCampaignStep"]["errors"] == []
    assert (await approver.data(STEP, {"id": cid, "t": "approve"}))["warmthCampaignStep"]["errors"] == []

    async def paid() -> int:
        return int((await sql(tenant, "SELECT COUNT(*) AS n FROM warmth_beneficiary WHERE campaign_id = {} AND "
                                      "paid_at IS NOT NULL", pk))[0]["n"])

    (tmp_path / "data").mkdir()
    proc = await start_worker(tmp_path, "first")
    try:
        started = (await clerk.data(STEP, {"id": cid, "t": "distribute"}))["warmthCampaignStep"]
        assert started["errors"] == [] and started["campaign"]["state"] == "distributing"
        job_pk = from_global_id(started["campaign"]["distributionJobId"])[1]
        deadline = time.monotonic() + 180
        while await paid() < 500:
            assert proc.returncode is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the worker never committed a batch"
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        await stop_worker(proc)
    cut = await paid()
    assert 0 < cut < N, "the kill must land mid-distribution"
    with tenant_scope(tenant):
        assert (await runner.get_job(tenant, job_pk))["status"] == "running"  # nobody recorded the death
        # the sweeper's view a minute later (as core's crash test does)
        assert job_pk in await heartbeat.interrupt_stale(tenant.id, now=utcnow() + dt.timedelta(seconds=60))

    proc = await start_worker(tmp_path, "second")
    try:
        assert (await clerk.data(RESUME, {"c": cid}))["warmthDistributionResume"]["errors"] == []
        deadline = time.monotonic() + 300
        while True:
            state = (await sql(tenant, "SELECT state FROM workflow_case WHERE capability = 'warmth' AND case_id = {}",
                               pk))[0]["state"]
            if state == "distributed":
                break
            assert proc.returncode is None, (tmp_path / "second.log").read_text()
            assert time.monotonic() < deadline, "the resumed distribution did not finish"
            await asyncio.sleep(0.2)
    finally:
        await stop_worker(proc)
        await release_orphans()
    assert await paid() == N
    entries = await sql(tenant, "SELECT COUNT(*) AS n, COUNT(DISTINCT e.idempotency_key) AS k, SUM(p.amount_fen) AS s "
                                "FROM ledger_entry e JOIN ledger_posting p ON p.entry_id = e.id AND p.amount_fen > 0 "
                                "WHERE e.idempotency_key LIKE {}", f"%:warmth:{pk}:%")
    assert (entries[0]["n"], entries[0]["k"], entries[0]["s"]) == (N, N, N * AMOUNT)
    res = await sql(tenant, "SELECT posted_fen FROM ledger_reservation WHERE source_type = 'warmth_campaign' AND "
                            "source_id = {}", str(pk))
    assert [r["posted_fen"] for r in res] == [N * AMOUNT]

"""Jobs: one function under a real arq worker on Redis and under the in-process runner; status,
progress and results in the database; safe retries; tenant-scoped reads."""

from __future__ import annotations

import pytest
from arq.worker import Worker

from core.jobs import runner
from core.jobs.worker import worker_settings
from tests.fixtures.api import persona

JOB = "query($id: ID!) { job(id: $id) { id name status progress total attempts result errors } }"


async def run_worker_burst() -> None:
    settings = worker_settings(burst=True, handle_signals=False, on_startup=None, on_shutdown=None, poll_delay=0.05)
    worker = Worker(**settings)
    try:
        await worker.main()
    finally:
        await worker.close()


async def test_job_runs_under_a_real_arq_worker(api, sh_auditor):
    started = (await sh_auditor.api.gql("mutation { auditVerifyStart { job { id status } errors { code } } }"))["data"]["auditVerifyStart"]
    assert started["errors"] == [] and started["job"]["status"] == "QUEUED"
    await run_worker_burst()
    job = (await sh_auditor.api.gql(JOB, {"id": started["job"]["id"]}))["data"]["job"]
    assert job["status"] == "SUCCEEDED" and job["attempts"] == 1
    assert job["progress"] == job["total"] == 1
    assert job["result"]["ok"] is True and job["result"]["checked"] > 0


async def test_retrying_a_finished_job_is_harmless(api, sh_auditor):
    from core.jobs.runner import execute
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code="shanghai")
    job_id = await runner.enqueue(tenant, "audit.verify", key="retry-test")
    await run_worker_burst()
    assert await execute(tenant.id, job_id) == "already-done"
    # Enqueueing the same deterministic key again finds the same job rather than a second one.
    assert await runner.enqueue(tenant, "audit.verify", key="retry-test") == job_id


async def test_job_progress_and_failure_are_recorded(api, sh_admin):
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy.services import get_tenant, get_unit_by_code

    tenant = await get_tenant(code="shanghai")
    with tenant_scope(tenant):
        unit = await get_unit_by_code(tenant, "sh")
    ok_id = await runner.enqueue(tenant, "org.count_subtree", unit["id"], created_by=None)
    missing_id = await runner.enqueue(tenant, "org.count_subtree", 987654321)
    await run_worker_burst()
    ok = (await sh_admin.api.gql(JOB, {"id": to_global_id("Job", ok_id)}))["data"]["job"]
    assert ok["status"] == "SUCCEEDED" and ok["progress"] == ok["result"]["below"] and ok["total"] == ok["result"]["units"]
    failed = (await sh_admin.api.gql(JOB, {"id": to_global_id("Job", missing_id)}))["data"]["job"]
    assert failed["status"] == "FAILED" and failed["errors"] == [{"code": "JOB_FAILED", "message": "org unit not found"}]


async def test_in_process_runner_runs_the_same_function(in_process_jobs, api, sh_auditor):
    started = (await sh_auditor.api.gql("mutation { auditVerifyStart { job { id } errors { code } } }"))["data"]["auditVerifyStart"]
    await runner.drain_local()
    job = (await sh_auditor.api.gql(JOB, {"id": started["job"]["id"]}))["data"]["job"]
    assert job["status"] == "SUCCEEDED" and job["result"]["ok"] is True


async def test_jobs_are_invisible_to_other_tenants_and_job_args_are_ids_only(api, sh_auditor):
    started = (await sh_auditor.api.gql("mutation { auditVerifyStart { job { id } errors { code } } }"))["data"]["auditVerifyStart"]
    bj = await persona(api, "beijing", "tenant_admin")
    assert (await bj.api.gql(JOB, {"id": started["job"]["id"]}))["data"]["job"] is None
    with pytest.raises(TypeError):
        from core.tenancy.services import get_tenant

        await runner.enqueue(await get_tenant(code="shanghai"), "audit.verify", {"id_number": "110105194912310021"})
    await run_worker_burst()


async def test_worker_role_cannot_start_staff_jobs(api):
    worker = await persona(api, "shanghai", "worker")
    out = (await worker.api.gql("mutation { auditVerifyStart { job { id } errors { code } } }"))["data"]["auditVerifyStart"]
    assert out["job"] is None and out["errors"][0]["code"] == "FORBIDDEN"

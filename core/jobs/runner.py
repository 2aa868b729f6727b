"""One job function, two runners.

A job is an ``async def fn(ctx: JobContext, *ids)`` registered with ``@job("name")``. ``enqueue``
writes a JobRecord (or finds the existing one for the same deterministic key) and hands its id to
arq when REDIS_URL is set, or to an in-process asyncio task otherwise. Either way ``execute`` runs
it: it loads the tenant, scopes the task to it, skips a job that already succeeded (so a retry or a
duplicate delivery is harmless), and records progress, result and errors in the database.
Arguments are ids only: personal data never rides in a queue payload.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from core.dbutil import transaction, utcnow
from core.jobs.tables import JobRecord
from core.settings import get_settings
from core.tenancy.context import TenantContext, tenant_scope

log = logging.getLogger("huijia.jobs")

JobFn = Callable[..., Awaitable[Any]]
REGISTRY: dict[str, JobFn] = {}


class JobFailed(Exception):
    """Raise from a job for an expected failure: the message (no personal data) is recorded."""


def job(name: str) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        REGISTRY[name] = fn
        return fn

    return register


@dataclass
class JobContext:
    tenant: TenantContext
    job_id: int
    attempt: int

    async def progress(self, done: int, total: int | None = None) -> None:
        values: dict[Any, Any] = {JobRecord.progress: done, JobRecord.updated_at: utcnow()}
        if total is not None:
            values[JobRecord.total] = total
        await JobRecord.update(values).where((JobRecord.tenant_id == self.tenant.id) & (JobRecord.id == self.job_id))


def _check_args(args: tuple[Any, ...]) -> list[Any]:
    for a in args:
        if not isinstance(a, (int, str)) or (isinstance(a, str) and len(a) > 200):
            raise TypeError("job arguments are ids (int or short str) only")
    return list(args)


_arq_pool: Any = None
# The embedded default runs jobs in-process; tests flip this to exercise that runner with Redis set.
FORCE_IN_PROCESS = False
_local_tasks: set[asyncio.Task[Any]] = set()


async def _arq() -> Any:
    global _arq_pool
    if _arq_pool is None:
        from arq import create_pool

        from core.jobs.worker import redis_settings

        _arq_pool = await create_pool(redis_settings(), default_queue_name=get_settings().job_queue)
    return _arq_pool


async def close_runner() -> None:
    global _arq_pool
    if _arq_pool is not None:
        await _arq_pool.aclose()
        _arq_pool = None


async def drain_local(timeout: float = 30.0) -> None:
    """Wait for in-process jobs (tests, shutdown)."""
    if _local_tasks:
        await asyncio.wait(list(_local_tasks), timeout=timeout)


async def enqueue(tenant: TenantContext, name: str, *args: Any, key: str | None = None,
                  created_by: int | None = None, org_unit_id: int | None = None) -> int:
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    clean = _check_args(args)
    key = key or f"{name}:{':'.join(map(str, clean))}:{utcnow().timestamp()}"
    with tenant_scope(tenant):
        async with transaction():
            existing = await JobRecord.select(JobRecord.id, JobRecord.status).where(
                (JobRecord.tenant_id == tenant.id) & (JobRecord.job_key == key)).first()
            if existing:
                job_id = existing["id"]
                if existing["status"] in ("succeeded", "running", "queued"):
                    return job_id
            else:
                job_id = (await JobRecord.insert(JobRecord(tenant_id=tenant.id, job_key=key, name=name, args=clean,
                                                           created_by=created_by, org_unit_id=org_unit_id)).returning(JobRecord.id))[0]["id"]
    await dispatch(tenant.id, job_id)
    return job_id


async def dispatch(tenant_id: int, job_id: int) -> None:
    settings = get_settings()
    if settings.redis_url and not FORCE_IN_PROCESS:
        pool = await _arq()
        # arq's own job id dedupes a second delivery of the same record while it is queued; the
        # queue name keeps two deployments (or test runs) sharing a Redis apart.
        await pool.enqueue_job("run_job", tenant_id, job_id, _job_id=f"{settings.job_queue}:{tenant_id}:{job_id}")
    else:
        task = asyncio.create_task(execute(tenant_id, job_id))
        _local_tasks.add(task)
        task.add_done_callback(_local_tasks.discard)


async def execute(tenant_id: int, job_id: int) -> str:
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(id=tenant_id)
    if tenant is None:
        return "no-tenant"
    with tenant_scope(tenant):
        rec = await JobRecord.select().where((JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id)).first()
        if rec is None:
            return "missing"
        if rec["status"] == "succeeded":
            return "already-done"
        fn = REGISTRY.get(rec["name"])
        if fn is None:
            await _finish(tenant_id, job_id, "failed", errors=[{"code": "UNKNOWN_JOB", "message": rec["name"]}])
            return "unknown"
        attempt = rec["attempts"] + 1
        await JobRecord.update({JobRecord.status: "running", JobRecord.attempts: attempt,
                                JobRecord.updated_at: utcnow()}).where(JobRecord.id == job_id)
        args = rec["args"] if isinstance(rec["args"], list) else __import__("json").loads(rec["args"])
        try:
            result = await fn(JobContext(tenant, job_id, attempt), *args)
        except JobFailed as exc:
            await _finish(tenant_id, job_id, "failed", errors=[{"code": "JOB_FAILED", "message": str(exc)}])
            return "failed"
        except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for arq's retry
            log.exception("job crashed", extra={"job": rec["name"], "job_id": job_id})
            await _finish(tenant_id, job_id, "failed",
                          errors=[{"code": "INTERNAL", "message": f"{type(exc).__name__}; see server log"}])
            raise
        await _finish(tenant_id, job_id, "succeeded", result=result if isinstance(result, dict) else {"value": result})
        return "succeeded"


async def _finish(tenant_id: int, job_id: int, status: str, *, result: dict[str, Any] | None = None,
                  errors: list[dict[str, Any]] | None = None) -> None:
    values: dict[Any, Any] = {JobRecord.status: status, JobRecord.updated_at: utcnow()}
    if result is not None:
        values[JobRecord.result] = result
    if errors is not None:
        values[JobRecord.errors] = errors
    await JobRecord.update(values).where((JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id))


async def get_job(tenant: TenantContext, job_id: int) -> dict[str, Any] | None:
    return await JobRecord.select().where((JobRecord.tenant_id == tenant.id) & (JobRecord.id == job_id)).first()

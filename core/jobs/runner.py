"""One job function, two runners.

A job is an ``async def fn(ctx: JobContext, *ids)`` named with ``@job("name")`` and registered by
returning it from a plugin's ``register_jobs`` (core's domains do the same); :func:`install_jobs`
fills :data:`REGISTRY` from ``core.registry``, which namespaces and de-duplicates names. ``enqueue``
writes a JobRecord (or finds the existing one for the same deterministic key) and hands its id to
arq when REDIS_URL is set, or to an in-process asyncio task otherwise. Either way ``execute`` runs
it: it loads the tenant, scopes the task to it, claims the record for one run (a job that already
succeeded, or that another live run holds, is skipped: a retry or a duplicate delivery is harmless),
beats a heartbeat while the job runs, and records progress, result and errors in the database.
A run whose worker dies is marked interrupted and can be retried (core/jobs/heartbeat.py).
Arguments are ids only: personal data never rides in a queue payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import TenantContext, tenant_scope
from core.dbutil import transaction, utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.jobs import heartbeat
from core.jobs.tables import JobRecord
from core.settings import get_settings

log = logging.getLogger("huijia.jobs")

JobFn = Callable[..., Awaitable[Any]]
REGISTRY: dict[str, JobFn] = {}


class JobFailed(Exception):
    """Raise from a job for an expected failure: the message (no personal data) is recorded, with
    ``code`` (JOB_FAILED unless the job names its reason) and, for the UI, ``message_zh``."""

    def __init__(self, message: str, *, code: str = "JOB_FAILED", message_zh: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message_zh = message_zh


def job(name: str) -> Callable[[JobFn], JobFn]:
    """Name a job function. It runs once returned from ``register_jobs`` (a plugin's job is then
    registered as ``"<plugin>.<name>"``); the decorator itself registers nothing, so importing a
    module cannot silently replace another plugin's job."""

    def mark(fn: JobFn) -> JobFn:
        fn.job_name = name  # type: ignore[attr-defined]  # functions take attributes; read with getattr
        return fn

    return mark


def install_jobs() -> dict[str, JobFn]:
    """Fill REGISTRY from every plugin's ``register_jobs`` (idempotent)."""
    from core.registry import get_registry

    jobs = get_registry().jobs
    if jobs != REGISTRY:
        REGISTRY.clear()
        REGISTRY.update(jobs)
    return REGISTRY


@dataclass
class JobContext:
    tenant: TenantContext
    job_id: int
    attempt: int
    run_token: str = ""

    async def progress(self, done: int, total: int | None = None) -> None:
        now = utcnow()
        # Progress is a sign of life too; and only the run that holds the record may write it.
        values: dict[Any, Any] = {JobRecord.progress: done, JobRecord.updated_at: now, JobRecord.heartbeat_at: now}
        if total is not None:
            values[JobRecord.total] = total
        where = (JobRecord.tenant_id == self.tenant.id) & (JobRecord.id == self.job_id)
        if self.run_token:
            where = where & (JobRecord.run_token == self.run_token)
        await JobRecord.update(values).where(where)


def _check_args(args: tuple[Any, ...]) -> list[Any]:
    for a in args:
        if not isinstance(a, (int, str)) or (isinstance(a, str) and len(a) > 200):
            raise TypeError("job arguments are ids (int or short str) only")
    return list(args)


_arq_pool: Any = None
# The embedded default runs jobs in-process; jobs_in_process() does so with Redis set too.
_force_in_process = 0
_local_tasks: set[asyncio.Task[Any]] = set()


@contextlib.contextmanager
def jobs_in_process() -> Iterator[None]:
    """Run the jobs enqueued inside the block in this process, as the embedded default does, even
    when Redis is configured (tests of the in-process runner; ``drain_local`` waits for them).
    Blocks may nest."""
    global _force_in_process
    _force_in_process += 1
    try:
        yield
    finally:
        _force_in_process -= 1


async def _arq() -> Any:
    global _arq_pool
    if _arq_pool is None:
        from arq import create_pool

        _arq_pool = await create_pool(redis_settings(), default_queue_name=get_settings().job_queue)
    return _arq_pool


def redis_settings() -> Any:
    from arq.connections import RedisSettings

    return RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379")


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
    if not REGISTRY:
        install_jobs()
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    clean = _check_args(args)
    key = key or f"{name}:{':'.join(map(str, clean))}:{utcnow().timestamp()}"
    again = False
    with tenant_scope(tenant):
        async with transaction():
            existing = await JobRecord.select().where(
                (JobRecord.tenant_id == tenant.id) & (JobRecord.job_key == key)).first()
            if existing:
                existing = await heartbeat.settle(tenant.id, existing)  # a dead run is not "running"
                assert existing is not None
                job_id = existing["id"]
                if existing["status"] in ("succeeded", "running", "queued"):
                    return job_id
                again = True  # failed or interrupted: run the same record again
            else:
                job_id = (await JobRecord.insert(JobRecord(tenant_id=tenant.id, job_key=key, name=name, args=clean,
                                                           created_by=created_by, org_unit_id=org_unit_id)).returning(JobRecord.id))[0]["id"]
    await dispatch(tenant.id, job_id, again=again)
    return job_id


def _arq_job_id(tenant_id: int, job_id: int, again: bool) -> str:
    """arq's own job id: deterministic for the first delivery (a second enqueue of the same record
    while it is queued is dropped by arq), new for each retry. A retry must not reuse the first id:
    arq refuses an id whose result it still keeps, and a killed worker's in-progress key for it
    lives for ``job_timeout``. The queue name keeps two deployments (or test runs) sharing a Redis apart."""
    base = f"{get_settings().job_queue}:{tenant_id}:{job_id}"
    return f"{base}:retry-{uuid.uuid4().hex[:12]}" if again else base


async def dispatch(tenant_id: int, job_id: int, *, again: bool = False) -> None:
    settings = get_settings()
    if settings.redis_url and not _force_in_process:
        pool = await _arq()
        await pool.enqueue_job("run_job", tenant_id, job_id, _job_id=_arq_job_id(tenant_id, job_id, again))
    else:
        task = asyncio.create_task(execute(tenant_id, job_id))
        _local_tasks.add(task)
        task.add_done_callback(_local_done)


def _local_done(task: asyncio.Task[Any]) -> None:
    _local_tasks.discard(task)
    if not task.cancelled():
        task.exception()  # already logged and recorded by execute(); nobody else awaits an in-process run


async def execute(tenant_id: int, job_id: int, *, heartbeat_every: float | None = None,
                  stale_after: float | None = None) -> str:
    """Run one job record (both runners call this). ``heartbeat_every``/``stale_after`` default to
    the settings (HUIJIA_JOB_HEARTBEAT_SECONDS, HUIJIA_JOB_STALE_SECONDS)."""
    from core.tenancy.queries import get_current_tenant

    # Checked against the database, not only the cache: a job must see plugin settings edited
    # a moment ago, whichever process edited them.
    tenant = await get_current_tenant(tenant_id)
    if tenant is None:
        return "no-tenant"
    live = heartbeat.Liveness.from_settings(heartbeat_every, stale_after)
    with tenant_scope(tenant):
        rec = await JobRecord.select(JobRecord.name, JobRecord.status).where(
            (JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id)).first()
        if rec is None:
            return "missing"
        if rec["status"] == "succeeded":
            return "already-done"
        fn = (REGISTRY or install_jobs()).get(rec["name"])
        if fn is None:
            await _finish(tenant_id, job_id, "failed", errors=[{"code": "UNKNOWN_JOB", "message": rec["name"]}])
            return "unknown"
        claimed = await heartbeat.claim(tenant_id, job_id, stale_after=live.stale_after)
        if claimed is None:
            # Another run holds it (its heartbeat is fresh) or it succeeded meanwhile: one run at a time.
            return "already-done" if await _status(tenant_id, job_id) == "succeeded" else "already-running"
        token = claimed["run_token"]
        args = claimed["args"] if isinstance(claimed["args"], list) else json.loads(claimed["args"])
        me = asyncio.current_task()
        lost = False

        def stop_lost_run() -> None:
            nonlocal lost
            lost = True
            if me is not None:
                me.cancel()

        beating = asyncio.create_task(heartbeat.keep_alive(tenant_id, job_id, token, live.interval, stop_lost_run))
        try:
            result = await fn(JobContext(tenant, job_id, claimed["attempts"], token), *args)
        except JobFailed as exc:
            error = {"code": exc.code, "message": str(exc)}
            if exc.message_zh:
                error["messageZh"] = exc.message_zh
            await _finish(tenant_id, job_id, "failed", token=token, errors=[error])
            return "failed"
        except asyncio.CancelledError:
            if lost:
                # Declared dead and retried while it was stalled: the retry owns the record now.
                if me is not None:
                    me.uncancel()
                return "superseded"
            # Stopped from outside (worker shutdown, arq's job timeout, the app's drain): say so at
            # once rather than leave it to the sweeper; then let the cancellation through.
            try:
                await asyncio.shield(heartbeat.mark_interrupted(tenant_id, job_id, token))
            except Exception:
                log.warning("could not mark a cancelled job interrupted", extra={"job_id": job_id})
            raise
        except Exception as exc:
            log.exception("job crashed", extra={"job": rec["name"], "job_id": job_id})
            await _finish(tenant_id, job_id, "failed", token=token,
                          errors=[{"code": "INTERNAL", "message": f"{type(exc).__name__}; see server log"}])
            raise
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        if not await _finish(tenant_id, job_id, "succeeded", token=token,
                             result=result if isinstance(result, dict) else {"value": result}):
            return "superseded"  # declared dead and run again meanwhile: that run reports
        return "succeeded"


async def _status(tenant_id: int, job_id: int) -> str | None:
    row = await JobRecord.select(JobRecord.status).where(
        (JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id)).first()
    return row["status"] if row else None


async def _finish(tenant_id: int, job_id: int, status: str, *, token: str | None = None,
                  result: dict[str, Any] | None = None, errors: list[dict[str, Any]] | None = None) -> bool:
    values: dict[Any, Any] = {JobRecord.status: status, JobRecord.updated_at: utcnow()}
    if result is not None:
        values[JobRecord.result] = result
    if errors is not None:
        values[JobRecord.errors] = errors
    where = (JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id)
    if token is not None:
        # Only the run that holds the record ends it: a run declared dead must not overwrite its retry.
        where = where & (JobRecord.run_token == token)
    return bool(await JobRecord.update(values).where(where).returning(JobRecord.id))


async def get_job(tenant: TenantContext, job_id: int, *, now: dt.datetime | None = None,
                  stale_after: float | None = None) -> dict[str, Any] | None:
    """A job record as it stands; a running record whose heartbeat went stale is marked interrupted first."""
    row = await JobRecord.select().where((JobRecord.tenant_id == tenant.id) & (JobRecord.id == job_id)).first()
    return await heartbeat.settle(tenant.id, row, now=now, stale_after=stale_after)


RETRYABLE = ("interrupted", "failed")


async def jobs_by_ids(tenant: TenantContext, job_ids: Sequence[int]) -> list[dict[str, Any] | None]:
    """Many job records in one query (a page of imports showing their jobs), each checked on read
    like get_job (a stale running record is marked interrupted first)."""
    if not job_ids:
        return []
    rows = await JobRecord.select().where((JobRecord.tenant_id == tenant.id) & JobRecord.id.is_in(list(job_ids)))
    by_id = {r["id"]: r for r in rows}
    return [await heartbeat.settle(tenant.id, by_id.get(i)) for i in job_ids]


async def retry(tenant: TenantContext, job_id: int, *, now: dt.datetime | None = None,
                stale_after: float | None = None) -> dict[str, Any]:
    """Run an interrupted (or failed) job again; it continues from its own checkpoints. The record
    moves back to queued in one conditional UPDATE, so of two retries at once exactly one dispatches."""
    with tenant_scope(tenant):
        row = await get_job(tenant, job_id, now=now, stale_after=stale_after)
        if row is None:
            raise not_found("job")
        if row["status"] not in RETRYABLE:
            raise DomainError(ErrorCode.INVALID_STATE, _not_retryable(row["status"]), "id")
        moved = await JobRecord.update({JobRecord.status: "queued", JobRecord.errors: [],
                                        JobRecord.updated_at: now or utcnow()}).where(
            (JobRecord.tenant_id == tenant.id) & (JobRecord.id == job_id) & (JobRecord.status == row["status"])
            & (JobRecord.attempts == row["attempts"])
        ).returning(JobRecord.id)
        if not moved:
            raise DomainError(ErrorCode.INVALID_STATE, "the job was retried meanwhile: it is queued or running again", "id")
        try:
            await dispatch(tenant.id, job_id, again=True)
        except Exception:
            # Nothing will run it (the queue is unreachable): leave it retryable rather than QUEUED forever.
            await JobRecord.update({JobRecord.status: row["status"], JobRecord.errors: row["errors"]}).where(
                (JobRecord.tenant_id == tenant.id) & (JobRecord.id == job_id) & (JobRecord.status == "queued"))
            raise
        found = await get_job(tenant, job_id)
    assert found is not None
    return found


def _not_retryable(status: str) -> str:
    return {
        "queued": "the job is waiting for a worker: it will run, no retry needed",
        "running": "the job is running (its heartbeat is recent): wait for it to finish",
        "succeeded": "the job already succeeded",
    }.get(status, f"a job in status {status} cannot be retried")

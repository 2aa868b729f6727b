"""GraphQL for job status: the UI polls `job(id)` while a long operation runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from core.dbutil import written
from core.errors import DomainError, ErrorCode, not_found
from core.graphql.base import (
    BigInt,
    Info,
    JSONScalar,
    Node,
    UserError,
    for_query,
    from_global_id,
    json_loads_maybe,
    perm,
    run_mutation,
    to_global_id,
)
from core.jobs.runner import RETRYABLE, get_job
from core.scope import in_subtree, require_root
from core.tenancy.queries import units_by_ids


@strawberry.enum
class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The run stopped without finishing (its worker died: no heartbeat within the stale threshold,
    # or it was stopped by a shutdown). `jobRetry` runs it again from its last checkpoint.
    INTERRUPTED = "interrupted"


@strawberry.type(description="A long-running operation.")
class Job(Node):
    id: strawberry.ID
    name: str
    status: JobStatus
    progress: BigInt
    total: BigInt
    attempts: int
    result: JSONScalar
    errors: JSONScalar
    created_at: datetime
    updated_at: datetime
    heartbeat_at: datetime | None = strawberry.field(description="Last sign of life of the current run (null before it first ran).")
    retryable: bool = strawberry.field(description="INTERRUPTED or FAILED: `jobRetry` may run it again.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Job:
        return cls(id=strawberry.ID(to_global_id("Job", r["id"])), name=r["name"], status=JobStatus(r["status"]),
                   progress=r["progress"], total=r["total"], attempts=r["attempts"],
                   result=json_loads_maybe(r["result"]), errors=json_loads_maybe(r["errors"]),
                   created_at=r["created_at"], updated_at=r["updated_at"], heartbeat_at=r.get("heartbeat_at"),
                   retryable=r["status"] in RETRYABLE)


async def _job_unit_path(info: Info, row: dict[str, Any]) -> str | None:
    """The path of the org unit a job belongs to; ``None`` for a province-wide job (only root grants
    cover it). A unit that no longer exists is treated as province-wide."""
    if row.get("org_unit_id") is None:
        return None
    unit = await info.context.loader("org_unit_by_id", units_by_ids).load(row["org_unit_id"])
    return unit["path"] if unit is not None else None


async def resolve_job(info: Info, pk: int) -> Job | None:
    tenant, principal = info.context.authenticated()
    row = await get_job(tenant, pk)
    if row is None:
        return None
    # Its creator reads a job; other staff only when their job.read subtree covers the job's unit.
    if row["created_by"] != principal.user_id and not in_subtree(principal, "job.read", await _job_unit_path(info, row)):
        return None
    return Job.from_row(row)


def _is_admin_over(principal: Any, unit_path: str | None) -> bool:
    """A tenant_admin whose grant covers the job's unit (the province root for province-wide jobs)."""
    from core.permissions import Role

    return any(g.role == Role.TENANT_ADMIN and (g.org_unit_path.count("/") == 2 if unit_path is None
                                                  else unit_path.startswith(g.org_unit_path))
               for g in principal.grants)


@strawberry.type
class JobsQuery:
    @strawberry.field(description=perm("job.read", "A job's status and progress: readable by the user who started it, and by job.read holders whose subtree covers the job's org unit (the province root for province-wide jobs)."))
    @for_query
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        return await resolve_job(info, from_global_id(id, "Job")[1])


@strawberry.type
class JobPayload:
    job: Job | None = None
    errors: list[UserError]


@strawberry.type
class JobsMutation:
    @strawberry.mutation(description=perm("audit.read", "Granted at the province root. Start a background re-verification of the audit chain; poll `job(id)`."))
    async def audit_verify_start(self, info: Info) -> JobPayload:
        from core.jobs.runner import enqueue

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("audit.read")
            require_root(principal, "audit.read")  # the chain covers the whole province
            job_id = await enqueue(tenant, "audit.verify", created_by=principal.user_id)
            from core.audit.services import record

            await record(tenant, info.context.actor, "job.start", "Job", job_id, {"name": "audit.verify"})
            return {"job": Job.from_row(written(await get_job(tenant, job_id), "job"))}

        return await run_mutation(JobPayload, work)

    @strawberry.mutation(description=perm("job.read", "Run an INTERRUPTED (or FAILED) job again: it continues from its last checkpoint. Allowed to the user who started it and to a tenant_admin whose subtree covers the job's org unit (the province root for province-wide jobs). Of two retries at once, one runs the job; the other gets INVALID_STATE."))
    async def job_retry(self, info: Info, id: strawberry.ID) -> JobPayload:
        from core.jobs.runner import retry

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            pk = from_global_id(id, "Job")[1]
            row = await get_job(tenant, pk)
            path = await _job_unit_path(info, row) if row is not None else None
            if row is None or (row["created_by"] != principal.user_id and not in_subtree(principal, "job.read", path)):
                raise not_found("job")
            if not (_is_admin_over(principal, path) or (row["created_by"] == principal.user_id and principal.can("job.read"))):
                raise DomainError(ErrorCode.FORBIDDEN, "only the user who started this job or a tenant_admin over "
                                  "its org unit may retry it", "id")
            done = await retry(tenant, pk)
            from core.audit.services import record

            await record(tenant, info.context.actor, "job.retry", "Job", pk, {"name": row["name"],
                                                                            "attempts": row["attempts"]})
            return {"job": Job.from_row(done)}

        return await run_mutation(JobPayload, work)

"""GraphQL for job status: the UI polls `job(id)` while a long operation runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import strawberry

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
    progress: BigInt  # type: ignore[valid-type]
    total: BigInt  # type: ignore[valid-type]
    attempts: int
    result: JSONScalar  # type: ignore[valid-type]
    errors: JSONScalar  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime
    heartbeat_at: Optional[datetime] = strawberry.field(description="Last sign of life of the current run (null before it first ran).")
    retryable: bool = strawberry.field(description="INTERRUPTED or FAILED: `jobRetry` may run it again.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "Job":
        return cls(id=strawberry.ID(to_global_id("Job", r["id"])), name=r["name"], status=JobStatus(r["status"]),
                   progress=r["progress"], total=r["total"], attempts=r["attempts"],
                   result=json_loads_maybe(r["result"]), errors=json_loads_maybe(r["errors"]),
                   created_at=r["created_at"], updated_at=r["updated_at"], heartbeat_at=r.get("heartbeat_at"),
                   retryable=r["status"] in RETRYABLE)


async def resolve_job(info: Info, pk: int) -> Optional[Job]:
    tenant, principal = info.context.authenticated()
    row = await get_job(tenant, pk)
    if row is None:
        return None
    # Staff may read any job of their tenant; others only the jobs they started.
    if row["created_by"] != principal.user_id and not principal.can("job.read"):
        return None
    return Job.from_row(row)


def _is_root_admin(principal: Any) -> bool:
    """A tenant_admin granted at the province root (org unit paths are "/<root id>/"): jobs carry no
    org unit yet, so only an admin over the whole tenant is "over" every job."""
    from core.accounts.permissions import Role

    return any(g.role == Role.TENANT_ADMIN and g.org_unit_path.count("/") == 2 for g in principal.grants)


@strawberry.type
class JobsQuery:
    @strawberry.field(description=perm("job.read", "A job's status and progress (also readable by the user who started it)."))
    @for_query
    async def job(self, info: Info, id: strawberry.ID) -> Optional[Job]:
        return await resolve_job(info, from_global_id(id, "Job")[1])


@strawberry.type
class JobPayload:
    job: Optional[Job] = None
    errors: list[UserError]


@strawberry.type
class JobsMutation:
    @strawberry.mutation(description=perm("audit.read", "Start a background re-verification of the audit chain; poll `job(id)`."))
    async def audit_verify_start(self, info: Info) -> JobPayload:
        from core.jobs.runner import enqueue

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("audit.read")
            job_id = await enqueue(tenant, "audit.verify", created_by=principal.user_id)
            from core.audit.services import record

            await record(tenant, info.context.actor, "job.start", "Job", job_id, {"name": "audit.verify"})
            return {"job": Job.from_row(await get_job(tenant, job_id))}

        return await run_mutation(JobPayload, work)

    @strawberry.mutation(description=perm("job.read", "Run an INTERRUPTED (or FAILED) job again: it continues from its last checkpoint. Allowed to the user who started it and to a tenant_admin at the province root. Of two retries at once, one runs the job; the other gets INVALID_STATE."))
    async def job_retry(self, info: Info, id: strawberry.ID) -> JobPayload:
        from core.jobs.runner import retry

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            pk = from_global_id(id, "Job")[1]
            row = await get_job(tenant, pk)
            if row is None or (row["created_by"] != principal.user_id and not principal.can("job.read")):
                raise not_found("job")
            if not (_is_root_admin(principal) or (row["created_by"] == principal.user_id and principal.can("job.read"))):
                raise DomainError(ErrorCode.FORBIDDEN, "only the user who started this job or a tenant_admin at the "
                                  "province root may retry it", "id")
            done = await retry(tenant, pk)
            from core.audit.services import record

            await record(tenant, info.context.actor, "job.retry", "Job", pk, {"name": row["name"],
                                                                            "attempts": row["attempts"]})
            return {"job": Job.from_row(done)}

        return await run_mutation(JobPayload, work)

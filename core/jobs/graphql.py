"""GraphQL for job status: the UI polls `job(id)` while a long operation runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import strawberry

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
from core.jobs.runner import get_job


@strawberry.enum
class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


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

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "Job":
        return cls(id=strawberry.ID(to_global_id("Job", r["id"])), name=r["name"], status=JobStatus(r["status"]),
                   progress=r["progress"], total=r["total"], attempts=r["attempts"],
                   result=json_loads_maybe(r["result"]), errors=json_loads_maybe(r["errors"]),
                   created_at=r["created_at"], updated_at=r["updated_at"])


async def resolve_job(info: Info, pk: int) -> Optional[Job]:
    tenant, principal = info.context.authenticated()
    row = await get_job(tenant, pk)
    if row is None:
        return None
    # Staff may read any job of their tenant; others only the jobs they started.
    if row["created_by"] != principal.user_id and not principal.can("job.read"):
        return None
    return Job.from_row(row)


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

"""GraphQL for job status: the UI polls `job(id)` while a long operation runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import strawberry

from core.graphql.base import BigInt, Info, JSONScalar, Node, for_query, from_global_id, json_loads_maybe, perm, to_global_id
from core.jobs.runner import get_job
from core.accounts.scope import in_subtree
from core.tenancy.queries import units_by_ids


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
    # Its creator reads a job; other staff only when their job.read subtree covers the job's unit.
    if row["created_by"] != principal.user_id:
        path = None
        if row.get("org_unit_id") is not None:
            unit = await info.context.loader("org_unit_by_id", units_by_ids).load(row["org_unit_id"])
            if unit is None:
                return None
            path = unit["path"]
        if not in_subtree(principal, "job.read", path):
            return None
    return Job.from_row(row)


@strawberry.type
class JobsQuery:
    @strawberry.field(description=perm("job.read", "A job's status and progress: readable by the user who started it, and by job.read holders whose subtree covers the job's org unit (the province root for province-wide jobs)."))
    @for_query
    async def job(self, info: Info, id: strawberry.ID) -> Optional[Job]:
        return await resolve_job(info, from_global_id(id, "Job")[1])

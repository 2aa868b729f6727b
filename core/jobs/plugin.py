"""The jobs domain as a plugin: job records, `job(id)`, and core's own small jobs."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.jobs.piccolo_app"]


@hookimpl
def register_jobs() -> list[Any]:
    from core.jobs import builtin

    return [builtin.audit_verify_job, builtin.count_subtree_job]


@hookimpl
def register_cron() -> list[Any]:
    from core.jobs.heartbeat import cron_jobs

    return cron_jobs()


@hookimpl
def register_graphql() -> list[Any]:
    from core.interface import GraphQLContribution, NodeInfo
    from core.jobs.graphql import Job, JobsMutation, JobsQuery, resolve_job

    return [GraphQLContribution(query=[JobsQuery], mutation=[JobsMutation], types=[Job],
                                nodes=[NodeInfo("Job", resolve_job, "job_record")])]

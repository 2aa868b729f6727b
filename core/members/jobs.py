"""Member jobs. Arguments are ids only: the roster itself is in the encrypted store."""

from __future__ import annotations

from typing import Any

from core.jobs.runner import JobContext, JobFailed, job


@job("member.import.preview")
async def import_preview(ctx: JobContext, import_id: int) -> dict[str, Any]:
    """Dry run: validate every row of an uploaded roster and count what a commit would do."""
    from core.members.importer import run_preview

    result = await run_preview(ctx.tenant, import_id, progress=ctx.progress)
    if result.get("status") == "invalid":
        raise JobFailed(f"the file cannot be imported ({result.get('error')})")
    return result


@job("member.import.commit")
async def import_commit(ctx: JobContext, import_id: int) -> dict[str, Any]:
    """Write the roster in checkpointed batches; running it again resumes after the checkpoint."""
    from core.members.importer import run_commit

    result = await run_commit(ctx.tenant, import_id, progress=ctx.progress)
    if result.get("status") == "failed":
        raise JobFailed(f"the import stopped ({result.get('error', 'see the import record')})")
    return result


@job("member.export")
async def export(ctx: JobContext, export_id: int) -> dict[str, Any]:
    """Write filtered members to an (encrypted at rest) CSV or XLSX file."""
    from core.members.exporter import run_export

    return await run_export(ctx.tenant, export_id, progress=ctx.progress)


@job("members.purge")
async def purge(ctx: JobContext, *bucket: Any) -> dict[str, Any]:
    """Delete stored uploads and exports past their retention (rows kept, status "expired")."""
    from core.members.retention import purge_expired

    return await purge_expired(ctx.tenant)


async def cron_purge(ctx: dict[str, Any]) -> int:
    """Hourly: one purge job per tenant, keyed by the hour (two schedulers firing start one)."""
    import datetime as dt

    from core.jobs.runner import enqueue
    from core.tenancy.services import list_tenants

    hour = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H")
    n = 0
    for tenant in await list_tenants():
        await enqueue(tenant, "members.purge", hour, key=f"members.purge:{hour}")
        n += 1
    return n


def cron_jobs() -> list[Any]:
    """arq ``cron_jobs`` of the members domain (the embedded scheduler runs the same list)."""
    from arq import cron

    return [cron(cron_purge, name="members.cron.purge", minute=17, unique=True)]

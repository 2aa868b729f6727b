"""Core jobs."""

from __future__ import annotations

from typing import Any

from core.jobs.runner import JobContext, job


@job("audit.verify")
async def audit_verify_job(ctx: JobContext) -> dict[str, Any]:
    """Recheck the tenant's audit chain (also run on a schedule)."""
    from core.audit.services import verify_chain

    await ctx.progress(0, 1)
    result = await verify_chain(ctx.tenant)
    await ctx.progress(1, 1)
    return {"ok": result.ok, "checked": result.checked, "problems": result.problems[:50]}


@job("org.count_subtree")
async def count_subtree_job(ctx: JobContext, unit_id: int) -> dict[str, Any]:
    """Counts the units below one unit, in steps: a small job that exercises progress and retries."""
    from core.jobs.runner import JobFailed
    from core.tenancy.queries import UnitFilter, get_unit, list_units

    unit = await get_unit(ctx.tenant, unit_id)
    if unit is None:
        raise JobFailed("org unit not found")
    _, total = await list_units(ctx.tenant, UnitFilter(subtree_of_path=unit["path"]), limit=1)
    done = 0
    for level in ("city", "county", "grassroots", "industry"):
        _, n = await list_units(ctx.tenant, UnitFilter(subtree_of_path=unit["path"], level=level), limit=1)
        done += n or 0
        await ctx.progress(done, total)
    return {"units": total, "below": done}

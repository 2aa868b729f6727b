"""Ledger jobs: the yearly special-fund allocation, reservation expiry, chain linking and checks.

Cron (core/jobs/worker.py ``cron_jobs``) calls :func:`cron_tick`-style functions that enqueue one job
per tenant with a deterministic key, so two workers firing the same schedule start one job each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.jobs.runner import JobContext, JobFailed, job

SPECIAL_ALLOCATION = "funds.special_allocation"
EXPIRE_RESERVATIONS = "funds.expire_reservations"
CHAIN = "funds.chain"
VERIFY = "funds.verify"
PURGE_REPORT_FILES = "funds.purge_report_files"


def special_allocation_key(year: int) -> str:
    return f"{SPECIAL_ALLOCATION}:{year}"


@job(SPECIAL_ALLOCATION)
async def special_allocation_job(ctx: JobContext, year: int) -> dict[str, Any]:
    """Move the year's share of income into the hardship special fund, per org unit. Each run posts
    only what is still due per unit (see services.allocate_special_fund), so reruns are safe."""
    from core.errors import DomainError
    from core.funds.services import allocate_special_fund

    try:
        return await allocate_special_fund(ctx.tenant, int(year), progress=ctx.progress)
    except DomainError as exc:
        raise JobFailed(f"{exc.code.value}: {exc.message}") from None


@job(EXPIRE_RESERVATIONS)
async def expire_reservations_job(ctx: JobContext, *bucket: Any) -> dict[str, Any]:
    from core.funds.services import expire_reservations

    return {"expired": await expire_reservations(ctx.tenant)}


@job(CHAIN)
async def chain_job(ctx: JobContext, *bucket: Any) -> dict[str, Any]:
    """Link entries another process left queued (see core/funds/chain.py)."""
    from core.funds.chain import link_all

    return {"linked": await link_all(ctx.tenant)}


@job(VERIFY)
async def verify_job(ctx: JobContext, *bucket: Any) -> dict[str, Any]:
    from core.funds.chain import verify

    r = await verify(ctx.tenant)
    return {"ok": r.ok, "checked": r.checked, "pending": r.pending, "problems": r.problems[:50]}


async def _for_each_tenant(name: str, key: str, *args: Any) -> int:
    from core.jobs.runner import enqueue
    from core.tenancy.queries import list_tenants

    n = 0
    for tenant in await list_tenants():
        await enqueue(tenant, name, *args, key=key)
        n += 1
    return n


# arq cron entry points (ctx is arq's dict). Keys are deterministic per period.

async def cron_special_allocation(ctx: dict[str, Any]) -> int:
    """On January 1st: allocate the year that just ended."""
    year = dt.date.today().year - 1
    return await _for_each_tenant(SPECIAL_ALLOCATION, special_allocation_key(year), year)


async def cron_expire_reservations(ctx: dict[str, Any]) -> int:
    bucket = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M")
    return await _for_each_tenant(EXPIRE_RESERVATIONS, f"{EXPIRE_RESERVATIONS}:{bucket}", bucket)


async def cron_chain(ctx: dict[str, Any]) -> int:
    bucket = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M")
    return await _for_each_tenant(CHAIN, f"{CHAIN}:{bucket}", bucket)


async def cron_verify(ctx: dict[str, Any]) -> int:
    day = dt.date.today().isoformat()
    return await _for_each_tenant(VERIFY, f"{VERIFY}:{day}", day)


async def cron_purge_report_files(ctx: dict[str, Any]) -> int:
    hour = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H")
    return await _for_each_tenant(PURGE_REPORT_FILES, f"{PURGE_REPORT_FILES}:{hour}", hour)


def cron_jobs() -> list[Any]:
    """arq ``cron_jobs`` for the worker settings."""
    from arq import cron

    return [
        cron(cron_special_allocation, name="funds.cron.special_allocation", month=1, day=1, hour=2, minute=0,
             unique=True),
        cron(cron_expire_reservations, name="funds.cron.expire_reservations", minute=set(range(0, 60, 5)),
             unique=True),
        cron(cron_chain, name="funds.cron.chain", minute=None, second=30, unique=True),
        cron(cron_verify, name="funds.cron.verify", hour=3, minute=30, unique=True),
        cron(cron_purge_report_files, name="funds.cron.purge_report_files", minute=15, unique=True),
    ]


@job("funds.report_file")
async def report_file_job(ctx: JobContext, report: str, fmt: str, unit_id: int, date_from: str, date_to: str,
                          fund_id: int) -> dict[str, Any]:
    """Write a ledger report as CSV or XLSX into the encrypted store (downloaded by its creator)."""
    from core.funds.exports import run_report_file

    return await run_report_file(ctx.tenant, ctx.job_id, report, fmt, unit_id, date_from, date_to, fund_id)


@job(PURGE_REPORT_FILES)
async def purge_report_files_job(ctx: JobContext, *bucket: Any) -> dict[str, Any]:
    """Delete stored report files older than the export retention (their download answers 410)."""
    from core.funds.exports import purge_report_files
    from core.settings import get_settings

    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=get_settings().export_retention_hours)
    return {"purged": await purge_report_files(ctx.tenant, cutoff)}

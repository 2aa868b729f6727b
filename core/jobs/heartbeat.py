"""Job liveness: a heartbeat per run, detection of dead runs, and the claim that keeps a job to one run.

A killed worker (SIGKILL, OOM, a lost machine) cannot record that its job stopped, and arq itself
would notice only when its in-progress key expires (``job_timeout``, an hour). So every run writes
``heartbeat_at`` every ``HUIJIA_JOB_HEARTBEAT_SECONDS`` while it runs, and a ``running`` record whose
heartbeat is older than ``HUIJIA_JOB_STALE_SECONDS`` is a dead run: it is marked ``interrupted``

- by the sweeper (:func:`sweep`), a cron job every 15 seconds on the arq worker and in the embedded
  scheduler, and
- on read (:func:`settle`), so the API answers right away even when no worker is left to sweep.

An interrupted job is retried with ``jobRetry`` (:func:`core.jobs.runner.retry`): the job runs again
and continues from its own checkpoints (jobs are idempotent).

Each run claims the record with one conditional UPDATE that also sets a fresh ``run_token``; the
heartbeat, progress and the final status are written only while the token is still the run's. A
run that was declared dead but was only stalled (a paused VM) finds its token gone at its next beat
and stops itself instead of running beside the retry that replaced it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.dbutil import utcnow
from core.jobs.tables import JobRecord

log = logging.getLogger("huijia.jobs")

Clock = Callable[[], dt.datetime]

INTERRUPTED_CODE = "INTERRUPTED"


@dataclass(frozen=True)
class Liveness:
    """How often a run beats and how old a heartbeat may get before the run counts as dead."""

    interval: float
    stale_after: float

    @classmethod
    def from_settings(cls, interval: float | None = None, stale_after: float | None = None) -> Liveness:
        from core.settings import get_settings

        s = get_settings()
        return cls(float(s.job_heartbeat_seconds if interval is None else interval),
                   float(s.job_stale_seconds if stale_after is None else stale_after))


def new_token() -> str:
    return uuid.uuid4().hex


def _stale_condition(stale_before: dt.datetime) -> Any:
    """A running record whose heartbeat (or, for a run started before heartbeats existed, its last
    update) is older than ``stale_before``."""
    return (JobRecord.status == "running") & (
        (JobRecord.heartbeat_at < stale_before)
        | (JobRecord.heartbeat_at.is_null() & (JobRecord.updated_at < stale_before)))


def is_stale(row: dict[str, Any], *, now: dt.datetime | None = None, stale_after: float | None = None) -> bool:
    if row["status"] != "running":
        return False
    now = now or utcnow()
    stale_after = Liveness.from_settings(stale_after=stale_after).stale_after
    seen = row.get("heartbeat_at") or row["updated_at"]
    return (now - seen).total_seconds() > stale_after


def _interrupted_errors(stale_after: float) -> list[dict[str, Any]]:
    return [{"code": INTERRUPTED_CODE,
             "message": f"the run stopped without finishing (no heartbeat for more than {int(stale_after)} s, "
                        "its worker probably died): retry it to continue from its last checkpoint"}]


async def claim(tenant_id: int, job_id: int, *, now: dt.datetime | None = None,
                stale_after: float | None = None) -> dict[str, Any] | None:
    """Take the record for one run, atomically: from queued, failed or interrupted, or from a running
    record whose heartbeat is stale. Returns the claimed row (with the new ``run_token``), or None
    when another run holds it or it already succeeded. Two claims at once: the database serialises
    the two UPDATEs on the row, and the second sees the first's fresh heartbeat and matches nothing."""
    now = now or utcnow()
    live = Liveness.from_settings(stale_after=stale_after)
    stale_before = now - dt.timedelta(seconds=live.stale_after)
    token = new_token()
    rows = await JobRecord.update({
        JobRecord.status: "running", JobRecord.attempts: JobRecord.attempts + 1, JobRecord.run_token: token,
        JobRecord.heartbeat_at: now, JobRecord.updated_at: now,
    }).where(
        (JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id)
        & (JobRecord.status.is_in(["queued", "failed", "interrupted"]) | _stale_condition(stale_before))
    ).returning(JobRecord.id, JobRecord.name, JobRecord.args, JobRecord.attempts, JobRecord.run_token)
    return rows[0] if rows else None


async def beat(tenant_id: int, job_id: int, token: str, *, now: dt.datetime | None = None) -> bool:
    """One heartbeat. False when the record is no longer this run's (declared dead and retried,
    or finished by someone else): the run must stop."""
    rows = await JobRecord.update({JobRecord.heartbeat_at: now or utcnow()}).where(
        (JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id) & (JobRecord.run_token == token)
        & (JobRecord.status == "running")
    ).returning(JobRecord.id)
    return bool(rows)


async def keep_alive(tenant_id: int, job_id: int, token: str, interval: float, on_lost: Callable[[], Any],
                     clock: Clock = utcnow) -> None:
    """Beat every ``interval`` seconds until cancelled; call ``on_lost`` once if the run lost its record."""
    while True:
        await asyncio.sleep(interval)
        try:
            alive = await beat(tenant_id, job_id, token, now=clock())
        except Exception:
            log.warning("job heartbeat failed", exc_info=True, extra={"job_id": job_id})
            continue
        if not alive:
            log.warning("job run lost its record (declared dead and retried); stopping it", extra={"job_id": job_id})
            on_lost()
            return


async def mark_interrupted(tenant_id: int, job_id: int, token: str) -> bool:
    """A run that was stopped from inside (cancelled: worker shutdown, arq's timeout) records it
    at once instead of waiting for the sweeper."""
    rows = await JobRecord.update({
        JobRecord.status: "interrupted", JobRecord.updated_at: utcnow(),
        JobRecord.errors: [{"code": INTERRUPTED_CODE, "message": "the run was stopped before it finished (worker "
                            "shutdown or time limit): retry it to continue from its last checkpoint"}],
    }).where((JobRecord.tenant_id == tenant_id) & (JobRecord.id == job_id) & (JobRecord.run_token == token)
             & (JobRecord.status == "running")).returning(JobRecord.id)
    return bool(rows)


async def interrupt_stale(tenant_id: int, *, job_id: int | None = None, now: dt.datetime | None = None,
                          stale_after: float | None = None) -> list[int]:
    """Mark the tenant's dead runs (or the one job) interrupted; returns their ids. The WHERE clause
    re-checks staleness, so a run that beat in the meantime is left alone."""
    now = now or utcnow()
    live = Liveness.from_settings(stale_after=stale_after)
    where = (JobRecord.tenant_id == tenant_id) & _stale_condition(now - dt.timedelta(seconds=live.stale_after))
    if job_id is not None:
        where = where & (JobRecord.id == job_id)
    rows = await JobRecord.update({
        JobRecord.status: "interrupted", JobRecord.updated_at: now, JobRecord.errors: _interrupted_errors(live.stale_after),
    }).where(where).returning(JobRecord.id, JobRecord.name)
    for r in rows:
        log.warning("job run declared dead (stale heartbeat)", extra={"job_id": r["id"], "job": r["name"]})
    return [r["id"] for r in rows]


async def settle(tenant_id: int, row: dict[str, Any] | None, *, now: dt.datetime | None = None,
                 stale_after: float | None = None) -> dict[str, Any] | None:
    """The check on read: a running row with a stale heartbeat is marked interrupted before it is
    shown, so the API never reports a dead run as running."""
    if row is None or not is_stale(row, now=now, stale_after=stale_after):
        return row
    await interrupt_stale(tenant_id, job_id=row["id"], now=now, stale_after=stale_after)
    return await JobRecord.select().where((JobRecord.tenant_id == tenant_id) & (JobRecord.id == row["id"])).first()


async def sweep(*, now: dt.datetime | None = None, stale_after: float | None = None) -> int:
    """Mark every tenant's dead runs interrupted (each tenant under its own scope: row-level
    security hides other tenants' jobs)."""
    from core.context import tenant_scope
    from core.tenancy.queries import list_tenants

    n = 0
    for tenant in await list_tenants(include_platform=True):
        with tenant_scope(tenant):
            n += len(await interrupt_stale(tenant.id, now=now, stale_after=stale_after))
    return n


async def cron_sweep(ctx: dict[str, Any]) -> int:
    return await sweep()


def cron_jobs() -> list[Any]:
    """Every 15 seconds: a dead run is marked within stale threshold + 15 s (under a minute by default)."""
    from arq import cron

    return [cron(cron_sweep, name="jobs.cron.sweep", second={0, 15, 30, 45}, unique=True)]

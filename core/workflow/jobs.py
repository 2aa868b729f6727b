"""The cron job that runs every machine's timers, for every tenant enabling the machine's capability.

A timer's case steps in its own transaction and a refused step stays for the next run, so running
twice (two workers, a slow run overlapping the next) fires each due step once: the second finds
the case already moved and is refused as out of order.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("huijia.workflow")


async def run_timers_everywhere(now: Any = None) -> dict[str, int]:
    from core.context import tenant_scope
    from core.registry import get_registry
    from core.tenancy.services import list_tenants
    from core.workflow.services import run_due_timers

    machines = list(get_registry().workflows.values())
    totals = {"fired": 0, "refused": 0}
    if not machines:
        return totals
    for tenant in await list_tenants():
        if not any(m.capability in tenant.capabilities for m in machines):
            continue
        with tenant_scope(tenant):
            try:
                run = await run_due_timers(tenant, machines, now=now)
            except Exception:  # one tenant's failure must not starve the others
                log.exception("workflow timers failed", extra={"tenant": tenant.code})
                continue
        totals["fired"] += run.fired
        totals["refused"] += run.refused
    return totals


async def cron_timers(ctx: dict[str, Any]) -> dict[str, int]:
    return await run_timers_everywhere()


def cron_jobs() -> list[Any]:
    """Every ten minutes: a notice period or an SLA clock is acted on within ten minutes of its end."""
    from arq import cron

    return [cron(cron_timers, name="workflow.cron.timers", minute=set(range(0, 60, 10)), second=20, unique=True)]

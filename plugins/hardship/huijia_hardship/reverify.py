"""Dynamic management (动态管理) of the whole roll: re-verification reminders and the batch re-check.

- Reminders: a daily cron enqueues, per tenant enabling the capability, a job that records a
  reminder (``hardship_reminder``) for every archived household whose re-check falls due within
  ``reminder_lead_days``. Recorded and listed (``hardshipReminders``), not sent anywhere; one per
  archive and due date, so the cron running twice records nothing twice.
- Batch re-verification (``hardshipReverifyStart``, job ``hardship.reverify``): every archive due
  on the run's day is classified again with its stored figures and this year's rules (the
  ``hardship_classify`` / ``hardship_exclusions`` hooks), in id order and batches. Each batch is one
  transaction: one UPDATE of the batch's archives (category, classification, next due date), a
  history row for each archive whose classification changed, and the run's cursor; an interrupted
  run resumes after the last committed batch, and a batch another worker already took is skipped.
  The per-archive ``recheck`` mutation remains for a re-check with new figures.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec

from core.sdk import (
    SYSTEM,
    Actor,
    DomainError,
    ErrorCode,
    TenantContext,
    audit_record,
    capability_enabled,
    enqueue,
    hooks_for,
    job,
    list_tenants,
    on_postgres,
    pii_decrypt,
    raw,
    transaction,
    utcnow,
)
from huijia_hardship import services
from huijia_hardship.settings import NAME, for_tenant

REMIND_JOB = "hardship.reminders"
REVERIFY_JOB = "hardship.reverify"
BATCH = 1000

_DUE_SQL = ("FROM hardship_archive a JOIN workflow_case w ON w.tenant_id = a.tenant_id AND w.capability = 'hardship' "
            "AND w.case_type = 'archive' AND w.case_id = a.id AND w.state = 'archived' "
            "WHERE a.tenant_id = {} AND a.reverify_due_on <= {}")


# -- reminders -------------------------------------------------------------------------------------


async def record_reminders(tenant: TenantContext, today: dt.date | None = None) -> int:
    """Record a reminder for every archive due for re-check by ``today`` + the lead days; returns
    how many were new."""
    today = today or utcnow().date()
    horizon = today + dt.timedelta(days=for_tenant(tenant).reminder_lead_days)
    async with transaction():
        rows = await raw("INSERT INTO hardship_reminder (tenant_id, org_unit_id, archive_id, kind, due_on, created_at) "
                         f"SELECT a.tenant_id, a.org_unit_id, a.id, 'reverify', a.reverify_due_on, {{}} {_DUE_SQL} "
                         "ON CONFLICT (tenant_id, archive_id, kind, due_on) DO NOTHING RETURNING id",
                         utcnow(), tenant.id, horizon)
        if rows:
            await audit_record(tenant, SYSTEM, "hardship.reminders", "Tenant", tenant.id,
                               {"recorded": len(rows), "due_by": horizon.isoformat()})
    return len(rows)


@job("reminders")
async def reminders_job(ctx: Any) -> dict[str, int]:
    return {"recorded": await record_reminders(ctx.tenant)}


async def cron_reminders(ctx: dict[str, Any]) -> dict[str, int]:
    queued = 0
    today = utcnow().date().isoformat()
    for tenant in await list_tenants():
        if capability_enabled(tenant, NAME):
            await enqueue(tenant, REMIND_JOB, key=f"{REMIND_JOB}:{today}")
            queued += 1
    return {"tenants": queued}


def cron_jobs() -> list[Any]:
    from arq import cron

    return [cron(cron_reminders, name="hardship.cron.reminders", hour=2, minute=30, unique=True)]


# -- batch re-verification -------------------------------------------------------------------------


async def start_run(tenant: TenantContext, actor: Actor, as_of: dt.date | None = None) -> tuple[int, bool]:
    """The tenant's running re-verification, or a new one for the archives due by ``as_of``
    (default today): (run id, whether it is new). Enqueues the job either way (a resumed run
    continues from its cursor)."""
    async with transaction():
        running = await raw("SELECT id FROM hardship_reverify_run WHERE tenant_id = {} AND status = 'running' "
                            "ORDER BY id LIMIT 1", tenant.id)
        if running:
            run_id, new = int(running[0]["id"]), False
        else:
            rows = await raw("INSERT INTO hardship_reverify_run (tenant_id, as_of, status, cursor, done, changed, "
                             "started_by, started_at) VALUES ({}, {}, 'running', 0, 0, 0, {}, {}) RETURNING id",
                             tenant.id, as_of or utcnow().date(), actor.user_id, utcnow())
            run_id, new = int(rows[0]["id"]), True
            await audit_record(tenant, actor, "hardship.reverify.start", "HardshipReverifyRun", run_id,
                               {"as_of": (as_of or utcnow().date()).isoformat()})
    await enqueue(tenant, REVERIFY_JOB, run_id, key=f"{REVERIFY_JOB}:{run_id}:{utcnow().timestamp()}")
    return run_id, new


async def get_run(tenant: TenantContext, run_id: int) -> dict[str, Any] | None:
    rows = await raw("SELECT * FROM hardship_reverify_run WHERE tenant_id = {} AND id = {}", tenant.id, run_id)
    return rows[0] if rows else None


def _stored(c: Any) -> dict[str, Any]:
    return (msgspec.json.decode(c) if isinstance(c, str) else c) or {}


async def run_batch(tenant: TenantContext, run_id: int, batch: int = BATCH) -> bool:
    """Re-verify the next batch of the run; True when the run is finished."""
    from huijia_hardship.plugin import classify

    settings = for_tenant(tenant)
    now = utcnow()
    async with transaction():
        run = await get_run(tenant, run_id)
        if run is None or run["status"] != "running":
            return True
        cursor, as_of = int(run["cursor"]), run["as_of"]
        if isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        rows = await raw("SELECT a.id, a.household_id, a.area_code, a.household_size, a.migrant, a.finances_enc, "
                         f"a.classification {_DUE_SQL} AND a.id > {{}} AND w.case_id > {{}} ORDER BY a.id LIMIT {int(batch)}",
                         tenant.id, as_of, cursor, cursor)  # the case_id bound lets both index scans start there
        if not rows:
            await raw("UPDATE hardship_reverify_run SET status = 'finished', finished_at = {} WHERE tenant_id = {} "
                      "AND id = {} AND cursor = {}", now, tenant.id, run_id, cursor)
            await audit_record(tenant, SYSTEM, "hardship.reverify.finish", "HardshipReverifyRun", run_id,
                               {"done": int(run["done"]), "changed": int(run["changed"])})
            return True
        prior: dict[int, int] = {}
        if settings.prior_aid_counts_as_income:
            prior = await _prior_aid(tenant, [int(r["household_id"]) for r in rows])
        lines: dict[str, int | None] = {}
        updates: list[dict[str, Any]] = []
        history: list[tuple[int, Any, Any]] = []
        hooks = hooks_for(tenant)
        decode = msgspec.json.decode
        for r in rows:
            token = r["finances_enc"]
            fin = services.Finances.from_json(
                decode(pii_decrypt(token, services.TABLE, "finances", tenant.id)) if token else {})
            area = r["area_code"]
            if area not in lines:
                lines[area] = services.dibao_line(tenant, area, now.year)
            facts = services.facts_of(tenant, r, fin, now.year, prior.get(int(r["household_id"]), 0),
                                      dibao=lines[area])
            result = classify(tenant, facts, hooks)
            stored = {"category": result.category, "reasons": list(result.reasons),
                      "rule_version": result.rule_version, "excluded": result.excluded}
            updates.append({"id": int(r["id"]), "category": result.category, "c": stored})
            old = _stored(r["classification"])
            if {k: old.get(k) for k in stored} != stored:
                history.append((int(r["id"]), result, facts))
        due = services._add_months(now.date(), settings.reverify_months)
        await _write(tenant, updates, due, now)
        if history:  # one multi-row INSERT for the batch's changed classifications
            values, args = [], []
            for archive_id, result, facts in history:
                inputs = {"facts": {k: getattr(facts, k) for k in facts.__dataclass_fields__}}
                values.append("({}, {}, {}, {}, {}, {}, {}, NULL, {})")
                args += [tenant.id, archive_id, result.category, result.excluded,
                         json.dumps(list(result.reasons), ensure_ascii=False), result.rule_version,
                         services._enc(tenant, "classification_inputs", inputs), now]
            await raw("INSERT INTO hardship_classification (tenant_id, archive_id, category, excluded, reasons, "
                      f"rule_version, inputs_enc, actor_id, at) VALUES {', '.join(values)}", *args)
        moved = await raw("UPDATE hardship_reverify_run SET cursor = {}, done = done + {}, changed = changed + {} "
                          "WHERE tenant_id = {} AND id = {} AND cursor = {} RETURNING id", updates[-1]["id"],
                          len(updates), len(history), tenant.id, run_id, cursor)
        if not moved:  # another worker committed this batch first: undo ours
            raise _Taken()
    return False


class _Taken(Exception):
    pass


async def _write(tenant: TenantContext, updates: list[dict[str, Any]], due: dt.date, now: dt.datetime) -> None:
    if on_postgres():  # one statement and one parameter for the whole batch
        await raw("UPDATE hardship_archive a SET category = v.category, classification = v.c, classified_at = {}, "
                  "reverify_due_on = {}, updated_at = {} FROM jsonb_to_recordset({}::jsonb) AS v(id bigint, "
                  "category text, c jsonb) WHERE a.tenant_id = {} AND a.id = v.id", now, due, now,
                  msgspec.json.encode(updates).decode(), tenant.id)
        return
    for u in updates:
        await raw("UPDATE hardship_archive SET category = {}, classification = {}, classified_at = {}, "
                  "reverify_due_on = {}, updated_at = {} WHERE tenant_id = {} AND id = {}",
                  u["category"], json.dumps(u["c"], ensure_ascii=False), now, due, now, tenant.id, u["id"])


async def _prior_aid(tenant: TenantContext, household_ids: list[int]) -> dict[int, int]:
    ids = ", ".join(str(int(h)) for h in household_ids)
    rows = await raw("SELECT g.household_id AS h, coalesce(sum(g.amount_fen), 0) AS n FROM hardship_grant g "
                     "JOIN workflow_case w ON w.tenant_id = g.tenant_id AND w.capability = 'hardship' AND "
                     f"w.case_type = 'grant' AND w.case_id = g.id WHERE g.tenant_id = {{}} AND g.household_id IN ({ids}) "
                     "AND w.state = 'paid' AND w.state_since >= {} GROUP BY g.household_id",
                     tenant.id, utcnow() - dt.timedelta(days=365))
    return {int(r["h"]): int(r["n"]) for r in rows}


async def run(tenant: TenantContext, run_id: int, batch: int = BATCH, progress: Any = None) -> dict[str, Any]:
    """Walk the run to its end, batch by batch (resumable: each batch commits its cursor)."""
    while True:
        try:
            finished = await run_batch(tenant, run_id, batch)
        except _Taken:
            finished = False
        if finished:
            break
        if progress is not None:
            r = await get_run(tenant, run_id)
            if r is not None:
                await progress(int(r["done"]), None)
    r = await get_run(tenant, run_id)
    if r is None:
        raise DomainError(ErrorCode.NOT_FOUND, "re-verification run not found")
    return {"run": run_id, "done": int(r["done"]), "changed": int(r["changed"])}


@job("reverify")
async def reverify_job(ctx: Any, run_id: int) -> dict[str, Any]:
    return await run(ctx.tenant, int(run_id))

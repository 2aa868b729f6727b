"""Moving cases through their machines: open, step, read the timeline, run due timers.

Every step runs in one transaction that locks the case's state row first (``FOR UPDATE``; SQLite's
immediate transactions serialise writers anyway), then checks, in order: the transition exists,
the case is in one of its source states (else INVALID_TRANSITION), the actor's grant covers the
case's org unit (NOT_FOUND outside ``read_permission``, FORBIDDEN when only readable), reasons when
required, the caller's ``expected_version`` (CONFLICT on a stale page), and the guard. Then the
effect runs, the state moves (compare-and-set on the state it was read in), the step is appended to
the timeline and the audit chain records it. Two approvers racing on one case: the second waits
for the first's lock, then finds the case no longer in a source state and is refused.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.actor import SYSTEM, Actor
from core.context import TenantContext
from core.dbutil import as_utc, insert_rows, on_citus, on_postgres, raw, transaction, utcnow
from core.errors import DomainError, DomainErrors, ErrorCode
from core.permissions import Principal
from core.scope import in_subtree
from core.workflow.machine import Machine, Transition
from core.workflow.tables import WorkflowStep

MAX_REASONS = 20
MAX_REASON_CHARS = 500
_UNSET: Any = object()

_CASE = ("SELECT c.*, o.path AS unit_path FROM workflow_case c JOIN org_unit o ON o.id = c.org_unit_id "
         "AND o.tenant_id = c.tenant_id WHERE c.tenant_id = {} AND c.capability = {} AND c.case_type = {} "
         "AND c.case_id = {}")


@dataclass(frozen=True, slots=True)
class CaseState:
    """Where a case stands (what ``current`` and every step return)."""

    capability: str
    case_type: str
    case_id: int
    org_unit_id: int
    unit_path: str
    state: str
    state_since: dt.datetime
    due_at: dt.datetime | None
    version: int

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> CaseState:
        return cls(r["capability"], r["case_type"], int(r["case_id"]), int(r["org_unit_id"]), r["unit_path"],
                   r["state"], as_utc(r["state_since"]), as_utc(r["due_at"]) if r["due_at"] else None,
                   int(r["version"]))


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of a case's timeline."""

    seq: int
    transition: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    actor_name: str
    reasons: tuple[str, ...]
    payload: Mapping[str, Any]
    at: dt.datetime


@dataclass(slots=True)
class StepContext:
    """What a guard and an effect are given. An effect may set ``due_at`` (the case's own deadline,
    for timers without a fixed delay; ``None`` clears it) and add to ``payload`` (stored on the step)."""

    tenant: TenantContext
    machine: Machine
    transition: Transition
    case: CaseState
    actor: Actor
    principal: Principal | None
    reasons: tuple[str, ...]
    payload: dict[str, Any]
    now: dt.datetime
    due_at: Any = field(default=_UNSET)

    @property
    def by_system(self) -> bool:
        return self.principal is None


def _clean_reasons(reasons: Iterable[str]) -> tuple[str, ...]:
    out = tuple(r.strip() for r in reasons if r and r.strip())
    if len(out) > MAX_REASONS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_REASONS} reasons", "reasons",
                          f"理由最多{MAX_REASONS}条")
    if any(len(r) > MAX_REASON_CHARS for r in out):
        raise DomainError(ErrorCode.INVALID_INPUT, f"a reason is longer than {MAX_REASON_CHARS} characters", "reasons",
                          f"每条理由不超过{MAX_REASON_CHARS}字")
    return out


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _label(machine: Machine, state: str | None) -> str:
    return machine.labels_zh.get(state or "", state or "")


async def _load(tenant: TenantContext, machine: Machine, case_id: int, *, lock: bool) -> dict[str, Any] | None:
    sql = _CASE + (" FOR UPDATE OF c" if lock and on_postgres() else "")
    rows = await raw(sql, tenant.id, machine.capability, machine.case_type, case_id)
    return rows[0] if rows else None


async def _append(tenant: TenantContext, machine: Machine, case_id: int, seq: int, transition: str,
                  from_state: str | None, to_state: str, actor: Actor, reasons: Sequence[str],
                  payload: Mapping[str, Any], now: dt.datetime) -> None:
    from core.audit.services import record

    await WorkflowStep.insert(WorkflowStep(
        tenant_id=tenant.id, capability=machine.capability, case_type=machine.case_type, case_id=case_id, seq=seq,
        transition=transition, from_state=from_state, to_state=to_state, actor_id=actor.user_id,
        actor_name=actor.username[:150], reasons=list(reasons), payload=dict(payload), at=now))
    # Reasons are free text staff write and may name people: the timeline keeps them, the audit
    # chain records that the step happened and how many reasons it gave.
    await record(tenant, actor, f"{machine.name}.{transition}", machine.name, case_id,
                 {"from": from_state, "to": to_state, "seq": seq, "reasons": len(reasons)})


async def open_case(tenant: TenantContext, machine: Machine, case_id: int, org_unit_id: int, actor: Actor, *,
                    payload: Mapping[str, Any] | None = None, due_at: dt.datetime | None = None) -> CaseState:
    """Start ``case_id`` (the capability's own row id) in the machine's initial state, as step 1
    (``open``) of its timeline. The caller checks who may create the case, and calls this inside the
    transaction that writes its row, so both land or neither does. DUPLICATE when the case exists."""
    now = utcnow()
    async with transaction():
        if await _load(tenant, machine, case_id, lock=False) is not None:
            raise DomainError(ErrorCode.DUPLICATE, f"{machine.name} case {case_id} already exists", "id")
        await raw("INSERT INTO workflow_case (tenant_id, capability, case_type, case_id, org_unit_id, state, "
                  "state_since, due_at, version, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {})",
                  tenant.id, machine.capability, machine.case_type, case_id, org_unit_id, machine.initial, now, due_at,
                  now, now)
        await _append(tenant, machine, case_id, 1, "open", None, machine.initial, actor, (), payload or {}, now)
        row = await _load(tenant, machine, case_id, lock=False)
    if row is None:  # the unit is not the tenant's: the join found nothing
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId")
    return CaseState.from_row(row)


async def open_many(tenant: TenantContext, machine: Machine, cases: Sequence[tuple[int, int]], actor: Actor, *,
                    path: Sequence[str] = (), payload: Mapping[str, Any] | None = None, timeline: bool = True) -> None:
    """Start many cases at once, ``(case id, org unit id)`` each, as if each was opened and then taken
    along ``path`` (transition names, in order, by ``actor`` as the system). For a batch a job makes
    (automatic claims from a file): the caller has done the work of the path's guards and effects for
    the whole batch, which are NOT run here. Inside the caller's transaction: a few statements for the
    batch, the timeline steps all written, one audit record. DUPLICATE if a case exists already.

    ``timeline=False`` writes each case as its one state row, already at the path's end (version = the
    steps the path counts, so later steps number on from there), and no timeline steps: for a batch of
    100,000 the steps are most of the writing. The caller then keeps what the steps would say (who
    opened the cases and when: the capability's own row) and shows those steps itself; the batch's
    audit record names the path."""
    from core.audit.services import record

    state = machine.initial
    steps: list[tuple[str, str | None, str]] = [("open", None, machine.initial)]
    for name in path:
        t = machine.transition(name)
        if t is None or state not in t.sources:
            raise DomainError(ErrorCode.INVALID_TRANSITION, f"{machine.name}: {name} cannot follow {state}", "transition")
        steps.append((name, state, t.target))
        state = t.target
    if not cases:
        return
    now, body = utcnow(), dict(payload or {})
    ids, units = [c for c, _ in cases], [u for _, u in cases]
    async with transaction():
        if on_postgres():  # a join, not "= ANY": a lagging planner estimate would test each row against the list
            found = await raw("SELECT count(*) AS n FROM workflow_case c JOIN unnest({}::bigint[]) AS x(id) ON "
                              "c.case_id = x.id WHERE c.tenant_id = {} AND c.capability = {} AND c.case_type = {}",
                              ids, tenant.id, machine.capability, machine.case_type)
        else:
            found = await raw("SELECT count(*) AS n FROM workflow_case WHERE tenant_id = {} AND capability = {} AND "
                              "case_type = {} AND case_id = ANY({})", tenant.id, machine.capability, machine.case_type,
                              ids)
        if int(found[0]["n"]):
            raise DomainError(ErrorCode.DUPLICATE, f"{machine.name}: {found[0]['n']} of these cases exist already", "id")
        if on_citus():  # Citus runs INSERT ... SELECT FROM unnest by COPY, refused under row-level security
            await insert_rows("workflow_case", ("tenant_id", "capability", "case_type", "case_id", "org_unit_id",
                                                "state", "state_since", "version", "created_at", "updated_at"),
                              [(tenant.id, machine.capability, machine.case_type, c, u, state, now, len(steps), now,
                                now) for c, u in cases])
            for seq, (name, source, target) in enumerate(steps if timeline else [], start=1):
                await insert_rows("workflow_step", ("tenant_id", "capability", "case_type", "case_id", "seq",
                                                    "transition", "from_state", "to_state", "actor_id", "actor_name",
                                                    "reasons", "payload", "at"),
                                  [(tenant.id, machine.capability, machine.case_type, c, seq, name, source, target,
                                    actor.user_id, actor.username[:150], "[]", json.dumps(body), now) for c in ids])
        elif on_postgres():
            await raw("INSERT INTO workflow_case (tenant_id, capability, case_type, case_id, org_unit_id, state, "
                      "state_since, version, created_at, updated_at) SELECT {}, {}, {}, x.c, x.u, {}, {}, {}, {}, {} "
                      "FROM unnest({}::bigint[], {}::bigint[]) AS x(c, u)", tenant.id, machine.capability,
                      machine.case_type, state, now, len(steps), now, now, ids, units)
            for seq, (name, source, target) in enumerate(steps if timeline else [], start=1):
                await raw("INSERT INTO workflow_step (tenant_id, capability, case_type, case_id, seq, transition, "
                          "from_state, to_state, actor_id, actor_name, reasons, payload, at) SELECT {}, {}, {}, c, {}, {}, "
                          "{}, {}, {}, {}, '[]'::json, CAST({} AS json), {} FROM unnest({}::bigint[]) AS c", tenant.id, machine.capability,
                          machine.case_type, seq, name, source, target, actor.user_id, actor.username[:150],
                          json.dumps(body), now, ids)
        else:  # the embedded default: row by row
            for case_id, unit_id in cases:
                await raw("INSERT INTO workflow_case (tenant_id, capability, case_type, case_id, org_unit_id, state, "
                          "state_since, version, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                          tenant.id, machine.capability, machine.case_type, case_id, unit_id, state, now, len(steps),
                          now, now)
                for seq, (name, source, target) in enumerate(steps if timeline else [], start=1):
                    await WorkflowStep.insert(WorkflowStep(
                        tenant_id=tenant.id, capability=machine.capability, case_type=machine.case_type,
                        case_id=case_id, seq=seq, transition=name, from_state=source, to_state=target,
                        actor_id=actor.user_id, actor_name=actor.username[:150], reasons=[], payload=body, at=now))
        await record(tenant, actor, f"{machine.name}.open_many", machine.name, ids[0],
                     {"cases": len(ids), "path": list(path), "to": state, "timeline": timeline})


async def step(tenant: TenantContext, machine: Machine, case_id: int, transition: str, *, actor: Actor,
               principal: Principal | None, reasons: Iterable[str] = (), payload: Mapping[str, Any] | None = None,
               expected_version: int | None = None, now: dt.datetime | None = None) -> CaseState:
    """Take ``transition`` on a case. ``principal=None`` is the system (timers, jobs): it may take
    any transition, and only it may take one without a permission. Raises DomainError (nothing
    written) when the step is refused; see the module docstring for the order of checks."""
    t = machine.transition(transition)
    if t is None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{machine.name} has no transition {transition!r}", "transition")
    clean = _clean_reasons(reasons)
    now = now or utcnow()
    async with transaction():
        row = await _load(tenant, machine, case_id, lock=True)
        if row is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"{machine.name} case not found", "id")
        if principal is not None:
            # The case's unit, not "holds the permission somewhere"; someone who may neither read
            # the case nor take this step there learns nothing about it, not even its state.
            if not (in_subtree(principal, machine.read_permission, row["unit_path"])
                    or (t.permission is not None and in_subtree(principal, t.permission, row["unit_path"]))):
                raise DomainError(ErrorCode.NOT_FOUND, f"{machine.name} case not found", "id")
            if t.permission is None:
                raise DomainError(ErrorCode.FORBIDDEN, f"{transition} is taken by the system only")
        state = row["state"]
        if state not in t.sources:
            raise DomainError(ErrorCode.INVALID_TRANSITION, f"cannot {transition} from {state}", "transition",
                              f"当前状态为「{_label(machine, state)}」，不能{t.label_zh or transition}")
        if principal is not None and t.permission is not None and not in_subtree(principal, t.permission,
                                                                                  row["unit_path"]):
            raise DomainError(ErrorCode.FORBIDDEN, f"not allowed: {t.permission}")
        if t.reasons_required and not clean:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{transition} needs at least one reason", "reasons",
                              f"{t.label_zh or transition}须说明理由")
        if expected_version is not None and expected_version != row["version"]:
            raise DomainError(ErrorCode.CONFLICT, "the case changed since it was read; reload it", "expectedVersion",
                              "案件已被他人处理，请刷新后重试")
        case = CaseState.from_row(row)
        ctx = StepContext(tenant, machine, t, case, actor, principal, clean, dict(payload or {}), now)
        if t.guard is not None:
            refusals = list(await _maybe_await(t.guard(ctx)) or [])
            if refusals:
                errors = [r if isinstance(r, DomainError) else
                          DomainError(ErrorCode.NOT_ELIGIBLE, str(r), None, str(r)) for r in refusals]
                raise errors[0] if len(errors) == 1 else DomainErrors(errors)
        if t.effect is not None:
            await _maybe_await(t.effect(ctx))
        moved = t.target != state
        due_at = case.due_at if ctx.due_at is _UNSET else ctx.due_at
        seq = case.version + 1
        updated = await raw(
            "UPDATE workflow_case SET state = {}, state_since = {}, due_at = {}, version = {}, updated_at = {} "
            "WHERE tenant_id = {} AND id = {} AND state = {} AND version = {} RETURNING id",
            t.target, now if moved else case.state_since, due_at, seq, now, tenant.id, row["id"], state, case.version)
        if not updated:  # only reachable without the row lock: someone stepped in between
            raise DomainError(ErrorCode.CONFLICT, "the case changed since it was read; reload it", "expectedVersion",
                              "案件已被他人处理，请刷新后重试")
        await _append(tenant, machine, case_id, seq, transition, state, t.target, actor, clean, ctx.payload, now)
        row = await _load(tenant, machine, case_id, lock=False)
    assert row is not None
    return CaseState.from_row(row)


async def current(tenant: TenantContext, machine: Machine, case_id: int) -> CaseState | None:
    """The case's state (the caller checks who may read it; ``unit_path`` is there for that)."""
    row = await _load(tenant, machine, case_id, lock=False)
    return CaseState.from_row(row) if row else None


async def current_many(tenant: TenantContext, machine: Machine, case_ids: Sequence[int]) -> dict[int, CaseState]:
    """States of several cases in one query (for lists and dataloaders)."""
    if not case_ids:
        return {}
    ids = [int(i) for i in case_ids]
    base = _CASE.replace("AND c.case_id = {}", "")
    if on_postgres():
        rows = await raw(base + " AND c.case_id = ANY({}::bigint[])", tenant.id, machine.capability, machine.case_type, ids)
    else:
        rows = await raw(base + f" AND c.case_id IN ({', '.join(map(str, ids))})", tenant.id, machine.capability,
                         machine.case_type)
    return {int(r["case_id"]): CaseState.from_row(r) for r in rows}


async def timeline(tenant: TenantContext, machine: Machine, case_id: int) -> list[Step]:
    """The case's steps, oldest first (the caller checks who may read the case)."""
    return (await timeline_many(tenant, machine, [case_id])).get(int(case_id), [])


async def timeline_many(tenant: TenantContext, machine: Machine, case_ids: Sequence[int]) -> dict[int, list[Step]]:
    """The steps of several cases in one query, each oldest first (for lists and dataloaders); a case
    without steps is missing from the result."""
    if not case_ids:
        return {}
    ids = ", ".join(str(int(i)) for i in case_ids)  # integers only: safe to inline, and one plan on both backends
    rows = await raw("SELECT * FROM workflow_step WHERE tenant_id = {} AND capability = {} AND case_type = {} "
                     f"AND case_id IN ({ids}) ORDER BY case_id, seq", tenant.id, machine.capability, machine.case_type)
    out: dict[int, list[Step]] = {}
    for r in rows:
        reasons, payload = r["reasons"], r["payload"]
        if isinstance(reasons, str):  # JSON comes back as text from raw SQL
            import json

            reasons, payload = json.loads(reasons), json.loads(payload)
        out.setdefault(int(r["case_id"]), []).append(
            Step(int(r["seq"]), r["transition"], r["from_state"], r["to_state"], r["actor_id"], r["actor_name"],
                 tuple(reasons), payload, as_utc(r["at"])))
    return out


def allowed_transitions(machine: Machine, state: str, principal: Principal, unit_path: str) -> list[Transition]:
    """The transitions this user may take on a case in ``state`` at ``unit_path`` (what the UI offers;
    guards are still checked when the step is taken)."""
    return [t for t in machine.outgoing(state)
            if t.permission is not None and in_subtree(principal, t.permission, unit_path)]


@dataclass
class TimerRun:
    fired: int = 0
    refused: int = 0


async def run_due_timers(tenant: TenantContext, machines: Iterable[Machine], *, now: dt.datetime | None = None,
                         limit: int = 1000) -> TimerRun:
    """Fire every due timer of ``machines`` for ``tenant`` (machines of capabilities the tenant does
    not enable are skipped). Each case steps in its own transaction; a refused step (its guard, or
    another step got there first) leaves the case for the next run."""
    now = now or utcnow()
    run = TimerRun()
    for machine in machines:
        if machine.capability not in tenant.capabilities:
            continue
        for timer in machine.timers:
            delay = timer.delay(tenant)
            if delay is None:
                cond, arg = "due_at <= {}", now
            else:
                cond, arg = "state_since <= {}", now - delay
            rows = await raw(f"SELECT case_id FROM workflow_case WHERE tenant_id = {{}} AND capability = {{}} "
                             f"AND case_type = {{}} AND state = {{}} AND {cond} ORDER BY id LIMIT {{}}",
                             tenant.id, machine.capability, machine.case_type, timer.state, arg, limit)
            for r in rows:
                try:
                    await step(tenant, machine, int(r["case_id"]), timer.transition, actor=SYSTEM, principal=None,
                               payload={"timer": timer.name}, now=now)
                    run.fired += 1
                except DomainError:
                    run.refused += 1
    return run

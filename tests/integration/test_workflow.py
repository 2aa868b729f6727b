"""The shared case state machine, through its service API against PostgreSQL with RLS.

Two machines of different shapes: a mutual-aid style claim (entered → checked → approved | rejected
→ paid), driven by people, declared here; and the test capability's notice (tests/capability_dummy/
workflow.py), driven by timers: a notice period with objections and a per-case deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import pytest

from core.actor import SYSTEM, Actor
from core.context import tenant_scope
from core.dbutil import raw
from core.errors import DomainError, DomainErrors, ErrorCode
from core.interface import Role
from core.permissions import Grant, Principal
from core.testing import create_plugin_tenant
from core.workflow import (
    Machine,
    Transition,
    allowed_transitions,
    current,
    current_many,
    open_case,
    run_due_timers,
    step,
    timeline,
)
from tests.capability_dummy.workflow import NOTICE

LIMIT_FEN = 500_000


def amount_within_limit(ctx: Any) -> list[Any]:
    amount = int(ctx.payload.get("amount_fen", 0))
    if amount > LIMIT_FEN:
        return [DomainError(ErrorCode.NOT_ELIGIBLE, f"amount {amount} is over the limit {LIMIT_FEN}", "amountFen")]
    return []


async def record_payment(ctx: Any) -> None:
    """The effect writes a row of the capability's own, in the step's transaction."""
    from tests.capability_dummy.tables import TestcapItem

    if ctx.payload.get("explode"):
        await TestcapItem.insert(TestcapItem(tenant_id=ctx.tenant.id, org_unit_id=ctx.case.org_unit_id,
                                             title=f"paid {ctx.case.case_id}", amount_fen=1))
        raise DomainError(ErrorCode.INSUFFICIENT_FUNDS, "the fund cannot pay", "amountFen")
    ctx.payload["paid_by"] = ctx.actor.username


CLAIM = Machine(
    capability="testcap",
    case_type="claim",
    states=("entered", "checked", "approved", "rejected", "paid"),
    initial="entered",
    final=("rejected", "paid"),
    read_permission="testcap.read",
    transitions=(
        Transition("check", ("entered",), "checked", permission="testcap.write", label_zh="审核"),
        Transition("approve", ("checked",), "approved", permission="testcap.approve", guard=amount_within_limit,
                   label_zh="审批"),
        Transition("reject", ("entered", "checked"), "rejected", permission="testcap.approve", reasons_required=True,
                   label_zh="驳回"),
        Transition("pay", ("approved",), "paid", permission="testcap.write", effect=record_payment, label_zh="支付"),
        Transition("expire", ("entered",), "rejected", label_zh="超期"),
    ),
    labels_zh={"entered": "已录入", "checked": "已审核", "approved": "已审批", "rejected": "已驳回", "paid": "已支付"},
)

_ids = itertools.count(1)


class Place:
    def __init__(self, tenant: Any, units: dict[str, dict[str, Any]]) -> None:
        self.tenant = tenant
        self.units = units

    def who(self, role: Role, unit: str = "root") -> tuple[Actor, Principal]:
        uid = 800_000 + next(_ids)
        u = self.units[unit]
        name = f"{role.value}@{unit}"
        return Actor(uid, name), Principal(uid, name, self.tenant.id, (Grant(role, u["id"], u["path"]),))


async def _place(tmp_path_factory) -> Place:
    from core.tenancy.services import get_unit_by_code

    made = await create_plugin_tenant(["testcap"], tmp_path_factory.mktemp("wf"))
    tenant = await made.context()
    with tenant_scope(tenant):
        units = {"root": await get_unit_by_code(tenant, made.root_unit),
                 "district": await get_unit_by_code(tenant, made.district_unit),
                 "g1": await get_unit_by_code(tenant, made.grassroots_unit)}
    return Place(tenant, units)


@pytest.fixture(scope="module")
async def place(app, tmp_path_factory) -> Place:
    return await _place(tmp_path_factory)


@pytest.fixture(scope="module")
async def elsewhere(app, tmp_path_factory) -> Place:
    return await _place(tmp_path_factory)


async def new_claim(place: Place, unit: str = "root", machine: Machine = CLAIM, **kw: Any) -> int:
    case_id = 10_000 + next(_ids)
    clerk, _ = place.who(Role.CLERK, unit)
    with tenant_scope(place.tenant):
        state = await open_case(place.tenant, machine, case_id, place.units[unit]["id"], clerk, **kw)
    assert state.state == machine.initial and state.version == 1
    return case_id


async def go(place: Place, case_id: int, transition: str, who: tuple[Actor, Principal] | None, *,
             machine: Machine = CLAIM, **kw: Any):
    actor, principal = who if who else (SYSTEM, None)
    with tenant_scope(place.tenant):
        return await step(place.tenant, machine, case_id, transition, actor=actor, principal=principal, **kw)


async def refused(coro) -> DomainError:
    with pytest.raises(DomainError) as err:
        await coro
    return err.value


async def steps_of(place: Place, case_id: int, machine: Machine = CLAIM):
    with tenant_scope(place.tenant):
        return await timeline(place.tenant, machine, case_id)


async def test_a_claim_goes_from_entry_to_payment_on_its_timeline(place):
    case = await new_claim(place)
    await go(place, case, "check", place.who(Role.CLERK))
    await go(place, case, "approve", place.who(Role.APPROVER), payload={"amount_fen": 120_000})
    paid = await go(place, case, "pay", place.who(Role.CLERK))
    assert paid.state == "paid" and paid.version == 4
    steps = await steps_of(place, case)
    assert [(s.seq, s.transition, s.from_state, s.to_state) for s in steps] == [
        (1, "open", None, "entered"), (2, "check", "entered", "checked"), (3, "approve", "checked", "approved"),
        (4, "pay", "approved", "paid")]
    assert steps[2].payload == {"amount_fen": 120_000} and steps[2].actor_name == "approver@root"
    assert steps[3].payload == {"paid_by": "clerk@root"}  # what the effect added
    with tenant_scope(place.tenant):
        audit = await raw("SELECT action, changes FROM audit_record WHERE tenant_id = {} AND target_type = {} "
                          "AND target_id = {} ORDER BY seq", place.tenant.id, "testcap.claim", str(case))
        from core.audit.services import verify_chain

        assert (await verify_chain(place.tenant)).ok
    assert [a["action"] for a in audit] == ["testcap.claim.open", "testcap.claim.check", "testcap.claim.approve",
                                            "testcap.claim.pay"]


async def test_a_step_out_of_order_is_refused_and_writes_nothing(place):
    case = await new_claim(place)
    err = await refused(go(place, case, "pay", place.who(Role.CLERK)))
    assert err.code is ErrorCode.INVALID_TRANSITION and err.message == "cannot pay from entered"
    assert err.message_zh == "当前状态为「已录入」，不能支付"
    await go(place, case, "check", place.who(Role.CLERK))
    err = await refused(go(place, case, "check", place.who(Role.CLERK)))
    assert err.message == "cannot check from checked"
    assert [s.transition for s in await steps_of(place, case)] == ["open", "check"]
    err = await refused(go(place, case, "teleport", place.who(Role.CLERK)))
    assert err.code is ErrorCode.INVALID_INPUT and err.field == "transition"


async def test_a_rejection_states_its_reasons(place):
    case = await new_claim(place)
    approver = place.who(Role.APPROVER)
    for empty in ([], ["  ", ""]):
        err = await refused(go(place, case, "reject", approver, reasons=empty))
        assert err.code is ErrorCode.INVALID_INPUT and err.field == "reasons"
    rejected = await go(place, case, "reject", approver, reasons=["材料不全", " 收入超标 "])
    assert rejected.state == "rejected"
    assert (await steps_of(place, case))[-1].reasons == ("材料不全", "收入超标")
    err = await refused(go(place, case, "check", place.who(Role.CLERK)))
    assert err.code is ErrorCode.INVALID_TRANSITION  # a final state has no way out


async def test_the_actor_needs_the_transitions_permission_on_the_cases_unit(place):
    case = await new_claim(place, "root")
    await go(place, case, "check", place.who(Role.CLERK))
    # A clerk reads the case but may not approve it.
    err = await refused(go(place, case, "approve", place.who(Role.CLERK)))
    assert err.code is ErrorCode.FORBIDDEN
    # A district approver: the root's case is outside the subtree, so it does not exist for them.
    err = await refused(go(place, case, "approve", place.who(Role.APPROVER, "district")))
    assert err.code is ErrorCode.NOT_FOUND
    # An auditor at the root reads it, and still may not check or approve it.
    assert (await refused(go(place, case, "approve", place.who(Role.AUDITOR)))).code is ErrorCode.FORBIDDEN
    # A grassroots case is inside the district's subtree.
    low = await new_claim(place, "g1")
    await go(place, low, "check", place.who(Role.CLERK, "district"))
    assert (await go(place, low, "approve", place.who(Role.APPROVER, "district"))).state == "approved"
    assert (await steps_of(place, case))[-1].transition == "check"


async def test_a_system_transition_is_refused_to_people_and_taken_by_the_system(place):
    case = await new_claim(place)
    err = await refused(go(place, case, "expire", place.who(Role.TENANT_ADMIN)))
    assert err.code is ErrorCode.FORBIDDEN
    assert (await go(place, case, "expire", None)).state == "rejected"
    last = (await steps_of(place, case))[-1]
    assert (last.actor_id, last.actor_name) == (None, "system")


async def test_a_guard_refuses_with_its_reasons_and_an_effect_that_fails_leaves_nothing(place):
    from tests.capability_dummy.tables import TestcapItem

    case = await new_claim(place)
    await go(place, case, "check", place.who(Role.CLERK))
    err = await refused(go(place, case, "approve", place.who(Role.APPROVER), payload={"amount_fen": LIMIT_FEN + 1}))
    assert err.code is ErrorCode.NOT_ELIGIBLE and err.field == "amountFen"
    await go(place, case, "approve", place.who(Role.APPROVER), payload={"amount_fen": LIMIT_FEN})
    err = await refused(go(place, case, "pay", place.who(Role.CLERK), payload={"explode": True}))
    assert err.code is ErrorCode.INSUFFICIENT_FUNDS
    with tenant_scope(place.tenant):
        assert await TestcapItem.count().where(TestcapItem.title == f"paid {case}") == 0
        assert (await current(place.tenant, CLAIM, case)).state == "approved"
    assert [s.transition for s in await steps_of(place, case)] == ["open", "check", "approve"]


async def test_several_guard_reasons_come_back_together(place):
    both = Machine(capability="testcap", case_type="pair", states=("a", "b"), initial="a", final=("b",),
                   read_permission="testcap.read",
                   transitions=(Transition("go", ("a",), "b", permission="testcap.write",
                                           guard=lambda ctx: ["没有授权书", "没有入户照片"]),))
    case = await new_claim(place, machine=both)
    err = await refused(go(place, case, "go", place.who(Role.CLERK), machine=both))
    assert isinstance(err, DomainErrors) and [e.message_zh for e in err.errors] == ["没有授权书", "没有入户照片"]
    assert {e.code for e in err.errors} == {ErrorCode.NOT_ELIGIBLE}


async def test_two_approvers_racing_on_one_case_exactly_one_wins(place):
    cases = [await new_claim(place) for _ in range(5)]
    for case in cases:
        await go(place, case, "check", place.who(Role.CLERK))

    async def attempt(case: int, transition: str, **kw: Any) -> str:
        try:
            await go(place, case, transition, place.who(Role.APPROVER), **kw)
            return "won"
        except DomainError as err:
            return err.code.value

    for case in cases:
        # One approves while another rejects: one step lands, the other finds the case moved on.
        outcomes = await asyncio.gather(attempt(case, "approve"), attempt(case, "reject", reasons=["重复"]),
                                        attempt(case, "approve"))
        assert sorted(outcomes).count("won") == 1, outcomes
        assert set(outcomes) - {"won"} == {"INVALID_TRANSITION"}
        steps = await steps_of(place, case)
        assert [s.seq for s in steps] == [1, 2, 3]


async def test_a_step_on_a_stale_page_is_a_conflict(place):
    case = await new_claim(place)
    await go(place, case, "check", place.who(Role.CLERK), expected_version=1)
    err = await refused(go(place, case, "reject", place.who(Role.APPROVER), reasons=["x"], expected_version=1))
    assert err.code is ErrorCode.CONFLICT
    assert (await go(place, case, "reject", place.who(Role.APPROVER), reasons=["x"], expected_version=2)).version == 3


async def test_another_tenants_case_does_not_exist_and_its_rows_stay_hidden(place, elsewhere):
    case = await new_claim(place)
    # Stepping with the other tenant's context: the tenant filter and RLS both hide the case.
    err = await refused(go(elsewhere, case, "check", elsewhere.who(Role.TENANT_ADMIN)))
    assert err.code is ErrorCode.NOT_FOUND
    with tenant_scope(elsewhere.tenant):
        # No app-level filter: RLS alone keeps the other province's rows out.
        assert await raw("SELECT 1 FROM workflow_case WHERE case_id = {}", case) == []
        assert await raw("SELECT 1 FROM workflow_step WHERE case_id = {}", case) == []
        assert await timeline(elsewhere.tenant, CLAIM, case) == []
    assert [s.transition for s in await steps_of(place, case)] == ["open"]


async def test_opening_a_case_twice_is_a_duplicate(place):
    case = await new_claim(place)
    err = await refused(_open_again(place, case))
    assert err.code is ErrorCode.DUPLICATE


async def _open_again(place: Place, case: int) -> None:
    with tenant_scope(place.tenant):
        await open_case(place.tenant, CLAIM, case, place.units["root"]["id"], place.who(Role.CLERK)[0])


async def test_the_timeline_cannot_be_rewritten(place):
    # The app role may only insert (privilege); behind it a trigger refuses even the owner.
    case = await new_claim(place)
    with tenant_scope(place.tenant):
        with pytest.raises(Exception, match="append-only|permission denied"):
            await raw("UPDATE workflow_step SET to_state = 'paid' WHERE tenant_id = {} AND case_id = {}",
                      place.tenant.id, case)
        with pytest.raises(Exception, match="append-only|permission denied"):
            await raw("DELETE FROM workflow_step WHERE tenant_id = {} AND case_id = {}", place.tenant.id, case)


async def test_allowed_transitions_are_what_the_role_may_take_here(place):
    case = await new_claim(place, "g1")
    await go(place, case, "check", place.who(Role.CLERK))
    with tenant_scope(place.tenant):
        states = await current_many(place.tenant, CLAIM, [case, 999_999_999])
    state = states[case]
    assert list(states) == [case]
    approver = place.who(Role.APPROVER, "district")[1]
    assert [t.name for t in allowed_transitions(CLAIM, state.state, approver, state.unit_path)] == ["approve", "reject"]
    assert allowed_transitions(CLAIM, state.state, place.who(Role.CLERK)[1], state.unit_path) == []
    # "expire" belongs to the system and is never offered.
    assert [t.name for t in allowed_transitions(CLAIM, "entered", place.who(Role.APPROVER)[1], state.unit_path)] == \
        ["reject"]


# -- the time-driven machine -------------------------------------------------------------------------


async def test_a_notice_becomes_ready_when_its_period_ends_without_an_open_objection(place):
    case = await new_claim(place, machine=NOTICE)
    clerk = place.who(Role.CLERK)
    published = await go(place, case, "publish", clerk, machine=NOTICE)
    start = published.state_since
    assert (await refused(go(place, case, "resolve", clerk, machine=NOTICE, reasons=["无"]))).code \
        is ErrorCode.NOT_ELIGIBLE  # nothing to resolve yet
    await go(place, case, "object", clerk, machine=NOTICE, reasons=["邻居反映有经营收入"])
    with tenant_scope(place.tenant):
        # Recording an objection keeps the case in its notice: the clock keeps running.
        assert (await current(place.tenant, NOTICE, case)).state_since == start
        early = await run_due_timers(place.tenant, [NOTICE], now=start + dt.timedelta(days=6))
        assert (await current(place.tenant, NOTICE, case)).state == "notice"
        late = await run_due_timers(place.tenant, [NOTICE], now=start + dt.timedelta(days=8))
        assert (await current(place.tenant, NOTICE, case)).state == "notice"  # the objection is still open
    assert early.refused == 0 and late.refused >= 1
    await go(place, case, "resolve", clerk, machine=NOTICE, reasons=["核实为亲属临时帮工，不属经营收入"])
    with tenant_scope(place.tenant):
        await run_due_timers(place.tenant, [NOTICE], now=start + dt.timedelta(days=8))
        ready = await current(place.tenant, NOTICE, case)
    assert ready.state == "ready"
    last = (await steps_of(place, case, NOTICE))[-1]
    assert (last.transition, last.actor_name, last.payload) == ("notice_ended", "system", {"timer": "notice_period"})
    assert (await go(place, case, "approve", place.who(Role.APPROVER), machine=NOTICE)).state == "approved"


async def test_a_case_lapses_when_its_own_deadline_passes(place):
    deadline = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    case = await new_claim(place, machine=NOTICE, due_at=deadline)
    other = await new_claim(place, machine=NOTICE)  # no deadline: never lapses
    with tenant_scope(place.tenant):
        await run_due_timers(place.tenant, [NOTICE], now=deadline - dt.timedelta(seconds=1))
        assert (await current(place.tenant, NOTICE, case)).state == "draft"
        await run_due_timers(place.tenant, [NOTICE], now=deadline)
        assert (await current(place.tenant, NOTICE, case)).state == "lapsed"
        assert (await current(place.tenant, NOTICE, other)).state == "draft"


async def test_the_hosts_cron_runs_the_timers_of_enabled_capabilities_only(place):
    from core.registry import get_registry
    from core.workflow.jobs import run_timers_everywhere

    assert get_registry().workflows["testcap.notice"] is NOTICE
    case = await new_claim(place, machine=NOTICE, due_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    totals = await run_timers_everywhere(now=dt.datetime(2031, 1, 2, tzinfo=dt.UTC))
    assert totals["fired"] >= 1
    with tenant_scope(place.tenant):
        assert (await current(place.tenant, NOTICE, case)).state == "lapsed"
    # Timers of a capability the tenant does not enable are not run for it.
    from core.tenancy.services import get_tenant

    shanghai = await get_tenant(code="shanghai")
    with tenant_scope(shanghai):
        run = await run_due_timers(shanghai, [NOTICE], now=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    assert (run.fired, run.refused) == (0, 0)


async def test_a_batch_of_cases_opens_along_a_path_with_every_step_on_its_timeline(place, elsewhere):
    from core.workflow.services import open_many

    ids = [50_000 + next(_ids) for _ in range(3)]
    units = [(i, place.units["g1"]["id"]) for i in ids]
    with tenant_scope(place.tenant):
        bad = await refused(open_many(place.tenant, CLAIM, units, SYSTEM, path=("approve",)))
        assert bad.code is ErrorCode.INVALID_TRANSITION
        await open_many(place.tenant, CLAIM, units, SYSTEM, path=("check", "approve"), payload={"file": 7})
        states = await current_many(place.tenant, CLAIM, ids)
        again = await refused(open_many(place.tenant, CLAIM, units[:1], SYSTEM))
    assert {s.state for s in states.values()} == {"approved"} and {s.version for s in states.values()} == {3}
    assert again.code is ErrorCode.DUPLICATE
    steps = await steps_of(place, ids[0])
    assert [(s.transition, s.from_state, s.to_state) for s in steps] == [
        ("open", None, "entered"), ("check", "entered", "checked"), ("approve", "checked", "approved")]
    assert steps[2].payload == {"file": 7}
    # an opened case moves on like any other
    paid = await go(place, ids[0], "pay", place.who(Role.CLERK, "g1"))
    assert paid.state == "paid" and paid.version == 4
    with tenant_scope(elsewhere.tenant):
        assert await current_many(elsewhere.tenant, CLAIM, ids) == {}


async def test_a_batch_opened_without_its_timeline_is_one_row_in_its_final_state(place):
    from core.workflow.services import open_many

    ids = [60_000 + next(_ids) for _ in range(2)]
    with tenant_scope(place.tenant):
        await open_many(place.tenant, CLAIM, [(i, place.units["g1"]["id"]) for i in ids], SYSTEM,
                        path=("check", "approve"), timeline=False)
        states = await current_many(place.tenant, CLAIM, ids)
    assert {(s.state, s.version) for s in states.values()} == {("approved", 3)}
    assert await steps_of(place, ids[0]) == []
    # its later steps number on after the path it skipped
    paid = await go(place, ids[0], "pay", place.who(Role.CLERK, "g1"))
    assert (paid.state, paid.version) == ("paid", 4)
    assert [(s.seq, s.transition) for s in await steps_of(place, ids[0])] == [(4, "pay")]

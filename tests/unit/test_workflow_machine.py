"""Case machine definitions are checked when they are built: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from core.workflow.machine import Machine, MachineError, Timer, Transition


def claim(**overrides):
    """A mutual-aid claim: entered → checked → approved | rejected → paid."""
    spec = dict(
        capability="mutual_aid", case_type="claim",
        states=("entered", "checked", "approved", "rejected", "paid"),
        initial="entered", final=("rejected", "paid"), read_permission="org.read",
        transitions=(
            Transition("check", ("entered",), "checked", permission="member.write"),
            Transition("approve", ("checked",), "approved", permission="ledger.approve"),
            Transition("reject", ("entered", "checked"), "rejected", permission="ledger.approve",
                       reasons_required=True),
            Transition("pay", ("approved",), "paid", permission="ledger.post"),
        ),
    )
    spec.update(overrides)
    return Machine(**spec)


def test_a_consistent_machine_builds_and_answers_its_graph():
    m = claim()
    assert m.name == "mutual_aid.claim"
    assert [t.name for t in m.outgoing("checked")] == ["approve", "reject"]
    assert m.transition("pay").target == "paid"
    assert m.transition("nope") is None


def test_a_bare_string_source_is_one_source():
    assert Transition("go", "a", "b").sources == ("a",)


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"initial": "nowhere"}, "initial state 'nowhere' is not a state"),
    ({"final": ("paid", "closed")}, "final state 'closed' is not a state"),
    ({"states": ("entered", "checked", "approved", "rejected", "paid", "paid")}, "duplicate states"),
    ({"case_type": "理赔"}, "case_type '理赔' must be an ASCII identifier"),
])
def test_bad_states_are_refused(overrides, problem):
    with pytest.raises(MachineError, match=problem):
        claim(**overrides)


def test_a_transition_naming_an_unknown_state_is_refused():
    with pytest.raises(MachineError) as err:
        claim(transitions=(*claim().transitions, Transition("reopen", ("closed",), "entered"),
                           Transition("escalate", ("checked",), "escalated")))
    assert "transition 'reopen': unknown state 'closed'" in str(err.value)
    assert "transition 'escalate': unknown state 'escalated'" in str(err.value)


def test_an_unreachable_state_is_refused():
    with pytest.raises(MachineError, match="state 'archived' is unreachable from 'entered'"):
        claim(states=(*claim().states, "archived"), final=("rejected", "paid", "archived"))


def test_a_state_without_a_way_out_must_be_final():
    with pytest.raises(MachineError, match="state 'paid' is not final and has no transition out"):
        claim(final=("rejected",))


def test_a_final_state_has_no_way_out():
    with pytest.raises(MachineError, match="transition 'undo' leaves a final state"):
        claim(transitions=(*claim().transitions, Transition("undo", ("paid",), "approved")))


def test_a_transition_defined_twice_is_refused():
    with pytest.raises(MachineError, match="transition 'check' is defined twice"):
        claim(transitions=(*claim().transitions, Transition("check", ("checked",), "approved")))


def test_timers_must_name_a_transition_out_of_their_state():
    with pytest.raises(MachineError) as err:
        claim(timers=(Timer("late", "entered", "approve", after=dt.timedelta(days=1)),
                      Timer("ghost", "limbo", "check"), Timer("lost", "entered", "vanish")))
    text = str(err.value)
    assert "timer 'late': transition 'approve' does not leave 'entered'" in text
    assert "timer 'ghost': unknown state 'limbo'" in text
    assert "timer 'lost': unknown transition 'vanish'" in text


def test_every_problem_is_reported_at_once():
    with pytest.raises(MachineError) as err:
        claim(initial="nowhere", final=("closed",))
    assert "initial state" in str(err.value) and "final state 'closed'" in str(err.value)


def test_a_timer_delay_may_come_from_the_tenants_settings():
    fixed = Timer("t", "entered", "check", after=dt.timedelta(hours=4))
    from_settings = Timer("t", "entered", "check", after=lambda tenant: dt.timedelta(days=tenant))
    deadline = Timer("t", "entered", "check")
    assert fixed.delay(None) == dt.timedelta(hours=4)
    assert from_settings.delay(3) == dt.timedelta(days=3)
    assert deadline.delay(None) is None

"""Case state machines, declared once: states, transitions, timers. Pure definitions, no I/O.

A machine is checked when it is built, so a typo in a capability's definition stops start-up rather
than stranding a case in a state nothing leads out of: every state named by a transition or timer
must exist, every state must be reachable from the initial one, and every state that is not final
must have a way out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A guard returns the reasons a transition is refused (empty: allowed): strings, or DomainErrors when
# the refusal needs its own code and field. It may be sync or async; it runs inside the transaction,
# after the case row is locked, so what it reads cannot change before the step is written.
# (The argument is a core.workflow.services.StepContext; named loosely to keep this module a leaf.)
Guard = Callable[[Any], "list[Any] | Awaitable[list[Any]]"]
# An effect does the transition's work (write the capability's rows, reserve money ...) inside the
# same transaction as the step: if it raises, neither the step nor the effect's writes remain.
Effect = Callable[[Any], "Awaitable[None] | None"]
# How long a case may sit in a state before a timer fires: fixed, or from the tenant's settings.
Delay = dt.timedelta | Callable[[Any], dt.timedelta]


class MachineError(ValueError):
    """A machine definition is inconsistent (raised when it is built)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One step a case can take.

    ``permission`` is an action from the permissions table; the actor's grant must cover the case's
    org unit. ``None`` means only the system (a timer, a job) may take it. ``reasons_required``
    makes the step refuse an empty list of reasons (every rejection states why).
    """

    name: str
    sources: tuple[str, ...]
    target: str
    permission: str | None = None
    guard: Guard | None = None
    effect: Effect | None = None
    reasons_required: bool = False
    label_zh: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.sources, str):  # a single source given as a bare string
            object.__setattr__(self, "sources", (self.sources,))


@dataclass(frozen=True, slots=True)
class Timer:
    """Fire ``transition`` (as the system) for cases that have stayed in ``state`` for ``after``, or,
    with ``after=None``, whose own deadline (``due_at``, set when the case starts or by an effect)
    has passed. A guard that refuses leaves the case where it is; the next run tries again, so a
    notice period with an open objection moves on once the objection is resolved."""

    name: str
    state: str
    transition: str
    after: Delay | None = None

    def delay(self, tenant: Any) -> dt.timedelta | None:
        if self.after is None or isinstance(self.after, dt.timedelta):
            return self.after
        return self.after(tenant)


@dataclass(frozen=True, slots=True)
class Machine:
    """A declarative case workflow. ``capability`` and ``case_type`` name it (``hardship.archive``)
    and, with the case id, make the case reference stored on every timeline step.

    ``read_permission`` decides whether a case exists for a caller at all (NOT_FOUND outside it);
    a transition's own permission decides whether they may take it (FORBIDDEN when readable only).
    """

    capability: str
    case_type: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    read_permission: str
    final: tuple[str, ...] = ()
    timers: tuple[Timer, ...] = ()
    labels_zh: Mapping[str, str] = field(default_factory=dict)
    _by_name: dict[str, Transition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = definition_problems(self)
        if problems:
            raise MachineError(f"workflow {self.name!r}: " + "; ".join(problems))
        object.__setattr__(self, "_by_name", {t.name: t for t in self.transitions})

    @property
    def name(self) -> str:
        return f"{self.capability}.{self.case_type}"

    def transition(self, name: str) -> Transition | None:
        return self._by_name.get(name)

    def outgoing(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]


def _ident(value: str) -> bool:
    return bool(value) and value.replace("_", "a").isalnum() and value.isascii()


def definition_problems(m: Machine) -> list[str]:
    """Everything wrong with a definition, all at once."""
    problems: list[str] = []
    for label, value in (("capability", m.capability), ("case_type", m.case_type)):
        if not _ident(value):
            problems.append(f"{label} {value!r} must be an ASCII identifier")
    states = set(m.states)
    if len(states) != len(m.states):
        problems.append("duplicate states")
    if not m.states:
        problems.append("no states")
    if m.initial not in states:
        problems.append(f"initial state {m.initial!r} is not a state")
    problems += [f"final state {s!r} is not a state" for s in m.final if s not in states]
    names = [t.name for t in m.transitions]
    problems += [f"transition {n!r} is defined twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for t in m.transitions:
        if not _ident(t.name):
            problems.append(f"transition name {t.name!r} must be an ASCII identifier")
        if not t.sources:
            problems.append(f"transition {t.name!r} has no source state")
        problems += [f"transition {t.name!r}: unknown state {s!r}" for s in t.sources if s not in states]
        if t.target not in states:
            problems.append(f"transition {t.name!r}: unknown state {t.target!r}")
        if any(s in m.final for s in t.sources):
            problems.append(f"transition {t.name!r} leaves a final state")
    by_name = {t.name: t for t in m.transitions}
    timer_names = [tm.name for tm in m.timers]
    problems += [f"timer {n!r} is defined twice" for n in sorted({n for n in timer_names if timer_names.count(n) > 1})]
    for tm in m.timers:
        if tm.state not in states:
            problems.append(f"timer {tm.name!r}: unknown state {tm.state!r}")
        fired = by_name.get(tm.transition)
        if fired is None:
            problems.append(f"timer {tm.name!r}: unknown transition {tm.transition!r}")
        elif tm.state not in fired.sources:
            problems.append(f"timer {tm.name!r}: transition {tm.transition!r} does not leave {tm.state!r}")
    if problems:  # reachability means little on a broken graph
        return problems
    reached = {m.initial}
    frontier = [m.initial]
    while frontier:
        state = frontier.pop()
        for t in m.transitions:
            if state in t.sources and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    problems += [f"state {s!r} is unreachable from {m.initial!r}" for s in m.states if s not in reached]
    problems += [f"state {s!r} is not final and has no transition out" for s in m.states
                 if s not in m.final and not any(s in t.sources for t in m.transitions)]
    return problems

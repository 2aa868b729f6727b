"""Case workflows shared by the capabilities: a declarative state machine, a timeline, timers.

A capability declares each kind of case once (:class:`Machine`: states, :class:`Transition` s with
permission, guard and effect, :class:`Timer` s) and lists its machines in
``CapabilityInfo(workflows=...)``. Its services then call :func:`open_case` when a case is created
and :func:`step` for every move; the machine refuses steps out of order (INVALID_TRANSITION),
outside the actor's subtree, without required reasons, or refused by a guard, serialises
concurrent steps on one case, appends every step to the case's timeline and the audit chain, and
the host's cron job fires due timers. Plugins reach all of it through ``core.sdk``.
"""

from core.workflow.machine import Machine, MachineError, Timer, Transition, definition_problems
from core.workflow.services import (
    CaseState,
    Step,
    StepContext,
    TimerRun,
    allowed_transitions,
    current,
    current_many,
    open_case,
    run_due_timers,
    step,
    timeline,
)

__all__ = [
    "CaseState",
    "Machine",
    "MachineError",
    "Step",
    "StepContext",
    "Timer",
    "TimerRun",
    "Transition",
    "allowed_transitions",
    "current",
    "current_many",
    "definition_problems",
    "open_case",
    "run_due_timers",
    "step",
    "timeline",
]

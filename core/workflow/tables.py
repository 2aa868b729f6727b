"""A case's current state, and its timeline of steps (append-only)."""

from piccolo.columns import JSON, BigInt, BigSerial, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import OrgUnit, Tenant


class WorkflowCase(Table, tablename="workflow_case"):
    """Where one case of a capability stands. The capability keeps its own row (an archive, a claim)
    under ``case_id``; this row is the single source of its state, so timers and the step lock work
    the same for every capability."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    capability = Varchar(length=40)
    case_type = Varchar(length=40)
    case_id = BigInt()
    # The subtree rule is decided on this unit.
    org_unit_id = ForeignKey(OrgUnit, null=False, index=True, on_delete=OnDelete.restrict)
    state = Varchar(length=40)
    # When the case entered its current state (a step that stays in the state leaves it alone).
    state_since = Timestamptz(default=TimestamptzNow())
    # The case's own deadline, for timers declared without a fixed delay (a call closing on a date).
    due_at = Timestamptz(null=True, default=None)
    # Steps taken so far; the newest step's seq. Callers may pass it back to refuse acting on a stale page.
    version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WorkflowStep(Table, tablename="workflow_step"):
    """One step of a case's timeline. Never updated or deleted (a trigger refuses it)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    capability = Varchar(length=40)
    case_type = Varchar(length=40)
    case_id = BigInt()
    seq = Integer()
    transition = Varchar(length=60)
    from_state = Varchar(length=40, null=True, default=None)  # null for the step that opens the case
    to_state = Varchar(length=40)
    actor_id = BigInt(null=True, default=None)  # null: the system (a timer)
    actor_name = Varchar(length=150, default="")
    reasons = JSON(default=[])
    # What the step recorded (an amount, a decision number): ids and figures, never personal data.
    payload = JSON(default={})
    at = Timestamptz(default=TimestamptzNow())

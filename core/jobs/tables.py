"""Job records: status and progress of long operations, kept in the database for the UI to poll."""

from piccolo.columns import JSON, BigInt, BigSerial, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import Tenant


class JobRecord(Table, tablename="job_record"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    # Deterministic key (e.g. "special-fund:2026"): enqueuing the same key twice finds the first job.
    job_key = Varchar(length=200)
    name = Varchar(length=100)
    args = JSON(default=[])  # ids only, never personal data
    status = Varchar(length=16, default="queued")  # queued | running | succeeded | failed | interrupted
    progress = BigInt(default=0)
    total = BigInt(default=0)
    attempts = Integer(default=0)
    result = JSON(default={})
    errors = JSON(default=[])
    created_by = BigInt(null=True, default=None)
    # Liveness of the current run (core/jobs/heartbeat.py): the runner stamps heartbeat_at every few
    # seconds while it runs; run_token names the run that claimed the record, so a run that was
    # declared dead and then wakes up cannot overwrite the record of the retry that replaced it.
    heartbeat_at = Timestamptz(null=True, default=None)
    run_token = Varchar(length=32, default="")
    # Besides its creator, job.read holders whose subtree covers this unit read the job; null means
    # the whole province (only a root grant covers it).
    org_unit_id = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())

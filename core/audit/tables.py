"""The append-only, per-tenant hash-chained audit log.

The tenant foreign keys name ``core.tenancy.tables.Tenant`` lazily: tenancy records its changes in
this log, so the audit package sits below tenancy and must not import it. The constraint in the
database is the same (the migrations declare it).
"""

from piccolo.columns import JSON, BigInt, BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

_TENANT = LazyTableReference("Tenant", module_path="core.tenancy.tables")


class AuditRecord(Table, tablename="audit_record"):
    id = BigSerial(primary_key=True)
    tenant_id: ForeignKey[Table] = ForeignKey(_TENANT, null=False, index=True, on_delete=OnDelete.restrict)
    seq = BigInt()  # 1, 2, 3 … per tenant; a gap means a deleted row
    actor_id = BigInt(null=True, default=None)
    actor_name = Varchar(length=64, default="")
    action = Varchar(length=64)
    target_type = Varchar(length=64, default="")
    target_id = Varchar(length=64, default="")
    changes = JSON(default={})
    request_id = Varchar(length=64, default="")
    at = Timestamptz(default=TimestamptzNow())
    prev_hash = Varchar(length=64, default="")
    hash = Varchar(length=64)


class ChainHead(Table, tablename="chain_head"):
    """Where each of a tenant's hash chains ends (chain "audit" or "ledger"), written in the same
    transaction, under the same lock, as every append. Verify compares it with the last record, so
    deleting the newest records (or all of them) no longer leaves a shorter chain that looks whole.
    A trigger lets the head only move forward (see core/migration_sql.py)."""

    id = BigSerial(primary_key=True)
    tenant_id: ForeignKey[Table] = ForeignKey(_TENANT, null=False, index=False, on_delete=OnDelete.restrict)
    chain = Varchar(length=16)
    seq = BigInt()
    hash = Varchar(length=64)
    updated_at = Timestamptz(default=TimestamptzNow())

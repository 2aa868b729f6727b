"""Worker accounts, one-time binding codes and online join applications. All tenant-owned.

Personal values (ID number, phone) are stored only as AES-GCM tokens plus keyed blind indexes, as
for members (``core.members.personal``), and re-keyed by the same rotation (``core.members.keys``
lists these columns). ``member_id`` is unique per tenant (the fence migration), so a member has at
most one account; the phone's blind index is unique too, because it is the login name.
"""

from piccolo.columns import (
    BigInt,
    BigSerial,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.tenancy.tables import OrgUnit, Tenant


class WorkerAccount(Table, tablename="worker_account"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    user_id = ForeignKey(User, null=False, index=False, on_delete=OnDelete.restrict)
    member_id = BigInt(null=True, default=None)
    name = Varchar(length=50)
    id_number_enc = Varchar(length=200)
    id_number_bidx = Bytea()
    phone_enc = Varchar(length=200)
    phone_bidx = Bytea()
    bound_at = Timestamptz(null=True, default=None)
    bound_by = Varchar(length=16, default="")  # phone | code | join
    created_at = Timestamptz(default=TimestamptzNow())


class WorkerBindCode(Table, tablename="worker_bind_code"):
    """A one-time code the union prints for a member, to prove a worker is that member. Only an
    HMAC of the code is stored; a new code for the member voids the older ones."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    member_id = BigInt()
    code_hash = Varchar(length=64)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    voided_at = Timestamptz(null=True, default=None)
    issued_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class JoinApplication(Table, tablename="join_application"):
    """网上入会: a worker who is not a member asks a grassroots union to admit them."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    worker_id = ForeignKey(WorkerAccount, null=False, index=False, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnit, null=False, index=False, on_delete=OnDelete.restrict)
    employer = Varchar(length=200, default="")
    note = Varchar(length=500, default="")
    status = Varchar(length=16, default="pending")  # pending | approved | rejected | withdrawn
    due_on = Date()
    reason = Varchar(length=500, default="")
    decided_by = BigInt(null=True, default=None)
    decided_by_name = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    member_id = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WorkerPhoneCode(Table, tablename="worker_phone_code"):
    """A one-time code sent by SMS to prove a worker holds the phone they register with. Only the
    phone's blind index and an HMAC of the code are stored; failed tries are counted on the row."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    phone_bidx = Bytea()
    code_hash = Varchar(length=64)
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    used_at = Timestamptz(null=True, default=None)
    gateway = Varchar(length=50, default="")
    message_id = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())

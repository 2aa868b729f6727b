"""Members (会员), their households, membership history, transfers, roster imports and exports.

All tenant-owned, behind row-level security. Personal data is stored only as AES-GCM tokens
(``*_enc``) plus keyed blind indexes (``*_bidx``, 32 raw bytes) for exact lookup; see
``core/members/personal.py``. Indexes, RLS and the append-only trigger on ``member_history`` are in
the hand-written fence migration (``migrations/members/*_fence.py``).

Deliberate departures from the default table shape:

- ``member`` and ``member_history`` have no single-column ``tenant_id`` index: every index on them
  leads with ``tenant_id`` already, and each extra index slows the bulk import.
- References to a member from history, households and transfers are plain ``BigInt`` columns, not
  foreign keys: a transfer between tenants moves the member row (delete in one tenant, insert with
  the same id in the other), and the source tenant keeps its history rows.
"""

from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    BigSerial,
    Boolean,
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

from core.tenancy.tables import OrgUnit, Tenant


class Member(Table, tablename="member"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=False, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnit, null=False, index=False, on_delete=OnDelete.restrict)  # a grassroots union
    name = Varchar(length=50)
    name_search = Varchar(length=50)  # NFKC, no spaces, case-folded; COLLATE "C" on PostgreSQL
    gender = Varchar(length=1)  # M | F, from the ID number
    birth_date = Date()  # from the ID number
    id_number_enc = Varchar(length=200)
    id_number_bidx = Bytea()  # unique per tenant: one person per tenant per ID number
    phone_enc = Varchar(length=200, null=True, default=None)
    phone_bidx = Bytea(null=True, default=None)
    employer = Varchar(length=200, default="")
    work_status = Varchar(length=16, default="on_duty")
    tags = Array(base_column=Varchar(length=40), default=list)  # for display; searched through member_tag
    state = Varchar(length=16, default="joined")  # joined | transferring | left | deceased
    joined_on = Date(null=True, default=None)
    left_on = Date(null=True, default=None)
    household_id = BigInt(null=True, default=None)
    version = Integer(default=1)
    # The last import that saw this person, and the row: detects a person listed twice in one file
    # across batches, and tells which import last wrote the record.
    last_import_id = BigInt(null=True, default=None)
    last_import_row = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class MemberTag(Table, tablename="member_tag"):
    """One (member, tag) pair: the searchable copy of ``member.tags``.

    Tag search cannot use a GIN index on the array: under row-level security PostgreSQL applies
    only *leakproof* operators before the policy, and array containment (like jsonb containment) is
    not leakproof, so ``tags @> ...`` is always a filter after the scan. Equality on text is
    leakproof, so ``(tenant_id, tag, member_id)`` here is an ordinary, usable index."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=False, on_delete=OnDelete.restrict)
    member_id = BigInt()
    tag = Varchar(length=40)


class MemberHistory(Table, tablename="member_history"):
    """Every change to a member, append-only. ``changes`` holds field names, and old/new values only
    for fields that are not personal data."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=False, on_delete=OnDelete.restrict)
    member_id = BigInt()
    action = Varchar(length=32)
    changes = JSONB(default={})
    actor_id = BigInt(null=True, default=None)
    actor_name = Varchar(length=64, default="")
    import_id = BigInt(null=True, default=None)
    transfer_id = BigInt(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class Household(Table, tablename="household"):
    """A household (户) with its people, for hardship archives (一户一档)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnit, null=False, index=False, on_delete=OnDelete.restrict)  # for permissions
    note = Varchar(length=200, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class HouseholdPerson(Table, tablename="household_person"):
    """One person of a household. A person who is a member of the same tenant is a link
    (``member_id``) and carries no personal data of its own; anyone else keeps their own encrypted ID
    number. Unique per tenant by member and by ID number: one household per person."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    household_id = ForeignKey(Household, null=False, index=False, on_delete=OnDelete.cascade)
    member_id = BigInt(null=True, default=None)
    relation = Varchar(length=16)  # self | spouse | child | parent | grandparent | grandchild | sibling | other
    name = Varchar(length=50, null=True, default=None)
    id_number_enc = Varchar(length=200, null=True, default=None)
    id_number_bidx = Bytea(null=True, default=None)
    gender = Varchar(length=1, null=True, default=None)
    birth_date = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MemberTransfer(Table, tablename="member_transfer"):
    """A 会籍转移. Within one tenant: one row (``side`` = "both"). Between tenants: two rows with the
    same ``transfer_uid``, one owned by each tenant (``side`` = "source" / "dest"), kept in step by
    the service, so row-level security stays whole and each union sees its own copy."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    transfer_uid = Varchar(length=32)
    side = Varchar(length=8)
    member_id = BigInt()
    person_name = Varchar(length=50)
    id_masked_enc = Varchar(length=200)  # masked ID for display, encrypted for this row's tenant
    source_tenant_id = BigInt()
    source_unit_id = BigInt()
    source_unit_name = Varchar(length=200)
    dest_tenant_id = BigInt()
    dest_unit_id = BigInt()
    dest_unit_name = Varchar(length=200)
    status = Varchar(length=16, default="pending")  # pending | completed | rejected | cancelled
    reason = Varchar(length=500, default="")
    requested_by = BigInt(null=True, default=None)
    requested_by_name = Varchar(length=100, default="")
    source_approved_by_name = Varchar(length=100, null=True, default=None)
    source_approved_at = Timestamptz(null=True, default=None)
    dest_approved_by_name = Varchar(length=100, null=True, default=None)
    dest_approved_at = Timestamptz(null=True, default=None)
    source_approved_by = BigInt(null=True, default=None)
    dest_approved_by = BigInt(null=True, default=None)
    decided_by_name = Varchar(length=100, null=True, default=None)
    decision_note = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class MemberImport(Table, tablename="member_import"):
    """One uploaded roster: its preview, its commit checkpoint and counts. The file itself is stored
    encrypted (``core/members/filestore.py``); ``committed_through_row`` is advanced in the same
    transaction as each batch, so it says exactly which rows went in."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    created_by = BigInt(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    scope_paths = JSONB(default=[])  # org-unit subtrees the uploader may import into
    filename = Varchar(length=200, default="")
    format = Varchar(length=8, default="")  # csv | xlsx
    encoding = Varchar(length=16, default="")
    size_bytes = BigInt(default=0)
    sha256 = Varchar(length=64, default="")
    status = Varchar(length=16, default="uploaded")
    file_error = JSONB(default={})
    header = JSONB(default=[])
    total_rows = Integer(default=0)
    valid_rows = Integer(default=0)
    error_rows = Integer(default=0)
    would_create = Integer(default=0)
    would_update = Integer(default=0)
    would_unchange = Integer(default=0)
    allow_errors = Boolean(default=False)
    committed_through_row = Integer(default=0)
    batches_committed = Integer(default=0)
    created_count = Integer(default=0)
    updated_count = Integer(default=0)
    unchanged_count = Integer(default=0)
    failed_count = Integer(default=0)
    preview_job_id = BigInt(null=True, default=None)
    commit_job_id = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class MemberImportError(Table, tablename="member_import_error"):
    """One problem with one row of an import (never the offending value itself)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    import_id = BigInt()
    phase = Varchar(length=8)  # preview | commit
    row_no = Integer()
    column_name = Varchar(length=32, default="")
    code = Varchar(length=32)
    message = Varchar(length=300)


class MemberExport(Table, tablename="member_export"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    created_by = BigInt(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    scope_paths = JSONB(default=[])
    # No personal data in the clear: an exact ID/phone filter is kept as its blind indexes plus the
    # value encrypted (so a blind-index key rotation can recompute them, see core/members/keys.py).
    filter = JSONB(default={})
    format = Varchar(length=8, default="csv")
    unmasked = Boolean(default=False)
    reason = Varchar(length=200, default="")
    status = Varchar(length=16, default="queued")  # queued | running | ready | failed | expired
    row_count = Integer(default=0)
    size_bytes = BigInt(default=0)
    job_id = BigInt(null=True, default=None)
    downloads = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class MemberIndexKey(Table, tablename="member_index_key"):
    """Which blind-index key a tenant's stored blind indexes are under (one row per tenant, unique by
    the fence migration), and the rotation in progress, if any: while ``next_key_id`` is set, new
    values are written under it and lookups match both keys; ``checkpoint`` holds the last row id
    recomputed per column, so an interrupted rotation resumes (see core/members/keys.py). A tenant
    without a row has no blind index yet: its first writer records the active key."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=False, on_delete=OnDelete.restrict)
    key_id = Varchar(length=32)
    next_key_id = Varchar(length=32, null=True, default=None)
    checkpoint = JSONB(default={})
    rotated_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())

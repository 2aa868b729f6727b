"""The mutual_aid capability's tenant-owned tables (row-level security in the fence migrations)."""

from piccolo.columns import (
    JSONB,
    BigInt,
    BigSerial,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import OrgUnitTable, TenantTable


class MutualAidEnrolment(Table, tablename="mutual_aid_enrolment"):
    """One member's cover under one plan for one term, enrolled by the member's unit union."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    plan_code = Varchar(length=64)
    member_id = BigInt()
    term_start = Date()  # with the plan and member: one enrolment per term (a duplicate is void)
    shares = Integer(default=1)
    cover_from = Date()
    cover_to = Date()
    premium_fen = BigInt(default=0)  # premium due for the term: shares × premium per share
    batch_key = Varchar(length=64)  # the unit's batch it came in with
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MutualAidPremium(Table, tablename="mutual_aid_premium"):
    """One payer's part of an enrolment's premium for a term, as posted to the plan's fund.

    The ledger entry (one per enrolment and term) holds the money; these rows say who paid which part
    (Shanghai Class A: the district union 12 元, the city 12 元), for the settlement by unit and level."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)  # the enrolment's unit
    enrolment_id = BigInt()
    plan_code = Varchar(length=64)
    term_start = Date()
    level = Varchar(length=32)  # the plan's payer level: district, city, grassroots, ...
    payer_unit_id = BigInt()
    amount_fen = BigInt()
    entry_id = BigInt()
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MutualAidClaim(Table, tablename="mutual_aid_claim"):
    """A claim under a member's enrolment; its state lives in core's workflow (``mutual_aid.claim``).

    Amounts stay plain (caps and the settlement add them up); the hospital's name is encrypted, since
    with the member it says where they were treated."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    member_id = BigInt()
    enrolment_id = BigInt()
    plan_code = Varchar(length=64)
    term_start = Date()
    kind = Varchar(length=64)
    event_date = Date()
    admitted_on = Date(null=True, default=None)
    discharged_on = Date(null=True, default=None)
    hospital_enc = Varchar(length=500, default="")
    covered_cost_fen = BigInt(default=0)
    own_cost_fen = BigInt(default=0)
    deductible_fen = BigInt(default=0)
    excess_bed_fen = BigInt(default=0)
    non_insured_fen = BigInt(default=0)
    tier = Integer(null=True, default=None)
    case_ref = Varchar(length=64, default="")  # claims of one case share it (the per-case cap)
    graded_on = Date(null=True, default=None)  # a disability: when it was graded
    treatment_ended_on = Date(null=True, default=None)  # and when treatment ended (None: unfinished)
    amount_fen = BigInt(default=0)  # the payable benefit after caps, as last computed
    breakdown = JSONB(default=[])
    capped_by = Varchar(length=8, null=True, default=None)
    source = Varchar(length=16)  # unit | worker | automatic
    stay_key = Varchar(length=64, null=True, default=None)  # automatic claims: one per hospital stay
    reservation_id = BigInt(null=True, default=None)
    entry_id = BigInt(null=True, default=None)
    created_by = BigInt(null=True, default=None)
    created_by_name = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class MutualAidClaimDocument(Table, tablename="mutual_aid_claim_document"):
    """A document attached to a claim (PDF, JPEG or PNG, decided by its bytes); the file is in the store."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    claim_id = BigInt()
    kind = Varchar(length=32)
    filename = Varchar(length=200)
    content_type = Varchar(length=64)
    size = BigInt()
    sha256 = Varchar(length=64)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MutualAidSettlement(Table, tablename="mutual_aid_settlement"):
    """A plan's term, settled and closed: what came in, what was paid, where the surplus went."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    plan_code = Varchar(length=64)
    term_start = Date()
    premiums_fen = BigInt(default=0)
    claims_fen = BigInt(default=0)
    surplus_fen = BigInt(default=0)
    destination = Varchar(length=64, default="")  # the fund the surplus moved to ("" = it stays)
    entry_id = BigInt(null=True, default=None)
    closed_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MutualAidStayFile(Table, tablename="mutual_aid_stay_file"):
    """A hospital-stay file imported for automatic claims; the file itself is in the encrypted store."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    plan_code = Varchar(length=64)
    kind = Varchar(length=64)  # the claim kind its stays are paid as
    filename = Varchar(length=200)
    size = BigInt()
    sha256 = Varchar(length=64)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())

"""The procurement capability's tenant-owned tables (row-level security in the fence migration).

A call's state lives in core's ``workflow_case`` (machine ``procurement.call``, ``case_id`` = the
call's id). A bid's price and documents are sealed: the price is encrypted with the members' keyring
(bound to table, field and tenant) and the documents sit encrypted in the file store; the service
layer refuses to open either before the call's tender deadline, whoever asks.
"""

from piccolo.columns import (
    JSONB,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import OrgUnitTable, TenantTable


class ProcurementOrg(Table, tablename="procurement_org"):
    """A social organisation (社会组织) that applied through its own login and a union decided on."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    user_id = BigInt()  # the organisation's login (role social_org): the only user who acts for it
    name = Varchar(length=200)
    credit_code = Varchar(length=18)  # 统一社会信用代码 (GB 32100), unique per tenant
    registration_no = Varchar(length=64)  # 民政 registration certificate number
    registration_authority = Varchar(length=100)
    service_areas = JSONB(default=[])
    has_own_union = Boolean(default=False)
    status = Varchar(length=16, default="pending")  # pending | approved | rejected
    decision_reasons = JSONB(default=[])
    decided_by = BigInt(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    # Performance score in basis points of 100 (8500 = 85.00); starts at the tenant's default and
    # moves with each evaluation (procurement_org_score keeps the history).
    score_bp = Integer(default=7000)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementOrgDocument(Table, tablename="procurement_org_document"):
    """A qualification document (PDF, JPEG or PNG by content) kept in the file store."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_id = BigInt(index=True)
    kind = Varchar(length=32)
    filename = Varchar(length=200)
    content_type = Varchar(length=64)
    size = BigInt(default=0)
    sha256 = Varchar(length=64)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementBlacklist(Table, tablename="procurement_blacklist"):
    """负面清单 entry for an organisation: why and from when to when (inclusive); lifting ends it early."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_id = BigInt(index=True)
    reason = Varchar(length=500)
    starts_on = Date()
    ends_on = Date()
    lifted_at = Timestamptz(null=True, default=None)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementOrgScore(Table, tablename="procurement_org_score"):
    """One change of an organisation's performance score, and what caused it."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_id = BigInt(index=True)
    score_bp = Integer()
    source = Varchar(length=32)  # registered | evaluation
    source_id = BigInt(null=True, default=None)
    note = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementNeed(Table, tablename="procurement_need"):
    """One project on a union's service need list (服务项目清单)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    category = Varchar(length=32)
    title = Varchar(length=200)
    description = Text(default="")
    budget_fen = BigInt(default=0)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Where the need came from, when another capability put it here (service_network's requests):
    # that capability's code and its ids, a JSON list (the other half of the link lives there).
    source_capability = Varchar(length=40, null=True, default=None)
    source_ids = Text(default="[]")


class ProcurementExcluded(Table, tablename="procurement_excluded"):
    """An item a union may not buy (负面清单 of services), matched against a need's title and text;
    it applies to the union that set it and every union below."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    term = Varchar(length=50)
    reason = Varchar(length=200, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementCall(Table, tablename="procurement_call"):
    """A call for proposals (招标/征集). Its deadlines are set when it is published, from its periods
    divided by the tenant's sandbox acceleration."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    need_id = BigInt(null=True, default=None)
    title = Varchar(length=200)
    category = Varchar(length=32)
    description = Text(default="")
    budget_fen = BigInt(default=0)
    area_code = Varchar(length=6, default="")
    enquiry_days = Integer(default=5)
    tender_days = Integer(default=10)
    standstill_days = Integer(default=5)
    published_at = Timestamptz(null=True, default=None)
    enquiry_end = Timestamptz(null=True, default=None)
    tender_end = Timestamptz(null=True, default=None)
    standstill_end = Timestamptz(null=True, default=None)
    award_bid_id = BigInt(null=True, default=None)
    award_reasons = JSONB(default=[])
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementQuestion(Table, tablename="procurement_question"):
    """A bidder's question during the enquiry period and the union's answer, shown to every bidder
    (without the asker)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    call_id = BigInt(index=True)
    org_id = BigInt()
    question = Varchar(length=1000)
    answer = Varchar(length=2000, default="")
    answered_by = BigInt(null=True, default=None)
    asked_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None)


class ProcurementComplaint(Table, tablename="procurement_complaint"):
    """A bidder's complaint against an award during the standstill; it pauses the call until decided."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    call_id = BigInt(index=True)
    org_id = BigInt()
    text = Varchar(length=2000)
    outcome = Varchar(length=16, default="")  # "" while open | dismissed | upheld
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    resolution = Varchar(length=2000, default="")  # the approver's reasons for dismissing or upholding it
    decided_by = BigInt(null=True, default=None)


class ProcurementBid(Table, tablename="procurement_bid"):
    """A sealed bid: the price is encrypted (``pii_encrypt``, context procurement_bid.price) and is
    decrypted by the service layer only after the call's tender deadline."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    call_id = BigInt(index=True)
    org_id = BigInt()
    price_enc = Text(default="")
    submitted_at = Timestamptz(default=TimestamptzNow())


class ProcurementBidDocument(Table, tablename="procurement_bid_document"):
    """A bid's document, encrypted in the file store; its metadata too stays hidden until the deadline."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    bid_id = BigInt(index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=64)
    size = BigInt(default=0)
    sha256 = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementPanelMember(Table, tablename="procurement_panel_member"):
    """An evaluator appointed to a call's panel. ``declared_at`` is set when they declare no conflict of
    interest (they see no bid before); a declared conflict recuses them."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    call_id = BigInt(index=True)
    user_id = BigInt()
    appointed_by = BigInt(null=True, default=None)
    declared_at = Timestamptz(null=True, default=None)
    conflict = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementScore(Table, tablename="procurement_score"):
    """One evaluator's points (0 to 100) for one criterion of one bid."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    call_id = BigInt(index=True)
    bid_id = BigInt()
    user_id = BigInt()
    criterion = Varchar(length=32)
    points = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class ProcurementContract(Table, tablename="procurement_contract"):
    """The contract with the awarded organisation; its whole value is reserved in the ledger at signing."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    call_id = BigInt()
    bid_id = BigInt()
    org_id = BigInt(index=True)
    value_fen = BigInt()
    reservation_id = BigInt(null=True, default=None)
    signed_by = BigInt(null=True, default=None)
    signed_at = Timestamptz(default=TimestamptzNow())
    # active | terminated. Termination (an approver, with reasons) closes the unpaid milestones and
    # voids what is left of the reservation: released_fen went back to the fund, no entry is deleted.
    status = Varchar(length=16, default="active")
    termination_reasons = JSONB(default=[])
    terminated_by = BigInt(null=True, default=None)
    terminated_at = Timestamptz(null=True, default=None)
    released_fen = BigInt(default=0)


class ProcurementMilestone(Table, tablename="procurement_milestone"):
    """A payment milestone: a deliverable (宜昌: 12 legal talks reaching 1,500 workers) and its share of
    the value. pending -> delivered (the organisation reports) -> accepted (the union) -> paid (finance);
    closed: left unpaid when the contract was terminated."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    contract_id = BigInt(index=True)
    seq = Integer()
    title = Varchar(length=200)
    deliverable = Varchar(length=1000)
    percent = Integer()
    amount_fen = BigInt()
    status = Varchar(length=16, default="pending")
    delivery_note = Varchar(length=2000, default="")
    delivered_at = Timestamptz(null=True, default=None)
    accepted_by = BigInt(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    entry_id = BigInt(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)


class ProcurementEvaluation(Table, tablename="procurement_evaluation"):
    """A mid-term or final evaluation (绩效评价) of a contract; it moves the organisation's score."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    contract_id = BigInt(index=True)
    org_id = BigInt(index=True)
    kind = Varchar(length=16)  # midterm | final
    score = Integer()
    comments = Varchar(length=2000, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [ProcurementOrg, ProcurementOrgDocument, ProcurementBlacklist, ProcurementOrgScore, ProcurementNeed,
          ProcurementExcluded, ProcurementCall, ProcurementQuestion, ProcurementComplaint, ProcurementBid,
          ProcurementBidDocument, ProcurementPanelMember, ProcurementScore,
          ProcurementContract, ProcurementMilestone, ProcurementEvaluation]

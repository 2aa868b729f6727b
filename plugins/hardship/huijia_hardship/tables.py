"""The hardship capability's tenant-owned tables (row-level security in the fence migration).

An archive's state lives in core's ``workflow_case`` (machine ``hardship.archive``, ``case_id`` =
the archive's id). Health, income and bank data are encrypted with the members' keyring, bound to
table, field and tenant; only the category, the reasons (no figures) and the rule version are plain.
"""

from piccolo.columns import (
    JSONB,
    Array,
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


class HardshipArchive(Table, tablename="hardship_archive"):
    """一户一档: one household's archive. At most one open archive per household (a partial unique
    index on ``closed_at IS NULL``); an exited or cancelled archive is closed, a return reopens it."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    household_id = BigInt()  # core's household (members domain)
    kind = Varchar(length=16, default="regular")  # regular | temporary (临时救助)
    tier = Varchar(length=16)  # national | province | city | county | grassroots, set at creation
    area_code = Varchar(length=6)  # 民政 area code of the household's region
    household_size = Integer(default=1)
    migrant = Boolean(default=False)
    work_status = Varchar(length=16, default="on_duty")
    housing = Varchar(length=32, default="")
    medical_insurance = Varchar(length=32, default="")
    single_parent = Boolean(default=False)
    zero_employment = Boolean(default=False)
    main_cause = Varchar(length=32, default="")
    secondary_causes = Array(base_column=Varchar(length=32), default=list)
    # Encrypted JSON: each person's health; the household's figures (income, rigid expenses, the
    # facts exclusions look at); the bank card.
    health_enc = Text(default="")
    finances_enc = Text(default="")
    bank_card_enc = Text(default="")
    # The classification in force: category, reasons, rule version (its inputs are in the history).
    category = Varchar(length=16, default="none")
    classification = JSONB(default={})
    classified_at = Timestamptz(null=True, default=None)
    reverify_due_on = Date(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    created_by = BigInt(null=True, default=None)
    created_by_name = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class HardshipClassification(Table, tablename="hardship_classification"):
    """Every classification of an archive, with its inputs (encrypted) and rule version: a later
    change of rules adds a row, never rewrites one."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    archive_id = BigInt()
    category = Varchar(length=16)
    excluded = Boolean(default=False)
    reasons = JSONB(default=[])
    rule_version = Varchar(length=60)
    inputs_enc = Text(default="")
    actor_id = BigInt(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())


class HardshipAttachment(Table, tablename="hardship_attachment"):
    """A document of an archive (the signed 帮扶申请书, the 家庭经济状况核对授权委托书 ...), its
    bytes in core's encrypted file store (area ``hardship``, kind ``attachment``, this id)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    archive_id = BigInt()
    kind = Varchar(length=32)  # application_letter | consent_authorisation | other
    filename = Varchar(length=200)
    content_type = Varchar(length=64)
    size = BigInt()
    sha256 = Varchar(length=64)
    created_by = BigInt(null=True, default=None)
    created_by_name = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class HardshipGrant(Table, tablename="hardship_grant"):
    """One aid grant (帮扶救助): proposed by a clerk, approved by someone else (reserving the money
    from the paying union's hardship fund), paid (posting it) or cancelled (voiding it). Its state
    lives in ``workflow_case`` (machine ``hardship.grant``)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    # The household's union (the subtree rule is decided on it) and the union whose fund pays.
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    paying_unit_id = BigInt()
    archive_id = BigInt(null=True, default=None)  # null: 临时救助 without an archive
    household_id = BigInt()
    person_id = BigInt(null=True, default=None)  # for per-person caps (medical, temporary)
    aid_type = Varchar(length=16)
    year = Integer()
    amount_fen = BigInt()
    cap_fen = BigInt(null=True, default=None)
    used_before_fen = BigInt(default=0)  # what counted against the same cap when it was proposed
    breakdown = JSONB(default=[])
    rule_version = Varchar(length=60, default="")
    escalation = Varchar(length=16, default="")  # "" | province | national
    reservation_id = BigInt(null=True, default=None)
    entry_id = BigInt(null=True, default=None)
    created_by = BigInt(null=True, default=None)
    created_by_name = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class HardshipReminder(Table, tablename="hardship_reminder"):
    """A re-verification reminder (复核提醒) the daily cron recorded for an archive whose re-check is
    due: kept and listed (``hardshipReminders``), not sent anywhere. One per archive and due date."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    archive_id = BigInt()
    kind = Varchar(length=16, default="reverify")
    due_on = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class HardshipReverifyRun(Table, tablename="hardship_reverify_run"):
    """A batch re-verification of a tenant's due archives (the yearly 复核 of the whole roll): the
    archives due when it started, walked in id order; ``cursor`` is the last archive done, committed
    with each batch, so an interrupted run resumes where it stopped."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    as_of = Date()  # archives due on or before this day
    status = Varchar(length=16, default="running")  # running | finished
    cursor = BigInt(default=0)
    done = Integer(default=0)
    changed = Integer(default=0)  # archives whose category changed
    started_by = BigInt(null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)

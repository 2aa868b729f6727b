"""The mutual_aid capability's tenant-owned tables (row-level security in the fence migration)."""

from piccolo.columns import BigInt, BigSerial, Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
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

"""The test capability's one tenant-owned table. Like a real capability's cases, an item belongs to
an org unit: who may read or write it follows the unit's subtree (``core.sdk.require_in_subtree``)."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import OrgUnitTable, TenantTable


class TestcapItem(Table, tablename="testcap_item"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    title = Varchar(length=100)
    amount_fen = BigInt(default=0)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())

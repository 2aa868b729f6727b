"""Create warmth_beneficiary (its guard and fence follow in the next migration)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

ID = "2026-12-03T16:40:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "warmth_beneficiary"


class Tenant(Table, tablename="tenant", schema=None):
    id = BigSerial(primary_key=True)


class OrgUnit(Table, tablename="org_unit", schema=None):
    id = BigSerial(primary_key=True)


class WarmthCampaign(Table, tablename="warmth_campaign", schema=None):
    id = BigSerial(primary_key=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warmth", description=DESCRIPTION)
    manager.add_table(class_name="WarmthBeneficiary", tablename="warmth_beneficiary", schema=None, columns=None)

    def column(name, cls, **params):
        manager.add_column(table_class_name="WarmthBeneficiary", tablename="warmth_beneficiary", column_name=name,
                           db_column_name=name, column_class_name=cls.__name__, column_class=cls, params=params,
                           schema=None)

    def fk(to, on_delete=OnDelete.restrict):
        return {"references": to, "on_delete": on_delete, "on_update": OnUpdate.cascade, "target_column": None,
                "null": False, "index": True}

    column("id", BigSerial, null=False, primary_key=True)
    column("tenant_id", ForeignKey, **fk(Tenant))
    column("campaign_id", ForeignKey, **fk(WarmthCampaign, OnDelete.cascade))
    column("member_id", BigInt, default=0, null=False)
    column("household_id", BigInt, default=None, null=True)
    column("org_unit_id", ForeignKey, **fk(OrgUnit))
    column("group_code", Varchar, length=40, default="", null=False)
    column("reason", Varchar, length=200, default="", null=False)
    column("amount_fen", BigInt, default=None, null=True)
    column("frozen_at", Timestamptz, default=None, null=True)
    column("added_by", BigInt, default=None, null=True)

    return manager

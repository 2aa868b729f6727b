"""Create the campaign tables. Later changes: `piccolo migrations new warmth --auto`, then check the file."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, BigSerial, Boolean, Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-03T16:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "warmth campaigns, their groups and budgets"


class Tenant(Table, tablename="tenant", schema=None):
    id = BigSerial(primary_key=True)


class OrgUnit(Table, tablename="org_unit", schema=None):
    id = BigSerial(primary_key=True)


class WarmthCampaign(Table, tablename="warmth_campaign", schema=None):
    id = BigSerial(primary_key=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warmth", description=DESCRIPTION)

    def table(class_name, tablename, *columns):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, cls, params in columns:
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                               db_column_name=name, column_class_name=cls.__name__, column_class=cls,
                               params=params, schema=None)

    def fk(to, on_delete=OnDelete.restrict):
        return {"references": to, "on_delete": on_delete, "on_update": OnUpdate.cascade, "target_column": None,
                "null": False, "index": True}

    pk = ("id", BigSerial, {"null": False, "primary_key": True})
    tenant = ("tenant_id", ForeignKey, fk(Tenant))
    table("WarmthCampaign", "warmth_campaign", pk, tenant,
          ("org_unit_id", ForeignKey, fk(OrgUnit)),
          ("name", Varchar, {"length": 100, "default": "", "null": False}),
          ("kind", Varchar, {"length": 30, "default": "", "null": False}),
          ("starts_on", Date, {"null": False}),
          ("ends_on", Date, {"null": False}),
          ("fund", Varchar, {"length": 30, "default": "", "null": False}),
          ("created_by", BigInt, {"default": None, "null": True}),
          ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False}))
    table("WarmthCampaignGroup", "warmth_campaign_group", pk, tenant,
          ("campaign_id", ForeignKey, fk(WarmthCampaign, OnDelete.cascade)),
          ("group_code", Varchar, {"length": 40, "default": "", "null": False}),
          ("form", Varchar, {"length": 10, "default": "", "null": False}),
          ("amount_fen", BigInt, {"default": 0, "null": False}),
          ("item", Varchar, {"length": 100, "default": None, "null": True}),
          ("per_household", Boolean, {"default": False, "null": False}))
    table("WarmthCampaignBudget", "warmth_campaign_budget", pk, tenant,
          ("campaign_id", ForeignKey, fk(WarmthCampaign, OnDelete.cascade)),
          ("org_unit_id", ForeignKey, fk(OrgUnit)),
          ("budget_fen", BigInt, {"default": 0, "null": False}))
    return manager

"""Money, distribution and receipts: the reservation per budget, the payment and receipt per
beneficiary, the campaign's goods stock and the follow-up call notes (fenced in the next migration)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-03T18:30:00:000005"
VERSION = "1.38.0"
DESCRIPTION = "warmth: reservations, payments, receipts, stock, follow-ups"


class Tenant(Table, tablename="tenant", schema=None):
    id = BigSerial(primary_key=True)


class WarmthCampaign(Table, tablename="warmth_campaign", schema=None):
    id = BigSerial(primary_key=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warmth", description=DESCRIPTION)

    def column(class_name, tablename, name, cls, **params):
        manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name, db_column_name=name,
                           column_class_name=cls.__name__, column_class=cls, params=params, schema=None)

    def fk(to, on_delete=OnDelete.restrict):
        return {"references": to, "on_delete": on_delete, "on_update": OnUpdate.cascade, "target_column": None,
                "null": False, "index": True}

    column("WarmthCampaign", "warmth_campaign", "distribution_job_id", BigInt, default=None, null=True)
    column("WarmthCampaignBudget", "warmth_campaign_budget", "reservation_id", BigInt, default=None, null=True)
    ben = ("WarmthBeneficiary", "warmth_beneficiary")
    column(*ben, "budget_id", BigInt, default=None, null=True)
    column(*ben, "paid_at", Timestamptz, default=None, null=True)
    column(*ben, "entry_id", BigInt, default=None, null=True)
    column(*ben, "item_given", Varchar, length=100, default=None, null=True)
    column(*ben, "receipt_at", Timestamptz, default=None, null=True)
    column(*ben, "receipt_method", Varchar, length=20, default=None, null=True)
    column(*ben, "receipt_file_id", BigInt, default=None, null=True)
    column(*ben, "receipt_by", BigInt, default=None, null=True)

    for class_name, tablename, columns in (
        ("WarmthStock", "warmth_stock", [
            ("campaign_id", ForeignKey, fk(WarmthCampaign, OnDelete.cascade)),
            ("item", Varchar, {"length": 100, "default": "", "null": False}),
            ("quantity", BigInt, {"default": 0, "null": False}),
            ("given", BigInt, {"default": 0, "null": False})]),
        ("WarmthFollowup", "warmth_followup", [
            ("campaign_id", ForeignKey, fk(WarmthCampaign, OnDelete.cascade)),
            ("beneficiary_id", BigInt, {"default": 0, "null": False, "index": True}),
            ("note", Varchar, {"length": 500, "default": "", "null": False}),
            ("created_by", BigInt, {"default": None, "null": True}),
            ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False})]),
        ("WarmthReceiptFile", "warmth_receipt_file", [
            ("campaign_id", ForeignKey, fk(WarmthCampaign, OnDelete.cascade)),
            ("beneficiary_id", BigInt, {"default": 0, "null": False, "index": True}),
            ("kind", Varchar, {"length": 20, "default": "", "null": False}),
            ("content_type", Varchar, {"length": 50, "default": "", "null": False}),
            ("size_bytes", BigInt, {"default": 0, "null": False}),
            ("sha256", Varchar, {"length": 64, "default": "", "null": False}),
            ("created_by", BigInt, {"default": None, "null": True}),
            ("created_at", Timestamptz, {"default": TimestamptzNow(), "null": False})]),
    ):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        column(class_name, tablename, "id", BigSerial, null=False, primary_key=True)
        column(class_name, tablename, "tenant_id", ForeignKey, **fk(Tenant))
        for name, cls, params in columns:
            column(class_name, tablename, name, cls, **params)
    return manager

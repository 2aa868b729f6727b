"""warmth_stock, warmth_followup, warmth_receipt_file: one stock row per item and campaign, and
row-level security; the distribution's scan of unpaid rows gets its index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import raw, tenant_tables

ID = "2026-12-03T18:30:00:000006"
VERSION = "1.38.0"
DESCRIPTION = "warmth stock, follow-ups and receipt files: uniqueness and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warmth", description=DESCRIPTION)

    async def run():
        await raw("CREATE UNIQUE INDEX warmth_stock_one_per_item ON warmth_stock (campaign_id, item)")
        await raw("CREATE INDEX warmth_beneficiary_unpaid ON warmth_beneficiary (campaign_id, id) WHERE paid_at IS NULL")
        await tenant_tables(["warmth_stock", "warmth_followup", "warmth_receipt_file"], {})

    manager.add_raw(run)
    return manager

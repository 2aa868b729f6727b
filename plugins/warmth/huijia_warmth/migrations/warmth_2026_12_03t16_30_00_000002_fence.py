"""The campaign tables: row-level security, the same fence as core's tenant-owned tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T16:30:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "warmth campaign tables: row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warmth", description=DESCRIPTION)

    async def run():
        await tenant_tables(["warmth_campaign", "warmth_campaign_group", "warmth_campaign_budget"], {})

    manager.add_raw(run)
    return manager

"""warmth_beneficiary: the duplicate guard (one benefit per person and per household in a campaign,
as unique indexes, so two clerks adding at once cannot both succeed) and row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import raw, tenant_tables

ID = "2026-12-03T16:40:00:000004"
VERSION = "1.38.0"
DESCRIPTION = "warmth_beneficiary: duplicate guard and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="warmth", description=DESCRIPTION)

    async def run():
        # Partial unique indexes work on PostgreSQL and SQLite alike.
        await raw("CREATE UNIQUE INDEX warmth_beneficiary_one_per_person ON warmth_beneficiary (campaign_id, member_id)")
        await raw("CREATE UNIQUE INDEX warmth_beneficiary_one_per_household ON warmth_beneficiary "
                  "(campaign_id, household_id) WHERE household_id IS NOT NULL")
        await tenant_tables(["warmth_beneficiary"], {})

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T15:45:38:612386"
VERSION = "1.38.0"
DESCRIPTION = "hardship_grant: caps are summed per household (and person), type and year; row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="hardship", description=DESCRIPTION)

    async def run():
        ix = ("CREATE INDEX IF NOT EXISTS ix_hardship_grant_household ON hardship_grant "
              "(tenant_id, household_id, year, aid_type)")
        await tenant_tables(["hardship_grant"], {}, [(ix, ix)])

    manager.add_raw(run)
    return manager

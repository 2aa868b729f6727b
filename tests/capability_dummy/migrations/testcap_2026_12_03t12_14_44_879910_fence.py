from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T12:14:44:879910"
VERSION = "1.38.0"
DESCRIPTION = "testcap_item: row-level security, the same fence as core's tables"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="testcap", description=DESCRIPTION)

    async def run():
        await tenant_tables(["testcap_item"], {})

    manager.add_raw(run)
    return manager

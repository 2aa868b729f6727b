from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import append_only_sql, run_statements

ID = "2026-12-03T12:09:45:450528"
VERSION = "1.38.0"
DESCRIPTION = "member_history refuses TRUNCATE as it refuses UPDATE and DELETE"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def run():
        await run_statements([], append_only_sql("member_history"))

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import append_only_sql, run_statements

ID = "2026-11-29T03:23:51:641970"
VERSION = "1.38.0"
DESCRIPTION = "audit_record is append-only: UPDATE and DELETE raise"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run():
        await run_statements([], append_only_sql("audit_record"))

    manager.add_raw(run)
    return manager

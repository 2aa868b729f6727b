from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import index_sql, tenant_tables

ID = "2026-12-03T18:26:13:582212"
VERSION = "1.38.0"
DESCRIPTION = "workers: SMS phone codes looked up by phone; row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workers", description=DESCRIPTION)

    async def run():
        await tenant_tables(
            ["worker_phone_code"],
            {},
            [index_sql("worker_phone_code", ("tenant_id", "phone_bidx", "created_at"), "ix_worker_phone_code_phone")],
        )

    manager.add_raw(run)
    return manager

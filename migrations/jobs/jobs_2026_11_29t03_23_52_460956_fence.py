from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import tenant_tables

ID = "2026-11-29T03:23:52:460957"
VERSION = "1.38.0"
DESCRIPTION = "jobs: one job per deterministic key per tenant, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)

    async def run():
        await tenant_tables(["job_record"], {"job_record": [("tenant_id", "job_key")]})

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import tenant_tables

ID = "2026-11-29T03:23:51:641969"
VERSION = "1.38.0"
DESCRIPTION = "audit: one sequence number per tenant, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run():
        await tenant_tables(["audit_record"], {"audit_record": [("tenant_id", "seq")]})

    manager.add_raw(run)
    return manager

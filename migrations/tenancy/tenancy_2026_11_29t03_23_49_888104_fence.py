from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import index_sql, tenant_tables

ID = "2026-11-29T03:23:49:888105"
VERSION = "1.38.0"
DESCRIPTION = "org_unit: unique code per tenant, subtree index, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)

    async def run():
        await tenant_tables(
            ["org_unit"],
            {"org_unit": [("tenant_id", "code")]},
            [index_sql("org_unit", ("tenant_id", "path"), pg_expr="tenant_id, path varchar_pattern_ops")],
        )

    manager.add_raw(run)
    return manager

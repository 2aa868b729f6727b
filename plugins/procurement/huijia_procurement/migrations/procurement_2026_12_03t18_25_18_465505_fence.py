"""The registry and need-list tables: one credit code per tenant, look-up indexes, row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:25:18:465505"
VERSION = "1.38.0"
DESCRIPTION = "procurement registry and need list: unique credit code, row-level security"

TABLES = ["procurement_org", "procurement_org_document", "procurement_blacklist", "procurement_org_score",
          "procurement_need", "procurement_excluded"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run():
        # Two applications racing with one credit code (or one login) meet the unique index, not a
        # read-then-write.
        await tenant_tables(TABLES, {"procurement_org": [("tenant_id", "credit_code"), ("tenant_id", "user_id")]})

    manager.add_raw(run)
    return manager

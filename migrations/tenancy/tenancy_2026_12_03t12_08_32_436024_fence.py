from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import append_only_sql, run_statements, tenant_tables

ID = "2026-12-03T12:08:32:436024"
VERSION = "1.38.0"
DESCRIPTION = "plugin_settings_version: one row per (tenant, plugin, version), row-level security, append-only"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)

    async def run():
        await tenant_tables(["plugin_settings_version"], {"plugin_settings_version": [("tenant_id", "plugin", "version")]})
        # A version is history: a change (a revert too) is a new row, never an edit.
        await run_statements([], append_only_sql("plugin_settings_version"))

    manager.add_raw(run)
    return manager

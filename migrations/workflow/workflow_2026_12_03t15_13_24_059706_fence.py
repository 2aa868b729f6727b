from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import append_only_sql, index_sql, run_statements, tenant_tables

ID = "2026-12-03T15:13:24:059706"
VERSION = "1.38.0"
DESCRIPTION = "workflow: one state row per case, ordered steps, timer look-ups, RLS; the timeline is append-only"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workflow", description=DESCRIPTION)

    async def run():
        await tenant_tables(
            ["workflow_case", "workflow_step"],
            {"workflow_case": [("tenant_id", "capability", "case_type", "case_id")],
             "workflow_step": [("tenant_id", "capability", "case_type", "case_id", "seq")]},
            [index_sql("workflow_case", ("tenant_id", "capability", "case_type", "state", "state_since"),
                       name="ix_workflow_case_timer")],
        )
        await run_statements([], append_only_sql("workflow_step"))

    manager.add_raw(run)
    return manager

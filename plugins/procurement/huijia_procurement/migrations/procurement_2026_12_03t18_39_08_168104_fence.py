"""The evaluation panel and its scores: one seat per evaluator and call, one score per criterion, RLS."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:39:08:168104"
VERSION = "1.38.0"
DESCRIPTION = "procurement panel and scores: unique seats and scores, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run():
        await tenant_tables(["procurement_panel_member", "procurement_score"], {
            "procurement_panel_member": [("tenant_id", "call_id", "user_id")],
            "procurement_score": [("tenant_id", "call_id", "bid_id", "user_id", "criterion")],
        })

    manager.add_raw(run)
    return manager

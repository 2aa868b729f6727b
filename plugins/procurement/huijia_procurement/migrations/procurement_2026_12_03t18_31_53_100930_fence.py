"""Calls, questions, complaints and sealed bids: one bid per organisation and call, row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:31:53:100930"
VERSION = "1.38.0"
DESCRIPTION = "procurement calls and bids: one bid per organisation and call, row-level security"

TABLES = ["procurement_call", "procurement_question", "procurement_complaint", "procurement_bid",
          "procurement_bid_document"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run():
        # An organisation resubmitting before the deadline replaces its bid; two racing submissions
        # meet this index rather than both landing.
        await tenant_tables(TABLES, {"procurement_bid": [("tenant_id", "call_id", "org_id")]})

    manager.add_raw(run)
    return manager

"""Contracts, milestones and evaluations: one contract per call, one evaluation of each kind, RLS."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:47:58:952409"
VERSION = "1.38.0"
DESCRIPTION = "procurement contracts: unique per call, one evaluation per kind, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run():
        await tenant_tables(["procurement_contract", "procurement_milestone", "procurement_evaluation"], {
            "procurement_contract": [("tenant_id", "call_id")],
            "procurement_milestone": [("tenant_id", "contract_id", "seq")],
            "procurement_evaluation": [("tenant_id", "contract_id", "kind")],
        })

    manager.add_raw(run)
    return manager

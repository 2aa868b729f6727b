from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import backfill_heads_sql, run_statements

ID = "2026-12-03T12:09:45:450529"
VERSION = "1.38.0"
DESCRIPTION = "funds: every tenant's ledger chain gets its head (chain_head, chain 'ledger') at its last link"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funds", description=DESCRIPTION)

    async def run():
        pg, lite = backfill_heads_sql("ledger", "ledger_chain")
        await run_statements([], [pg], [lite])

    manager.add_raw(run)
    return manager

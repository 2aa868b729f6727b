from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import (
    append_only_sql,
    backfill_heads_sql,
    chain_head_guard_sql,
    rls_sql,
    run_statements,
    unique_index_sql,
)

ID = "2026-12-03T12:09:45:450527"
VERSION = "1.38.0"
DESCRIPTION = "audit: chain heads (one per tenant and chain, forward only, RLS); audit_record refuses TRUNCATE"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run():
        pg, lite = backfill_heads_sql("audit", "audit_record")
        await run_statements(
            [unique_index_sql("chain_head", ("tenant_id", "chain"))],
            [*rls_sql("chain_head"), *chain_head_guard_sql(), *append_only_sql("audit_record"), pg],
            [lite],
        )

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import rls_sql, run_statements, unique_index_sql

ID = "2026-11-29T06:04:57:286726"
VERSION = "1.38.0"
DESCRIPTION = "members: one blind-index key record per tenant (backfilled as i1), row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def run():
        import datetime as dt

        now = dt.datetime.now(dt.UTC).isoformat()
        await run_statements(
            [
                unique_index_sql("member_index_key", ("tenant_id",)),
                # Every blind index stored before index keys had ids was made with the single
                # HUIJIA_PII_INDEX_KEY, which the keyring calls "i1". Backfilled before RLS is forced
                # on the table (this insert is not scoped to one tenant).
                "INSERT INTO member_index_key (tenant_id, key_id, checkpoint, updated_at) "
                f"SELECT id, 'i1', '{{}}', '{now}' FROM tenant WHERE id NOT IN (SELECT tenant_id FROM member_index_key)",
            ],
            rls_sql("member_index_key"),
        )

    manager.add_raw(run)
    return manager

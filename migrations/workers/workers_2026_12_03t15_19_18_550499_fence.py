from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import index_sql, tenant_tables

ID = "2026-12-03T15:19:18:550499"
VERSION = "1.38.0"
DESCRIPTION = "workers: one account per member, per phone and per user; row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workers", description=DESCRIPTION)

    async def run():
        pending = ("CREATE UNIQUE INDEX IF NOT EXISTS uq_join_application_pending ON join_application "
                   "(tenant_id, worker_id) WHERE status = 'pending'")
        await tenant_tables(
            ["worker_account", "worker_bind_code", "join_application"],
            {
                # NULLs are distinct in both engines: many unbound accounts, one account per member.
                "worker_account": [("tenant_id", "member_id"), ("tenant_id", "phone_bidx"), ("tenant_id", "user_id")],
            },
            [
                index_sql("worker_account", ("tenant_id", "id_number_bidx"), "ix_worker_account_id_number"),
                index_sql("worker_bind_code", ("tenant_id", "member_id"), "ix_worker_bind_code_member"),
                index_sql("join_application", ("tenant_id", "org_unit_id", "status", "due_on"), "ix_join_application_unit"),
                index_sql("join_application", ("tenant_id", "worker_id"), "ix_join_application_worker"),
                (pending, pending),
            ],
        )

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import index_sql, tenant_tables

ID = "2026-11-29T03:23:50:744891"
VERSION = "1.38.0"
DESCRIPTION = "accounts: unique usernames per tenant, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def run():
        await tenant_tables(
            ["app_user", "role_grant", "auth_token", "login_attempt"],
            {"app_user": [("tenant_id", "username")]},
            [index_sql("login_attempt", ("tenant_id", "username", "at"))],
        )

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant.capabilities: the capability codes a tenant's manifest enables"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenancy", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Tenant",
        tablename="tenant",
        column_name="capabilities",
        db_column_name="capabilities",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": "[]",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "where a need came from (service requests of service_network)"


def _params(**extra):
    return {"primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None,
            "db_column_name": None, "secret": False, **extra}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)
    manager.add_column(table_class_name="ProcurementNeed", tablename="procurement_need", column_name="source_capability",
                       db_column_name="source_capability", column_class_name="Varchar", column_class=Varchar,
                       params=_params(length=40, default=None, null=True), schema=None)
    manager.add_column(table_class_name="ProcurementNeed", tablename="procurement_need", column_name="source_ids",
                       db_column_name="source_ids", column_class_name="Text", column_class=Text,
                       params=_params(default="[]", null=False), schema=None)
    return manager

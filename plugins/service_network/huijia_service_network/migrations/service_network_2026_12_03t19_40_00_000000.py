from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the contract a service request was referred under, the need it became"


def _params(**extra):
    return {"default": None, "null": True, "primary_key": False, "unique": False, "index": False,
            "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False, **extra}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="service_network", description=DESCRIPTION)
    for name, cls, extra in (("referral_capability", Varchar, {"length": 40}), ("referral_org_id", BigInt, {}),
                             ("referral_contract_id", BigInt, {}), ("need_capability", Varchar, {"length": 40}),
                             ("need_id", BigInt, {})):
        manager.add_column(table_class_name="Request", tablename="sn_request", column_name=name, db_column_name=name,
                           column_class_name=cls.__name__, column_class=cls, params=_params(**extra), schema=None)
    return manager

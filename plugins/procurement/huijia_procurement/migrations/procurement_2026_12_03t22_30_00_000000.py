from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSONB, BigInt, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a complaint's resolution; a contract's termination (state, reasons, who, the released amount)"


def _params(**extra):
    return {"primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None,
            "db_column_name": None, "secret": False, **extra}


def _add(manager, table_class, tablename, name, column_class, **params):
    manager.add_column(table_class_name=table_class, tablename=tablename, column_name=name, db_column_name=name,
                       column_class_name=column_class.__name__, column_class=column_class, params=_params(**params),
                       schema=None)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)
    _add(manager, "ProcurementComplaint", "procurement_complaint", "resolution", Varchar, length=2000, default="",
         null=False)
    _add(manager, "ProcurementComplaint", "procurement_complaint", "decided_by", BigInt, default=None, null=True)
    _add(manager, "ProcurementContract", "procurement_contract", "status", Varchar, length=16, default="active",
         null=False)
    _add(manager, "ProcurementContract", "procurement_contract", "termination_reasons", JSONB, default=[], null=False)
    _add(manager, "ProcurementContract", "procurement_contract", "terminated_by", BigInt, default=None, null=True)
    _add(manager, "ProcurementContract", "procurement_contract", "terminated_at", Timestamptz, default=None, null=True)
    _add(manager, "ProcurementContract", "procurement_contract", "released_fen", BigInt, default=0, null=False)
    return manager

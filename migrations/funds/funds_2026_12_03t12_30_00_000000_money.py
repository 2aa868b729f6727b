from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, BigInt, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

from core.migration_sql import run_statements

ID = "2026-12-03T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = ("funds: namespaced idempotency keys (300 chars), drafts for every kind of entry above the approval "
               "threshold, reservations awaiting approval")

# Existing keys keep their bare form: ledger_entry is append-only and its content hashes cover the key,
# so rows are not rewritten. Widening a varchar rewrites no row and fires no trigger.
WIDEN = [f"ALTER TABLE {t} ALTER COLUMN idempotency_key TYPE varchar(300)"
         for t in ("ledger_entry", "ledger_draft", "ledger_reservation")]


def _params(**extra):
    return {"null": False, "primary_key": False, "unique": False, "index": False,
            "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False, **extra}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funds", description=DESCRIPTION)
    for name, cls, params in (
        ("kind", Varchar, _params(length=32, default="manual")),
        ("reverses_id", BigInt, _params(default=None, null=True)),
        ("transfers", JSON, _params(default="[]")),
    ):
        manager.add_column(table_class_name="Draft", tablename="ledger_draft", column_name=name, db_column_name=name,
                           column_class_name=cls.__name__, column_class=cls, params=params, schema=None)
    for name, cls, params in (
        ("approved_by", BigInt, _params(default=None, null=True)),
        ("approved_at", Timestamptz, _params(default=None, null=True)),
    ):
        manager.add_column(table_class_name="Reservation", tablename="ledger_reservation", column_name=name,
                           db_column_name=name, column_class_name=cls.__name__, column_class=cls, params=params,
                           schema=None)

    async def run():
        await run_statements([], WIDEN)  # SQLite does not enforce varchar lengths

    manager.add_raw(run)
    return manager

"""The org unit a job belongs to: who besides its creator may read it (job.read over that unit)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T12:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "job_record.org_unit_id"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="JobRecord",
        tablename="job_record",
        column_name="org_unit_id",
        db_column_name="org_unit_id",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": None,
            "null": True,
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

"""mutual_aid_claim: a disability's grading date and the day its treatment ended (the day-180 rule)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date

ID = "2026-12-03T23:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "mutual_aid_claim: graded_on, treatment_ended_on"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mutual_aid", description=DESCRIPTION)
    for name in ("graded_on", "treatment_ended_on"):
        manager.add_column(table_class_name="MutualAidClaim", tablename="mutual_aid_claim", column_name=name,
                           db_column_name=name, column_class_name="Date", column_class=Date,
                           params={"default": None, "null": True}, schema=None)
    return manager

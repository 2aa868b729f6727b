"""Create mutual_aid_enrolment."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, BigSerial, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-03T16:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "mutual_aid_enrolment"


class Tenant(Table, tablename="tenant", schema=None):
    id = BigSerial(primary_key=True)


class OrgUnit(Table, tablename="org_unit", schema=None):
    id = BigSerial(primary_key=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mutual_aid", description=DESCRIPTION)
    manager.add_table(class_name="MutualAidEnrolment", tablename="mutual_aid_enrolment", schema=None, columns=None)

    def column(name, cls, **params):
        manager.add_column(table_class_name="MutualAidEnrolment", tablename="mutual_aid_enrolment", column_name=name,
                           db_column_name=name, column_class_name=cls.__name__, column_class=cls, params=params,
                           schema=None)

    column("id", BigSerial, null=False, primary_key=True)
    column("tenant_id", ForeignKey, references=Tenant, on_delete=OnDelete.restrict, on_update=OnUpdate.cascade,
           target_column=None, null=False, index=True)
    column("org_unit_id", ForeignKey, references=OrgUnit, on_delete=OnDelete.restrict, on_update=OnUpdate.cascade,
           target_column=None, null=False, index=True)
    column("plan_code", Varchar, length=64, default="", null=False)
    column("member_id", BigInt, default=0, null=False)
    column("term_start", Date, default=DateNow(), null=False)
    column("shares", Integer, default=1, null=False)
    column("cover_from", Date, default=DateNow(), null=False)
    column("cover_to", Date, default=DateNow(), null=False)
    column("premium_fen", BigInt, default=0, null=False)
    column("batch_key", Varchar, length=64, default="", null=False)
    column("created_by", BigInt, default=None, null=True)
    column("created_at", Timestamptz, default=TimestamptzNow(), null=False)
    return manager

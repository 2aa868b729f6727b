"""mutual_aid_enrolment: one enrolment per member, plan and term; row-level security like core's tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T16:20:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "mutual_aid_enrolment: unique key and row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mutual_aid", description=DESCRIPTION)

    async def run():
        await tenant_tables(["mutual_aid_enrolment"],
                            {"mutual_aid_enrolment": [("tenant_id", "plan_code", "member_id", "term_start")]})

    manager.add_raw(run)
    return manager

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import (
    TRIGGER_REFERENCES,
    restrict_references_sql,
    run_statements,
    statement_reference_sql,
)

ID = "2026-12-03T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "members: the tenant and org-unit references of member, member_tag and member_history are checked per statement"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def run():
        # A foreign key checks its parent once per inserted row; a roster import writes three such
        # rows per member. The same check and lock, once per statement: see TRIGGER_REFERENCES.
        statements = [s for ref in TRIGGER_REFERENCES for s in statement_reference_sql(*ref)]
        statements += restrict_references_sql("org_unit", "tenant_id") + restrict_references_sql("tenant", "id")
        await run_statements([], statements)

    manager.add_raw(run)
    return manager

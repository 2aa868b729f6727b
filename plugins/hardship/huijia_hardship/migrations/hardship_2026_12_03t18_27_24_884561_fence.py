from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:27:24:884561"
VERSION = "1.38.0"
DESCRIPTION = "hardship_reminder (one per archive and due date), hardship_reverify_run: row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="hardship", description=DESCRIPTION)

    async def run():
        ix = ("CREATE INDEX IF NOT EXISTS ix_hardship_archive_reverify ON hardship_archive "
              "(tenant_id, reverify_due_on, id)")
        await tenant_tables(["hardship_reminder", "hardship_reverify_run"],
                            {"hardship_reminder": [("tenant_id", "archive_id", "kind", "due_on")]}, [(ix, ix)])

    manager.add_raw(run)
    return manager

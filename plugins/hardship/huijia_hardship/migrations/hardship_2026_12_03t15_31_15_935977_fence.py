from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T15:31:15:935977"
VERSION = "1.38.0"
DESCRIPTION = "hardship: one open archive per household, look-up indexes, row-level security"

TABLES = ["hardship_archive", "hardship_classification", "hardship_attachment"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="hardship", description=DESCRIPTION)

    async def run():
        # 一户一档: a partial unique index (both engines accept it), so two clerks racing on one
        # household cannot both open an archive.
        open_archive = ("CREATE UNIQUE INDEX IF NOT EXISTS uq_hardship_archive_open ON hardship_archive "
                        "(tenant_id, household_id) WHERE closed_at IS NULL")
        await tenant_tables(TABLES, {}, [
            (open_archive, open_archive),
            ("CREATE INDEX IF NOT EXISTS ix_hardship_classification_archive ON hardship_classification "
             "(tenant_id, archive_id)",) * 2,
            ("CREATE INDEX IF NOT EXISTS ix_hardship_attachment_archive ON hardship_attachment (tenant_id, archive_id)",) * 2,
        ])

    manager.add_raw(run)
    return manager

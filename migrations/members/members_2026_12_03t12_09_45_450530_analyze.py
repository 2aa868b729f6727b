from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import run_statements

ID = "2026-12-03T12:09:45:450530"
VERSION = "1.38.0"
DESCRIPTION = "members: huijia_analyze_member(), so the app role (not the owner) can refresh member's statistics"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def run():
        # Only a table's owner may ANALYZE it. The roster import refreshes member's statistics as it
        # grows (core/members/importer.py); this runs that one statement with the owner's rights.
        # Fixed search_path: a SECURITY DEFINER function must not resolve names through the caller's.
        await run_statements([], [
            """CREATE OR REPLACE FUNCTION huijia_analyze_member() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
  ANALYZE public.member;
END $$""",
        ])

    manager.add_raw(run)
    return manager

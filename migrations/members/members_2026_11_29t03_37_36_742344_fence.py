from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import append_only_sql, index_sql, run_statements, tenant_tables

ID = "2026-11-29T03:37:36:742344"
VERSION = "1.38.0"
DESCRIPTION = "members: blind-index uniques, search indexes, row-level security, append-only history"

TABLES = ["member", "member_tag", "member_history", "household", "household_person", "member_transfer", "member_import",
          "member_import_error", "member_export"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def run():
        # Name search compares code points (prefix ranges), whatever the database's collation.
        await run_statements([], ['ALTER TABLE member ALTER COLUMN name_search TYPE varchar(50) COLLATE "C"'])
        await tenant_tables(
            TABLES,
            {
                "member": [("tenant_id", "id_number_bidx")],
                "member_tag": [("tenant_id", "tag", "member_id")],
                "household_person": [("tenant_id", "id_number_bidx"), ("tenant_id", "member_id")],
                "member_transfer": [("tenant_id", "transfer_uid")],
            },
            [
                # Exact phone lookup through the blind index (only members who gave a phone).
                ("CREATE INDEX IF NOT EXISTS ix_member_phone ON member (tenant_id, phone_bidx) WHERE phone_bidx IS NOT NULL",
                 "CREATE INDEX IF NOT EXISTS ix_member_phone ON member (tenant_id, phone_bidx) WHERE phone_bidx IS NOT NULL"),
                # Name prefix, and the default order of every list (name, id).
                index_sql("member", ("tenant_id", "name_search", "id"), "ix_member_name"),
                # One union's members (and subtrees: the unit ids of the subtree, each an index range).
                index_sql("member", ("tenant_id", "org_unit_id", "name_search", "id"), "ix_member_unit"),
                # Members who are not simply "joined" (left, deceased, transferring) are few: a partial
                # index finds them without walking a million names, and costs nothing when importing.
                ("CREATE INDEX IF NOT EXISTS ix_member_state ON member (tenant_id, state, name_search, id) WHERE state <> 'joined'",
                 "CREATE INDEX IF NOT EXISTS ix_member_state ON member (tenant_id, state, name_search, id) WHERE state <> 'joined'"),
                # Tags are searched through member_tag (see core/members/tables.py: no GIN under RLS).
                index_sql("member_tag", ("tenant_id", "member_id"), "ix_member_tag_member"),
                index_sql("member_history", ("tenant_id", "member_id", "id"), "ix_member_history_member"),
                index_sql("household_person", ("tenant_id", "household_id"), "ix_household_person_household"),
                index_sql("member_transfer", ("tenant_id", "status", "id"), "ix_member_transfer_status"),
                index_sql("member_import_error", ("tenant_id", "import_id", "phase", "row_no"), "ix_member_import_error_row"),
            ],
        )
        await run_statements([], append_only_sql("member_history"))

    manager.add_raw(run)
    return manager

"""service_network tables: unique keys, the finder's index, and row-level security (the same fence
as core's tenant-owned tables)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T15:49:21:000000"
VERSION = "1.38.0"
DESCRIPTION = "service_network: unique keys, indexes, row-level security"

TABLES = ["sn_service_item", "sn_station", "sn_station_window", "sn_station_visit", "sn_rating",
          "sn_rating_history", "sn_rating_follow_up", "sn_request"]


def _index(name: str, table: str, columns: str) -> tuple[str, str]:
    sql = f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"
    return sql, sql


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="service_network", description=DESCRIPTION)

    async def run():
        await tenant_tables(
            TABLES,
            {"sn_station": [("tenant_id", "number")],
             "sn_rating": [("tenant_id", "subject_type", "subject_id", "member_id")]},
            [
                # The finder: a latitude band read from the index, longitude checked in it too.
                _index("ix_sn_station_finder", "sn_station", "tenant_id, lat, lon"),
                _index("ix_sn_station_visit_phone", "sn_station_visit", "tenant_id, phone_bidx, visited_at"),
                _index("ix_sn_rating_subject", "sn_rating", "tenant_id, subject_type, subject_id"),
            ],
        )

    manager.add_raw(run)
    return manager

"""The yearly assessment's tables: unique keys, indexes and row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:24:53:241806"
VERSION = "1.38.0"
DESCRIPTION = "service_network: station incidents and yearly assessments, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="service_network", description=DESCRIPTION)

    async def run():
        ix = ("CREATE INDEX IF NOT EXISTS ix_sn_station_incident_year ON sn_station_incident "
              "(tenant_id, station_id, occurred_on)")
        await tenant_tables(["sn_station_incident", "sn_station_assessment"],
                            {"sn_station_assessment": [("tenant_id", "station_id", "year")]}, [(ix, ix)])

    manager.add_raw(run)
    return manager

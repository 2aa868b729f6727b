"""Station photos: row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:38:39:944546"
VERSION = "1.38.0"
DESCRIPTION = "service_network: station photos, row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="service_network", description=DESCRIPTION)

    async def run():
        await tenant_tables(["sn_station_photo"], {}, [])

    manager.add_raw(run)
    return manager

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.tenancy.tables import OrgUnit, PluginSettingsVersion, Tenant

APP_CONFIG = AppConfig(
    app_name="tenancy",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "tenancy"),
    table_classes=[Tenant, OrgUnit, PluginSettingsVersion],
    migration_dependencies=[],
    commands=[],
)

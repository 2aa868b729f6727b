from pathlib import Path

from piccolo.conf.apps import AppConfig

from huijia_service_network.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="service_network",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=TABLES,
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

from pathlib import Path

from piccolo.conf.apps import AppConfig

from huijia_procurement.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="procurement",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=list(TABLES),
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

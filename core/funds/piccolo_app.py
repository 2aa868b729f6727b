from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.funds.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="funds",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "funds"),
    table_classes=list(TABLES),
    migration_dependencies=["core.tenancy.piccolo_app", "core.audit.piccolo_app"],
    commands=[],
)

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tests.capability_dummy.tables import TestcapItem

APP_CONFIG = AppConfig(
    app_name="testcap",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=[TestcapItem],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.jobs.tables import JobRecord

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "jobs"),
    table_classes=[JobRecord],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

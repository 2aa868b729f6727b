from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.workers.tables import JoinApplication, WorkerAccount, WorkerBindCode, WorkerPhoneCode

APP_CONFIG = AppConfig(
    app_name="workers",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "workers"),
    table_classes=[WorkerAccount, WorkerBindCode, JoinApplication, WorkerPhoneCode],
    migration_dependencies=["core.accounts.piccolo_app", "core.members.piccolo_app"],
    commands=[],
)

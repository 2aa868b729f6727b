from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.workflow.tables import WorkflowCase, WorkflowStep

APP_CONFIG = AppConfig(
    app_name="workflow",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "workflow"),
    table_classes=[WorkflowCase, WorkflowStep],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

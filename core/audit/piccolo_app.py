from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.audit.tables import AuditRecord, ChainHead

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "audit"),
    table_classes=[AuditRecord, ChainHead],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

from pathlib import Path

from piccolo.conf.apps import AppConfig

from huijia_hardship.tables import (
    HardshipArchive,
    HardshipAttachment,
    HardshipClassification,
    HardshipGrant,
    HardshipReminder,
    HardshipReverifyRun,
)

APP_CONFIG = AppConfig(
    app_name="hardship",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=[HardshipArchive, HardshipClassification, HardshipAttachment, HardshipGrant, HardshipReminder,
                   HardshipReverifyRun],
    migration_dependencies=["core.tenancy.piccolo_app", "core.workflow.piccolo_app"],
    commands=[],
)

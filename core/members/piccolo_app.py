from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.members.tables import (
    Household,
    HouseholdPerson,
    Member,
    MemberExport,
    MemberHistory,
    MemberImport,
    MemberImportError,
    MemberIndexKey,
    MemberTag,
    MemberTransfer,
)

APP_CONFIG = AppConfig(
    app_name="members",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "members"),
    table_classes=[Member, MemberTag, MemberHistory, Household, HouseholdPerson, MemberTransfer, MemberImport,
                   MemberImportError, MemberExport, MemberIndexKey],
    migration_dependencies=["core.tenancy.piccolo_app", "core.accounts.piccolo_app"],
    commands=[],
)

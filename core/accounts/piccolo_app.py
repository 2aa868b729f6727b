from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.accounts.tables import AuthToken, LoginAttempt, RoleGrant, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "accounts"),
    table_classes=[User, RoleGrant, AuthToken, LoginAttempt],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)

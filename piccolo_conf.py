"""Piccolo configuration: the engine comes from settings (DATABASE_URL), the apps from core."""

from piccolo.conf.apps import AppRegistry

from core.db import build_engine

DB = build_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "core.tenancy.piccolo_app",
        "core.accounts.piccolo_app",
        "core.audit.piccolo_app",
        "core.jobs.piccolo_app",
        "core.members.piccolo_app",
        "core.funds.piccolo_app",
    ]
)

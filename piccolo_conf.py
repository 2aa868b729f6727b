"""Piccolo configuration: the engine comes from settings (DATABASE_URL), the apps from the plugins.

Core's domains and every installed plugin list their app modules through ``register_piccolo_apps``,
so `huijia migrate` (and piccolo's own CLI) runs a capability's migrations with core's.
"""

from piccolo.conf.apps import AppRegistry

from core.db import build_engine
from core.registry import get_registry

DB = build_engine()

APP_REGISTRY = AppRegistry(apps=get_registry().piccolo_apps)

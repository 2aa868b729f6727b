"""The plugin system's constants (core version, entry-point group, core's own domain plugins) and errors."""

from __future__ import annotations

import logging
from typing import TypeVar

import msgspec

CORE_VERSION = "0.1.0"
ENTRY_POINT_GROUP = "huijia.plugins"
BUILTIN_PLUGIN = "builtin"
TRACE_ENV = "CORE_TRACE_HOOKS"
# Core's domains, registered as always-on plugins right after the built-in plugin. Named by string:
# this module imports no domain (the list is the composition root, like Django's INSTALLED_APPS).
CORE_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core.tenancy", "core.tenancy.plugin"),
    ("core.accounts", "core.accounts.plugin"),
    ("core.audit", "core.audit.plugin"),
    ("core.jobs", "core.jobs.plugin"),
    ("core.funds", "core.funds.plugin"),
    ("core.members", "core.members.plugin"),
    ("core.workflow", "core.workflow.plugin"),
    ("core.workers", "core.workers.plugin"),
    ("core.demo", "core.demo"),
)
CORE_PLUGIN_NAMES = frozenset(name for name, _ in CORE_PLUGINS)
# Comma-separated module paths of plugins to load besides the installed entry points (a plugin under
# development, or the test suite's capability). Same trust as installing a package.
EXTRA_PLUGINS_ENV = "HUIJIA_PLUGINS_EXTRA"

log = logging.getLogger("huijia.plugins")
trace_log = logging.getLogger("huijia.plugins.trace")

S = TypeVar("S", bound=msgspec.Struct)


class PluginError(Exception):
    """A plugin cannot be loaded: incompatible core version, bad ``PLUGIN``, unknown hook, ..."""


class PluginConfigError(PluginError):
    """A tenant's plugin settings are invalid. The message names the tenant, the plugin and the key."""

    def __init__(self, tenant: str, plugin: str, key: str | None, problem: str) -> None:
        self.tenant = tenant
        self.plugin = plugin
        self.key = key
        self.problem = problem
        where = f"tenant {tenant!r}: plugin {plugin!r}"
        if key is not None:
            where += f": setting {key!r}"
        super().__init__(f"{where}: {problem}")

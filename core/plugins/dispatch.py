"""Tenant-scoped hook dispatch: the hooks as one tenant sees them, and ``notify``."""

from __future__ import annotations

import inspect
import threading
import weakref
from typing import Any

import pluggy

from core.context import TenantContext
from core.plugins.base import (
    BUILTIN_PLUGIN,
    PluginError,
    log,
)
from core.plugins.discovery import (
    HostInfo,
    get_plugin_manager,
)

# -------------------------------------------------------------------------
# Tenant-scoped dispatch
# -------------------------------------------------------------------------


class TenantHooks:
    """``pm.hook`` minus every plugin the tenant has not enabled (the built-in plugin always stays).

    ``hooks_for(tenant).region_dibao_line(tenant=tenant, region_code=..., year=...)``. Call with
    keyword arguments only, as with any pluggy hook.
    """

    __slots__ = ("_all", "_callers", "_host", "_pm", "_remove", "capabilities", "enabled")

    def __init__(
        self, pm: pluggy.PluginManager, enabled: frozenset[str], capabilities: frozenset[str] = frozenset()
    ) -> None:
        registered = {name: plugin for name, plugin in pm.list_name_plugin() if plugin is not None}
        unknown = sorted(enabled - set(registered) - {BUILTIN_PLUGIN})
        if unknown:
            raise PluginError(f"enabled plugins are not installed: {', '.join(unknown)}")
        self._pm = pm
        self._host = HostInfo(pm)
        self.enabled = enabled
        self.capabilities = capabilities
        self._remove = [
            p for n, p in registered.items() if not self._host.plugin_active(n, enabled, capabilities)
        ]
        self._all = list(registered.values())
        self._callers: dict[str, pluggy.HookCaller] = {}

    def __getattr__(self, name: str) -> pluggy.HookCaller:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._callers[name]
        except KeyError:
            pass
        if not hasattr(self._pm.hook, name):
            raise AttributeError(f"no hook named {name!r}")
        capability = self._host.hook_capability.get(name)
        # A capability's own hooks answer nothing for a tenant that has not enabled the capability.
        remove = self._all if capability is not None and capability not in self.capabilities else self._remove
        caller = self._pm.subset_hook_caller(name, remove_plugins=remove)
        self._callers[name] = caller
        return caller

    def __repr__(self) -> str:
        return f"<TenantHooks enabled={sorted(self.enabled)} capabilities={sorted(self.capabilities)}>"


# pm -> (snapshot of registered plugins, {enabled set: TenantHooks}). The snapshot makes a cached view
# stale as soon as a plugin is registered or unregistered: subset_hook_caller only filters out the
# plugins it was told about, so a plugin registered later would otherwise leak into every tenant.
_hooks_cache: weakref.WeakKeyDictionary[
    pluggy.PluginManager,
    tuple[frozenset[tuple[str, int]], dict[tuple[frozenset[str], frozenset[str]], TenantHooks]],
] = weakref.WeakKeyDictionary()
_hooks_lock = threading.Lock()


def hooks_for(tenant: TenantContext, pm: pluggy.PluginManager | None = None) -> TenantHooks:
    """The hooks as ``tenant`` sees them: the built-in plugin, core's domains, ``tenant.plugins`` and
    the capability plugins of ``tenant.capabilities``; a capability's own hooks only when enabled.

    Views are cached per set of enabled plugins and capabilities, so tenants alike share one.
    :raises PluginError: The tenant enables a plugin that is not installed.
    """
    pm = pm or get_plugin_manager()
    enabled = frozenset(tenant.plugins)
    capabilities = frozenset(tenant.capabilities)
    snapshot = frozenset((n, id(p)) for n, p in pm.list_name_plugin() if p is not None)
    with _hooks_lock:
        cached = _hooks_cache.get(pm)
        if cached is None or cached[0] != snapshot:
            cached = (snapshot, {})
            _hooks_cache[pm] = cached
        views = cached[1]
        view = views.get((enabled, capabilities))
        if view is None:
            view = views[(enabled, capabilities)] = TenantHooks(pm, enabled, capabilities)
        return view


async def notify(
    tenant: TenantContext, hook: str, /, pm: pluggy.PluginManager | None = None, **kwargs: Any
) -> None:
    """Call an ``on_<event>`` hook for ``tenant`` and await whatever the implementations return.

    Notifications may be ``async def`` (to ``await enqueue(...)``); pluggy cannot await, so each
    returned awaitable is awaited here, one at a time. Errors are logged with the plugin's function
    name and swallowed: the event has already happened (it is called after commit) and one plugin's
    failure must neither undo it nor stop the other plugins' coroutines. A *synchronous* exception
    stops pluggy's loop over the remaining implementations, so sync implementations should not raise.

    ``await notify(tenant, "on_member_joined", member=member)``
    """
    if not hook.startswith("on_"):
        raise ValueError(f"notify() is for on_* hooks, not {hook!r}")
    caller = getattr(hooks_for(tenant, pm), hook)
    try:
        results = caller(tenant=tenant, **kwargs)
    except Exception:
        log.exception("hook %s failed for tenant %s", hook, tenant.code)
        return
    for result in results:
        if not inspect.isawaitable(result):
            continue
        try:
            await result
        except Exception:
            where = getattr(result, "__qualname__", type(result).__name__)
            log.exception("hook %s: %s failed for tenant %s", hook, where, tenant.code)

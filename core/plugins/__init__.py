"""Plugin discovery, version checks, per-tenant dispatch and per-tenant settings.

- The built-in plugin (:mod:`core.builtin_hooks`, name ``"builtin"``) is registered first and carries
  the national (全总) defaults. Province plugins are separate packages found through the entry-point
  group ``huijia.plugins``, exactly as a third party's would be; they register later, so under
  pluggy's LIFO order they answer before the built-in plugin.
- Each plugin module exposes ``PLUGIN = PluginInfo(...)``; ``min_core``/``max_core`` are checked
  against :data:`CORE_VERSION` before the plugin is registered, and ``pm.check_pending()`` rejects
  implementations of hooks that do not exist (usually a typo).
- :func:`hooks_for` returns the hooks as one tenant sees them: the built-in plugin plus the plugins
  that tenant enables, and nothing else (pytest's ``FSHookProxy`` idea, via ``subset_hook_caller``).
- :func:`validate_plugin_settings` checks a tenant manifest's ``[settings.<name>]`` tables against
  each plugin's msgspec schema and fills defaults; :func:`tenant_settings` gives a plugin its typed
  settings back at call time.
- Core's own domains are plugins too (:data:`CORE_PLUGINS`, named ``core.<domain>``, always on): they
  contribute their GraphQL, jobs, cron, CLI commands, piccolo apps and start-up checks through the
  same ``register_*`` hooks as a capability plugin, so the generic infrastructure imports no domain.
- ``register_hookspecs`` adds a capability's own hook contract after every plugin is registered;
  pluggy then validates the province plugins' implementations of it. ``hooks_for`` calls a
  capability's hooks (and the capability plugin itself) only for tenants that enable the capability.
- :func:`notify` calls an ``on_<event>`` hook for a tenant and awaits async implementations.
- ``CORE_TRACE_HOOKS=1`` logs every hook call (hook name, tenant code, implementing plugins, result
  type and duration) on the ``huijia.plugins.trace`` logger, never argument values, which may be
  personal data.

The package: ``base`` (constants and errors), ``discovery`` (versions, discovery, registration,
hook contracts), ``dispatch`` (per-tenant hook calling) and ``settings`` (typed per-tenant settings).
"""

from core.interface import PluginInfo
from core.plugins.base import (
    BUILTIN_PLUGIN,
    CORE_PLUGIN_NAMES,
    CORE_PLUGINS,
    CORE_VERSION,
    ENTRY_POINT_GROUP,
    EXTRA_PLUGINS_ENV,
    TRACE_ENV,
    PluginConfigError,
    PluginError,
)
from core.plugins.discovery import (
    HostInfo,
    HuijiaPluginManager,
    available_plugins,
    build_plugin_manager,
    capability_settings_schemas,
    check_contracts,
    check_core_compat,
    discover_plugins,
    get_plugin_manager,
    host_info,
    installed_contracts,
    plugin_info,
    register_test_plugin,
)
from core.plugins.discovery import (
    _spec_modules as _spec_modules,  # the contract test inspects the registry of hook contracts
)
from core.plugins.dispatch import (
    TenantHooks,
    hooks_for,
    notify,
)
from core.plugins.settings import (
    tenant_settings,
    validate_plugin_settings,
)

__all__ = [
    "BUILTIN_PLUGIN",
    "CORE_PLUGINS",
    "EXTRA_PLUGINS_ENV",
    "HostInfo",
    "HuijiaPluginManager",
    "check_contracts",
    "installed_contracts",
    "host_info",
    "CORE_VERSION",
    "ENTRY_POINT_GROUP",
    "PluginConfigError",
    "PluginError",
    "PluginInfo",
    "TenantHooks",
    "available_plugins",
    "build_plugin_manager",
    "check_core_compat",
    "discover_plugins",
    "get_plugin_manager",
    "hooks_for",
    "notify",
    "plugin_info",
    "register_test_plugin",
    "tenant_settings",
    "validate_plugin_settings",
    "CORE_PLUGIN_NAMES",
    "TRACE_ENV",
    "capability_settings_schemas",
]

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
"""

from __future__ import annotations

import collections.abc
import functools
import importlib.metadata
import inspect
import logging
import os
import threading
import time
import types
import typing
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import msgspec
import pluggy

from core import hookspecs
from core.context import TenantContext
from core.interface import PluginInfo

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
]

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


# -------------------------------------------------------------------------
# Versions
# -------------------------------------------------------------------------


def _parse_version(text: str) -> tuple[int, ...]:
    # Plain dotted integers are all we need; pre-release suffixes ("0.2.0rc1") count as their base.
    parts: list[int] = []
    for piece in text.strip().split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            raise PluginError(f"cannot parse version {text!r}")
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def check_core_compat(info: PluginInfo, core_version: str = CORE_VERSION) -> None:
    """Raise :class:`PluginError` unless ``core_version`` lies within the plugin's declared bounds.

    ``min_core`` is inclusive. ``max_core`` is inclusive at the precision written: ``"0.1"`` admits
    0.1.0 … 0.1.99, and ``"1"`` admits every 1.x.
    """
    core = _parse_version(core_version)
    low = _parse_version(info.min_core)
    width = max(len(core), len(low))
    if core + (0,) * (width - len(core)) < low + (0,) * (width - len(low)):
        raise PluginError(
            f"plugin {info.name!r} {info.version} needs core >= {info.min_core}, but this is core "
            f"{core_version}; upgrade Huijia or install an older {info.name!r}"
        )
    if info.max_core is not None:
        high = _parse_version(info.max_core)
        if core[: len(high)] + (0,) * (len(high) - len(core)) > high:
            raise PluginError(
                f"plugin {info.name!r} {info.version} supports core up to {info.max_core}, but this is core "
                f"{core_version}; upgrade the plugin"
            )


# -------------------------------------------------------------------------
# Discovery and registration
# -------------------------------------------------------------------------


class EntryPointLike(Protocol):
    name: str

    def load(self) -> Any: ...


def plugin_info(plugin: object) -> PluginInfo | None:
    """The ``PLUGIN`` declaration of a registered plugin object, or ``None`` for bare test plugins."""
    info = getattr(plugin, "PLUGIN", None)
    return info if isinstance(info, PluginInfo) else None


def discover_plugins(entry_points: Iterable[EntryPointLike] | None = None) -> list[object]:
    """Load the province plugins installed under the ``huijia.plugins`` entry-point group.

    Each entry point must load a module (or object) whose ``PLUGIN.name`` equals the entry-point
    name, because the name is how tenant manifests refer to it.
    """
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    plugins: list[object] = []
    for ep in sorted(entry_points, key=lambda e: e.name):  # sorted: a deterministic LIFO order
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(f"plugin {ep.name!r}: cannot import its module: {exc!r}") from exc
        info = plugin_info(plugin)
        if info is None:
            raise PluginError(f"plugin {ep.name!r}: module has no PLUGIN = PluginInfo(...)")
        if info.name != ep.name:
            raise PluginError(
                f"plugin {ep.name!r}: PLUGIN.name is {info.name!r}; it must equal the entry-point name"
            )
        plugins.append(plugin)
    return plugins


def extra_plugins(value: str | None = None) -> list[object]:
    """The plugin modules named in ``HUIJIA_PLUGINS_EXTRA`` (comma-separated dotted paths)."""
    import importlib

    value = os.environ.get(EXTRA_PLUGINS_ENV, "") if value is None else value
    found: list[object] = []
    for path in (p.strip() for p in value.split(",")):
        if not path:
            continue
        try:
            module = importlib.import_module(path)
        except Exception as exc:
            raise PluginError(f"plugin module {path!r} ({EXTRA_PLUGINS_ENV}): cannot import it: {exc!r}") from exc
        if plugin_info(module) is None:
            raise PluginError(f"plugin module {path!r} ({EXTRA_PLUGINS_ENV}): has no PLUGIN = PluginInfo(...)")
        found.append(module)
    return found


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None, core_version: str) -> str:
    info = plugin_info(plugin)
    if info is not None:
        if name is not None and name != info.name:
            raise PluginError(f"plugin {info.name!r} cannot be registered as {name!r}")
        check_core_compat(info, core_version)
        name = info.name
    if name is None:
        raise PluginError(f"plugin {plugin!r} has no PLUGIN and no name was given")
    try:
        pm.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    # pluggy is synchronous: an async implementation returns a coroutine. For a firstresult hook that
    # coroutine is a non-None "answer" that wins every call without ever running; for a collecting hook
    # the caller would find a coroutine where it expects a list. Only on_* notifications, which
    # core.plugins.notify awaits, may be async. Refuse the rest at load rather than debug it later.
    for caller in pm.get_hookcallers(plugin) or ():
        if caller.name.startswith("on_"):
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and inspect.iscoroutinefunction(impl.function):
                pm.unregister(plugin)
                raise PluginError(
                    f"plugin {name!r}: {caller.name} must be a plain def, not async def "
                    f"(only on_* notification hooks may be async)"
                )
    return name


def _install_tracing(pm: pluggy.PluginManager) -> Callable[[], None]:
    local = threading.local()

    def before(hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        stack = getattr(local, "stack", None)
        if stack is None:
            stack = local.stack = []
        stack.append(time.perf_counter())

    def after(
        outcome: pluggy.Result[Any],
        hook_name: str,
        hook_impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        elapsed_ms = (time.perf_counter() - local.stack.pop()) * 1000
        # Only the tenant's code is logged: argument values may hold ID numbers, phones or incomes.
        tenant = getattr(kwargs.get("tenant"), "code", None)
        plugins = ",".join(impl.plugin_name for impl in hook_impls)
        if outcome.exception is not None:
            result = f"raised {type(outcome.exception).__name__}"
        else:
            value = outcome.get_result()
            result = f"list[{len(value)}]" if isinstance(value, list) else type(value).__name__
        trace_log.info(
            "hook %s tenant=%s plugins=[%s] -> %s in %.3f ms", hook_name, tenant, plugins, result, elapsed_ms
        )

    return pm.add_hookcall_monitoring(before, after)


def build_plugin_manager(
    plugins: Iterable[object] | None = None,
    *,
    core_version: str = CORE_VERSION,
    trace: bool | None = None,
    core: bool = True,
) -> pluggy.PluginManager:
    """Build a plugin manager: hook specs, the built-in plugin, then ``plugins``.

    :param plugins: Plugin objects (normally modules) exposing ``PLUGIN``; ``None`` discovers the
        installed entry points. Tests pass a list to get a fresh manager with just their plugin.
    :param core_version: The core version plugins are checked against.
    :param trace: Log hook calls; ``None`` reads the ``CORE_TRACE_HOOKS`` environment variable.
    :param core: Register core's domain plugins (:data:`CORE_PLUGINS`); hook-only tests may skip them.
    :raises PluginError: A plugin is incompatible, malformed, or implements an unknown hook.
    """
    import importlib

    pm = HuijiaPluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    # By name, like the domains: builtin_hooks imports this module for tenant_settings.
    _register(pm, importlib.import_module("core.builtin_hooks"), BUILTIN_PLUGIN, core_version)
    if core:
        for name, path in CORE_PLUGINS:
            _register(pm, importlib.import_module(path), name, core_version)
    if plugins is None:
        plugins = [*discover_plugins(), *extra_plugins()]
    for plugin in plugins:
        _register(pm, plugin, None, core_version)
    _add_capability_specs(pm, [p for _, p in pm.list_name_plugin() if p is not None])
    _check_pending(pm)
    check_contracts(pm)
    if trace is None:
        trace = os.environ.get(TRACE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    if trace:
        _install_tracing(pm)
    return pm


class HuijiaPluginManager(pluggy.PluginManager):
    """pluggy's manager plus renamed hook arguments (:func:`core.hookspecs.renamed_arg`).

    pluggy passes arguments to implementations by the names in their signatures and refuses a name
    the spec lacks. When the spec declares ``old -> new``, an implementation still using ``old`` is
    rewritten before that check to receive ``new``'s value in ``old``'s position (pluggy calls
    implementations positionally, in ``argnames`` order), and a ``DeprecationWarning`` names the
    plugin, the hook and the argument. pluggy verifies every implementation through ``_verify_hook``,
    both at ``register`` and when a capability's specs arrive later with ``add_hookspecs``.
    """

    def _verify_hook(self, hook: pluggy.HookCaller, hookimpl: pluggy.HookImpl) -> None:
        spec = hook.spec
        renames = getattr(spec.function, hookspecs.RENAMED_ATTR, ()) if spec is not None else ()
        if renames:
            _apply_renames(hook.name, hookimpl, renames, contract_of(spec.namespace))
        super()._verify_hook(hook, hookimpl)


def _apply_renames(hook: str, hookimpl: pluggy.HookImpl, renames: Sequence[Any], contract: Any) -> None:
    import warnings

    argnames = list(hookimpl.argnames)
    for r in renames:
        if r.old not in argnames:
            continue
        if r.new in argnames:
            raise pluggy.PluginValidationError(
                hookimpl.plugin, f"{hook}() takes both {r.old!r} and its new name {r.new!r}"
            )
        argnames[argnames.index(r.old)] = r.new
        where = f" in contract {contract.name} {r.since}" if contract is not None else f" in {r.since}"
        code = getattr(hookimpl.function, "__code__", None)
        message = (
            f"plugin {hookimpl.plugin_name!r}: hook {hook}(): argument {r.old!r} was renamed {r.new!r}{where}; "
            f"rename it in the implementation (the old name will stop working at the next major version)"
        )
        # Logged as well: Python hides DeprecationWarning outside __main__ by default, and the operator
        # starting the platform should see which plugin needs an update.
        log.warning("%s", message)
        warnings.warn_explicit(
            message,
            DeprecationWarning,
            filename=code.co_filename if code else "<plugin>",
            lineno=code.co_firstlineno if code else 0,
            module=getattr(hookimpl.function, "__module__", None),
        )
    hookimpl.argnames = tuple(argnames)


def contract_of(module: object) -> Any:
    """The ``CONTRACT`` a hookspec module (or class) declares, or ``None``."""
    from core.interface import ContractVersion

    found = getattr(module, "CONTRACT", None)
    return found if isinstance(found, ContractVersion) else None


def installed_contracts(pm: pluggy.PluginManager) -> dict[str, Any]:
    """Every hook contract this manager knows, by name: core's and each capability's (``ContractVersion``)."""
    found = {hookspecs.CONTRACT.name: hookspecs.CONTRACT}
    for module in _spec_modules.get(pm, ()):
        contract = contract_of(module)
        if contract is not None:
            found[contract.name] = contract
    return found


def check_contracts(pm: pluggy.PluginManager) -> None:
    """Refuse a plugin written against a contract version this host does not provide.

    The plugin's major must equal the contract's, and its minor must not be newer: a plugin for
    ``huijia.core 0.1`` loads on a 0.2 host (minors only add), one for 0.3 or 1.0 does not.
    """
    from core.interface import parse_contract_version

    contracts = installed_contracts(pm)
    for name, plugin in pm.list_name_plugin():
        info = plugin_info(plugin) if plugin is not None else None
        if info is None:
            continue
        for contract_name, wanted in dict(info.contracts).items():
            spec = contracts.get(contract_name)
            if spec is None:
                known = ", ".join(sorted(contracts))
                raise PluginError(
                    f"plugin {name!r} implements contract {contract_name!r} {wanted}, which no installed plugin "
                    f"provides (installed contracts: {known}); install the capability plugin that declares it"
                )
            try:
                major, minor = parse_contract_version(wanted)
            except ValueError as exc:
                raise PluginError(f"plugin {name!r}: contract {contract_name!r}: {exc}") from None
            if major != spec.major:
                raise PluginError(
                    f"plugin {name!r} implements contract {contract_name!r} {wanted}, but this host provides "
                    f"{spec.version} (a different major version); update the plugin to {contract_name} "
                    f"{spec.major}.x"
                )
            if minor > spec.minor:
                raise PluginError(
                    f"plugin {name!r} implements contract {contract_name!r} {wanted}, newer than this host's "
                    f"{spec.version}; upgrade Huijia (or the capability plugin) or install an older {name!r}"
                )


def _check_pending(pm: pluggy.PluginManager) -> None:
    """Refuse an implementation of a hook no spec declares, naming the plugin (pluggy names only the hook)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {_name_of(pm, exc.plugin)!r}: {exc}") from exc


def _name_of(pm: pluggy.PluginManager, plugin: object) -> str:
    return pm.get_name(plugin) or repr(plugin)


def _single_result(impl: pluggy.HookImpl, hook: str) -> Any:
    # register_* hooks take no arguments; calling each implementation ourselves tells us whose result it is.
    return impl.function()


def _add_capability_specs(pm: pluggy.PluginManager, plugins: Sequence[object]) -> None:
    """Add the hook specs ``plugins`` return from ``register_hookspecs``.

    ``add_hookspecs`` verifies the implementations already registered against each new spec (argument
    names), so a province plugin registered before the capability is checked too; ``check_pending``
    afterwards refuses implementations no spec declares.
    """
    caller = pm.hook.register_hookspecs
    for impl in reversed(caller.get_hookimpls()):
        if impl.plugin not in plugins:
            continue
        for module in _single_result(impl, "register_hookspecs") or ():
            try:
                pm.add_hookspecs(module)
            except pluggy.PluginValidationError as exc:
                raise PluginError(
                    f"plugin {_name_of(pm, exc.plugin)!r}: {exc} (spec from plugin {impl.plugin_name!r})"
                ) from exc
            except ValueError as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: hook specs in {getattr(module, '__name__', module)!r}: {exc}"
                ) from exc
            # A plugin providing several capabilities names the one a spec module belongs to
            # with a module-level CAPABILITY = "code".
            _spec_owner.setdefault(pm, {}).update(
                {name: (impl.plugin_name, getattr(module, "CAPABILITY", None)) for name in _spec_names(module)}
            )
            contract = contract_of(module)
            if contract is None:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: hook specs in {getattr(module, '__name__', module)!r} declare no "
                    f"CONTRACT = ContractVersion(\"<capability>\", \"1.0\")"
                )
            if contract.name == hookspecs.CONTRACT.name:
                raise PluginError(f"plugin {impl.plugin_name!r}: contract name {contract.name!r} is core's")
            owners = _contract_owner.setdefault(pm, {})
            if owners.get(contract.name, impl.plugin_name) != impl.plugin_name:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: contract {contract.name!r} is already declared by plugin "
                    f"{owners[contract.name]!r}"
                )
            owners[contract.name] = impl.plugin_name
            _spec_modules.setdefault(pm, []).append(module)


def _spec_names(module: object) -> list[str]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return [name for name in dir(module) if getattr(getattr(module, name, None), marker, None) is not None]


# pm -> {capability hook name: (the plugin whose register_hookspecs declared it, the module's CAPABILITY)}
_spec_owner: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, tuple[str, str | None]]] = (
    weakref.WeakKeyDictionary()
)
# pm -> the capability hookspec modules added, and {contract name: the plugin declaring it}
_spec_modules: weakref.WeakKeyDictionary[pluggy.PluginManager, list[object]] = weakref.WeakKeyDictionary()
_contract_owner: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, str]] = weakref.WeakKeyDictionary()


class HostInfo:
    """Which plugins are capability plugins, and which hooks belong to which capability."""

    __slots__ = ("always_on", "capabilities_of", "hook_capability")

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.capabilities_of: dict[str, tuple[str, ...]] = {}
        for impl in pm.hook.register_capabilities.get_hookimpls():
            codes = tuple(c.code for c in _single_result(impl, "register_capabilities") or ())
            if codes:
                self.capabilities_of[impl.plugin_name] = codes
        self.always_on = frozenset({BUILTIN_PLUGIN, *CORE_PLUGIN_NAMES})
        self.hook_capability: dict[str, str] = {}
        for hook, (owner, declared) in _spec_owner.get(pm, {}).items():
            codes = self.capabilities_of.get(owner, ())
            if declared is not None and declared in codes:
                self.hook_capability[hook] = declared
            elif len(codes) == 1:
                self.hook_capability[hook] = codes[0]
            elif codes:
                raise PluginError(
                    f"plugin {owner!r}: provides several capabilities ({', '.join(codes)}); its hook spec "
                    f"module declaring {hook!r} must set CAPABILITY = one of them"
                )

    def plugin_active(self, name: str, plugins: frozenset[str], capabilities: frozenset[str]) -> bool:
        if name in self.always_on:
            return True
        codes = self.capabilities_of.get(name)
        if codes is not None:  # a capability plugin: on for tenants enabling any of its capabilities
            return bool(capabilities.intersection(codes))
        return name in plugins


def capability_settings_schemas(pm: pluggy.PluginManager | None = None) -> dict[str, type[msgspec.Struct] | None]:
    """Every installed capability's settings schema by code."""
    pm = pm or get_plugin_manager()
    found: dict[str, type[msgspec.Struct] | None] = {}
    for impl in pm.hook.register_capabilities.get_hookimpls():
        for info in _single_result(impl, "register_capabilities") or ():
            found[info.code] = info.settings_schema
    return found


def host_info(pm: pluggy.PluginManager | None = None) -> HostInfo:
    return HostInfo(pm or get_plugin_manager())


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (built once: built-in plugin plus installed entry points)."""
    pm = build_plugin_manager()
    log.info("plugins loaded: %s", ", ".join(name for name, _ in pm.list_name_plugin()))
    return pm


def available_plugins(pm: pluggy.PluginManager | None = None) -> dict[str, PluginInfo]:
    """Every registered plugin's ``PLUGIN`` declaration by name, including ``"builtin"``."""
    pm = pm or get_plugin_manager()
    found: dict[str, PluginInfo] = {}
    for name, plugin in pm.list_name_plugin():
        info = plugin_info(plugin) if plugin is not None else None
        if info is not None:
            found[name] = info
    return found


def register_test_plugin(
    plugin: object, name: str | None = None, *, pm: pluggy.PluginManager | None = None
) -> Callable[[], None]:
    """Register an extra plugin (a test double) and return a function that unregisters it.

    Like every non-built-in plugin, it is only called for tenants whose ``plugins`` name it.
    ``name`` is needed only when the object has no ``PLUGIN``. Cached :func:`hooks_for` views
    are rebuilt automatically, because the cache key includes the set of registered plugins.
    """
    pm = pm or get_plugin_manager()
    _register(pm, plugin, name, CORE_VERSION)
    try:
        _add_capability_specs(pm, [plugin])
        _check_pending(pm)
        check_contracts(pm)
    except PluginError:
        pm.unregister(plugin)
        raise

    def unregister() -> None:
        if pm.is_registered(plugin):
            pm.unregister(plugin)

    return unregister


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


# -------------------------------------------------------------------------
# Settings
# -------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Mapping):
        return "table"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _clean_msgspec_message(message: str) -> str:
    # "Expected `int`, got `str` - at `$.dibao`" -> "expected int, got str"; we report the path ourselves.
    message = message.split(" - at `", 1)[0].replace("`", "")
    return message[:1].lower() + message[1:]


def _leaf_problem(value: object, tp: Any) -> str | None:
    try:
        msgspec.convert(value, tp)
    except msgspec.ValidationError as exc:
        return _clean_msgspec_message(str(exc))
    return None


def _find_problem(value: object, tp: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """Walk ``value`` against type ``tp`` and return (path, problem) for the first invalid part.

    msgspec reports dict values as ``$.dibao[...]`` without the key, which is exactly the part an
    operator needs in order to fix a manifest; so on failure we re-walk the value ourselves.
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        found = _find_problem(value, args[0], path)
        if found:
            return found
        problem = _leaf_problem(value, tp)  # the Meta constraints (ranges, patterns)
        return (path, problem) if problem else None
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if not isinstance(value, Mapping):
            return path, f"expected table, got {_type_name(value)}"
        fields = {f.encode_name: f for f in msgspec.structs.fields(tp)}
        for key in value:
            if key not in fields:
                return (*path, str(key)), f"unknown setting (known: {', '.join(sorted(fields))})"
        for key, f in fields.items():
            if key not in value:
                if f.required:
                    return (*path, key), "missing required setting"
                continue
            found = _find_problem(value[key], f.type, (*path, key))
            if found:
                return found
        problem = _leaf_problem(value, tp)  # cross-field checks in __post_init__
        return (path, problem) if problem else None
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, Mapping):
            return path, f"expected table, got {_type_name(value)}"
        key_type, value_type = args or (Any, Any)
        for key, item in value.items():
            problem = _leaf_problem(key, key_type)
            if problem:
                return (*path, str(key)), f"invalid key: {problem}"
            found = _find_problem(item, value_type, (*path, str(key)))
            if found:
                return found
        return None
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence):
        if not isinstance(value, (list, tuple)):
            return path, f"expected array, got {_type_name(value)}"
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            problem = _leaf_problem(value, tp)
            return (path, problem) if problem else None
        item_type = args[0] if args else Any
        for index, item in enumerate(value):
            found = _find_problem(item, item_type, (*path, str(index)))
            if found:
                return found
        return None
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if value is None and len(non_none) != len(args):
            return None
        if len(non_none) == 1:
            return _find_problem(value, non_none[0], path)
    problem = _leaf_problem(value, tp)
    return (path, problem) if problem else None


def _convert_settings(tenant_code: str, plugin: str, raw: object, schema: type[S]) -> S:
    try:
        return msgspec.convert(raw, schema)
    except msgspec.ValidationError as exc:
        found = _find_problem(raw, schema, ())
        if found is None:  # the walker disagrees with msgspec; still fail, with msgspec's words
            found = ((), _clean_msgspec_message(str(exc)))
        path, problem = found
        raise PluginConfigError(tenant_code, plugin, ".".join(path) if path else None, problem) from exc


def validate_plugin_settings(
    tenant_code: str,
    plugins: Sequence[str],
    settings: Mapping[str, Mapping[str, Any]],
    *,
    available: Mapping[str, PluginInfo] | None = None,
    capabilities: Sequence[str] = (),
    capability_schemas: Mapping[str, type[msgspec.Struct] | None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Check a tenant manifest's plugin list and settings; return every plugin's settings with defaults.

    ``settings`` is the manifest's ``[settings.<name>]`` tables. ``"builtin"`` may always be configured
    (it is always enabled); any other name must be installed and listed in ``plugins``. The result
    holds one entry per enabled plugin plus ``"builtin"``, as JSON-compatible data (dates become ISO
    strings, which the schemas accept back), ready to store and to put in ``TenantContext.settings``.

    ``[settings.<capability>]`` may configure an enabled capability (``capabilities``), checked
    against its ``CapabilityInfo.settings_schema``.

    :raises PluginConfigError: Unknown plugin, unknown setting, or a value of the wrong type; the
        message names the tenant, the plugin and the setting's dotted path.
    """
    available = available if available is not None else available_plugins()
    if capabilities:
        schemas = capability_schemas if capability_schemas is not None else capability_settings_schemas()
        # A capability's settings table is validated like a plugin's; the capability code is its key.
        available = {**available, **{
            code: PluginInfo(name=code, province_code=None, version=CORE_VERSION, min_core=CORE_VERSION,
                             settings_schema=schemas.get(code))
            for code in capabilities if code in schemas
        }}
        plugins = [*plugins, *(c for c in capabilities if c in schemas)]
    enabled = list(dict.fromkeys([BUILTIN_PLUGIN, *plugins]))
    for name in enabled:
        if name not in available:
            raise PluginConfigError(
                tenant_code, name, None, f"not installed (installed: {', '.join(sorted(available))})"
            )
    for name in settings:
        if name not in available:
            raise PluginConfigError(
                tenant_code,
                name,
                None,
                f"settings given for a plugin that is not installed "
                f"(installed: {', '.join(sorted(available))})",
            )
        if name not in enabled:
            raise PluginConfigError(
                tenant_code, name, None, "settings given for a plugin the tenant does not enable"
            )
    result: dict[str, dict[str, Any]] = {}
    for name in enabled:
        raw = settings.get(name, {})
        schema = available[name].settings_schema
        if schema is None:
            if raw:
                key = next(iter(raw)) if isinstance(raw, Mapping) else None
                raise PluginConfigError(tenant_code, name, key, "this plugin takes no settings")
            result[name] = {}
            continue
        typed = _convert_settings(tenant_code, name, raw, schema)
        result[name] = msgspec.to_builtins(typed)
    return result


_settings_cache: dict[tuple[str, type[Any], int], tuple[object, Any]] = {}
_defaults_cache: dict[type[Any], Any] = {}
_SETTINGS_CACHE_SIZE = 1024
_settings_lock = threading.Lock()


def tenant_settings(tenant: TenantContext, plugin: str, schema: type[S]) -> S:
    """A plugin's settings for ``tenant`` as its typed msgspec Struct.

    Hooks call this on every invocation, so conversions are cached by the identity of the tenant's
    settings mapping (which is treated as immutable once it is in a ``TenantContext``). A tenant
    without settings for the plugin gets the schema's defaults.
    """
    raw = tenant.settings.get(plugin)
    if not raw:
        default = _defaults_cache.get(schema)
        if default is None:
            default = _defaults_cache[schema] = _convert_settings(tenant.code, plugin, {}, schema)
        return typing.cast(S, default)
    key = (plugin, schema, id(raw))
    hit = _settings_cache.get(key)
    if hit is not None and hit[0] is raw:  # identity check: ids are reused once objects die
        return typing.cast(S, hit[1])
    typed = _convert_settings(tenant.code, plugin, raw, schema)
    with _settings_lock:  # jobs may run hooks in threads; evicting while another thread inserts would raise
        if len(_settings_cache) >= _SETTINGS_CACHE_SIZE:
            _settings_cache.pop(next(iter(_settings_cache)))
        # Holding `raw` keeps its id from being reused while the entry lives.
        _settings_cache[key] = (raw, typed)
    return typed

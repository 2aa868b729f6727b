"""Plugin versions, discovery and registration: the plugin manager, capability hook contracts and host info."""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec
import pluggy

from core import hookspecs
from core.interface import PluginInfo
from core.plugins.base import (
    BUILTIN_PLUGIN,
    CORE_PLUGIN_NAMES,
    CORE_PLUGINS,
    CORE_VERSION,
    ENTRY_POINT_GROUP,
    EXTRA_PLUGINS_ENV,
    TRACE_ENV,
    PluginError,
    log,
    trace_log,
)

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
        if spec is not None and renames:
            _apply_renames(hook.name, hookimpl, renames, contract_of(spec.namespace))
        moved = getattr(spec.function, hookspecs.DEPRECATED_ATTR, None) if spec is not None else None
        if moved is not None and hookimpl.plugin_name not in moved[2]:
            _warn_deprecated(hook.name, hookimpl, moved[0], moved[1])
        super()._verify_hook(hook, hookimpl)


def _warn_deprecated(hook: str, hookimpl: pluggy.HookImpl, replacement: str, since: str) -> None:
    import warnings

    code = getattr(hookimpl.function, "__code__", None)
    message = (f"plugin {hookimpl.plugin_name!r}: hook {hook}() is deprecated since huijia.core {since}; implement "
               f"{replacement} instead (the old hook is still called until the next major version)")
    log.warning("%s", message)
    warnings.warn_explicit(message, DeprecationWarning, filename=code.co_filename if code else "<plugin>",
                           lineno=code.co_firstlineno if code else 0,
                           module=getattr(hookimpl.function, "__module__", None))


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
    hookimpl.argnames = tuple(argnames)  # type: ignore[misc]  # Final to pluggy; the rename must reach the call


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

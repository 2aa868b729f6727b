"""The capability host: everything plugins register at start-up, collected once, checked once.

Core's own domains and every plugin contribute through the same ``register_*`` hooks
(``core/hookspecs.py``); this module calls each implementation separately, so every result is
attributed to the plugin that returned it, and refuses conflicts naming both plugins:

- ``capabilities``: code -> :class:`Capability` (label, settings schema, owning plugin);
- ``permissions``: action -> roles (core's table is one contribution among others);
- ``jobs``: job name -> function, namespaced ``"<plugin>.<name>"`` for non-core plugins;
- ``cron``: arq ``CronJob`` objects for the worker and the embedded scheduler;
- ``cli``: functions adding ``huijia`` subcommands;
- ``piccolo_apps``: app modules for ``huijia migrate`` and ``piccolo_conf.APP_REGISTRY``;
- ``graphql``: contributions with their gating capability resolved (the schema merges them);
- ``startup_checks``: async checks the web app and the worker run before serving;
- ``routes`` and ``shutdown``: HTTP handlers beside ``/graphql`` (``routes_by_plugin`` keeps their
  owners, so the app can fence a capability's routes) and async shutdown functions.
- ``demo_data``: async seeders ``huijia demo`` runs on the embedded default.
- ``encrypted_columns`` and ``indexed_columns``: every column holding keyring-encrypted PII or a
  blind index, which ``huijia keys rotate`` / ``rotate-index`` walk.
- ``file_stores``: area -> ``core.files.FileStore`` of every encrypted file area (backups, exports).

Each section is computed on first use (the permission table is needed while GraphQL modules are
still being imported, so it cannot wait for the GraphQL section); :meth:`Registry.check` computes
them all, which start-up does so that a bad plugin stops the process before anything serves.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pluggy

from core.interface import (
    CapabilityInfo,
    EncryptedColumn,
    GraphQLContribution,
    IndexedColumn,
    NodeInfo,
    PluginInfo,
    Role,
)
from core.plugins import (
    BUILTIN_PLUGIN,
    CORE_PLUGIN_NAMES,
    PluginConfigError,
    PluginError,
    available_plugins,
    get_plugin_manager,
)

__all__ = ["Capability", "Registry", "build_registry", "get_registry", "job_name_for"]


@dataclass(frozen=True, slots=True)
class Capability:
    info: CapabilityInfo
    plugin: str  # the capability plugin that provides it

    @property
    def code(self) -> str:
        return self.info.code

    @property
    def label_zh(self) -> str:
        return self.info.label_zh


@dataclass(frozen=True, slots=True)
class Contribution:
    plugin: str
    graphql: GraphQLContribution  # with ``capability`` resolved (None = always on)


def _is_core(plugin: str) -> bool:
    return plugin == BUILTIN_PLUGIN or plugin in CORE_PLUGIN_NAMES


def job_name_for(plugin: str, fn: Callable[..., Any]) -> str:
    """The name a plugin's job is registered under: ``"<plugin>.<name>"`` (core keeps its names)."""
    base = getattr(fn, "job_name", None) or getattr(fn, "__name__", None)
    if not base:
        raise PluginError(f"plugin {plugin!r}: job {fn!r} has neither job_name nor __name__")
    if _is_core(plugin) or base.startswith(f"{plugin}."):
        return str(base)
    return f"{plugin}.{base}"


def _role(plugin: str, action: str, value: object) -> Role:
    if isinstance(value, Role):
        return value
    if isinstance(value, enum.Enum):  # another Role-like enum: match by value
        value = value.value
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise PluginError(f"plugin {plugin!r}: permission {action!r}: unknown role {value!r} (known: {known})") from None


class Registry:
    """What the plugins of one plugin manager registered. Use :func:`get_registry` for the process's."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    # -- plumbing ------------------------------------------------------------------------------

    def _results(self, hook: str) -> Iterator[tuple[str, Any]]:
        """(plugin name, result) per implementation, in registration order (core before plugins)."""
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            try:
                result = impl.function()
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"plugin {impl.plugin_name!r}: {hook}() failed: {exc!r}") from exc
            if result is not None:
                yield impl.plugin_name, result

    # -- sections ------------------------------------------------------------------------------

    @functools.cached_property
    def capabilities(self) -> dict[str, Capability]:
        found: dict[str, Capability] = {}
        for plugin, infos in self._results("register_capabilities"):
            for info in infos:
                if not isinstance(info, CapabilityInfo):
                    raise PluginError(f"plugin {plugin!r}: register_capabilities must return CapabilityInfo, got {info!r}")
                if not info.code.isidentifier() or not info.code.isascii():
                    raise PluginError(f"plugin {plugin!r}: capability code {info.code!r} must be an ASCII identifier")
                if info.code in found:
                    raise PluginError(
                        f"plugin {plugin!r}: capability {info.code!r} is already provided by plugin {found[info.code].plugin!r}"
                    )
                if not info.label_zh:
                    raise PluginError(f"plugin {plugin!r}: capability {info.code!r} needs a Chinese label (label_zh)")
                found[info.code] = Capability(info, plugin)
        return found

    @functools.cached_property
    def workflows(self) -> dict[str, Any]:
        """Machine name (``<capability>.<case_type>``) -> the machine, from every capability."""
        found: dict[str, Any] = {}
        for cap in self.capabilities.values():
            for machine in cap.info.workflows:
                name = getattr(machine, "name", None)
                if getattr(machine, "capability", None) != cap.code:
                    raise PluginError(f"plugin {cap.plugin!r}: workflow {name!r} must belong to capability {cap.code!r}")
                if not isinstance(name, str):
                    raise PluginError(f"plugin {cap.plugin!r}: a workflow of {cap.code!r} has no name (not a Machine)")
                if name in found:
                    raise PluginError(f"plugin {cap.plugin!r}: workflow {name!r} is declared twice")
                found[name] = machine
        return found

    @functools.cached_property
    def capabilities_of(self) -> dict[str, tuple[str, ...]]:
        """Capability plugin name -> the codes it provides."""
        out: dict[str, list[str]] = {}
        for cap in self.capabilities.values():
            out.setdefault(cap.plugin, []).append(cap.code)
        return {k: tuple(v) for k, v in out.items()}

    @functools.cached_property
    def permissions(self) -> dict[str, frozenset[Role]]:
        table: dict[str, frozenset[Role]] = {}
        owner: dict[str, str] = {}
        for plugin, mapping in self._results("register_permissions"):
            if not isinstance(mapping, Mapping):
                raise PluginError(f"plugin {plugin!r}: register_permissions must return a mapping of action to roles")
            for action, roles in mapping.items():
                if action in table:
                    raise PluginError(
                        f"plugin {plugin!r}: permission {action!r} is already defined by plugin {owner[action]!r}"
                    )
                if isinstance(roles, (str, Role)):
                    roles = [roles]
                table[action] = frozenset(_role(plugin, action, r) for r in roles)
                owner[action] = plugin
        self.permission_owner = owner
        return table

    @functools.cached_property
    def jobs(self) -> dict[str, Callable[..., Any]]:
        found: dict[str, Callable[..., Any]] = {}
        owner: dict[str, str] = {}
        for plugin, fns in self._results("register_jobs"):
            for fn in fns:
                name = job_name_for(plugin, fn)
                if name in found:
                    what = "a core job" if _is_core(owner[name]) else f"a job of plugin {owner[name]!r}"
                    raise PluginError(f"plugin {plugin!r}: job {name!r} collides with {what}")
                found[name] = fn
                owner[name] = plugin
        self.job_owner = owner
        return found

    @functools.cached_property
    def cron(self) -> list[Any]:
        found: list[Any] = []
        owner: dict[str, str] = {}
        for plugin, jobs in self._results("register_cron"):
            for cron_job in jobs:
                name = getattr(cron_job, "name", None)
                if not name or not hasattr(cron_job, "coroutine"):
                    raise PluginError(f"plugin {plugin!r}: register_cron must return arq CronJob objects, got {cron_job!r}")
                if name in owner:
                    raise PluginError(f"plugin {plugin!r}: cron job {name!r} is already registered by plugin {owner[name]!r}")
                owner[name] = plugin
                found.append(cron_job)
        return found

    @functools.cached_property
    def cli(self) -> list[tuple[str, Callable[[Any], None]]]:
        return [(plugin, fn) for plugin, fns in self._results("register_cli") for fn in fns]

    @functools.cached_property
    def piccolo_apps(self) -> list[str]:
        found: list[str] = []
        owner: dict[str, str] = {}
        for plugin, apps in self._results("register_piccolo_apps"):
            for app in apps:
                if app in owner:
                    raise PluginError(f"plugin {plugin!r}: piccolo app {app!r} is already registered by plugin {owner[app]!r}")
                owner[app] = plugin
                found.append(app)
        return found

    @functools.cached_property
    def startup_checks(self) -> list[tuple[str, Callable[[], Any]]]:
        return [(plugin, fn) for plugin, fns in self._results("register_startup_checks") for fn in fns]

    def _pii_columns(self) -> Iterator[tuple[str, Any]]:
        for plugin, columns in self._results("register_encrypted_columns"):
            for column in columns:
                if not isinstance(column, EncryptedColumn | IndexedColumn):
                    raise PluginError(f"plugin {plugin!r}: register_encrypted_columns must return EncryptedColumn or "
                                      f"IndexedColumn, got {column!r}")
                yield plugin, column

    @functools.cached_property
    def encrypted_columns(self) -> list[EncryptedColumn]:
        """Every encrypted column, the twins of blind indexes included, once each. One column
        registered with two contexts is refused: rotation could decrypt only one of them."""
        found: dict[tuple[str, str], tuple[str, EncryptedColumn]] = {}
        for plugin, column in self._pii_columns():
            enc = EncryptedColumn(column.table, column.column, column.context)
            key = (enc.table, enc.column)
            if key in found and found[key][1] != enc:
                raise PluginError(f"plugin {plugin!r}: encrypted column {enc.table}.{enc.column} is registered by plugin "
                                  f"{found[key][0]!r} with context {found[key][1].context!r}, here with {enc.context!r}")
            found.setdefault(key, (plugin, enc))
        return [enc for _, enc in found.values()]

    @functools.cached_property
    def indexed_columns(self) -> list[IndexedColumn]:
        found: dict[tuple[str, str], tuple[str, IndexedColumn]] = {}
        for plugin, column in self._pii_columns():
            if not isinstance(column, IndexedColumn):
                continue
            key = (column.table, column.index_column)
            if key in found:
                raise PluginError(f"plugin {plugin!r}: blind-index column {column.table}.{column.index_column} is "
                                  f"already registered by plugin {found[key][0]!r}")
            found[key] = (plugin, column)
        return [column for _, column in found.values()]

    @functools.cached_property
    def file_stores(self) -> dict[str, Any]:
        """Area -> FileStore; one area registered by two plugins with different stores is refused."""
        from core.files import FileStore

        found: dict[str, tuple[str, FileStore]] = {}
        for plugin, stores in self._results("register_file_stores"):
            for st in stores:
                if not isinstance(st, FileStore):
                    raise PluginError(f"plugin {plugin!r}: register_file_stores must return FileStore objects, got {st!r}")
                if st.area in found and found[st.area][1] is not st:
                    raise PluginError(f"plugin {plugin!r}: file store area {st.area!r} is already registered by "
                                      f"plugin {found[st.area][0]!r}")
                found.setdefault(st.area, (plugin, st))
        return {area: st for area, (_, st) in found.items()}

    @functools.cached_property
    def routes_by_plugin(self) -> list[tuple[str, list[Any]]]:
        found: list[tuple[str, list[Any]]] = []
        owner: dict[str, str] = {}
        for plugin, handlers in self._results("register_routes"):
            for handler in handlers:
                for path in sorted(getattr(handler, "paths", ()) or ()):
                    if path in owner:
                        raise PluginError(f"plugin {plugin!r}: HTTP route {path!r} is already served by plugin {owner[path]!r}")
                    owner[path] = plugin
            found.append((plugin, list(handlers)))
        return found

    @property
    def routes(self) -> list[Any]:
        return [handler for _, handlers in self.routes_by_plugin for handler in handlers]

    @functools.cached_property
    def shutdown(self) -> list[tuple[str, Callable[[], Any]]]:
        return [(plugin, fn) for plugin, fns in self._results("register_shutdown") for fn in fns]

    @functools.cached_property
    def demo_data(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(plugin, fn) for plugin, fns in self._results("register_demo_data") for fn in fns]

    @functools.cached_property
    def graphql(self) -> list[Contribution]:
        out: list[Contribution] = []
        for plugin, contributions in self._results("register_graphql"):
            for contribution in contributions:
                if not isinstance(contribution, GraphQLContribution):
                    raise PluginError(f"plugin {plugin!r}: register_graphql must return GraphQLContribution, got {contribution!r}")
                out.append(Contribution(plugin, replace(contribution, capability=self._gate(plugin, contribution))))
        return out

    def _gate(self, plugin: str, contribution: GraphQLContribution) -> str | None:
        own = self.capabilities_of.get(plugin, ())
        if contribution.capability is not None:
            if contribution.capability not in self.capabilities:
                raise PluginError(f"plugin {plugin!r}: GraphQL gated by unknown capability {contribution.capability!r}")
            return contribution.capability
        if len(own) == 1:
            return own[0]
        if len(own) > 1:
            raise PluginError(
                f"plugin {plugin!r} provides several capabilities ({', '.join(own)}): "
                "set GraphQLContribution.capability on each contribution"
            )
        return None

    @functools.cached_property
    def nodes(self) -> dict[str, tuple[NodeInfo, str | None, str]]:
        """Node type name -> (NodeInfo, gating capability, plugin)."""
        found: dict[str, tuple[NodeInfo, str | None, str]] = {}
        for c in self.graphql:
            for node in c.graphql.nodes:
                if node.type_name in found:
                    raise PluginError(
                        f"plugin {c.plugin!r}: Node type {node.type_name!r} is already registered by plugin {found[node.type_name][2]!r}"
                    )
                found[node.type_name] = (node, c.graphql.capability, c.plugin)
        return found

    # -- checks --------------------------------------------------------------------------------

    def check(self) -> Registry:
        """Compute every section now, so a conflict stops start-up before anything serves."""
        for section in ("capabilities", "workflows", "permissions", "jobs", "cron", "cli", "piccolo_apps", "startup_checks",
                        "encrypted_columns", "indexed_columns", "file_stores", "routes", "shutdown", "graphql", "nodes"):
            getattr(self, section)
        self._check_province_plugins()
        return self

    def _check_province_plugins(self) -> None:
        for name, info in available_plugins(self.pm).items():
            for code in info.capabilities:
                if code not in self.capabilities:
                    raise PluginError(
                        f"plugin {name!r}: serves capability {code!r}, which no installed plugin provides "
                        f"(installed capabilities: {', '.join(sorted(self.capabilities)) or 'none'})"
                    )

    def validate_tenant(self, tenant: str, plugins: Sequence[str], capabilities: Sequence[str]) -> None:
        """Refuse a manifest's capability list: unknown codes, and province plugins whose capability is off.

        :raises PluginConfigError: naming the tenant, the plugin and what is wrong.
        """
        for code in capabilities:
            if code not in self.capabilities:
                known = ", ".join(sorted(self.capabilities)) or "none installed"
                raise PluginConfigError(tenant, code, None, f"unknown capability (known: {known})")
        enabled = set(capabilities)
        available: Mapping[str, PluginInfo] = available_plugins(self.pm)
        for name in plugins:
            if name in self.capabilities_of:
                raise PluginConfigError(
                    tenant, name, None,
                    f"is a capability plugin: enable its capability ({', '.join(self.capabilities_of[name])}) "
                    "under `capabilities`, not `plugins`",
                )
            info = available.get(name)
            for code in info.capabilities if info else ():
                if code not in enabled:
                    raise PluginConfigError(
                        tenant, name, None,
                        f"serves capability {code!r}, which the tenant does not enable (add it to `capabilities`)",
                    )

    async def run_startup_checks(self) -> None:
        """Run every registered start-up check; the first that raises stops start-up."""
        for _plugin, check in self.startup_checks:
            await check()

    def action_enabled(self, action: str, capabilities: Sequence[str]) -> bool:
        """False for an action of a capability plugin none of whose capabilities the tenant enables."""
        self.permissions  # noqa: B018 - fills permission_owner
        codes = self.capabilities_of.get(self.permission_owner.get(action, ""), ())
        return not codes or any(c in capabilities for c in codes)

    def enabled_capabilities(self, codes: Sequence[str]) -> list[Capability]:
        """The installed capabilities among ``codes`` (a tenant's), in the tenant's order."""
        return [self.capabilities[c] for c in codes if c in self.capabilities]

    def capability_settings_schemas(self) -> dict[str, Any]:
        return {code: cap.info.settings_schema for code, cap in self.capabilities.items()}


def build_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    return Registry(pm or get_plugin_manager())


@functools.cache
def get_registry() -> Registry:
    """The process's registry, over :func:`core.plugins.get_plugin_manager`."""
    return Registry(get_plugin_manager())

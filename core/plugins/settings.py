"""Per-tenant plugin settings: validating a manifest's ``[settings.<name>]`` tables against each plugin's msgspec schema, and the typed settings at call time."""

from __future__ import annotations

import collections.abc
import threading
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from core.context import TenantContext
from core.interface import PluginInfo
from core.plugins.base import (
    BUILTIN_PLUGIN,
    CORE_VERSION,
    PluginConfigError,
    S,
)
from core.plugins.discovery import (
    available_plugins,
    capability_settings_schemas,
)

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

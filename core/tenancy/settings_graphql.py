"""GraphQL for plugin settings: a tenant admin at the province root reads and edits their own
tenant's plugin settings (versioned; see core/tenancy/plugin_settings.py)."""

from __future__ import annotations

import enum
import functools
from datetime import datetime
from typing import Any

import msgspec
import strawberry

from core.context import TenantContext
from core.errors import DomainError, ErrorCode
from core.graphql.base import (
    Connection,
    Info,
    JSONScalar,
    UserError,
    connection,
    for_query,
    page_args,
    perm,
    run_mutation,
)
from core.tenancy import plugin_settings as ps


@strawberry.enum(description="Where a version of a plugin's settings came from.")
class PluginSettingsSource(enum.Enum):
    MANIFEST = "manifest"
    API = "api"


@strawberry.type(description="One setting of a plugin, as its schema declares it.")
class PluginSettingField:
    name: str
    type: str = strawberry.field(description="JSON type, e.g. `integer`, `array<string>`, `object<object<integer>>`.")
    required: bool
    default: JSONScalar | None = strawberry.field(description="The value used when the setting is left out.")
    description: str | None


@strawberry.type(description="One version of a plugin's settings. Versions are never edited; a change is a new version.")
class PluginSettingsVersion:
    plugin: str
    version: int
    settings: JSONScalar
    source: PluginSettingsSource
    changed_by: str = strawberry.field(description="Username, or `tenants-sync` for a manifest sync.")
    changed_keys: list[str] = strawberry.field(description="Dotted keys that differ from the previous version.")
    created_at: datetime

    @classmethod
    def build(cls, v: ps.SettingsVersion) -> PluginSettingsVersion:
        return cls(plugin=v.plugin, version=v.version, settings=JSONScalar(v.settings), source=PluginSettingsSource(v.source),
                   changed_by=v.actor_name, changed_keys=v.changed_keys, created_at=v.created_at)


@strawberry.type(description="A plugin the tenant enables, with its current settings and their schema.")
class PluginSettings:
    plugin: str
    version: int = strawberry.field(description="Current version; 0 if no version is recorded yet. Pass it as expectedVersion.")
    settings: JSONScalar = strawberry.field(description="Current settings, defaults filled in.")
    source: PluginSettingsSource | None
    changed_by: str | None
    changed_at: datetime | None
    description: str | None = strawberry.field(description="The schema's own description.")
    json_schema: JSONScalar = strawberry.field(description="JSON Schema of the settings (from the plugin's msgspec schema).")
    fields: list[PluginSettingField]

    @classmethod
    def build(cls, state: ps.PluginState) -> PluginSettings:
        description, schema, fields = describe_schema(state.plugin)
        latest = state.latest
        return cls(plugin=state.plugin, version=state.version, settings=JSONScalar(state.settings),
                   source=PluginSettingsSource(latest.source) if latest else None,
                   changed_by=latest.actor_name if latest else None, changed_at=latest.created_at if latest else None,
                   description=description, json_schema=JSONScalar(schema), fields=fields)


def _type_text(s: Any, defs: dict[str, Any]) -> str:
    if not isinstance(s, dict):
        return "any"
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        return _type_text(defs.get(name, {}), defs) if name in defs else name
    if "enum" in s:
        return "enum(" + ", ".join(str(e) for e in s["enum"]) + ")"
    if "anyOf" in s:
        return " | ".join(_type_text(x, defs) for x in s["anyOf"])
    kind = s.get("type", "any")
    if kind == "array":
        return f"array<{_type_text(s.get('items', {}), defs)}>"
    if kind == "object" and isinstance(s.get("additionalProperties"), dict):
        return f"object<{_type_text(s['additionalProperties'], defs)}>"
    return str(kind)


def describe_schema(plugin: str) -> tuple[str | None, dict[str, Any], list[PluginSettingField]]:
    """(description, JSON Schema, fields) of a plugin's settings schema; empty for a plugin without one."""
    from core.plugins import available_plugins, capability_settings_schemas

    info = available_plugins().get(plugin)
    schema_cls = info.settings_schema if info else capability_settings_schemas().get(plugin)
    if schema_cls is None:
        return None, {"type": "object", "properties": {}, "additionalProperties": False}, []
    return _describe(schema_cls)


@functools.lru_cache(maxsize=64)
def _describe(schema_cls: type[msgspec.Struct]) -> tuple[str | None, dict[str, Any], list[PluginSettingField]]:
    full = msgspec.json.schema(schema_cls)
    defs = full.get("$defs", {})
    body = defs.get(schema_cls.__name__, full)
    props = body.get("properties", {})
    fields = []
    for f in msgspec.structs.fields(schema_cls):
        prop = props.get(f.encode_name, {})
        if f.default is not msgspec.NODEFAULT:
            default = msgspec.to_builtins(f.default)
        elif f.default_factory is not msgspec.NODEFAULT:
            default = msgspec.to_builtins(f.default_factory())
        else:
            default = None
        fields.append(PluginSettingField(name=f.encode_name, type=_type_text(prop, defs), required=f.required,
                                         default=default, description=prop.get("description")))
    return body.get("description"), full, fields


async def _require_configure(info: Info) -> TenantContext:
    """Settings are province-wide rules: only a tenant_admin granted at the province root may see
    or change them (a district admin's grant does not cover the root)."""
    from core.tenancy.queries import root_unit

    tenant, _ = info.context.authenticated()
    root = await root_unit(tenant)
    info.context.require("plugin.configure", root["path"] if root else "/-/")
    return tenant


@strawberry.type
class PluginSettingsQuery:
    @strawberry.field(description=perm("plugin.configure", "Plugins your province enables, with current settings and schema (at the province root)."))
    @for_query
    async def plugin_settings(self, info: Info) -> list[PluginSettings]:
        tenant = await _require_configure(info)
        return [PluginSettings.build(s) for s in await ps.plugin_states(tenant)]

    @strawberry.field(description=perm("plugin.configure", "Versions of one plugin's settings, newest first."))
    @for_query
    async def plugin_settings_history(self, info: Info, plugin: str, first: int | None = 50,
                                      after: str | None = None) -> Connection[PluginSettingsVersion]:
        tenant = await _require_configure(info)
        page = page_args(first, after)
        versions, total = await ps.history(tenant, plugin, offset=page.offset, limit=page.limit)
        return connection([PluginSettingsVersion.build(v) for v in versions], total, page)


@strawberry.type
class PluginSettingsPayload:
    plugin_settings: PluginSettings | None = None
    errors: list[UserError]


@strawberry.type
class PluginSettingsMutation:
    @strawberry.mutation(description=perm(
        "plugin.configure",
        "Replace one plugin's settings (the whole object; left-out keys take their defaults). Validated against "
        "the plugin's schema: a problem is reported with field `settings.<dotted.key>` and nothing changes. "
        "expectedVersion must be the current version (CONFLICT otherwise). Takes effect on the next request."))
    async def plugin_settings_update(self, info: Info, plugin: str, settings: JSONScalar,
                                     expected_version: int) -> PluginSettingsPayload:
        async def work() -> dict[str, Any]:
            tenant = await _require_configure(info)
            state = await ps.update_settings(tenant, info.context.actor, plugin, settings, expected_version)
            return {"plugin_settings": PluginSettings.build(state)}

        return await run_mutation(PluginSettingsPayload, work)

    @strawberry.mutation(description=perm(
        "plugin.configure", "Make an earlier version's settings current again (recorded as a new version)."))
    async def plugin_settings_revert(self, info: Info, plugin: str, to_version: int,
                                     expected_version: int) -> PluginSettingsPayload:
        async def work() -> dict[str, Any]:
            tenant = await _require_configure(info)
            ps.require_enabled(tenant, plugin)
            old = await ps.get_version(tenant, plugin, to_version)
            if old is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"version {to_version} of {plugin!r} not found", "toVersion")
            state = await ps.update_settings(tenant, info.context.actor, plugin, old.settings, expected_version)
            return {"plugin_settings": PluginSettings.build(state)}

        return await run_mutation(PluginSettingsPayload, work)

"""Plugin settings per tenant: versioned, editable through the API, reconciled with the manifest.

The newest ``plugin_settings_version`` row per (tenant, plugin) is the plugin's current settings;
``tenant.settings`` holds a copy of all of them (what a ``TenantContext`` carries) and
``tenant.settings_version`` counts changes, so a process can tell that the context it holds is stale
(see ``core.tenancy.queries.get_tenant``).

Manifest sync and API edits meet here. The manifest is the starting value; a sync applies a
plugin's manifest table again only when that table changed since the last sync that applied it
(its hash is kept on the manifest's version row), so an API edit is never silently undone by an
unchanged manifest. A manifest edit made after an API edit wins, and is recorded as a new version
with source ``manifest``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import advisory_xact_lock, as_utc, raw, transaction
from core.errors import DomainError, ErrorCode
from core.tenancy.cache import forget_cached_tenant
from core.tenancy.tables import PluginSettingsVersion, Tenant

SETTINGS_LOCK_NAMESPACE = 1003
SOURCE_MANIFEST = "manifest"
SOURCE_API = "api"
# A settings body is a rule table (低保 lines by region and year, levy splits), not a data set.
MAX_SETTINGS_CHARS = 200_000
# Audit records name changed keys, not values; a whole new 低保 table would otherwise list hundreds.
MAX_AUDITED_KEYS = 50


@dataclass(frozen=True)
class SettingsVersion:
    plugin: str
    version: int
    settings: dict[str, Any]
    source: str
    actor_name: str
    changed_keys: list[str]
    created_at: Any
    manifest_hash: str = ""


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _version_from_row(row: Mapping[str, Any]) -> SettingsVersion:
    return SettingsVersion(
        plugin=row["plugin"], version=row["version"], settings=_loads(row["settings"]) or {}, source=row["source"],
        actor_name=row["actor_name"], changed_keys=list(_loads(row["changed_keys"]) or []),
        created_at=as_utc(row["created_at"]), manifest_hash=row["manifest_hash"],
    )


def manifest_hash(table: Any) -> str:
    """Hash of one plugin's manifest table as written (dates and times as their ISO text)."""
    canonical = json.dumps(table or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ (tables are walked; arrays compare whole)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                out.append(path)
            else:
                out.extend(changed_keys(old[key], new[key], path))
        return out
    return [] if old == new else [prefix]


def enabled_plugins(tenant: TenantContext) -> list[str]:
    """The built-in plugin, the tenant's plugins, and its capabilities that take settings."""
    from core.plugins import BUILTIN_PLUGIN, capability_settings_schemas

    schemas = capability_settings_schemas()
    configurable = [c for c in tenant.capabilities if schemas.get(c) is not None]
    return list(dict.fromkeys([BUILTIN_PLUGIN, *tenant.plugins, *configurable]))


async def _tenant_row(tenant: TenantContext) -> dict[str, Any]:
    row = await Tenant.select(Tenant.settings, Tenant.settings_version).where(Tenant.id == tenant.id).first()
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, "tenant not found")
    return {"settings": _loads(row["settings"]) or {}, "settings_version": row["settings_version"]}


async def latest_versions(tenant: TenantContext, *, source: str | None = None) -> dict[str, SettingsVersion]:
    """The newest version row of each plugin (of one source if given), by plugin."""
    source_sql = " AND source = {}" if source else ""
    args: list[Any] = [tenant.id, *([source] if source else []), tenant.id]
    rows = await raw(
        "SELECT v.plugin, v.version, v.settings, v.source, v.actor_name, v.changed_keys, v.created_at, "
        "v.manifest_hash FROM plugin_settings_version v JOIN ("
        f"SELECT plugin, max(version) AS version FROM plugin_settings_version WHERE tenant_id = {{}}{source_sql} "
        "GROUP BY plugin) m ON m.plugin = v.plugin AND m.version = v.version WHERE v.tenant_id = {}",
        *args,
    )
    return {r["plugin"]: _version_from_row(r) for r in rows}


@dataclass(frozen=True)
class PluginState:
    """A plugin's current settings as the API shows them; version 0 means no version recorded yet
    (a tenant created before versioning, or through ``tenantCreate``, until its first change)."""

    plugin: str
    settings: dict[str, Any]
    version: int
    latest: SettingsVersion | None


async def plugin_states(tenant: TenantContext) -> list[PluginState]:
    row = await _tenant_row(tenant)
    latest = await latest_versions(tenant)
    out = []
    for plugin in enabled_plugins(tenant):
        v = latest.get(plugin)
        settings = row["settings"].get(plugin, v.settings if v else {})
        out.append(PluginState(plugin, settings, v.version if v else 0, v))
    return out


async def history(tenant: TenantContext, plugin: str, *, offset: int, limit: int) -> tuple[list[SettingsVersion], int]:
    require_enabled(tenant, plugin)
    where = (PluginSettingsVersion.tenant_id == tenant.id) & (PluginSettingsVersion.plugin == plugin)
    rows = await (PluginSettingsVersion.select().where(where)
                  .order_by(PluginSettingsVersion.version, ascending=False).offset(offset).limit(limit))
    total = await PluginSettingsVersion.count().where(where)
    return [_version_from_row(r) for r in rows], total


async def get_version(tenant: TenantContext, plugin: str, version: int) -> SettingsVersion | None:
    row = await PluginSettingsVersion.select().where(
        (PluginSettingsVersion.tenant_id == tenant.id) & (PluginSettingsVersion.plugin == plugin)
        & (PluginSettingsVersion.version == version)).first()
    return _version_from_row(row) if row else None


def require_enabled(tenant: TenantContext, plugin: str) -> None:
    # Another tenant's plugin and a plugin nobody installed look the same: not there.
    if plugin not in enabled_plugins(tenant):
        raise DomainError(ErrorCode.NOT_FOUND, f"plugin {plugin[:64]!r} is not enabled for this tenant", "plugin")


def validate_one(tenant: TenantContext, plugin: str, settings: Any) -> dict[str, Any]:
    """Check one plugin's settings against its schema; the result has the defaults filled in.

    :raises DomainError: PLUGIN_CONFIG with ``field = "settings.<dotted key>"`` (or ``"settings"``
        for a problem with the whole body).
    """
    from core.plugins import BUILTIN_PLUGIN, PluginConfigError, validate_plugin_settings

    if not isinstance(settings, Mapping):
        raise DomainError(ErrorCode.PLUGIN_CONFIG, "settings must be a JSON object", "settings")
    if len(json.dumps(settings, ensure_ascii=False, default=str)) > MAX_SETTINGS_CHARS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"settings may be at most {MAX_SETTINGS_CHARS} characters", "settings")
    capabilities = [plugin] if plugin in tenant.capabilities else []
    plugins = [] if plugin == BUILTIN_PLUGIN or capabilities else [plugin]
    try:
        clean = validate_plugin_settings(tenant.code, plugins, {plugin: dict(settings)}, capabilities=capabilities)
    except PluginConfigError as exc:
        field = f"settings.{exc.key}" if exc.key else "settings"
        message = f"setting {exc.key!r}: {exc.problem}" if exc.key else exc.problem
        raise DomainError(ErrorCode.PLUGIN_CONFIG, message, field) from None
    return clean[plugin]


async def _write_version(tenant: TenantContext, actor: Actor, plugin: str, version: int, settings: dict[str, Any],
                         source: str, keys: list[str], digest: str = "") -> None:
    await PluginSettingsVersion.insert(PluginSettingsVersion(
        tenant_id=tenant.id, plugin=plugin, version=version, settings=settings, source=source,
        actor_id=actor.user_id, actor_name=actor.username[:100], manifest_hash=digest, changed_keys=keys))
    audited = keys[:MAX_AUDITED_KEYS]
    changes: dict[str, Any] = {"plugin": plugin, "version": version, "source": source, "changed_keys": audited}
    if len(keys) > len(audited):
        changes["more_changed_keys"] = len(keys) - len(audited)
    await record(tenant, actor, "plugin_settings.update", "PluginSettings", plugin, changes)


async def update_settings(tenant: TenantContext, actor: Actor, plugin: str, settings: Any,
                          expected_version: int) -> PluginState:
    """An API edit: validated, versioned, audited; refused if someone else changed it first."""
    require_enabled(tenant, plugin)
    clean = validate_one(tenant, plugin, settings)
    async with transaction():
        await advisory_xact_lock(SETTINGS_LOCK_NAMESPACE, tenant.id)
        row = await _tenant_row(tenant)
        latest = (await latest_versions(tenant)).get(plugin)
        current_version = latest.version if latest else 0
        if expected_version != current_version:
            raise DomainError(ErrorCode.CONFLICT, f"the settings changed meanwhile (now version {current_version}); "
                              "reload them and apply your change again", "expectedVersion")
        current = row["settings"].get(plugin, latest.settings if latest else {})
        keys = changed_keys(current, clean)
        if not keys:
            return PluginState(plugin, current, current_version, latest)  # nothing to record
        version = current_version + 1
        await _write_version(tenant, actor, plugin, version, clean, SOURCE_API, keys)
        await Tenant.update({Tenant.settings: {**row["settings"], plugin: clean},
                             Tenant.settings_version: row["settings_version"] + 1}).where(Tenant.id == tenant.id)
    forget_cached_tenant(tenant.id)
    return PluginState(plugin, clean, version, await get_version(tenant, plugin, version))


async def record_initial(tenant: TenantContext, actor: Actor) -> TenantContext:
    """Version 1 of each enabled plugin's settings, as a new tenant was created with them (through
    the API; inside the creating transaction). Returns the context with its new settings_version."""
    import dataclasses

    for plugin in enabled_plugins(tenant):
        await _write_version(tenant, actor, plugin, 1, dict(tenant.settings.get(plugin, {})), SOURCE_API, [])
    await Tenant.update({Tenant.settings_version: 1}).where(Tenant.id == tenant.id)
    return dataclasses.replace(tenant, settings_version=1)


async def has_versions(tenant: TenantContext) -> bool:
    return bool(await PluginSettingsVersion.exists().where(PluginSettingsVersion.tenant_id == tenant.id))


async def apply_manifest(tenant: TenantContext, actor: Actor, plugins: Sequence[str],
                         manifest_settings: Mapping[str, Any],
                         capabilities: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Reconcile a manifest's ``[settings.*]`` with the stored versions; return the effective settings.

    Runs inside the caller's transaction and tenant scope (manifest sync). Per enabled plugin: if the
    manifest's table has the hash recorded by the last manifest version, the current settings stay
    (they may be an API edit); otherwise the manifest's table becomes a new version.

    :raises PluginConfigError: The manifest's settings, or a kept API version, fail validation.
    """
    from core.plugins import validate_plugin_settings

    from_manifest = validate_plugin_settings(tenant.code, list(plugins), dict(manifest_settings),
                                             capabilities=list(capabilities))
    async with transaction():
        await advisory_xact_lock(SETTINGS_LOCK_NAMESPACE, tenant.id)
        row = await _tenant_row(tenant)
        latest = await latest_versions(tenant)
        last_manifest = await latest_versions(tenant, source=SOURCE_MANIFEST)
        effective: dict[str, dict[str, Any]] = {}
        new: list[tuple[str, int, list[str], str]] = []
        for plugin in from_manifest:
            digest = manifest_hash(manifest_settings.get(plugin, {}))
            current = latest.get(plugin)
            synced = last_manifest.get(plugin)
            if current is not None and synced is not None and synced.manifest_hash == digest:
                effective[plugin] = current.settings
                continue
            effective[plugin] = from_manifest[plugin]
            before = current.settings if current else row["settings"].get(plugin, {})
            new.append((plugin, (current.version if current else 0) + 1, changed_keys(before, from_manifest[plugin]), digest))
        # A kept API version was valid when stored; a plugin upgrade may have changed its schema since.
        effective = validate_plugin_settings(tenant.code, list(plugins), effective,
                                             capabilities=list(capabilities))
        for plugin, version, keys, digest in new:
            await _write_version(tenant, actor, plugin, version, effective[plugin], SOURCE_MANIFEST, keys, digest)
        if new or effective != row["settings"]:
            await Tenant.update({Tenant.settings: effective, Tenant.settings_version: row["settings_version"] + 1}).where(
                Tenant.id == tenant.id)
    return effective

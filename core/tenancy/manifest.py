"""Province manifests (tenants/<code>.toml) and their idempotent sync.

A manifest names the tenant, its enabled plugins with their settings, the capabilities it enables
(``capabilities = ["hardship"]``), and a seed org tree. Sync
creates what is missing and updates what changed; a second run with the same files writes
nothing (the manifest hash is stored on the tenant). Units present in the database but absent
from the manifest are left alone: they were created by the province's own staff. Plugin settings
edited through the API are kept until the manifest's own table for that plugin changes
(core/tenancy/plugin_settings.py).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.actor import Actor
from core.context import TenantContext, tenant_scope
from core.errors import DomainError
from core.settings import ROOT
from core.tenancy import cache, plugin_settings, queries, services

TENANTS_DIR = ROOT / "tenants"
SYNC_ACTOR = Actor(None, "tenants-sync")
PLATFORM_CODE = "platform"


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class UnitSeed:
    code: str
    name: str
    level: str
    parent: str | None
    area_code: str | None


@dataclass
class Manifest:
    code: str
    name: str
    province_code: str
    plugins: list[str]
    settings: dict[str, dict[str, Any]]
    units: list[UnitSeed]
    source: str
    digest: str = ""
    is_platform: bool = False
    # Capabilities the province enables (e.g. "hardship"); province plugins serving one need it here.
    capabilities: list[str] = field(default_factory=list)


def parse_manifest(path: Path) -> Manifest:
    raw_bytes = path.read_bytes()
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path.name}: not valid UTF-8 TOML: {exc}") from None
    for key in ("code", "name", "province_code"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ManifestError(f"{path.name}: '{key}' is required (a string)")
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ManifestError(f"{path.name}: 'plugins' must be a list of plugin names")
    capabilities = data.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
        raise ManifestError(f"{path.name}: 'capabilities' must be a list of capability codes")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ManifestError(f"{path.name}: '[settings]' must be a table of plugin tables")
    units: list[UnitSeed] = []
    codes: set[str] = set()
    for i, u in enumerate(data.get("units", [])):
        where = f"{path.name}: units[{i}]"
        if not isinstance(u, dict) or not all(isinstance(u.get(k), str) for k in ("code", "name", "level")):
            raise ManifestError(f"{where}: code, name and level are required strings")
        if u["code"] in codes:
            raise ManifestError(f"{where}: duplicate code {u['code']!r}")
        parent = u.get("parent")
        if parent is not None and parent not in codes:
            raise ManifestError(f"{where}: parent {parent!r} must be listed before its children")
        if (parent is None) != (i == 0):
            raise ManifestError(f"{where}: the first unit is the province root (no parent); all others need one")
        codes.add(u["code"])
        units.append(UnitSeed(u["code"], u["name"], u["level"], parent, u.get("area_code")))
    if not units:
        raise ManifestError(f"{path.name}: at least the province root unit is required")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return Manifest(code=data["code"], name=data["name"], province_code=data["province_code"], plugins=plugins,
                    settings=settings, units=units, source=path.name, digest=digest, capabilities=capabilities)


def load_manifests(directory: Path = TENANTS_DIR) -> list[Manifest]:
    return [parse_manifest(p) for p in sorted(directory.glob("*.toml"))]


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    units_created: int = 0
    units_updated: int = 0


async def ensure_platform_tenant() -> TenantContext:
    tenant = await queries.get_tenant(code=PLATFORM_CODE)
    if tenant is None:
        tenant = await services.create_tenant(SYNC_ACTOR, code=PLATFORM_CODE, name="会家平台运营", province_code="00",
                                              root_name="平台运营中心", is_platform=True,
                                              record_settings=False)
    return tenant


async def sync_manifest(m: Manifest, report: SyncReport) -> TenantContext:
    from core.tenancy.tables import Tenant

    row = await Tenant.select(Tenant.id, Tenant.manifest_hash).where(Tenant.code == m.code).first()
    try:
        if row is None:
            root = m.units[0]
            tenant = await services.create_tenant(SYNC_ACTOR, code=m.code, name=m.name, province_code=m.province_code,
                                                  plugins=m.plugins, settings=m.settings,
                                                  capabilities=m.capabilities, root_name=root.name,
                                                  root_area_code=root.area_code, manifest_hash=m.digest,
                                                  record_settings=False)
            report.created.append(m.code)
            await _record_manifest_settings(tenant, m)  # version 1 of each plugin's settings
        elif row["manifest_hash"] == m.digest:
            report.unchanged.append(m.code)
            unchanged = await queries.get_tenant(id=row["id"])
            assert unchanged is not None
            with tenant_scope(unchanged):
                if not await plugin_settings.has_versions(unchanged):
                    # A tenant synced before settings were versioned: record the manifest's as version 1,
                    # so later syncs can tell a manifest edit from an API edit.
                    await _record_manifest_settings(unchanged, m)
            return unchanged
        else:
            current = await queries.get_tenant(id=row["id"])
            assert current is not None
            tenant = await services.update_tenant(SYNC_ACTOR, current, name=m.name, plugins=m.plugins,
                                                  settings=m.settings, manifest_hash=m.digest,
                                                  capabilities=m.capabilities)
            report.updated.append(m.code)
    except DomainError as exc:
        raise ManifestError(f"{m.source}: {exc.message}") from None
    with tenant_scope(tenant):
        await _sync_units(tenant, m, report)
    return tenant


async def _record_manifest_settings(tenant: TenantContext, m: Manifest) -> None:
    from core.dbutil import transaction
    from core.plugins import PluginConfigError

    try:
        with tenant_scope(tenant):
            async with transaction():
                await plugin_settings.apply_manifest(tenant, SYNC_ACTOR, m.plugins, m.settings, m.capabilities)
    except PluginConfigError as exc:  # e.g. a plugin upgrade changed its schema since the last sync
        raise ManifestError(f"{m.source}: {exc}") from None
    cache.forget_cached_tenant(tenant.id)


async def _sync_units(tenant: TenantContext, m: Manifest, report: SyncReport) -> None:
    root_seed = m.units[0]
    root = await queries.root_unit(tenant)
    assert root is not None
    by_code: dict[str, dict[str, Any]] = {root_seed.code: root}
    if root["code"] != root_seed.code:
        # The root was created with the tenant code; the manifest's own code is authoritative.
        from core.tenancy.tables import OrgUnit

        await OrgUnit.update({OrgUnit.code: root_seed.code}).where(OrgUnit.id == root["id"])
    if root["name"] != root_seed.name:
        await services.rename_unit(tenant, SYNC_ACTOR, root["id"], root_seed.name)
    for seed in m.units[1:]:
        try:
            existing = await queries.get_unit_by_code(tenant, seed.code)
            assert seed.parent is not None  # load_manifest: every unit after the root names its parent
            parent = by_code[seed.parent]
            if existing is None:
                unit = await services.create_unit(tenant, SYNC_ACTOR, parent_id=parent["id"], code=seed.code,
                                                  name=seed.name, level=seed.level, area_code=seed.area_code)
                report.units_created += 1
            else:
                unit = existing
                changed = False
                if existing["parent_id"] != parent["id"]:
                    unit = await services.move_unit(tenant, SYNC_ACTOR, existing["id"], parent["id"])
                    changed = True
                if existing["name"] != seed.name:
                    unit = await services.rename_unit(tenant, SYNC_ACTOR, existing["id"], seed.name)
                    changed = True
                if existing["level"] != seed.level or existing["area_code"] != seed.area_code:
                    unit = await services.update_unit_details(tenant, SYNC_ACTOR, existing["id"], level=seed.level,
                                                              area_code=seed.area_code)
                    changed = True
                report.units_updated += int(changed)
        except DomainError as exc:
            raise ManifestError(f"{m.source}: unit {seed.code!r}: {exc.message}") from None
        by_code[seed.code] = unit


async def sync_all(directory: Path = TENANTS_DIR) -> SyncReport:
    manifests = load_manifests(directory)
    report = SyncReport()
    await ensure_platform_tenant()
    for m in manifests:
        await sync_manifest(m, report)
    services.clear_tenant_cache()
    return report

"""Writes to tenants and the org-unit tree. Every function takes the tenant first and owns its
transaction; tree writes are serialised per tenant so two concurrent moves cannot tangle paths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext, tenant_scope
from core.dbutil import advisory_xact_lock, raw, rescope_transaction, transaction, written
from core.errors import DomainError, ErrorCode, not_found
from core.tenancy.cache import clear_tenant_cache, forget_cached_tenant

# The reads moved to core.tenancy.queries; they stay importable from here for callers that have not
# moved yet (core.members, tests, benches).
from core.tenancy.queries import get_current_tenant as get_current_tenant
from core.tenancy.queries import get_tenant as get_tenant
from core.tenancy.queries import get_unit as get_unit
from core.tenancy.queries import get_unit_by_code as get_unit_by_code
from core.tenancy.queries import list_tenants as list_tenants
from core.tenancy.queries import root_unit as root_unit
from core.tenancy.queries import tenant_from_row as tenant_from_row
from core.tenancy.tables import OrgUnit, Tenant
from core.validation import clean_area_code, clean_code, clean_text

TREE_LOCK_NAMESPACE = 1002

LEVELS = ("province", "city", "county", "grassroots", "industry")
_RANK = {"province": 0, "city": 1, "county": 2, "grassroots": 3}
# Top down, for lists and charts: industry unions sit beside the territorial chain, above the
# grassroots unions they hold.
LEVEL_ORDER = ("province", "city", "county", "industry", "grassroots")


def check_level(level: str, parent_level: str | None) -> None:
    if level not in LEVELS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"level must be one of {', '.join(LEVELS)}", "level")
    if parent_level is None:
        if level != "province":
            raise DomainError(ErrorCode.INVALID_HIERARCHY, "the root unit must be at province level", "level")
        return
    if level == "province":
        raise DomainError(ErrorCode.INVALID_HIERARCHY, "a tenant has exactly one province-level root", "level")
    if parent_level == "grassroots":
        raise DomainError(ErrorCode.INVALID_HIERARCHY, "a grassroots union cannot have sub-units", "parentId")
    if level == "industry" or parent_level == "industry":
        # Industry unions sit beside the territorial chain: under province, city or county, and
        # may hold grassroots unions of their trade.
        if level == "industry" and parent_level == "industry":
            raise DomainError(ErrorCode.INVALID_HIERARCHY, "industry unions do not nest", "level")
        if parent_level == "industry" and level != "grassroots":
            raise DomainError(ErrorCode.INVALID_HIERARCHY, "an industry union holds only grassroots unions", "level")
        return
    if _RANK[level] <= _RANK[parent_level]:
        raise DomainError(ErrorCode.INVALID_HIERARCHY, f"a {level} unit cannot sit under a {parent_level} unit", "level")


def child_levels(parent_level: str) -> list[str]:
    """The levels a unit may have directly below one of ``parent_level``: check_level's answer, listed."""
    out = []
    for level in LEVELS:
        try:
            check_level(level, parent_level)
        except DomainError:
            continue
        out.append(level)
    return out


# ---------------------------------------------------------------------------------------------
# Tenants
# ---------------------------------------------------------------------------------------------

# How a new province's first admin is checked and created. That admin is a core.accounts user, and
# accounts builds on tenancy (its users belong to tenants and org units), so accounts hands these
# in when it is imported (``provide_first_admin``) instead of tenancy importing accounts.
_first_admin: tuple[Callable[..., None], Callable[..., Awaitable[Any]]] | None = None


def provide_first_admin(check: Callable[..., None], create: Callable[..., Awaitable[Any]]) -> None:
    """``check(username, password, field_prefix=...)`` validates before anything is written;
    ``create(tenant, actor, username=, password=, display_name=, grants=)`` creates the user."""
    global _first_admin
    _first_admin = (check, create)


def _first_admin_provider() -> tuple[Callable[..., None], Callable[..., Awaitable[Any]]]:
    if _first_admin is None:
        raise RuntimeError("no first-admin provider: core.accounts.services is not loaded")
    return _first_admin


def validate_config(code: str, plugins: Sequence[str], capabilities: Sequence[str],
                    settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A tenant's plugins, capabilities and settings, checked; returns the settings with defaults.

    :raises DomainError: PLUGIN_CONFIG (unknown capability, a province plugin whose capability is not
        enabled, bad settings), naming the tenant, the plugin and the key.
    """
    from core.plugins import PluginConfigError, validate_plugin_settings
    from core.registry import get_registry

    try:
        get_registry().validate_tenant(code, list(plugins), list(capabilities))
        return validate_plugin_settings(code, list(plugins), dict(settings), capabilities=list(capabilities))
    except PluginConfigError as exc:
        field = "capabilities" if "capabilit" in exc.problem else "settings"
        raise DomainError(ErrorCode.PLUGIN_CONFIG, str(exc), field) from None


async def create_tenant(
    actor: Actor,
    *,
    code: str,
    name: str,
    province_code: str,
    plugins: Sequence[str] = (),
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    capabilities: Sequence[str] = (),
    root_name: str | None = None,
    root_area_code: str | None = None,
    is_platform: bool = False,
    manifest_hash: str = "",
    first_admin: tuple[str, str] | None = None,
    record_settings: bool = True,
) -> TenantContext:
    """Create a province tenant and its province-level root unit (and, if asked, its first admin:
    without one, nobody could log in to the new province to do anything).

    ``record_settings``: record the settings as version 1 of each plugin's (source ``api``).
    Manifest sync passes False and records them from the manifest instead."""
    code = clean_code("code", code).lower()
    name = clean_text("name", name, max_len=100)
    province_code = (province_code or "").strip()
    if not (len(province_code) == 2 and province_code.isdigit()):
        raise DomainError(ErrorCode.INVALID_INPUT, "provinceCode must be the 2-digit GB/T 2260 code", "provinceCode")
    clean_settings = validate_config(code, plugins, capabilities, settings or {})
    if await Tenant.exists().where(Tenant.code == code):
        raise DomainError(ErrorCode.DUPLICATE, f"tenant {code!r} already exists", "code")
    if first_admin is not None:
        check_new_credentials, create_user = _first_admin_provider()
        check_new_credentials(*first_admin, field_prefix="admin")
    async with transaction():
        row = (
            await Tenant.insert(
                Tenant(code=code, name=name, province_code=province_code, plugins=list(plugins),
                       capabilities=list(capabilities), settings=clean_settings, is_platform=is_platform,
                       manifest_hash=manifest_hash)
            ).returning(Tenant.id)
        )[0]
        tenant = TenantContext(id=row["id"], code=code, name=name, province_code=province_code,
                               plugins=tuple(plugins), settings=clean_settings, is_platform=is_platform,
                               capabilities=tuple(capabilities))
        with tenant_scope(tenant):
            await rescope_transaction(tenant.id)
            await _insert_unit(tenant, None, code=code, name=root_name or name, level="province",
                               area_code=clean_area_code("rootAreaCode", root_area_code))
            root = written(await root_unit(tenant), "root unit")
            await record(tenant, actor, "tenant.create", "Tenant", tenant.id,
                         {"code": code, "name": name, "plugins": list(plugins),
                          "capabilities": list(capabilities)})
            if record_settings:
                from core.tenancy.plugin_settings import record_initial

                tenant = await record_initial(tenant, actor)
            if first_admin is not None:
                await create_user(tenant, actor, username=first_admin[0], password=first_admin[1],
                                  display_name="管理员", grants=[("tenant_admin", root["id"])])
    clear_tenant_cache()
    return tenant


async def update_tenant(actor: Actor, tenant: TenantContext, *, name: str, plugins: Sequence[str],
                        settings: Mapping[str, Any], manifest_hash: str,
                        capabilities: Sequence[str] | None = None) -> TenantContext:
    """Apply an edited manifest. Plugin settings go through ``plugin_settings.apply_manifest``: a
    plugin's manifest table replaces its current settings only if the table itself changed."""
    from core.plugins import PluginConfigError
    from core.tenancy.plugin_settings import apply_manifest

    capabilities = tenant.capabilities if capabilities is None else tuple(capabilities)
    validate_config(tenant.code, plugins, capabilities, settings)
    async with transaction():
        await Tenant.update({Tenant.name: name, Tenant.plugins: list(plugins),
                             Tenant.capabilities: list(capabilities),
                             Tenant.manifest_hash: manifest_hash}).where(Tenant.id == tenant.id)
        with tenant_scope(tenant):
            await rescope_transaction(tenant.id)
            try:
                await apply_manifest(tenant, actor, plugins, dict(settings), capabilities)
            except PluginConfigError as exc:
                raise DomainError(ErrorCode.PLUGIN_CONFIG, str(exc), "settings") from None
            await record(tenant, actor, "tenant.update", "Tenant", tenant.id,
                         {"name": name, "plugins": list(plugins), "capabilities": list(capabilities)})
    forget_cached_tenant(tenant.id)
    clear_tenant_cache()
    fresh = await get_tenant(id=tenant.id)
    assert fresh is not None
    return fresh


# ---------------------------------------------------------------------------------------------
# Org units
# ---------------------------------------------------------------------------------------------


async def _insert_unit(tenant: TenantContext, parent: Mapping[str, Any] | None, *, code: str, name: str,
                       level: str, area_code: str | None) -> dict[str, Any]:
    check_level(level, parent["level"] if parent else None)
    if await OrgUnit.exists().where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.code == code)):
        raise DomainError(ErrorCode.DUPLICATE, f"an org unit with code {code!r} already exists", "code")
    inserted = await OrgUnit.insert(
        OrgUnit(tenant_id=tenant.id, parent_id=parent["id"] if parent else None, code=code, name=name,
                level=level, area_code=area_code, depth=(parent["depth"] + 1) if parent else 0)
    ).returning(OrgUnit.id)
    unit_id = inserted[0]["id"]
    path = f"{parent['path'] if parent else '/'}{unit_id}/"
    await OrgUnit.update({OrgUnit.path: path}).where(OrgUnit.id == unit_id)
    return written(await get_unit(tenant, unit_id), "org unit")


async def create_unit(tenant: TenantContext, actor: Actor, *, parent_id: int, code: str, name: str,
                      level: str, area_code: str | None = None) -> dict[str, Any]:
    code = clean_code("code", code)
    name = clean_text("name", name, max_len=200)
    area_code = clean_area_code("areaCode", area_code)
    async with transaction():
        await advisory_xact_lock(TREE_LOCK_NAMESPACE, tenant.id)
        parent = await get_unit(tenant, parent_id)
        if parent is None:
            raise not_found("parent org unit", "parentId")
        if not parent["active"]:
            raise DomainError(ErrorCode.INACTIVE, "the parent org unit is deactivated", "parentId")
        unit = await _insert_unit(tenant, parent, code=code, name=name, level=level, area_code=area_code)
        await record(tenant, actor, "org_unit.create", "OrgUnit", unit["id"],
                     {"code": code, "name": name, "level": level, "parent_id": parent_id, "area_code": area_code})
    return unit


async def rename_unit(tenant: TenantContext, actor: Actor, unit_id: int, name: str) -> dict[str, Any]:
    name = clean_text("name", name, max_len=200)
    async with transaction():
        unit = await get_unit(tenant, unit_id)
        if unit is None:
            raise not_found("org unit")
        if unit["name"] == name:
            return unit
        await OrgUnit.update({OrgUnit.name: name}).where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.id == unit_id))
        await record(tenant, actor, "org_unit.rename", "OrgUnit", unit_id, {"name": [unit["name"], name]})
    return {**unit, "name": name}


async def update_unit_details(tenant: TenantContext, actor: Actor, unit_id: int, *, level: str,
                              area_code: str | None) -> dict[str, Any]:
    """Used by manifest sync; checks the level against parent and children."""
    async with transaction():
        unit = await get_unit(tenant, unit_id)
        if unit is None:
            raise not_found("org unit")
        parent = await get_unit(tenant, unit["parent_id"]) if unit["parent_id"] else None
        check_level(level, parent["level"] if parent else None)
        await OrgUnit.update({OrgUnit.level: level, OrgUnit.area_code: area_code}).where(OrgUnit.id == unit_id)
        await record(tenant, actor, "org_unit.update", "OrgUnit", unit_id,
                     {"level": [unit["level"], level], "area_code": [unit["area_code"], area_code]})
    return {**unit, "level": level, "area_code": area_code}


async def move_unit(tenant: TenantContext, actor: Actor, unit_id: int, new_parent_id: int) -> dict[str, Any]:
    async with transaction():
        await advisory_xact_lock(TREE_LOCK_NAMESPACE, tenant.id)
        unit = await get_unit(tenant, unit_id)
        if unit is None:
            raise not_found("org unit")
        new_parent = await get_unit(tenant, new_parent_id)
        if new_parent is None:
            raise not_found("new parent org unit", "parentId")
        if unit["parent_id"] is None:
            raise DomainError(ErrorCode.INVALID_HIERARCHY, "the province root cannot be moved", "id")
        if new_parent["path"].startswith(unit["path"]):
            raise DomainError(ErrorCode.INVALID_HIERARCHY, "cannot move a unit under itself or its descendants", "parentId")
        if not new_parent["active"]:
            raise DomainError(ErrorCode.INACTIVE, "the new parent org unit is deactivated", "parentId")
        if unit["parent_id"] == new_parent_id:
            return unit
        check_level(unit["level"], new_parent["level"])
        # Children keep their levels, so each direct child must still fit under this unit: true
        # already, since the unit's own level is unchanged.
        old_prefix = unit["path"]
        new_prefix = f"{new_parent['path']}{unit_id}/"
        delta = new_parent["depth"] + 1 - unit["depth"]
        await raw(
            "UPDATE org_unit SET path = {} || substr(path, {}), depth = depth + {} "
            "WHERE tenant_id = {} AND path LIKE {}",
            new_prefix, len(old_prefix) + 1, delta, tenant.id, old_prefix + "%",
        )
        await OrgUnit.update({OrgUnit.parent_id: new_parent_id}).where(
            (OrgUnit.tenant_id == tenant.id) & (OrgUnit.id == unit_id))
        await record(tenant, actor, "org_unit.move", "OrgUnit", unit_id,
                     {"parent_id": [unit["parent_id"], new_parent_id]})
        return written(await get_unit(tenant, unit_id), "org unit")


async def deactivate_unit(tenant: TenantContext, actor: Actor, unit_id: int) -> dict[str, Any]:
    async with transaction():
        await advisory_xact_lock(TREE_LOCK_NAMESPACE, tenant.id)
        unit = await get_unit(tenant, unit_id)
        if unit is None:
            raise not_found("org unit")
        if unit["parent_id"] is None:
            raise DomainError(ErrorCode.INVALID_HIERARCHY, "the province root cannot be deactivated", "id")
        if not unit["active"]:
            return unit
        active_children = await OrgUnit.count().where(
            (OrgUnit.tenant_id == tenant.id) & (OrgUnit.parent_id == unit_id) & (OrgUnit.active == True))  # noqa: E712
        if active_children:
            raise DomainError(ErrorCode.CONFLICT, f"the unit has {active_children} active sub-units; deactivate them first", "id")
        await OrgUnit.update({OrgUnit.active: False}).where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.id == unit_id))
        await record(tenant, actor, "org_unit.deactivate", "OrgUnit", unit_id, {"active": [True, False]})
    return {**unit, "active": False}

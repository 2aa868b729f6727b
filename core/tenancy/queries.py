"""Reads of tenancy: the active tenants (cached briefly) and the org-unit tree. Every unit read filters on
tenant_id (RLS is only the second fence)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import Or
from piccolo.custom_types import Combinable

from core.context import TenantContext
from core.tenancy.cache import CACHE_SECONDS, TENANTS
from core.tenancy.tables import OrgUnit, Tenant

ORDER_FIELDS = {"NAME": OrgUnit.name, "CODE": OrgUnit.code, "PATH": OrgUnit.path, "CREATED_AT": OrgUnit.created_at}

UNIT_COLUMNS = (OrgUnit.id, OrgUnit.parent_id, OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.area_code,
                OrgUnit.path, OrgUnit.depth, OrgUnit.active, OrgUnit.created_at)


@dataclass(frozen=True)
class UnitFilter:
    parent_id: int | None = None
    subtree_of_path: str | None = None
    level: str | None = None
    active: bool | None = None
    name_contains: str | None = None
    codes: Sequence[str] | None = None


def _where(tenant: TenantContext, flt: UnitFilter, scope_paths: Sequence[str] | None) -> Combinable:
    cond: Combinable = OrgUnit.tenant_id == tenant.id
    if flt.parent_id is not None:
        cond &= OrgUnit.parent_id == flt.parent_id
    if flt.subtree_of_path:
        cond &= OrgUnit.path.like(flt.subtree_of_path + "%")
    if flt.level:
        cond &= OrgUnit.level == flt.level
    if flt.active is not None:
        cond &= OrgUnit.active == flt.active
    if flt.name_contains:
        escaped = flt.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        cond &= OrgUnit.name.like(f"%{escaped}%")
    if flt.codes:
        cond &= OrgUnit.code.is_in(list(flt.codes))
    if scope_paths is not None:
        if not scope_paths:
            cond &= OrgUnit.id == -1
        else:
            scope: Combinable = OrgUnit.path.like(scope_paths[0] + "%")
            for p in scope_paths[1:]:
                scope = Or(scope, OrgUnit.path.like(p + "%"))
            cond &= scope
    return cond


_SQL_COLUMNS = ("id", "parent_id", "code", "name", "level", "area_code", "path", "depth", "active", "created_at")
_SQL_ORDER = {"NAME": "name", "CODE": "code", "PATH": "path", "CREATED_AT": "created_at"}


def _sql_where(tenant: TenantContext, flt: UnitFilter, scope_paths: Sequence[str] | None) -> tuple[str, list[Any]]:
    clauses = ["u.tenant_id = {}"]
    args: list[Any] = [tenant.id]
    if flt.parent_id is not None:
        clauses.append("u.parent_id = {}")
        args.append(flt.parent_id)
    if flt.subtree_of_path:
        clauses.append("u.path LIKE {}")
        args.append(flt.subtree_of_path + "%")
    if flt.level:
        clauses.append("u.level = {}")
        args.append(flt.level)
    if flt.active is not None:
        clauses.append("u.active = {}")
        args.append(flt.active)
    if flt.name_contains:
        escaped = flt.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("u.name LIKE {} ESCAPE '\\'")
        args.append(f"%{escaped}%")
    if flt.codes:
        clauses.append("u.code IN (" + ", ".join("{}" for _ in flt.codes) + ")")
        args.extend(flt.codes)
    if scope_paths is not None:
        if not scope_paths:
            clauses.append("1 = 0")
        else:
            clauses.append("(" + " OR ".join("u.path LIKE {}" for _ in scope_paths) + ")")
            args.extend(p + "%" for p in scope_paths)
    return " AND ".join(clauses), args


async def list_units(tenant: TenantContext, flt: UnitFilter, *, order: str = "PATH", descending: bool = False,
                     offset: int = 0, limit: int = 50, scope_paths: Sequence[str] | None = None,
                     with_total: bool = True, with_parents: bool = False,
                     ) -> tuple[list[dict[str, Any]], int | None]:
    """One round trip: the page, its total (a window count) and, if asked, each row's parent
    (under the key "_parent"), which is what a list screen needs."""
    from core.dbutil import raw, raw_records

    where, args = _sql_where(tenant, flt, scope_paths)
    direction = "DESC" if descending else "ASC"
    cols = ", ".join(f"u.{c}" for c in _SQL_COLUMNS)
    total_col = ", count(*) OVER () AS total_count" if with_total else ""
    order_by = f"{_SQL_ORDER[order]} {direction}, id {direction}"
    page = f"SELECT {cols}{total_col} FROM org_unit u WHERE {where} ORDER BY u.{order_by} LIMIT {{}} OFFSET {{}}"
    if with_parents:
        # The page, then each distinct parent once (a page shares a handful): joining the parent to
        # every row sent and decoded its ten columns a hundred times, the list's largest database cost.
        parent_cols = ", ".join(f"p.{c}" for c in _SQL_COLUMNS) + (", NULL" if with_total else "")
        sql = (f"WITH page AS ({page}) SELECT 0 AS k, page.* FROM page UNION ALL "
               f"SELECT 1 AS k, {parent_cols} FROM org_unit p WHERE p.tenant_id = {{}} "
               f"AND p.id IN (SELECT parent_id FROM page) ORDER BY k, {order_by}")
        found = await raw_records(sql, *args, limit, offset, tenant.id)
    else:
        found = await raw_records(page, *args, limit, offset)
    # Read the record by position: looking each of ten names up per row was the list's costliest
    # Python.
    first = 1 if with_parents else 0
    stop = first + len(_SQL_COLUMNS)
    rows: list[dict[str, Any]] = []
    parents: dict[int, dict[str, Any]] = {}
    total: int | None = None
    for r in found:
        # asyncpg's Record iterates its values; the embedded default's rows are dicts (in column order).
        values = tuple(r.values()) if isinstance(r, dict) else tuple(r)
        if first and values[0] == 1:
            parents[values[1]] = dict(zip(_SQL_COLUMNS, values[first:stop], strict=True))
            continue
        rows.append(dict(zip(_SQL_COLUMNS, values[first:stop], strict=True)))
        if with_total and total is None:
            total = values[stop]
    if with_parents:
        for row in rows:
            parent_id = row["parent_id"]
            row["_parent"] = None if parent_id is None else parents.get(parent_id)
    if with_total and total is None:
        # past the end, or nothing matches: the window count has no row to ride on
        total = (await raw(f"SELECT count(*) AS n FROM org_unit u WHERE {where}", *args))[0]["n"]
    return rows, total


async def units_by_ids(tenant: TenantContext, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    if not ids:
        return []
    rows = await OrgUnit.select(*UNIT_COLUMNS).where((OrgUnit.tenant_id == tenant.id) & OrgUnit.id.is_in(list(ids)))
    by_id = {r["id"]: r for r in rows}
    return [by_id.get(i) for i in ids]


async def children_of(tenant: TenantContext, parent_ids: Sequence[int], *, limit: int = 500) -> list[list[dict[str, Any]]]:
    """Each parent's direct sub-units by name (at most ``limit`` each), for many parents in one
    round trip (a page of units asking for their children)."""
    from core.dbutil import raw_records

    if not parent_ids:
        return []
    cols = ", ".join(f"u.{c}" for c in _SQL_COLUMNS)
    marks = ", ".join("{}" for _ in parent_ids)
    sql = (f"SELECT * FROM (SELECT {cols}, row_number() OVER (PARTITION BY u.parent_id ORDER BY u.name, u.id) AS n "
           f"FROM org_unit u WHERE u.tenant_id = {{}} AND u.parent_id IN ({marks})) c "
           f"WHERE c.n <= {{}} ORDER BY c.parent_id, c.n")
    by_parent: dict[int, list[dict[str, Any]]] = {}
    for r in await raw_records(sql, tenant.id, *parent_ids, limit):
        by_parent.setdefault(r["parent_id"], []).append({c: r[c] for c in _SQL_COLUMNS})
    return [by_parent.get(i, []) for i in parent_ids]


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


async def ancestors(tenant: TenantContext, unit: dict[str, Any]) -> list[dict[str, Any]]:
    ids = path_ids(unit["path"])[:-1]
    if not ids:
        return []
    found = await units_by_ids(tenant, ids)
    return [u for u in found if u is not None]


# ---------------------------------------------------------------------------------------------
# Tenants (active ones, cached briefly) and single org units
# ---------------------------------------------------------------------------------------------


def tenant_from_row(row: Mapping[str, Any]) -> TenantContext:
    import json

    plugins = row["plugins"]
    settings = row["settings"]
    capabilities = row.get("capabilities") or []
    if isinstance(plugins, str):
        plugins = json.loads(plugins)
    if isinstance(settings, str):
        settings = json.loads(settings)
    if isinstance(capabilities, str):
        capabilities = json.loads(capabilities)
    return TenantContext(
        id=row["id"], code=row["code"], name=row["name"], province_code=row["province_code"],
        plugins=tuple(plugins), settings=settings, is_platform=row["is_platform"],
        settings_version=row.get("settings_version") or 0,
        capabilities=tuple(capabilities),
    )


async def get_tenant(*, id: int | None = None, code: str | None = None,
                     settings_version: int | None = None) -> TenantContext | None:
    """Active tenant by id or code, cached briefly (tenants change rarely; logins are hot).

    ``settings_version``: the tenant's current ``settings_version`` as the caller just read it from
    the database; a cached context with another version is stale (plugin settings were edited, maybe
    by another process) and is read again.
    """
    key = ("id", id) if id is not None else ("code", code)
    hit = TENANTS.get(key)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS and (
            settings_version is None or hit[1] is None or hit[1].settings_version == settings_version):
        return hit[1]
    query = Tenant.select().where(Tenant.active == True)  # noqa: E712
    query = query.where(Tenant.id == id) if id is not None else query.where(Tenant.code == code)
    row = await query.first()
    ctx = tenant_from_row(row) if row else None
    TENANTS[key] = (now, ctx)
    return ctx


async def get_current_tenant(tenant_id: int) -> TenantContext | None:
    """Like ``get_tenant(id=...)`` but never with stale plugin settings: one small query compares
    the cached context's ``settings_version`` with the database (for job starts, not every request)."""
    row = await Tenant.select(Tenant.settings_version).where(Tenant.id == tenant_id).first()
    if row is None:
        return None
    return await get_tenant(id=tenant_id, settings_version=row["settings_version"])


async def list_tenants(include_platform: bool = False) -> list[TenantContext]:
    query = Tenant.select().where(Tenant.active == True).order_by(Tenant.id)  # noqa: E712
    rows = await query
    return [tenant_from_row(r) for r in rows if include_platform or not r["is_platform"]]


async def get_unit(tenant: TenantContext, unit_id: int) -> dict[str, Any] | None:
    return await OrgUnit.select().where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.id == unit_id)).first()


async def get_unit_by_code(tenant: TenantContext, code: str) -> dict[str, Any] | None:
    return await OrgUnit.select().where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.code == code)).first()


async def root_unit(tenant: TenantContext) -> dict[str, Any] | None:
    return await OrgUnit.select().where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.parent_id.is_null())).first()

"""Reads of the org-unit tree. Every read filters on tenant_id (RLS is only the second fence)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from piccolo.columns.combination import Or

from core.tenancy.context import TenantContext
from core.tenancy.tables import OrgUnit

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


def _where(tenant: TenantContext, flt: UnitFilter, scope_paths: Sequence[str] | None):
    cond = OrgUnit.tenant_id == tenant.id
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
            scope = OrgUnit.path.like(scope_paths[0] + "%")
            for p in scope_paths[1:]:
                scope = Or(scope, OrgUnit.path.like(p + "%"))
            cond &= scope
    return cond


async def list_units(tenant: TenantContext, flt: UnitFilter, *, order: str = "PATH", descending: bool = False,
                     offset: int = 0, limit: int = 50, scope_paths: Sequence[str] | None = None,
                     with_total: bool = True) -> tuple[list[dict[str, Any]], int | None]:
    cond = _where(tenant, flt, scope_paths)
    column = ORDER_FIELDS[order]
    rows = await (
        OrgUnit.select(*UNIT_COLUMNS).where(cond).order_by(column, ascending=not descending)
        .order_by(OrgUnit.id, ascending=not descending).offset(offset).limit(limit)
    )
    total = None
    if with_total:
        total = await OrgUnit.count().where(cond)
    return rows, total


async def units_by_ids(tenant: TenantContext, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    if not ids:
        return []
    rows = await OrgUnit.select(*UNIT_COLUMNS).where((OrgUnit.tenant_id == tenant.id) & OrgUnit.id.is_in(list(ids)))
    by_id = {r["id"]: r for r in rows}
    return [by_id.get(i) for i in ids]


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


async def ancestors(tenant: TenantContext, unit: dict[str, Any]) -> list[dict[str, Any]]:
    ids = path_ids(unit["path"])[:-1]
    if not ids:
        return []
    found = await units_by_ids(tenant, ids)
    return [u for u in found if u is not None]

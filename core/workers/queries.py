"""Reads of worker accounts, binding codes and join applications; every query filters the tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.context import TenantContext
from core.dbutil import raw
from core.workers.tables import JoinApplication, WorkerAccount


async def account_by_user(tenant: TenantContext, user_id: int) -> dict[str, Any] | None:
    return await WorkerAccount.select().where(
        (WorkerAccount.tenant_id == tenant.id) & (WorkerAccount.user_id == user_id)).first()


async def account_by_phone(tenant: TenantContext, bidxs: Sequence[bytes]) -> dict[str, Any] | None:
    return await WorkerAccount.select().where(
        (WorkerAccount.tenant_id == tenant.id) & WorkerAccount.phone_bidx.is_in(list(bidxs))).first()


async def account_by_member(tenant: TenantContext, member_id: int) -> dict[str, Any] | None:
    return await WorkerAccount.select().where(
        (WorkerAccount.tenant_id == tenant.id) & (WorkerAccount.member_id == member_id)).first()


async def get_application(tenant: TenantContext, app_id: int) -> dict[str, Any] | None:
    return await JoinApplication.select(
        *JoinApplication.all_columns(), JoinApplication.org_unit_id.path, JoinApplication.org_unit_id.name,
    ).where((JoinApplication.tenant_id == tenant.id) & (JoinApplication.id == app_id)).first()


async def applications_of(tenant: TenantContext, worker_id: int) -> list[dict[str, Any]]:
    return await JoinApplication.select(*JoinApplication.all_columns(), JoinApplication.org_unit_id.name).where(
        (JoinApplication.tenant_id == tenant.id) & (JoinApplication.worker_id == worker_id)
    ).order_by(JoinApplication.id, ascending=False)


async def list_applications(tenant: TenantContext, scope_paths: Sequence[str], *, status: str | None, offset: int,
                            limit: int) -> tuple[list[dict[str, Any]], int]:
    """Applications to unions inside ``scope_paths``, oldest deadline first."""
    if not scope_paths:
        return [], 0
    where = ["a.tenant_id = {}", "(" + " OR ".join("o.path LIKE {}" for _ in scope_paths) + ")"]
    # Paths are digits and slashes ("/1/4/"): nothing in them is a LIKE wildcard.
    params: list[Any] = [tenant.id, *[p + "%" for p in scope_paths]]
    if status:
        where.append("a.status = {}")
        params.append(status)
    cond = " AND ".join(where)
    base = "FROM join_application a JOIN org_unit o ON o.id = a.org_unit_id AND o.tenant_id = a.tenant_id " \
           "JOIN worker_account w ON w.id = a.worker_id AND w.tenant_id = a.tenant_id"
    rows = await raw(f"SELECT a.*, o.name AS unit_name, o.path AS unit_path, w.name AS applicant_name, "
                     f"w.id_number_enc, w.phone_enc {base} WHERE {cond} ORDER BY a.due_on, a.id LIMIT {{}} OFFSET {{}}",
                     *params, limit, offset)
    total = (await raw(f"SELECT count(*) AS n {base} WHERE {cond}", *params))[0]["n"]
    return rows, total


async def search_units(tenant: TenantContext, *, name: str | None, region_path: str | None, area_code: str | None,
                       offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Active grassroots unions by part of their name, inside a region (a unit's subtree or an area
    code prefix). Returns each with its parent's name, which is how people tell namesakes apart."""
    where = ["o.tenant_id = {}", "o.level = 'grassroots'", "o.active"]
    params: list[Any] = [tenant.id]
    if name:
        # An explicit escape character: SQLite has no default one.
        where.append("o.name LIKE {} ESCAPE '\\'")
        params.append("%" + name.replace("\\", "").replace("%", "\\%").replace("_", "\\_") + "%")
    if region_path:
        where.append("o.path LIKE {}")
        params.append(region_path + "%")
    if area_code:
        where.append("o.area_code LIKE {}")
        params.append(area_code + "%")
    cond = " AND ".join(where)
    rows = await raw(f"SELECT o.id, o.code, o.name, o.area_code, p.name AS parent_name FROM org_unit o "
                     f"LEFT JOIN org_unit p ON p.id = o.parent_id AND p.tenant_id = o.tenant_id WHERE {cond} "
                     "ORDER BY o.name, o.id LIMIT {} OFFSET {}", *params, limit, offset)
    total = (await raw(f"SELECT count(*) AS n FROM org_unit o WHERE {cond}", *params))[0]["n"]
    return rows, total

"""Reads of users and their role grants. Every read filters on tenant_id (RLS is only the second fence)."""

from __future__ import annotations

from typing import Any

from core.accounts.tables import RoleGrant, User
from core.context import TenantContext
from core.dbutil import as_utc, raw
from core.permissions import Grant, Principal, Role


async def load_principal(tenant: TenantContext, user_id: int, token_id: int | None = None) -> Principal | None:
    user = await User.select(User.id, User.username, User.active).where(
        (User.tenant_id == tenant.id) & (User.id == user_id)).first()
    if user is None or not user["active"]:
        return None
    rows = await RoleGrant.select(RoleGrant.role, RoleGrant.org_unit_id, RoleGrant.org_unit_id.path).where(
        (RoleGrant.tenant_id == tenant.id) & (RoleGrant.user_id == user_id))
    grants = tuple(Grant(Role(r["role"]), r["org_unit_id"], r["org_unit_id.path"]) for r in rows)
    return Principal(user_id=user["id"], username=user["username"], tenant_id=tenant.id, grants=grants,
                     token_id=token_id)


async def get_user(tenant: TenantContext, user_id: int) -> dict[str, Any] | None:
    return await User.select(User.id, User.username, User.display_name, User.active, User.created_at).where(
        (User.tenant_id == tenant.id) & (User.id == user_id)).first()


async def grants_for_users(tenant: TenantContext, user_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not user_ids:
        return {}
    rows = await RoleGrant.select(RoleGrant.user_id, RoleGrant.role, RoleGrant.org_unit_id).where(
        (RoleGrant.tenant_id == tenant.id) & RoleGrant.user_id.is_in(user_ids))
    out: dict[int, list[dict[str, Any]]] = {u: [] for u in user_ids}
    for r in rows:
        out[r["user_id"]].append(r)
    return out


async def list_users(tenant: TenantContext, principal: Principal, *, username_prefix: str | None, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    """Users visible to ``principal``: those with a grant inside its ``user.read`` subtree."""
    from core.scope import users_scope_clause

    scope, args = users_scope_clause(principal, "user.read", tenant.id)
    where = ["u.tenant_id = {}", scope]
    params: list[Any] = [tenant.id, *args]
    if username_prefix:
        where.append("u.username LIKE {}")
        params.append(username_prefix.replace("\\", "").replace("%", "").replace("_", "\\_") + "%")
    cond = " AND ".join(where)
    rows = await raw(f"SELECT u.id, u.username, u.display_name, u.active, u.created_at FROM app_user u WHERE {cond} "
                     "ORDER BY u.username LIMIT {} OFFSET {}", *params, limit, offset)
    total = (await raw(f"SELECT count(*) AS n FROM app_user u WHERE {cond}", *params))[0]["n"]
    for r in rows:
        r["created_at"] = as_utc(r["created_at"])
    return rows, total

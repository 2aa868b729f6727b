"""GraphQL for logins, the current user, users and role grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from core.accounts import queries, services
from core.dbutil import written
from core.errors import DomainError, ErrorCode
from core.graphql.base import (
    Connection,
    Info,
    Node,
    UserError,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
    user_errors,
)
from core.permissions import Role
from core.scope import require_user_covered, user_grant_paths, user_visible
from core.tenancy import queries as unit_queries
from core.tenancy.graphql import OrgUnit, Tenant

# Registers Role itself as the GraphQL enum: fields are annotated with the class.
strawberry.enum(Role, name="Role", description="Roles; each is granted at an org unit and covers its subtree.")


@strawberry.type(description="A role granted at an org unit.")
class RoleGrant:
    role: Role
    org_unit_pk: strawberry.Private[int]

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit | None:
        row = await info.context.loader("org_unit_by_id", unit_queries.units_by_ids).load(self.org_unit_pk)
        return OrgUnit.from_row(row) if row else None


@strawberry.type(description="A user of one tenant.")
class User(Node):
    id: strawberry.ID
    username: str
    display_name: str
    active: bool
    created_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(id=strawberry.ID(to_global_id("User", row["id"])), username=row["username"],
                   display_name=row["display_name"], active=row["active"], created_at=row["created_at"], pk=row["id"])

    @strawberry.field(description="Role grants. The user themself sees all of theirs; user.read holders see those inside their subtree.")
    async def grants(self, info: Info) -> list[RoleGrant]:
        _, principal = info.context.authenticated()
        rows = await info.context.loader("role_grants_by_user", _grants_of).load(self.pk)
        if principal.user_id == self.pk:
            return [RoleGrant(role=Role(r["role"]), org_unit_pk=r["org_unit_id"]) for r in rows]
        found = await info.context.loader("org_unit_by_id", unit_queries.units_by_ids).load_many(
            [r["org_unit_id"] for r in rows])
        units = {u["id"]: u for u in found if u}
        return [RoleGrant(role=Role(r["role"]), org_unit_pk=r["org_unit_id"]) for r in rows
                if r["org_unit_id"] in units and principal.can("user.read", units[r["org_unit_id"]]["path"])]


async def _grants_of(tenant: Any, user_ids: list[int]) -> list[list[dict[str, Any]]]:
    found = await queries.grants_for_users(tenant, user_ids)
    return [found[u] for u in user_ids]


@strawberry.type(description="You: the logged-in user, the tenant and your grants.")
class Me:
    user: User
    tenant: Tenant
    grants: list[RoleGrant]
    permissions: list[str] = strawberry.field(description="Actions you may perform somewhere in your tenant.")


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(default=None, description="Bearer token: send `Authorization: Bearer <token>`.")
    expires_at: datetime | None = None
    user: User | None = None
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool = False
    errors: list[UserError]


@strawberry.input
class GrantInput:
    role: Role
    org_unit_id: strawberry.ID


@strawberry.input
class UserCreateInput:
    username: str
    password: str
    display_name: str = ""
    grants: list[GrantInput] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    errors: list[UserError]


async def _me(info: Info) -> Me:
    from core.registry import get_registry

    tenant, principal = info.context.authenticated()
    registry = get_registry()
    row = await queries.get_user(tenant, principal.user_id)
    assert row is not None
    return Me(
        user=User.from_row(row), tenant=Tenant.from_context(tenant),
        grants=[RoleGrant(role=g.role, org_unit_pk=g.org_unit_id) for g in principal.grants],
        # A capability's actions are listed only where the tenant enables it (its fields refuse otherwise).
        permissions=sorted(a for a in registry.permissions if principal.can(a)
                           and registry.action_enabled(a, tenant.capabilities)),
    )


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The logged-in user; an UNAUTHENTICATED error without a valid token.")
    @for_query
    async def me(self, info: Info) -> Me:
        return await _me(info)

    @strawberry.field(description=perm("user.read", "Users of your tenant."))
    @for_query
    async def users(self, info: Info, username_prefix: str | None = None, first: int | None = 50,
                    after: str | None = None) -> Connection[User]:
        tenant, principal = info.context.require("user.read")
        page = page_args(first, after)
        if username_prefix and len(username_prefix) > 64:
            raise DomainError(ErrorCode.INVALID_INPUT, "usernamePrefix is too long", "usernamePrefix")
        rows, total = await queries.list_users(tenant, principal, username_prefix=username_prefix, offset=page.offset,
                                                limit=page.limit)
        return connection([User.from_row(r) for r in rows], total, page)


async def resolve_user(info: Info, pk: int) -> User | None:
    tenant, principal = info.context.authenticated()
    if principal.user_id != pk:
        paths = (await user_grant_paths(tenant.id, [pk]))[pk]
        if not principal.can("user.read") or not user_visible(principal, "user.read", paths):
            return None
    row = await queries.get_user(tenant, pk)
    return User.from_row(row) if row else None


async def _grant_args(info: Info, grants: list[GrantInput]) -> list[tuple[str, int]]:
    out = []
    for g in grants:
        _, pk = from_global_id(g.org_unit_id, "OrgUnit", "orgUnitId")
        out.append((g.role.value, pk))
    return out


async def _require_admin_over(info: Info, unit_pks: list[int]) -> None:
    tenant, principal = info.context.require("user.write")
    rows = await unit_queries.units_by_ids(tenant, unit_pks)
    for row in rows:
        if row is None:
            raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId")
        if not principal.can("user.write", row["path"]):
            raise DomainError(ErrorCode.FORBIDDEN, "you can only grant roles within your own subtree", "orgUnitId")


async def _require_user(tenant: Any, principal: Any, user_pk: int, action: str) -> None:
    """The target user exists and ``action`` covers every unit they hold a grant at."""
    if await queries.get_user(tenant, user_pk) is None:
        raise DomainError(ErrorCode.NOT_FOUND, "user not found", "userId")
    await require_user_covered(principal, tenant.id, user_pk, action)


async def _change_grant(info: Info, user_id: strawberry.ID, grant: GrantInput, change: Any) -> UserPayload:
    async def work() -> dict[str, Any]:
        (role, unit_pk), = await _grant_args(info, [grant])
        await _require_admin_over(info, [unit_pk])
        tenant, principal = info.context.authenticated()
        _, user_pk = from_global_id(user_id, "User", "userId")
        await _require_user(tenant, principal, user_pk, "user.write")
        return {"user": User.from_row(await change(tenant, info.context.actor, user_pk, role, unit_pk))}

    return await run_mutation(UserPayload, work)


def _login_fields(info: Info) -> int:
    """How many ``login`` fields the operation selects (aliases and fragments included): a batch of
    aliases would otherwise try many passwords in one request."""
    from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

    def count(selection_set: Any, seen: frozenset[str]) -> int:
        n = 0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                n += sel.name.value == "login"
            elif isinstance(sel, InlineFragmentNode):
                n += count(sel.selection_set, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                fragment = info._raw_info.fragments.get(sel.name.value)
                n += count(fragment.selection_set, seen | {sel.name.value}) if fragment else 0
        return n

    return count(info.operation.selection_set, frozenset())


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Log in to a province. One `login` per request (a second is refused with INVALID_INPUT and none is tried). Repeated failures from one address are throttled (TOO_MANY_ATTEMPTS, with `extensions.retryAfterSeconds`); the owner on another address is still let in.")
    async def login(self, info: Info, tenant_code: str, username: str, password: str) -> LoginPayload:
        if _login_fields(info) > 1:
            return LoginPayload(errors=[UserError(field=None, code=ErrorCode.INVALID_INPUT,
                                                  message="send one login per request")])
        try:
            result = await services.login(tenant_code, username, password, ip=info.context.client_ip)
        except DomainError as exc:
            return LoginPayload(errors=user_errors(exc))
        from core.context import tenant_scope

        # This request arrived without a tenant; the RLS fence needs the one just logged into.
        with tenant_scope(result.tenant):
            row = written(await queries.get_user(result.tenant, result.principal.user_id), "user")
        return LoginPayload(token=result.token, expires_at=result.expires_at, user=User.from_row(row), errors=[])

    @strawberry.mutation(description="Revoke the token of this request.")
    async def logout(self, info: Info) -> LogoutPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            await services.logout(tenant, principal)
            return {"ok": True}

        return await run_mutation(LogoutPayload, work)

    @strawberry.mutation(description=perm("user.write", "Create a user with role grants inside your subtree."))
    async def user_create(self, info: Info, input: UserCreateInput) -> UserPayload:
        async def work() -> dict[str, Any]:
            grants = await _grant_args(info, input.grants)
            await _require_admin_over(info, [g[1] for g in grants])
            tenant, _ = info.context.authenticated()
            row = await services.create_user(tenant, info.context.actor, username=input.username, password=input.password,
                                             display_name=input.display_name, grants=grants)
            return {"user": User.from_row(row)}

        return await run_mutation(UserPayload, work)

    @strawberry.mutation(description=perm("user.write", "Grant a role at an org unit in your subtree."))
    async def role_grant(self, info: Info, user_id: strawberry.ID, grant: GrantInput) -> UserPayload:
        return await _change_grant(info, user_id, grant, services.grant_role)

    @strawberry.mutation(description=perm("user.write", "Revoke a role grant."))
    async def role_revoke(self, info: Info, user_id: strawberry.ID, grant: GrantInput) -> UserPayload:
        return await _change_grant(info, user_id, grant, services.revoke_role)

    @strawberry.mutation(description=perm("user.write", "Activate or deactivate a user; deactivation revokes their tokens."))
    async def user_set_active(self, info: Info, user_id: strawberry.ID, active: bool) -> UserPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("user.write")
            _, user_pk = from_global_id(user_id, "User", "userId")
            await _require_user(tenant, principal, user_pk, "user.write")
            if user_pk == principal.user_id and not active:
                raise DomainError(ErrorCode.INVALID_INPUT, "you cannot deactivate yourself", "userId")
            return {"user": User.from_row(await services.set_user_active(tenant, info.context.actor, user_pk, active))}

        return await run_mutation(UserPayload, work)

    @strawberry.mutation(description=perm("user.write", "Lift the login locks on a user's account (from every address) after repeated failed logins. The user must lie in your subtree."))
    async def user_unlock(self, info: Info, user_id: strawberry.ID) -> UserPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("user.write")
            _, user_pk = from_global_id(user_id, "User", "userId")
            await _require_user(tenant, principal, user_pk, "user.write")
            return {"user": User.from_row(await services.unlock_user(tenant, info.context.actor, user_pk))}

        return await run_mutation(UserPayload, work)

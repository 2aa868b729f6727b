"""Who a worker is, and the rule every worker-facing field follows: the object must be the caller's.

Capabilities call :func:`require_worker` (``core.sdk.require_worker``) at the top of each worker
field, then :meth:`WorkerSelf.require_own_member` on the member an object belongs to: another
worker's case, claim or card reads as NOT_FOUND, exactly like an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.context import TenantContext
from core.errors import DomainError, ErrorCode
from core.interface import Role
from core.permissions import STAFF, Principal

PERMISSIONS: dict[str, frozenset[Role]] = {
    # A worker's own account, card, applications and data.
    "worker.self": frozenset({Role.WORKER}),
    # The union proves a worker is a member (a printed one-time code) and resets forgotten passwords.
    "worker.bind_code": frozenset({Role.TENANT_ADMIN, Role.CLERK}),
    "worker.password_reset": frozenset({Role.TENANT_ADMIN, Role.CLERK}),
    # Online join applications: read by staff of the union, decided by those who may create members.
    "join.read": STAFF,
    "join.decide": frozenset({Role.TENANT_ADMIN, Role.CLERK}),
    # A service station or a clerk checks a member card's QR code.
    "member.card.verify": STAFF | {Role.SOCIAL_ORG},
}

NOT_YOURS_ZH = "未找到该记录，或它不属于您"


@dataclass(frozen=True, slots=True)
class WorkerSelf:
    """The logged-in worker: their account and, once bound, their member record."""

    tenant: TenantContext
    principal: Principal
    account_id: int
    member_id: int | None
    member_unit_id: int | None

    def require_member(self) -> int:
        if self.member_id is None:
            raise DomainError(ErrorCode.INVALID_STATE, "your account is not bound to a member record", None,
                              "您的账号尚未绑定会员身份")
        return self.member_id

    def require_own_member(self, member_id: int | None, what: str = "object") -> None:
        """NOT_FOUND unless ``member_id`` is the caller's own member record."""
        if member_id is None or self.member_id is None or member_id != self.member_id:
            raise DomainError(ErrorCode.NOT_FOUND, f"{what} not found", "id", NOT_YOURS_ZH)


async def worker_of(tenant: TenantContext, principal: Principal) -> WorkerSelf:
    from core.workers import queries

    if not principal.can("worker.self"):
        raise DomainError(ErrorCode.FORBIDDEN, "not allowed: worker.self (log in with a worker account)")
    row = await queries.account_by_user(tenant, principal.user_id)
    if row is None:
        raise DomainError(ErrorCode.FORBIDDEN, "no worker account for this user")
    unit_id = None
    if row["member_id"] is not None:
        from core.members.queries import get_member

        member = await get_member(tenant, row["member_id"])
        unit_id = member["org_unit_id"] if member else None
    return WorkerSelf(tenant, principal, row["id"], row["member_id"], unit_id)


async def own_member_id(tenant: TenantContext, principal: Principal) -> int | None:
    """The member the caller's worker account is bound to; ``None`` for a staff user, a worker
    without an account in this tenant, or one not bound to a member. For routes letting a worker
    reach their own records where staff need a subtree permission."""
    if not principal.can("worker.self"):
        return None
    try:
        me = await worker_of(tenant, principal)
    except DomainError:
        return None
    return None if me.member_id is None else int(me.member_id)


async def require_worker(info: Any) -> WorkerSelf:
    """The request's worker (UNAUTHENTICATED without a token, FORBIDDEN for a staff user), cached
    for the rest of the request."""
    cached = info.context.loaders.get("__worker_self__")
    if cached is not None:
        return cached
    tenant, principal = info.context.authenticated()
    me = await worker_of(tenant, principal)
    info.context.loaders["__worker_self__"] = me
    return me

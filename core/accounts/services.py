"""Users, logins, tokens and role grants.

Tokens look like ``hj1.<tenant id>.<secret>``: the tenant id lets the edge set the tenant *before*
the token lookup, so even the token table sits behind row-level security. Only SHA-256 of the
secret is stored; a database leak yields no usable tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.accounts import login_audit, throttle

# The reads moved to core.accounts.queries; they stay importable from here for callers that have not
# moved yet (tests).
from core.accounts.queries import get_user as get_user
from core.accounts.queries import grants_for_users as grants_for_users
from core.accounts.queries import list_users as list_users
from core.accounts.queries import load_principal as load_principal
from core.accounts.tables import AuthToken, LoginAttempt, RoleGrant, User
from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext, tenant_scope
from core.dbutil import as_utc, raw, transaction, utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.permissions import Grant, Principal, Role
from core.settings import get_settings
from core.tenancy.cache import on_forget_tenant
from core.tenancy.queries import get_tenant, get_unit
from core.tenancy.services import provide_first_admin
from core.tenancy.tables import OrgUnit
from core.validation import clean_text

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "hj1"
MIN_PASSWORD = 8


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def _verify(hash_: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(hash_, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_username(username: str) -> str:
    username = clean_text("username", username, max_len=64)
    if not all(ch.isalnum() or ch in "._-@" for ch in username):
        raise DomainError(ErrorCode.INVALID_INPUT, "username may hold letters, digits and . _ - @", "username")
    return username


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(ErrorCode.INVALID_INPUT, f"password must be at least {MIN_PASSWORD} characters", "password")
    if len(password) > 256:
        raise DomainError(ErrorCode.INVALID_INPUT, "password is too long", "password")


def check_new_credentials(username: str, password: str, field_prefix: str = "") -> None:
    """Validate before anything is written (callers may be mid-way through a larger creation)."""
    try:
        _clean_username(username)
        _check_password(password)
    except DomainError as exc:
        if field_prefix and exc.field:
            exc.field = field_prefix + exc.field[0].upper() + exc.field[1:]
        raise


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: dt.datetime
    principal: Principal
    tenant: TenantContext


async def login(tenant_code: str, username: str, password: str, ip: str = "") -> LoginResult:
    """Check a password, throttled per (account, address), per account and per address
    (``core.accounts.throttle``). A refusal for throttling says for how long (``retryAfterSeconds``
    in the error's extensions) and is not a failure the owner can be blamed for."""
    settings = get_settings()
    tenant = await get_tenant(code=(tenant_code or "").strip().lower())
    if tenant is None:
        await _verify(_DUMMY_HASH, password or "")
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "unknown tenant, username or wrong password")
    username = (username or "").strip()[:64]
    keys = throttle.Keys.of(tenant.id, username, ip)
    with tenant_scope(tenant):
        wait, lock = await throttle.retry_after(keys)
        if wait:
            await _audit_failure(tenant, username, ip, "auth.login_throttled", by_address=lock == "address")
            raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS,
                              f"too many failed logins; try again in {wait} seconds",
                              extensions={"retryAfterSeconds": wait})
        user = await User.select().where((User.tenant_id == tenant.id) & (User.username == username)).first()
        ok = await _verify(user["password_hash"] if user else _DUMMY_HASH, password or "")
        ok = ok and user is not None and user["active"]
        if not ok or user is None:  # ok implies a user; the checker needs it said
            await throttle.failed(keys)
            await _audit_failure(tenant, username, ip, "auth.login_failed")
            raise DomainError(ErrorCode.INVALID_CREDENTIALS, "unknown tenant, username or wrong password")
        await throttle.succeeded(keys)
        secret = secrets.token_urlsafe(32)
        expires = utcnow() + dt.timedelta(seconds=settings.token_ttl_seconds)
        async with transaction():
            await LoginAttempt.insert(LoginAttempt(tenant_id=tenant.id, username=username, ip=ip[:64], succeeded=True))
            row = (await AuthToken.insert(AuthToken(tenant_id=tenant.id, user_id=user["id"], token_hash=_token_hash(secret),
                                                    expires_at=expires)).returning(AuthToken.id))[0]
            await record(tenant, Actor(user["id"], username), "auth.login", "User", user["id"], {"ip": ip})
        principal = await load_principal(tenant, user["id"], row["id"])
    assert principal is not None
    return LoginResult(f"{TOKEN_PREFIX}.{tenant.id}.{secret}", expires, principal, tenant)


async def _audit_failure(tenant: TenantContext, username: str, ip: str, action: str, by_address: bool = False) -> None:
    """Failed and throttled logins are counted into one summary record per (account, action,
    window), or per (address, window) for refusals of an address locked for spraying, written when
    the window closes (``core.accounts.login_audit``): anyone can send them without logging in, so
    they must not grow the append-only audit log one record each."""
    await login_audit.note(tenant.id, username, ip, action, by_address)


async def unlock_user(tenant: TenantContext, actor: Actor, user_id: int) -> dict[str, Any]:
    """Clear the login locks on a user's account, from every address."""
    row = await get_user(tenant, user_id)
    if row is None:
        raise not_found("user", "userId")
    await throttle.unlock_account(tenant.id, row["username"])
    async with transaction():
        await record(tenant, actor, "user.unlock", "User", user_id)
    return row


class TokenProblem(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


# token -> (tenant, principal, expires_at, cached at). Every request authenticates; most of them
# repeat a token seen a moment ago. Changes made in this process (logout, grants, deactivation)
# drop the entries at once; another process's change is seen within HUIJIA_AUTH_CACHE_SECONDS.
_auth_cache: dict[str, tuple[TenantContext, Principal, dt.datetime, float]] = {}
_AUTH_CACHE_MAX = 10_000


def forget_user_tokens(tenant_id: int, user_id: int | None = None) -> None:
    for key, (tenant, principal, _, _) in list(_auth_cache.items()):
        if tenant.id == tenant_id and (user_id is None or principal.user_id == user_id):
            _auth_cache.pop(key, None)


# Cached principals carry their tenant's context: when that tenant's settings change in this
# process (plugin settings edit, manifest sync), its tokens are resolved afresh.
on_forget_tenant(forget_user_tokens)


async def authenticate(token: str) -> tuple[TenantContext, Principal]:
    """Resolve a bearer token. Raises TokenProblem for malformed, unknown, revoked or expired ones."""
    ttl = get_settings().auth_cache_seconds
    if ttl:
        hit = _auth_cache.get(token)
        if hit is not None:
            tenant, principal, expires_at, cached_at = hit
            if time.monotonic() - cached_at < ttl and expires_at > utcnow():
                return tenant, principal
            _auth_cache.pop(token, None)
    tenant, principal, expires_at = await _authenticate(token)
    if ttl:
        if len(_auth_cache) >= _AUTH_CACHE_MAX:
            _auth_cache.clear()
        _auth_cache[token] = (tenant, principal, expires_at, time.monotonic())
    return tenant, principal


async def _authenticate(token: str) -> tuple[TenantContext, Principal, dt.datetime]:
    parts = (token or "").split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1].isascii() or not parts[1].isdigit() \
            or len(parts[1]) > 18:  # isdigit() alone takes '²' (int() fails) and '١٢'
        raise TokenProblem(ErrorCode.UNAUTHENTICATED, "malformed token")
    tenant = await get_tenant(id=int(parts[1]))
    if tenant is None:
        raise TokenProblem(ErrorCode.UNAUTHENTICATED, "invalid token")
    with tenant_scope(tenant):
        # One round trip for token, user and grants: this runs on every request.
        rows = await raw(
            "SELECT t.id AS token_id, t.expires_at, t.revoked_at, u.id AS user_id, u.username, u.active, "
            "g.role, g.org_unit_id, o.path, "
            "(SELECT settings_version FROM tenant WHERE id = t.tenant_id) AS settings_version "
            "FROM auth_token t JOIN app_user u ON u.id = t.user_id AND u.tenant_id = t.tenant_id "
            "LEFT JOIN role_grant g ON g.user_id = u.id AND g.tenant_id = t.tenant_id "
            "LEFT JOIN org_unit o ON o.id = g.org_unit_id AND o.tenant_id = t.tenant_id "
            "WHERE t.tenant_id = {} AND t.token_hash = {}",
            tenant.id, _token_hash(parts[2]),
        )
    if not rows or rows[0]["revoked_at"] is not None:
        raise TokenProblem(ErrorCode.UNAUTHENTICATED, "invalid or revoked token")
    first = rows[0]
    if as_utc(first["expires_at"]) <= utcnow():
        raise TokenProblem(ErrorCode.TOKEN_EXPIRED, "token expired; log in again")
    if not first["active"]:
        raise TokenProblem(ErrorCode.UNAUTHENTICATED, "user is deactivated")
    if first["settings_version"] != tenant.settings_version:
        # Plugin settings changed (perhaps through another process) since this process cached the
        # tenant: riding on the token query, this costs a query only when it happened.
        tenant = await get_tenant(id=tenant.id, settings_version=first["settings_version"]) or tenant
    grants = tuple(Grant(Role(r["role"]), r["org_unit_id"], r["path"]) for r in rows if r["role"] is not None)
    principal = Principal(user_id=first["user_id"], username=first["username"], tenant_id=tenant.id, grants=grants,
                          token_id=first["token_id"])
    return tenant, principal, as_utc(first["expires_at"])


async def logout(tenant: TenantContext, principal: Principal) -> None:
    async with transaction():
        await AuthToken.update({AuthToken.revoked_at: utcnow()}).where(
            (AuthToken.tenant_id == tenant.id) & (AuthToken.id == principal.token_id))
        await record(tenant, Actor(principal.user_id, principal.username), "auth.logout", "User", principal.user_id)
    forget_user_tokens(tenant.id, principal.user_id)


async def create_user(tenant: TenantContext, actor: Actor, *, username: str, password: str,
                      display_name: str = "", grants: Sequence[tuple[str, int]] = ()) -> dict[str, Any]:
    username = _clean_username(username)
    display_name = clean_text("displayName", display_name, max_len=100, required=False)
    _check_password(password)
    for role, unit_id in grants:
        await _check_grant(tenant, role, unit_id)
    password_hash = await hash_password(password)
    async with transaction():
        if await User.exists().where((User.tenant_id == tenant.id) & (User.username == username)):
            raise DomainError(ErrorCode.DUPLICATE, f"username {username!r} is taken", "username")
        row = (await User.insert(User(tenant_id=tenant.id, username=username, display_name=display_name,
                                      password_hash=password_hash)).returning(User.id))[0]
        for role, unit_id in grants:
            await RoleGrant.insert(RoleGrant(tenant_id=tenant.id, user_id=row["id"], role=role, org_unit_id=unit_id))
        await record(tenant, actor, "user.create", "User", row["id"],
                     {"username": username, "grants": [list(g) for g in grants], "password": "set"})
    return written(await get_user(tenant, row["id"]), "user")


# tenantCreate with adminUsername creates the new province's first admin through these.
provide_first_admin(check_new_credentials, create_user)


async def _check_grant(tenant: TenantContext, role: str, unit_id: int) -> dict[str, Any]:
    try:
        parsed = Role(role)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_INPUT, f"unknown role {role!r}", "role") from None
    if parsed is Role.PLATFORM_ADMIN and not tenant.is_platform:
        raise DomainError(ErrorCode.FORBIDDEN, "platform_admin can only be granted in the platform tenant", "role")
    unit = await get_unit(tenant, unit_id)
    if unit is None:
        raise not_found("org unit", "orgUnitId")
    return unit


async def grant_role(tenant: TenantContext, actor: Actor, user_id: int, role: str, unit_id: int) -> dict[str, Any]:
    await _check_grant(tenant, role, unit_id)
    async with transaction():
        if await get_user(tenant, user_id) is None:
            raise not_found("user", "userId")
        exists = await RoleGrant.exists().where(
            (RoleGrant.tenant_id == tenant.id) & (RoleGrant.user_id == user_id) & (RoleGrant.role == role)
            & (RoleGrant.org_unit_id == unit_id))
        if not exists:
            await RoleGrant.insert(RoleGrant(tenant_id=tenant.id, user_id=user_id, role=role, org_unit_id=unit_id))
            await record(tenant, actor, "user.grant", "User", user_id, {"role": role, "org_unit_id": unit_id})
    forget_user_tokens(tenant.id, user_id)
    return written(await get_user(tenant, user_id), "user")


async def revoke_role(tenant: TenantContext, actor: Actor, user_id: int, role: str, unit_id: int) -> dict[str, Any]:
    async with transaction():
        if await get_user(tenant, user_id) is None:
            raise not_found("user", "userId")
        await RoleGrant.delete().where(
            (RoleGrant.tenant_id == tenant.id) & (RoleGrant.user_id == user_id) & (RoleGrant.role == role)
            & (RoleGrant.org_unit_id == unit_id))
        await record(tenant, actor, "user.revoke", "User", user_id, {"role": role, "org_unit_id": unit_id})
    forget_user_tokens(tenant.id, user_id)
    return written(await get_user(tenant, user_id), "user")


async def set_user_active(tenant: TenantContext, actor: Actor, user_id: int, active: bool) -> dict[str, Any]:
    async with transaction():
        if await get_user(tenant, user_id) is None:
            raise not_found("user", "userId")
        await User.update({User.active: active}).where((User.tenant_id == tenant.id) & (User.id == user_id))
        if not active:  # a deactivated user's sessions end now
            await AuthToken.update({AuthToken.revoked_at: utcnow()}).where(
                (AuthToken.tenant_id == tenant.id) & (AuthToken.user_id == user_id) & AuthToken.revoked_at.is_null())
        await record(tenant, actor, "user.activate" if active else "user.deactivate", "User", user_id)
    forget_user_tokens(tenant.id, user_id)
    return written(await get_user(tenant, user_id), "user")


__all__ = ["OrgUnit", "login", "authenticate", "logout", "create_user", "grant_role", "revoke_role"]

"""Worker accounts: registration, binding to a member, login, password reset by the union, and the
worker's own data.

- **Registration** takes a name, an ID number (GB 11643, checked), a phone and a password. The phone
  is the login name. When the ID number belongs to a member of the tenant, the account is bound to
  that member only with proof the worker holds: the same name and the phone the union has on file,
  or (``bind``) a one-time code the union printed for the member. Without proof the account exists
  but is not bound; an account for someone who is not a member may apply to join.
- **One account per member**: ``worker_account.member_id`` is unique per tenant (a concurrent second
  bind fails on the index, DUPLICATE), and a member who has an account refuses a second registration.
- **Throttling**: registrations per client address (a flood is refused with TOO_MANY_ATTEMPTS), logins
  and password re-entries through the accounts throttle (per account and address, per address),
  binding attempts per account like logins.
- Every worker action is in the audit log, under the worker's own user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.accounts import queries as account_queries
from core.accounts import services as accounts
from core.accounts import throttle
from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext, tenant_scope
from core.dbutil import advisory_xact_lock, as_utc, transaction, utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.members import personal
from core.members import queries as members
from core.pii import IdNumberError, PhoneError, mask_id_number, mask_phone
from core.settings import get_settings
from core.tenancy.queries import get_tenant, root_unit
from core.validation import clean_text
from core.workers import phone as phone_codes
from core.workers import queries
from core.workers.tables import WorkerAccount, WorkerBindCode

# A self-registration window per client address: more than this many attempts in an hour (valid
# or not) is a flood, refused until the hour ends.
REGISTER_WINDOW = 3600
REGISTER_MAX_PER_WINDOW = 10
BIND_CODE_TTL = dt.timedelta(days=7)
BIND_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
BIND_CODE_LENGTH = 8
TEMP_PASSWORD_LENGTH = 10
WORKER_LOCK_NAMESPACE = 1501

_hasher = PasswordHasher()


class Status:
    MEMBER = "MEMBER"  # bound to a member record
    PROOF_NEEDED = "PROOF_NEEDED"  # the ID number is a member's; the worker must prove it is theirs
    NOT_MEMBER = "NOT_MEMBER"  # no member record: may apply to join


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: dt.datetime
    tenant: TenantContext
    account: dict[str, Any]


def _actor(account: dict[str, Any], username: str = "") -> Actor:
    return Actor(account["user_id"], username or f"worker:{account['id']}")


def clean_id_number(raw: str | None) -> str:
    try:
        return personal.canonical_id_number((raw or "").strip())
    except IdNumberError as exc:
        raise DomainError(ErrorCode.INVALID_INPUT, f"ID number is not valid ({exc.code})", "idNumber",
                          exc.message_zh) from None


def clean_phone(raw: str | None) -> str:
    try:
        phone = personal.canonical_phone((raw or "").strip())
    except PhoneError as exc:
        raise DomainError(ErrorCode.INVALID_INPUT, "phone number is not valid", "phone", exc.message_zh) from None
    if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
        raise DomainError(ErrorCode.INVALID_INPUT, "a mobile phone number is needed", "phone", "请填写手机号码")
    return phone


def clean_name(raw: str | None) -> str:
    name = clean_text("name", raw, max_len=50, label_zh="姓名")
    return name


def _check_password(password: str | None) -> None:
    try:
        accounts.check_new_credentials("worker", password or "")
    except DomainError as exc:
        exc.message_zh = exc.message_zh or f"密码至少 {accounts.MIN_PASSWORD} 位"
        raise


async def _verify_password(hash_: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(hash_, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def _same_name(a: str, b: str) -> bool:
    return personal.name_key(a) == personal.name_key(b)


async def portal_tenant(code: str | None) -> TenantContext:
    tenant = await get_tenant(code=(code or "").strip().lower())
    if tenant is None or tenant.is_platform:
        raise DomainError(ErrorCode.NOT_FOUND, "unknown province", "tenantCode", "所选省份不存在")
    return tenant


async def status_of(tenant: TenantContext, account: dict[str, Any]) -> str:
    if account["member_id"] is not None:
        return Status.MEMBER
    ix = await personal.index_keys(tenant)
    id_number = personal.decrypt(account["id_number_enc"], "worker_account", "id_number", tenant.id)
    member = await members.member_by_bidx(tenant, ix.id_bidxs(id_number))
    return Status.PROOF_NEEDED if member is not None else Status.NOT_MEMBER


# ---------------------------------------------------------------------------------------------
# Registration and login
# ---------------------------------------------------------------------------------------------


async def register(tenant_code: str, *, name: str, id_number: str, phone: str, password: str,
                   ip: str = "", phone_code: str | None = None) -> Session:
    """Create a worker account (and bind it when the phone on file proves the worker is the member),
    then log it in. Where the tenant verifies phones by SMS, ``phone_code`` must be a code sent to
    ``phone`` (``core.workers.phone``); it is used up before anything is written."""
    seen, wait = await throttle.count_event("register", ip, REGISTER_WINDOW)
    if seen > REGISTER_MAX_PER_WINDOW:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"too many registrations from this address; try again in {wait} seconds",
                          None, f"注册过于频繁，请 {max(1, wait // 60)} 分钟后再试", extensions={"retryAfterSeconds": wait})
    tenant = await portal_tenant(tenant_code)
    name = clean_name(name)
    id_number = clean_id_number(id_number)
    phone = clean_phone(phone)
    _check_password(password)
    username = "w-" + secrets.token_hex(8)
    with tenant_scope(tenant):
        verified = phone_codes.required(tenant)
        if verified:
            await phone_codes.consume_code(tenant, (await personal.index_keys(tenant)).phone_bidxs(phone), phone_code)
        root = await root_unit(tenant)
        assert root is not None
        async with transaction():
            ix = await personal.index_keys(tenant, for_write=True)
            # One registration per phone at a time: the unique index would catch it too, but only
            # after a password hash and a user row.
            await advisory_xact_lock(WORKER_LOCK_NAMESPACE, int.from_bytes(ix.phone_bidx(phone)[:3], "big"))
            if await queries.account_by_phone(tenant, ix.phone_bidxs(phone)) is not None:
                raise DomainError(ErrorCode.DUPLICATE, "this phone number already has an account", "phone",
                                  "该手机号码已注册，请直接登录")
            member = await members.member_by_bidx(tenant, ix.id_bidxs(id_number))
            bind = False
            if member is not None:
                if await queries.account_by_member(tenant, member["id"]) is not None:
                    raise DomainError(ErrorCode.DUPLICATE, "this member already has an account", "idNumber",
                                      "该会员已有账号；如忘记密码，请联系所在工会重置")
                bind = (member["phone_bidx"] is not None and member["phone_bidx"] in ix.phone_bidxs(phone)
                        and _same_name(member["name"], name) and member["state"] in ("joined", "transferring"))
            user = await accounts.create_user(tenant, Actor(None, "self-registration"), username=username,
                                              password=password, display_name=name, grants=[("worker", root["id"])])
            values = dict(
                tenant_id=tenant.id, user_id=user["id"], name=name,
                id_number_enc=personal.encrypt(id_number, "worker_account", "id_number", tenant.id),
                id_number_bidx=ix.id_bidx(id_number),
                phone_enc=personal.encrypt(phone, "worker_account", "phone", tenant.id),
                phone_bidx=ix.phone_bidx(phone),
            )
            if bind:
                assert member is not None
                values.update(member_id=member["id"], bound_at=utcnow(), bound_by="phone")
            try:
                account_id = (await WorkerAccount.insert(WorkerAccount(**values)).returning(WorkerAccount.id))[0]["id"]
            except Exception as exc:
                if _unique_violation(exc):
                    raise DomainError(ErrorCode.DUPLICATE, "this member or phone number already has an account",
                                      "idNumber", "该会员或手机号码已有账号") from None
                raise
            status = Status.MEMBER if bind else (Status.PROOF_NEEDED if member is not None else Status.NOT_MEMBER)
            await record(tenant, Actor(user["id"], username), "worker.register", "WorkerAccount", account_id,
                         {"status": status, "bound_by": "phone" if bind else None, "phone_verified_by_sms": verified,
                          "member_id": member["id"] if bind and member else None})
    return await _login_as(tenant, username, password, ip)


def _unique_violation(exc: Exception) -> bool:
    name = type(exc).__name__
    return name == "UniqueViolationError" or (name == "IntegrityError" and "UNIQUE" in str(exc).upper())


async def _login_as(tenant: TenantContext, username: str, password: str, ip: str) -> Session:
    result = await accounts.login(tenant.code, username, password, ip=ip)
    with tenant_scope(result.tenant):
        account = await queries.account_by_user(result.tenant, result.principal.user_id)
    if account is None:  # a staff account's name typed into the worker login
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "unknown tenant, phone or wrong password")
    return Session(result.token, result.expires_at, result.tenant, account)


async def login(tenant_code: str, phone: str, password: str, ip: str = "") -> Session:
    """Log in with the phone and password; throttled exactly like a staff login (the account's
    username stands behind the phone)."""
    tenant = await get_tenant(code=(tenant_code or "").strip().lower())
    username = ""
    if tenant is not None:
        try:
            canonical = personal.canonical_phone((phone or "").strip())
        except PhoneError:
            canonical = (phone or "").strip()[:32]
        with tenant_scope(tenant):
            ix = await personal.index_keys(tenant)
            account = await queries.account_by_phone(tenant, ix.phone_bidxs(canonical)) if canonical else None
            if account is not None:
                user = await account_queries.get_user(tenant, account["user_id"])
                username = user["username"] if user else ""
        if not username:
            # No such account: still counted against this address and this (unknown) name, and
            # still costs a password check, so a miss looks like a wrong password.
            username = "w?" + hashlib.sha256(f"{tenant.id}:{canonical}".encode()).hexdigest()[:20]
    try:
        return await _login_as(tenant, username, password, ip) if tenant else await _login_as_unknown(tenant_code, password, ip)
    except DomainError as exc:
        if exc.code is ErrorCode.INVALID_CREDENTIALS:
            exc.message = "unknown province, phone or wrong password"
            exc.message_zh = "手机号码或密码错误"
        raise


async def _login_as_unknown(tenant_code: str, password: str, ip: str) -> Session:
    await accounts.login(tenant_code, "w?", password, ip=ip)  # raises INVALID_CREDENTIALS after a dummy check
    raise DomainError(ErrorCode.INVALID_CREDENTIALS, "unknown province, phone or wrong password")


# ---------------------------------------------------------------------------------------------
# Binding to a member
# ---------------------------------------------------------------------------------------------


def _code_hash(tenant_id: int, member_id: int, code: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"worker-bind:{tenant_id}:{member_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _clean_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:32]


async def issue_bind_code(tenant: TenantContext, actor: Actor, member: dict[str, Any]) -> tuple[str, dt.datetime]:
    """A new one-time code for ``member`` (the caller checked the subtree); older codes are void.
    The code is returned once, for printing; only its HMAC is kept."""
    if member["state"] not in ("joined", "transferring"):
        raise DomainError(ErrorCode.INVALID_STATE, "only a current member can bind an account", "memberId",
                          "只有在会会员可以绑定职工账号")
    code = "".join(secrets.choice(BIND_CODE_ALPHABET) for _ in range(BIND_CODE_LENGTH))
    expires = utcnow() + BIND_CODE_TTL
    async with transaction():
        await WorkerBindCode.update({WorkerBindCode.voided_at: utcnow()}).where(
            (WorkerBindCode.tenant_id == tenant.id) & (WorkerBindCode.member_id == member["id"])
            & WorkerBindCode.used_at.is_null() & WorkerBindCode.voided_at.is_null())
        await WorkerBindCode.insert(WorkerBindCode(tenant_id=tenant.id, member_id=member["id"],
                                                   code_hash=_code_hash(tenant.id, member["id"], code),
                                                   expires_at=expires, issued_by=actor.user_id))
        await record(tenant, actor, "worker.bind_code.issue", "Member", member["id"], {"expires_at": expires.isoformat()})
    return code, expires


async def bind(tenant: TenantContext, account: dict[str, Any], username: str, *, code: str | None, ip: str = "") -> dict[str, Any]:
    """Bind the caller's account to the member with the same ID number, given proof: a union's code,
    or (no code) the name and the phone on file. Failures are throttled like logins."""
    if account["member_id"] is not None:
        raise DomainError(ErrorCode.INVALID_STATE, "your account is bound already", None, "您的账号已绑定会员身份")
    keys = throttle.Keys.of(tenant.id, f"bind:{account['id']}", ip)
    wait, _ = await throttle.retry_after(keys)
    if wait:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"too many failed attempts; try again in {wait} seconds", None,
                          f"尝试次数过多，请 {max(1, wait // 60)} 分钟后再试", extensions={"retryAfterSeconds": wait})
    actor = _actor(account, username)
    id_number = personal.decrypt(account["id_number_enc"], "worker_account", "id_number", tenant.id)
    phone = personal.decrypt(account["phone_enc"], "worker_account", "phone", tenant.id)
    async with transaction():
        ix = await personal.index_keys(tenant, for_write=True)
        member = await members.member_by_bidx(tenant, ix.id_bidxs(id_number))
        if member is None:
            raise DomainError(ErrorCode.NOT_FOUND, "no member has your ID number; apply to join a union instead",
                              "idNumber", "未找到您的会员档案，请先申请入会")
        await advisory_xact_lock(WORKER_LOCK_NAMESPACE, member["id"])
        if member["state"] not in ("joined", "transferring"):
            raise DomainError(ErrorCode.INVALID_STATE, "your membership is closed", None, "您的会籍已不在会")
        if await queries.account_by_member(tenant, member["id"]) is not None:
            raise DomainError(ErrorCode.DUPLICATE, "this member already has an account", "idNumber",
                              "该会员已有账号；如有疑问，请联系所在工会")
        cleaned = _clean_code(code or "")
        if cleaned:
            found = await WorkerBindCode.select(WorkerBindCode.id, WorkerBindCode.expires_at).where(
                (WorkerBindCode.tenant_id == tenant.id) & (WorkerBindCode.member_id == member["id"])
                & (WorkerBindCode.code_hash == _code_hash(tenant.id, member["id"], cleaned))
                & WorkerBindCode.used_at.is_null() & WorkerBindCode.voided_at.is_null()).first()
            ok = found is not None and as_utc(found["expires_at"]) > utcnow()
            how = "code"
        else:
            found = None
            ok = (member["phone_bidx"] is not None and member["phone_bidx"] in ix.phone_bidxs(phone)
                  and _same_name(member["name"], account["name"]))
            how = "phone"
        if not ok:
            failure: DomainError = DomainError(
                ErrorCode.PROOF_MISMATCH,
                "the code is wrong, used or expired" if cleaned else "your name and phone do not match the union's record",
                "code" if cleaned else "phone",
                "绑定码错误、已使用或已过期" if cleaned else "姓名或手机号码与工会登记的不一致，请向所在工会索取绑定码",
            )
        else:
            failure = None  # type: ignore[assignment]
            if found is not None:
                await WorkerBindCode.update({WorkerBindCode.used_at: utcnow()}).where(
                    (WorkerBindCode.tenant_id == tenant.id) & (WorkerBindCode.id == found["id"]))
            try:
                await WorkerAccount.update({WorkerAccount.member_id: member["id"], WorkerAccount.bound_at: utcnow(),
                                            WorkerAccount.bound_by: how}).where(
                    (WorkerAccount.tenant_id == tenant.id) & (WorkerAccount.id == account["id"])
                    & WorkerAccount.member_id.is_null())
            except Exception as exc:
                if _unique_violation(exc):
                    raise DomainError(ErrorCode.DUPLICATE, "this member already has an account", "idNumber",
                                      "该会员已有账号") from None
                raise
            await record(tenant, actor, "worker.bind", "WorkerAccount", account["id"], {"member_id": member["id"], "by": how})
    if failure is not None:
        await throttle.failed(keys)
        async with transaction():
            await record(tenant, actor, "worker.bind_failed", "WorkerAccount", account["id"], {"by": how})
        raise failure
    await throttle.succeeded(keys)
    return await queries.account_by_user(tenant, account["user_id"])


# ---------------------------------------------------------------------------------------------
# The union's side: password reset
# ---------------------------------------------------------------------------------------------


async def reset_password(tenant: TenantContext, actor: Actor, account: dict[str, Any]) -> str:
    """A new temporary password for the worker, returned once; their sessions end and login locks
    are lifted. Audited (never the password)."""
    from core.accounts.tables import AuthToken, User

    temp = "".join(secrets.choice(BIND_CODE_ALPHABET.lower() + "23456789") for _ in range(TEMP_PASSWORD_LENGTH))
    new_hash = await accounts.hash_password(temp)
    user = await account_queries.get_user(tenant, account["user_id"])
    assert user is not None
    async with transaction():
        await User.update({User.password_hash: new_hash}).where((User.tenant_id == tenant.id) & (User.id == user["id"]))
        await AuthToken.update({AuthToken.revoked_at: utcnow()}).where(
            (AuthToken.tenant_id == tenant.id) & (AuthToken.user_id == user["id"]) & AuthToken.revoked_at.is_null())
        await record(tenant, actor, "worker.password_reset", "WorkerAccount", account["id"],
                     {"member_id": account["member_id"], "password": "set"})
    accounts.forget_user_tokens(tenant.id, user["id"])
    await throttle.unlock_account(tenant.id, user["username"])
    return temp


# ---------------------------------------------------------------------------------------------
# The worker's own data
# ---------------------------------------------------------------------------------------------


async def check_password(tenant: TenantContext, account: dict[str, Any], username: str, password: str, ip: str) -> None:
    """Re-entering the password before seeing or downloading one's own data: throttled with the
    account's logins (a guess here counts as a failed login)."""
    from core.accounts.tables import User

    keys = throttle.Keys.of(tenant.id, username, ip)
    wait, _ = await throttle.retry_after(keys)
    if wait:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"too many failed attempts; try again in {wait} seconds", "password",
                          f"尝试次数过多，请 {max(1, wait // 60)} 分钟后再试", extensions={"retryAfterSeconds": wait})
    row = await User.select(User.password_hash).where((User.tenant_id == tenant.id) & (User.id == account["user_id"])).first()
    if row is None or not await _verify_password(row["password_hash"], password or ""):
        await throttle.failed(keys)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "wrong password", "password", "密码错误")


async def personal_data(tenant: TenantContext, account: dict[str, Any]) -> dict[str, Any]:
    """Everything the platform holds on the worker as a person, unmasked (for the worker only)."""
    from core.members.services import unit_info

    out: dict[str, Any] = {
        "account": {
            "name": account["name"],
            "idNumber": personal.decrypt(account["id_number_enc"], "worker_account", "id_number", tenant.id),
            "phone": personal.decrypt(account["phone_enc"], "worker_account", "phone", tenant.id),
            "registeredAt": as_utc(account["created_at"]).isoformat(),
            "boundAt": as_utc(account["bound_at"]).isoformat() if account["bound_at"] else None,
        },
        "member": None,
        "joinApplications": [],
    }
    if account["member_id"] is not None:
        m = await members.get_member(tenant, account["member_id"])
        if m is not None:
            unit = await unit_info(tenant, m["org_unit_id"])
            out["member"] = {
                "memberNumber": member_number(tenant, m["id"]), "name": m["name"],
                "idNumber": personal.decrypt(m["id_number_enc"], "member", "id_number", tenant.id),
                "phone": personal.decrypt(m["phone_enc"], "member", "phone", tenant.id) if m["phone_enc"] else None,
                "gender": m["gender"], "birthDate": m["birth_date"].isoformat() if m["birth_date"] else None,
                "employer": m["employer"], "workStatus": m["work_status"], "state": m["state"],
                "union": unit.name if unit else None,
                "joinedOn": m["joined_on"].isoformat() if m["joined_on"] else None,
                "tags": list(m["tags"] or []),
            }
    for a in await queries.applications_of(tenant, account["id"]):
        out["joinApplications"].append({
            "union": a["org_unit_id.name"], "employer": a["employer"], "status": a["status"],
            "appliedAt": as_utc(a["created_at"]).isoformat(), "dueOn": a["due_on"].isoformat(), "reason": a["reason"],
        })
    return out


def member_number(tenant: TenantContext, member_id: int) -> str:
    """The number printed on the card: province code and the member's id, zero-padded."""
    return f"{tenant.province_code}{member_id:010d}"


def masked(account: dict[str, Any], tenant: TenantContext) -> tuple[str, str]:
    try:
        id_m = mask_id_number(personal.decrypt(account["id_number_enc"], "worker_account", "id_number", tenant.id))
    except Exception:
        id_m = "******************"
    try:
        phone_m = mask_phone(personal.decrypt(account["phone_enc"], "worker_account", "phone", tenant.id))
    except Exception:
        phone_m = "***********"
    return id_m, phone_m


async def audit_worker(tenant: TenantContext, account: dict[str, Any], username: str, action: str,
                       target_type: str = "WorkerAccount", target_id: Any = None,
                       changes: dict[str, Any] | None = None) -> None:
    async with transaction():
        await record(tenant, _actor(account, username), action, target_type,
                     account["id"] if target_id is None else target_id, changes)


async def account_for_member(tenant: TenantContext, member_id: int) -> dict[str, Any]:
    row = await queries.account_by_member(tenant, member_id)
    if row is None:
        raise not_found("worker account", "memberId", "该会员尚未注册职工账号")
    return row

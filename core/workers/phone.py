"""Proof that a worker holds the phone they register with: a one-time code sent by SMS.

When the tenant's built-in setting ``worker_phone_verification`` is ``"sms"``, registration needs a
code from :func:`send_code`, and only then does the phone on file bind the new account to a member.
Without it (``"none"``) the phone is taken on trust, which lets someone who knows a member's name, ID
number and phone register first; the setting exists so a province can close that as soon as its SMS
provider is plugged in (``register_sms_gateways``).

- A code is six digits, lives ten minutes and is used once. Only the phone's blind index and an HMAC
  of the code are stored. A new code does not void the last one: SMS arrive out of order.
- Sending is throttled per phone (one a minute, five an hour) and per client address, so the
  platform cannot be used to flood someone's phone or run up the province's SMS bill.
- A code survives five wrong tries; the tries are counted in their own transaction, so the failure
  that follows cannot roll the count back. One million codes against five tries per code and five
  codes per hour leave a guesser 25 chances in a million an hour.
- The phone number and the code never reach a log or the audit record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any

from core.accounts import throttle
from core.context import TenantContext, tenant_scope
from core.dbutil import as_utc, transaction, utcnow
from core.errors import DomainError, ErrorCode
from core.interface import SmsGateway
from core.members import personal
from core.settings import get_settings
from core.workers.tables import WorkerPhoneCode

log = logging.getLogger(__name__)

TEMPLATE = "worker.phone_code"
CODE_TTL = dt.timedelta(minutes=10)
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_PER_HOUR = 5
MAX_ATTEMPTS = 5
IP_WINDOW = 3600
IP_MAX_PER_WINDOW = 20


def required(tenant: TenantContext) -> bool:
    from core.builtin_hooks import BuiltinSettings
    from core.plugins import BUILTIN_PLUGIN, tenant_settings

    return tenant_settings(tenant, BUILTIN_PLUGIN, BuiltinSettings).worker_phone_verification == "sms"


def gateway(tenant: TenantContext) -> SmsGateway:
    from core.builtin_hooks import BuiltinSettings
    from core.plugins import BUILTIN_PLUGIN, hooks_for, tenant_settings

    wanted = tenant_settings(tenant, BUILTIN_PLUGIN, BuiltinSettings).sms_gateway
    offered = [g for batch in hooks_for(tenant).register_sms_gateways() for g in batch or ()]
    chosen = [g for g in offered if g.name == wanted] if wanted else offered
    if len(chosen) != 1:
        # The province asked for SMS and has no (or no single) provider: an operator's mistake,
        # said plainly rather than letting workers register unverified.
        log.error("tenant %s: worker_phone_verification is 'sms' but %d SMS gateways match %r",
                  tenant.code, len(chosen), wanted or "(any)")
        raise DomainError(ErrorCode.PLUGIN_CONFIG, "this province's SMS service is not configured", "phone",
                          "本省短信服务尚未配置，请联系所在工会")
    return chosen[0]


def _hash(tenant_id: int, phone_bidx: bytes, code: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"worker-phone:%d:" % tenant_id + phone_bidx + b":" + code.encode(), hashlib.sha256).hexdigest()


async def send_code(tenant: TenantContext, phone: str, ip: str) -> dict[str, Any]:
    """Send a code to ``phone`` (already cleaned). Returns when it expires and when another may be asked."""
    if not required(tenant):
        raise DomainError(ErrorCode.INVALID_STATE, "this province does not verify phones by SMS", "phone",
                          "本省注册无需短信验证码")
    seen, wait = await throttle.count_event("sms-code-ip", ip, IP_WINDOW)
    if seen > IP_MAX_PER_WINDOW:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"too many codes asked from this address; try again in {wait} seconds",
                          "phone", f"获取验证码过于频繁，请 {max(1, wait // 60)} 分钟后再试",
                          extensions={"retryAfterSeconds": wait})
    sender = gateway(tenant)
    now = utcnow()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with tenant_scope(tenant):
        ix = await personal.index_keys(tenant, for_write=True)
        bidx = ix.phone_bidx(phone)
        async with transaction():
            recent = await WorkerPhoneCode.select(WorkerPhoneCode.created_at).where(
                (WorkerPhoneCode.tenant_id == tenant.id) & (WorkerPhoneCode.phone_bidx == bidx)
                & (WorkerPhoneCode.created_at > now - dt.timedelta(hours=1))).order_by(
                WorkerPhoneCode.created_at, ascending=False)
            times = [as_utc(r["created_at"]) for r in recent]
            if len(times) >= MAX_PER_HOUR:
                retry = int((min(times) + dt.timedelta(hours=1) - now).total_seconds()) + 1
            elif times and times[0] + RESEND_AFTER > now:
                retry = int((times[0] + RESEND_AFTER - now).total_seconds()) + 1
            else:
                retry = 0
            if retry > 0:
                raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"a code was sent to this phone recently; try again in {retry} seconds",
                                  "phone", f"验证码已发送，请 {retry} 秒后再试", extensions={"retryAfterSeconds": retry})
            row_id = (await WorkerPhoneCode.insert(WorkerPhoneCode(
                tenant_id=tenant.id, phone_bidx=bidx, code_hash=_hash(tenant.id, bidx, code),
                expires_at=now + CODE_TTL, gateway=sender.name)).returning(WorkerPhoneCode.id))[0]["id"]
        try:
            message_id = await sender.send(tenant=tenant, phone=phone, template=TEMPLATE,
                                           params={"code": code, "minutes": str(int(CODE_TTL.total_seconds() // 60))})
        except Exception:
            # The row stays (it still counts against the per-phone limit) but can never be used.
            await WorkerPhoneCode.update({WorkerPhoneCode.attempts: MAX_ATTEMPTS}).where(
                (WorkerPhoneCode.tenant_id == tenant.id) & (WorkerPhoneCode.id == row_id))
            log.exception("tenant %s: SMS gateway %s failed to send a phone code", tenant.code, sender.name)
            raise DomainError(ErrorCode.INTERNAL, "the SMS could not be sent; try again later", "phone",
                              "短信发送失败，请稍后再试") from None
        await WorkerPhoneCode.update({WorkerPhoneCode.message_id: str(message_id)[:100]}).where(
            (WorkerPhoneCode.tenant_id == tenant.id) & (WorkerPhoneCode.id == row_id))
    return {"expires_at": now + CODE_TTL, "resend_after_seconds": int(RESEND_AFTER.total_seconds())}


async def consume_code(tenant: TenantContext, phone_bidxs: list[bytes], code: str | None) -> None:
    """Use up a valid code for the phone (any of its blind indexes, across an index-key rotation), or
    raise PROOF_MISMATCH. Runs in its own transaction before the registration's."""
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    if not cleaned:
        raise DomainError(ErrorCode.INVALID_INPUT, "enter the code sent to your phone", "phoneCode", "请输入短信验证码")
    now = utcnow()
    async with transaction():
        rows = await WorkerPhoneCode.select(WorkerPhoneCode.id, WorkerPhoneCode.phone_bidx, WorkerPhoneCode.code_hash).where(
            (WorkerPhoneCode.tenant_id == tenant.id) & WorkerPhoneCode.phone_bidx.is_in(phone_bidxs)
            & WorkerPhoneCode.used_at.is_null() & (WorkerPhoneCode.expires_at > now)
            & (WorkerPhoneCode.attempts < MAX_ATTEMPTS)).order_by(WorkerPhoneCode.created_at, ascending=False)
        match = next((r for r in rows if hmac.compare_digest(r["code_hash"], _hash(tenant.id, bytes(r["phone_bidx"]), cleaned))), None)
        if match is not None:
            # Compare-and-set: of two registrations racing with one code, one wins.
            used = await WorkerPhoneCode.update({WorkerPhoneCode.used_at: now}).where(
                (WorkerPhoneCode.tenant_id == tenant.id) & (WorkerPhoneCode.id == match["id"])
                & WorkerPhoneCode.used_at.is_null()).returning(WorkerPhoneCode.id)
            if used:
                return
        elif rows:
            ids = [r["id"] for r in rows]
            await WorkerPhoneCode.update({WorkerPhoneCode.attempts: WorkerPhoneCode.attempts + 1}).where(
                (WorkerPhoneCode.tenant_id == tenant.id) & WorkerPhoneCode.id.is_in(ids))
    raise DomainError(ErrorCode.PROOF_MISMATCH, "the code is wrong, used or expired", "phoneCode",
                      "短信验证码错误或已失效，请重新获取")


# The per-phone hourly throttle reads the last hour of rows; a day leaves room for looking into abuse.
KEEP_CODES = dt.timedelta(hours=24)


async def purge_codes(now: dt.datetime | None = None) -> int:
    """Delete every tenant's codes sent more than a day ago, used or not: past their ten minutes
    they prove nothing, and the throttle no longer counts them."""
    from core.tenancy.services import list_tenants

    cutoff = (now or utcnow()) - KEEP_CODES
    removed = 0
    for tenant in await list_tenants():
        with tenant_scope(tenant):
            gone = await WorkerPhoneCode.delete().where(
                (WorkerPhoneCode.tenant_id == tenant.id) & (WorkerPhoneCode.created_at < cutoff)
            ).returning(WorkerPhoneCode.id)
        removed += len(gone)
    return removed


async def cron_purge(ctx: dict[str, Any]) -> int:
    return await purge_codes()


def cron_jobs() -> list[Any]:
    """Hourly: a code is gone within a day and an hour of being sent."""
    from arq import cron

    return [cron(cron_purge, name="workers.cron.purge_phone_codes", minute=17, second=40, unique=True)]

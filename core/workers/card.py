"""The electronic member card's QR code: a signed, expiring token that names the member by id only.

``HJC1.<tenant id>.<member id>.<expires, unix seconds>.<nonce>.<signature>``; the signature is an
HMAC-SHA256 (first 16 bytes, base64url) over everything before it, keyed by the platform secret. No
ID number, name or phone is inside: a photographed code shows nothing and is dead within minutes.
A station or a clerk verifies it (``memberCardVerify``) and sees the holder's masked details.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from core.errors import DomainError, ErrorCode
from core.settings import get_settings

PREFIX = "HJC1"
TTL_SECONDS = 300
_MAX_LEN = 200


def _sign(body: str) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"member-card:{body}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(tenant_id: int, member_id: int, now: float | None = None) -> tuple[str, dt.datetime]:
    expires = int(now if now is not None else time.time()) + TTL_SECONDS
    body = f"{PREFIX}.{tenant_id}.{member_id}.{expires}.{secrets.token_hex(4)}"
    return f"{body}.{_sign(body)}", dt.datetime.fromtimestamp(expires, dt.UTC)


@dataclass(frozen=True)
class CardClaim:
    tenant_id: int
    member_id: int
    expires_at: dt.datetime


def _invalid() -> DomainError:
    return DomainError(ErrorCode.CARD_INVALID, "this is not a valid member card code", "token",
                       "无效的会员卡二维码")


def verify(token: str, now: float | None = None) -> CardClaim:
    """The claim of a genuine, unexpired token; CARD_INVALID for anything forged or malformed,
    CARD_EXPIRED for a genuine one past its time (checked after the signature, so a forger learns
    nothing from the difference)."""
    token = (token or "").strip()
    if len(token) > _MAX_LEN:
        raise _invalid()
    parts = token.split(".")
    if len(parts) != 6 or parts[0] != PREFIX or not all(p.isascii() and p.isdigit() and len(p) <= 18
                                                        for p in parts[1:4]):
        raise _invalid()
    body = ".".join(parts[:5])
    if not hmac.compare_digest(_sign(body), parts[5]):
        raise _invalid()
    expires = int(parts[3])
    if expires <= int(now if now is not None else time.time()):
        raise DomainError(ErrorCode.CARD_EXPIRED, "this member card code has expired; ask for a fresh one", "token",
                          "会员卡二维码已过期，请刷新后重新出示")
    return CardClaim(int(parts[1]), int(parts[2]), dt.datetime.fromtimestamp(expires, dt.UTC))

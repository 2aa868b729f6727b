"""The SendSms call of Alibaba Cloud's RPC API, signed with signature version 1.0 (HMAC-SHA1).

The signature is computed over the sorted, percent-encoded parameters:
``StringToSign = METHOD & enc("/") & enc(canonical query)`` and
``Signature = base64(HMAC-SHA1(secret + "&", StringToSign))``; the encoding is RFC 3986's
(space as %20, ``*`` encoded, ``~`` kept). A fresh nonce and timestamp make every request unique, so
a captured request cannot be replayed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from urllib.parse import quote

import httpx

API_VERSION = "2017-05-25"


class SmsSendError(RuntimeError):
    """The provider refused or could not be reached. The message names the provider's code only:
    never the phone number or the parameters."""


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_params(*, key_id: str, secret: str, action: str, region_id: str, extra: Mapping[str, str],
                  now: dt.datetime | None = None, nonce: str | None = None) -> dict[str, str]:
    params = {
        "AccessKeyId": key_id, "Action": action, "Format": "JSON", "RegionId": region_id,
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce or str(uuid.uuid4()), "SignatureVersion": "1.0",
        "Timestamp": (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": API_VERSION,
        **extra,
    }
    params["Signature"] = signature(secret, "POST", params)
    return params


async def send_sms(*, endpoint: str, key_id: str, secret: str, region_id: str, phone: str, sign_name: str,
                   template_code: str, template_params: Mapping[str, str], timeout: float,
                   transport: httpx.AsyncBaseTransport | None = None) -> str:
    """Send one templated message; the provider's BizId on success, :class:`SmsSendError` otherwise."""
    params = signed_params(key_id=key_id, secret=secret, action="SendSms", region_id=region_id, extra={
        "PhoneNumbers": phone, "SignName": sign_name, "TemplateCode": template_code,
        "TemplateParam": json.dumps(dict(template_params), ensure_ascii=False, separators=(",", ":")),
    })
    try:
        async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
            response = await client.post(endpoint, data=params)
    except httpx.HTTPError as exc:
        raise SmsSendError(f"Alibaba Cloud SMS unreachable: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        raise SmsSendError(f"Alibaba Cloud SMS answered HTTP {response.status_code} without JSON") from None
    if response.status_code != 200 or body.get("Code") != "OK":
        # Codes such as isv.BUSINESS_LIMIT_CONTROL (the provider's own per-phone limit) or
        # SignatureDoesNotMatch; the RequestId lets the operator find the call in the provider's console.
        raise SmsSendError(f"Alibaba Cloud SMS refused: {body.get('Code')} (request {body.get('RequestId')})")
    return str(body.get("BizId") or body.get("RequestId") or "")

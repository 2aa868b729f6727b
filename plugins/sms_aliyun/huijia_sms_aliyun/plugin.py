"""The adapter's hooks: one SMS gateway named ``aliyun`` for the tenants that enable this plugin."""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Mapping
from typing import Any

import httpx

from core.sdk import PluginInfo, TenantContext, hookimpl
from huijia_sms_aliyun.client import SmsSendError, send_sms
from huijia_sms_aliyun.settings import NAME, AliyunSmsSettings, for_tenant

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version=importlib.metadata.version("huijia-sms-aliyun"),
    min_core="0.1.0",
    max_core="0.1",
    # register_sms_gateways arrived with core's hook contract 0.4.
    settings_schema=AliyunSmsSettings,
    contracts={"huijia.core": "0.4"},
)


class AliyunGateway:
    """Core's ``SmsGateway`` over Alibaba Cloud SMS. ``transport`` lets a test answer for the provider."""

    name = "aliyun"

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport

    async def send(self, *, tenant: TenantContext, phone: str, template: str, params: Mapping[str, str]) -> str:
        settings = for_tenant(tenant)
        template_code = settings.templates.get(template)
        if not template_code or not settings.sign_name:
            raise SmsSendError(f"sms_aliyun: no sign name or template code for {template!r} in tenant {tenant.code}")
        key_id = os.environ.get(settings.access_key_id_env, "")
        secret = os.environ.get(settings.access_key_secret_env, "")
        if not key_id or not secret:
            raise SmsSendError(f"sms_aliyun: {settings.access_key_id_env} or {settings.access_key_secret_env} is not set")
        return await send_sms(endpoint=settings.endpoint, key_id=key_id, secret=secret, region_id=settings.region_id,
                              phone=phone, sign_name=settings.sign_name, template_code=template_code,
                              template_params=params, timeout=settings.timeout_seconds, transport=self.transport)


GATEWAY = AliyunGateway()


@hookimpl
def register_sms_gateways() -> list[Any]:
    return [GATEWAY]

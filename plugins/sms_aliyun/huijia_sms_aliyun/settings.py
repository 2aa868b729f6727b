"""Settings of the Alibaba Cloud SMS adapter (``[settings.sms_aliyun]`` in a tenant manifest).

The AccessKey pair is never a setting: settings are stored in the database, shown to tenant admins
and kept in a history. The settings name the environment variables that hold the pair, so each
province can use an account of its own on one deployment.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import TenantContext, tenant_settings

NAME = "sms_aliyun"

EnvName = Annotated[str, msgspec.Meta(pattern=r"^[A-Z_][A-Z0-9_]{0,99}$")]
TemplateCode = Annotated[str, msgspec.Meta(pattern=r"^SMS_[0-9A-Za-z_]{1,60}$")]


class AliyunSmsSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    # The 短信签名 registered with the provider, e.g. "某省总工会"; messages without one are refused.
    sign_name: Annotated[str, msgspec.Meta(max_length=40)] = ""
    # The platform's template names (core sends "worker.phone_code" with params code and minutes)
    # mapped to the TemplateCode the province registered for each.
    templates: dict[str, TemplateCode] = msgspec.field(default_factory=dict)
    endpoint: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]+$")] = "https://dysmsapi.aliyuncs.com/"
    region_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]{2,40}$")] = "cn-hangzhou"
    access_key_id_env: EnvName = "HUIJIA_ALIYUN_SMS_ACCESS_KEY_ID"
    access_key_secret_env: EnvName = "HUIJIA_ALIYUN_SMS_ACCESS_KEY_SECRET"
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=30)] = 5.0


def for_tenant(tenant: TenantContext) -> AliyunSmsSettings:
    return tenant_settings(tenant, NAME, AliyunSmsSettings)

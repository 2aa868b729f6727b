"""Settings of the service_network capability (``[settings.service_network]`` in a tenant manifest)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import TenantContext, tenant_settings

NAME = "service_network"

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class Facility(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    code: Code
    label_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


def wuhan_seven() -> list[Facility]:
    # Wuhan's 「七个一」 [S]: a room, tables and chairs, a microwave, a water dispenser, heating or
    # cooling, a fridge and a first-aid kit.
    return [Facility(code=c, label_zh=z) for c, z in (
        ("room", "一间休息室"), ("tables", "一套桌椅"), ("microwave", "一台微波炉"), ("water", "一台饮水机"),
        ("climate", "一台冷暖设备"), ("fridge", "一台冰箱"), ("first_aid", "一个急救箱"))]


class ServiceNetworkSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """服务阵地：驿站设施清单、公开查询限流、扫码签到防刷、低分回访阈值。"""

    facilities: Annotated[list[Facility], msgspec.Meta(
        description="The station facilities checklist (Wuhan 七个一, 永城 六有 ...); stations tick codes from it.",
    )] = msgspec.field(default_factory=wuhan_seven)
    # [I] generous for a person with a map app, tight for a scraper.
    public_requests_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000, description="Public reads per client address and minute.")] = 60
    # [I] a worker checks in a few times a day at most.
    checkins_per_phone_per_hour: Annotated[int, msgspec.Meta(ge=1, le=1000, description="QR check-ins per phone and hour.")] = 6
    # [I]
    low_rating_stars: Annotated[int, msgspec.Meta(ge=1, le=5, description="Ratings at or below this many stars are flagged for follow-up.")] = 2
    finder_max_radius_m: Annotated[int, msgspec.Meta(ge=100, le=1_000_000, description="How far the public finder looks, in metres.")] = 50_000
    utc_offset_minutes: Annotated[int, msgspec.Meta(ge=-720, le=840, description="Local time for opening hours (China: +480).")] = 480


def for_tenant(tenant: TenantContext) -> ServiceNetworkSettings:
    return tenant_settings(tenant, NAME, ServiceNetworkSettings)

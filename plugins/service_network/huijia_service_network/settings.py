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


Level = Annotated[str, msgspec.Meta(pattern=r"^(province|city|county|grassroots|industry)$")]


class Category(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """A kind of service request, where it goes and its SLA clock."""

    code: Code
    label_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    # aid_centre: the aid centre of the nearest unit at `level` above the requester's; social_org:
    # referred to `social_org`, which must be under contract.
    route: Annotated[str, msgspec.Meta(pattern=r"^(aid_centre|social_org)$")] = "aid_centre"
    level: Level = "county"
    social_org: str | None = None
    # The organisation's unified social credit code: identifies it to a contract register (procurement).
    social_org_credit_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")] | None = None
    first_response_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 90)] = 24
    resolution_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 365)] = 24 * 15


def default_categories() -> list[Category]:
    # [I] clocks; the categories are those the hotline and the aid centres name.
    return [Category(code=c, label_zh=z, first_response_hours=f, resolution_hours=r) for c, z, f, r in (
        ("legal_aid", "法律援助", 24, 24 * 15), ("wage_arrears", "欠薪", 24, 24 * 10),
        ("labour_dispute", "劳动争议", 24, 24 * 30), ("counselling", "心理咨询", 48, 24 * 7),
        ("job_referral", "就业介绍", 48, 24 * 15), ("childcare", "托育服务", 48, 24 * 15),
        ("hardship", "困难帮扶", 24, 24 * 30), ("other", "其他", 48, 24 * 15))]


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
    request_categories: Annotated[list[Category], msgspec.Meta(
        description="Service-request categories: routing and SLA clocks.")] = msgspec.field(default_factory=default_categories)
    contracted_social_orgs: Annotated[list[str], msgspec.Meta(
        description="Social organisations under a service contract, by name or credit code (requests may be referred to them); used where the procurement capability does not answer.")] = []
    rights_categories: Annotated[list[str], msgspec.Meta(
        description="Request categories that are rights cases (维权): they may open a hardship case in one step.")] = \
        msgspec.field(default_factory=lambda: ["legal_aid", "wage_arrears", "labour_dispute"])
    utc_offset_minutes: Annotated[int, msgspec.Meta(ge=-720, le=840, description="Local time for opening hours (China: +480).")] = 480
    # The yearly station assessment's downgrade triggers, one star each. [I] thresholds: two working
    # days of missed hours a year, a shortage a quarter short of four, three substantiated complaints,
    # half a star of satisfaction lost with at least five ratings in each year.
    assessment_missed_hours: Annotated[int, msgspec.Meta(ge=1, le=8784, description="Missed opening hours in a year that cost a star.")] = 16
    assessment_shortages: Annotated[int, msgspec.Meta(ge=1, le=1000, description="Supply shortages in a year that cost a star.")] = 4
    assessment_complaints: Annotated[int, msgspec.Meta(ge=1, le=1000, description="Substantiated complaints in a year that cost a star.")] = 3
    assessment_satisfaction_drop: Annotated[float, msgspec.Meta(gt=0, le=4, description="Fall of the mean rating against the year before that costs a star.")] = 0.5
    assessment_min_ratings: Annotated[int, msgspec.Meta(ge=1, le=10_000, description="Ratings needed in each year before satisfaction is compared.")] = 5


def for_tenant(tenant: TenantContext) -> ServiceNetworkSettings:
    return tenant_settings(tenant, NAME, ServiceNetworkSettings)

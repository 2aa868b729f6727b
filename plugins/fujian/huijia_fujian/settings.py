"""Settings schema for the Fujian plugin (``[settings.fujian]`` in a tenant manifest).

Every figure is a setting with a realistic default; defaults marked [I] are not from a source.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from core.sdk import BasisPoints, DibaoTable, Fen, RegionCode, TenantContext, tenant_settings

NAME = "fujian"


def default_dibao() -> dict[str, dict[str, int]]:
    # Fujian's 低保 lines are set city by city (设区市), so each prefecture has its own row and
    # 350000 is only the fallback for codes outside them. [I] All figures are estimates in fen/month.
    rows = {
        "350000": (85000, 88000),  # province-wide fallback
        "350100": (100000, 103000),  # 福州
        "350200": (120000, 124000),  # 厦门
        "350300": (89000, 92000),  # 莆田
        "350400": (85000, 88000),  # 三明
        "350500": (95000, 98000),  # 泉州
        "350600": (90000, 93000),  # 漳州
        "350700": (85000, 88000),  # 南平
        "350800": (87000, 90000),  # 龙岩
        "350900": (86000, 89000),  # 宁德
    }
    return {code: {"2024": y2024, "2025": y2025} for code, (y2024, y2025) in rows.items()}


class FujianSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Fujian's settings; all keys are optional."""

    # region code -> year -> monthly 低保 line in fen per person
    dibao: DibaoTable = msgspec.field(default_factory=default_dibao)
    # [S] The grassroots union keeps 60 % of the levy; kept configurable because the national text
    # says "unless otherwise provided".
    levy_grassroots_bp: BasisPoints = 6000
    # Who receives the sub-fen remainder of a split. [I] grassroots: funds lean towards the base.
    levy_remainder_to: Literal["grassroots", "upward"] = "grassroots"
    # [I] Per-region overrides of levy_grassroots_bp (a city or county code; most specific wins),
    # e.g. {"350200" = 6500} if 厦门 were allowed to keep more. Empty by default.
    levy_grassroots_bp_by_region: dict[RegionCode, BasisPoints] = {}
    # Station stars (service_network capability). [S] Fuzhou: 5★ needs at least 30 ㎡, room for 20
    # people and an AED. [I] 4★: the whole facilities checklist, 20 ㎡ and room for 10.
    station_five_star_area_m2: int = 30
    station_five_star_capacity: int = 20
    station_five_star_facility: str = "aed"
    station_four_star_area_m2: int = 20
    station_four_star_capacity: int = 10
    # 困难职工帮扶 [S: the unnamed province's scheme]: living aid 10 months of 低保 for 深度, 8 for
    # 相对; medical aid the whole own share for 深度 (large grants escalate: the hardship settings'
    # thresholds), 80 % capped at 16,000 元 for 相对, 15 % capped at 10,000 元 for 意外致困. 相对 households
    # get one aid type a year, set by [settings.hardship] single_type_categories = ["relative"].
    hardship_living_months: dict[str, int] = msgspec.field(
        default_factory=lambda: {"deep": 10, "relative": 8})
    hardship_medical_bp: dict[str, BasisPoints] = msgspec.field(
        default_factory=lambda: {"deep": 10_000, "relative": 8_000, "accident": 1_500})
    hardship_medical_cap_fen: dict[str, int] = msgspec.field(
        default_factory=lambda: {"relative": 1_600_000, "accident": 1_000_000})
    # 送温暖 cash amounts in fen by region code (a county or city; most specific wins) and target
    # group. [S] 永春县 (350525), spring festival 2021: 200 元 online red packet to members claiming
    # it, 300 元 to front-line migrant workers, 2000 元 per archived hardship household. Elsewhere
    # the warmth capability's own amounts apply.
    warmth_amounts_by_region: dict[RegionCode, dict[str, Fen]] = msgspec.field(default_factory=lambda: {
        "350525": {"fj_red_packet": 20_000, "holiday_frontline": 30_000, "hardship_household": 200_000}})


def for_tenant(tenant: TenantContext) -> FujianSettings:
    return tenant_settings(tenant, NAME, FujianSettings)

"""Settings schema for the Fujian plugin (``[settings.fujian]`` in a tenant manifest).

Every figure is a setting with a realistic default; defaults marked [I] are not from a source.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from core.sdk import BasisPoints, DibaoTable, RegionCode, TenantContext, tenant_settings

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


def for_tenant(tenant: TenantContext) -> FujianSettings:
    return tenant_settings(tenant, NAME, FujianSettings)

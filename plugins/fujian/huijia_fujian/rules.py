"""Fujian's pure rules: no I/O, no settings lookup, only values in and answers out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from core.sdk import LevySplit, lookup_region_year, region_fallbacks, split_levy


def dibao_line(table: Mapping[str, Mapping[str, int]], region_code: str, year: int) -> int | None:
    """Monthly 低保 line in fen for a Fujian region; county -> city -> province, earlier-year fallback."""
    return lookup_region_year(table, region_code, year)


def grassroots_bp_for(region_code: str | None, default_bp: int, by_region: Mapping[str, int]) -> int:
    """The grassroots share for a union's region: the most specific override, else the default."""
    if region_code:
        for code in region_fallbacks(region_code):
            if code in by_region:
                return by_region[code]
    return default_bp


def levy_split(
    levy_fen: int,
    region_code: str | None,
    *,
    default_bp: int,
    by_region: Mapping[str, int],
    remainder_to: Literal["grassroots", "upward"],
) -> LevySplit:
    """Split a levy exactly (parts sum to ``levy_fen``), the remainder going to ``remainder_to``."""
    bp = grassroots_bp_for(region_code, default_bp, by_region)
    return split_levy(
        levy_fen, bp, remainder_to=remainder_to, rule=f"fujian {bp}bp, remainder to {remainder_to}"
    )


def station_stars(area_m2: int, capacity: int, facilities: list[str], checklist: list[str], *,
                  five_area: int, five_capacity: int, five_facility: str, four_area: int, four_capacity: int) -> int:
    """Fuzhou's station stars: 5★ needs ``five_area`` ㎡, room for ``five_capacity`` and
    ``five_facility`` (an AED) on top of 4★; 4★ needs the whole checklist, ``four_area`` ㎡ and room
    for ``four_capacity``; below that 3★ (whole checklist), 2★ (half of it) or 1★."""
    have = sum(1 for c in checklist if c in facilities)
    complete = have == len(checklist)
    if not complete:
        return 2 if have * 2 >= len(checklist) else 1
    if area_m2 < four_area or capacity < four_capacity:
        return 3
    if area_m2 >= five_area and capacity >= five_capacity and five_facility in facilities:
        return 5
    return 4

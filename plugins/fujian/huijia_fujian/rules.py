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


def warmth_amount(by_region: Mapping[str, Mapping[str, int]], region_code: str | None, group: str) -> int | None:
    """The 送温暖 amount in fen for a group in a region (county, then city, then province), or None."""
    if region_code:
        for code in region_fallbacks(region_code):
            if code in by_region:
                return by_region[code].get(group)
    return None

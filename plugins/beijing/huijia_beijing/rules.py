"""Beijing's pure rules: no I/O, no settings lookup, only values in and answers out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.sdk import TagInfo, lookup_region_year
from huijia_beijing.settings import TagSetting


def dibao_line(table: Mapping[str, Mapping[str, int]], region_code: str, year: int) -> int | None:
    """Monthly 低保 line in fen; county -> city -> province and earlier-year fallback."""
    return lookup_region_year(table, region_code, year)


def member_tags(configured: Iterable[TagSetting]) -> list[TagInfo]:
    """The configured tags as TagInfo, first one winning when a code is repeated in the manifest."""
    seen: dict[str, TagInfo] = {}
    for tag in configured:
        seen.setdefault(tag.code, TagInfo(tag.code, tag.label_zh, tag.description_zh))
    return list(seen.values())


def special_allocation_bp(by_year: Mapping[str, int], year: int) -> int | None:
    """The ratio for ``year``, else the latest earlier year's; ``None`` (defer) when none is configured."""
    earlier = [int(y) for y in by_year if int(y) <= year]
    return by_year[str(max(earlier))] if earlier else None

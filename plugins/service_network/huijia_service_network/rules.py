"""Pure rules of the capability: values in, answers out."""

from __future__ import annotations

import json
from typing import Any

PROVIDER_KINDS = ("union", "aid_centre", "social_org")
STATION_DIMENSIONS = ("siting", "hygiene", "supplies", "convenience", "function")  # 选址 卫生 物资 便利 功能
DIMENSION_LABELS = {"siting": "选址", "hygiene": "卫生", "supplies": "物资", "convenience": "便利", "function": "功能"}


def default_stars(facilities: list[str], checklist: list[str]) -> int:
    """3★ with every checklist item, 2★ with at least half, else 1★ (4★ and 5★ are province rules)."""
    if not checklist:
        return 1
    have = sum(1 for c in checklist if c in facilities)
    if have == len(checklist):
        return 3
    return 2 if have * 2 >= len(checklist) else 1


def facilities_column(codes: list[str]) -> str:
    return "," + ",".join(sorted(set(codes))) + ("," if codes else "")


def facilities_of(column: str) -> list[str]:
    return [c for c in column.split(",") if c]


def dimensions_json(dimensions: dict[str, int]) -> str:
    return json.dumps(dimensions, sort_keys=True)


def dimensions_of(text: str | Any) -> dict[str, int]:
    return json.loads(text) if isinstance(text, str) else dict(text or {})

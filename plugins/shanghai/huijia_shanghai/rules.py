"""Shanghai's pure rules: no I/O, no settings lookup, only values in and answers out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from core.builtin_hooks import lookup_region_year
from core.interface import FieldProblem, ProblemCode

# Mainland mobile numbers: 11 digits, 13x-19x. A format fact rather than a policy figure, so not a setting.
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def dibao_line(table: Mapping[str, Mapping[str, int]], region_code: str, year: int) -> int | None:
    """Monthly 低保 line in fen for a Shanghai region; county -> city -> province, earlier-year fallback."""
    return lookup_region_year(table, region_code, year)


def phone_problems(tags: Iterable[str], phone: str | None, required_tags: Iterable[str]) -> list[FieldProblem]:
    """A member carrying any of ``required_tags`` needs a well-formed mainland mobile number.

    Members without those tags are left alone here (they may give a landline or nothing).
    """
    if not set(tags) & set(required_tags):
        return []
    value = (phone or "").strip()
    if not value:
        return [
            FieldProblem("phone", ProblemCode.REQUIRED, "该类会员须填写手机号码，以便通过申工社联系和提供服务")
        ]
    if not MOBILE_RE.fullmatch(value):
        return [FieldProblem("phone", ProblemCode.INVALID, "手机号码格式不正确，应为11位中国大陆手机号码")]
    return []

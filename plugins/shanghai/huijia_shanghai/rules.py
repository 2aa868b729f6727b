"""Shanghai's pure rules: no I/O, no settings lookup, only values in and answers out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.sdk import FieldProblem, PhoneError, ProblemCode, lookup_region_year, normalize_phone, phone_kind


def dibao_line(table: Mapping[str, Mapping[str, int]], region_code: str, year: int) -> int | None:
    """Monthly 低保 line in fen for a Shanghai region; county -> city -> province, earlier-year fallback."""
    return lookup_region_year(table, region_code, year)


def phone_problems(
    tags: Iterable[str],
    phone: str | None,
    required_tags: Iterable[str],
    labels: Mapping[str, str] | None = None,
) -> list[FieldProblem]:
    """A member carrying any of ``required_tags`` needs a mainland mobile number (not a landline).

    Members without those tags are left alone here (they may give a landline or nothing). Parsing is
    ``core.pii.phone``'s, so "+86 138 0013 8000" counts as a mobile number just as core stores it.
    The message names the tag that brings the rule in (``labels``: tag code -> Chinese label), so a
    clerk whose landline is refused sees why this member, unlike others, needs a mobile.
    """
    tag_set = set(tags)
    hit = [t for t in required_tags if t in tag_set]
    if not hit:
        return []
    tag = "、".join(f"「{(labels or {}).get(t, t)}」" for t in hit)
    value = (phone or "").strip()
    if not value:
        return [
            FieldProblem(
                "phone",
                ProblemCode.REQUIRED,
                f"带有{tag}标签的会员须填写手机号码，以便通过申工社联系和提供服务",
            )
        ]
    try:
        kind = phone_kind(normalize_phone(value))
    except PhoneError:
        kind = None
    if kind != "mobile":
        return [
            FieldProblem(
                "phone",
                ProblemCode.INVALID,
                f"{tag}标签要求填写11位中国大陆手机号码（不能是固定电话）",
            )
        ]
    return []

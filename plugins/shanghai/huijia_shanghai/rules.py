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


# -- 困难职工帮扶: 沪工总权〔2019〕19号 ---------------------------------------------------------------


def tiered_medical_aid(own_cost_fen: int, tier_fen: int, low_bp: int, high_bp: int, cap_fen: int) -> list[tuple[str, int]]:
    """Medical aid items: ``low_bp`` of the own cost up to ``tier_fen``, ``high_bp`` of the rest, then
    the yearly cap (a negative item for what the cap cuts off)."""
    low = min(own_cost_fen, tier_fen) * low_bp // 10_000
    high = max(own_cost_fen - tier_fen, 0) * high_bp // 10_000
    items = [(f"{tier_fen // 100:,}元以内自付部分的{low_bp // 100}%", low)]
    if own_cost_fen > tier_fen:
        items.append((f"超过{tier_fen // 100:,}元部分的{high_bp // 100}%", high))
    if low + high > cap_fen:
        items.append(("超过每人每年上限部分不予救助", cap_fen - low - high))
    return items


def school_aid(level: str | None, disabled_child: bool, dibao_fen: int, university_months: int,
               high_school_bp: int) -> list[tuple[str, int]] | None:
    """University: ``university_months`` of 低保; high school (or a disabled child) ``high_school_bp`` of that.
    None for other levels (the national rule applies)."""
    full = university_months * dibao_fen
    if level == "university":
        return [(f"{university_months}个月低保标准", full)]
    if level == "high_school" or disabled_child:
        return [(f"大学标准（{university_months}个月低保）的{high_school_bp // 100}%", full * high_school_bp // 10_000)]
    return None

"""Pure targeting rules of the warmth capability: values in, answers out; no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from huijia_warmth.interface import FESTIVAL_KINDS, KINDS

CASH = "cash"
IN_KIND = "in_kind"


def campaign_problems(*, name: str, kind: str, starts_on: dt.date, ends_on: dt.date,
                      benefits: Iterable[tuple[str, str, int]], known_groups: Iterable[str],
                      in_kind_only_for_festivals: bool) -> list[tuple[str, str, str]]:
    """Everything wrong with a campaign definition, as (field, English message, Chinese message).

    ``benefits`` are (group code, form ``cash``/``in_kind``, amount or unit value in fen).
    """
    problems: list[tuple[str, str, str]] = []
    if not name.strip() or len(name) > 100:
        problems.append(("name", "name must have 1 to 100 characters", "活动名称须为1至100个字符"))
    if kind not in KINDS:
        problems.append(("kind", f"unknown campaign kind {kind!r}", "未知的活动类型"))
    if ends_on < starts_on:
        problems.append(("endsOn", "the window ends before it starts", "活动结束日期早于开始日期"))
    known = set(known_groups)
    seen: set[str] = set()
    for group, form, fen in benefits:
        if group not in known:
            problems.append(("groups", f"unknown target group {group!r}", f"未知的慰问对象类别：{group}"))
        if group in seen:
            problems.append(("groups", f"target group {group!r} given twice", f"慰问对象类别重复：{group}"))
        seen.add(group)
        if form not in (CASH, IN_KIND):
            problems.append(("groups", f"benefit form must be cash or in_kind, not {form!r}", "慰问形式须为现金或实物"))
        elif form == CASH and in_kind_only_for_festivals and kind in FESTIVAL_KINDS:
            problems.append(("groups", "festival gifts may not be cash or shopping cards in this province",
                             "节日慰问品不得发放现金或购物卡"))
        if fen < 0:
            problems.append(("groups", "an amount cannot be negative", "金额不能为负数"))
    if not seen:
        problems.append(("groups", "a campaign needs at least one target group", "至少选择一类慰问对象"))
    return problems


def default_amount(group: str, campaign_fen: int | None, defaults: Mapping[str, int]) -> int | None:
    """The capability's own amount for a group: the campaign's, else the tenant's default, else none."""
    if campaign_fen is not None and campaign_fen > 0:
        return campaign_fen
    return defaults.get(group)

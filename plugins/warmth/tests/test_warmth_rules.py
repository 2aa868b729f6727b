"""The warmth capability's pure rules, without a database."""

from __future__ import annotations

import datetime as dt

from huijia_warmth.interface import BUILTIN_GROUPS
from huijia_warmth.rules import campaign_problems, default_amount

GROUPS = [g.code for g in BUILTIN_GROUPS]
JAN, FEB = dt.date(2025, 1, 1), dt.date(2025, 2, 12)


def fields(**kw) -> list[str]:
    args = {"name": "2025年元旦春节送温暖", "kind": "spring_festival", "starts_on": JAN, "ends_on": FEB,
            "benefits": [("hardship_household", "cash", 0)], "known_groups": GROUPS,
            "in_kind_only_for_festivals": False} | kw
    return [f for f, _, _ in campaign_problems(**args)]


def test_a_sound_campaign_has_no_problems() -> None:
    assert fields() == []


def test_each_mistake_is_reported_on_its_field_all_at_once() -> None:
    assert fields(name=" ", kind="easter", ends_on=dt.date(2024, 12, 1)) == ["name", "kind", "endsOn"]
    assert fields(benefits=[]) == ["groups"]
    assert fields(benefits=[("nobody", "cash", 1)]) == ["groups"]
    assert fields(benefits=[("model_worker", "cash", 1), ("model_worker", "in_kind", 1)]) == ["groups"]
    assert fields(benefits=[("model_worker", "voucher", 1)]) == ["groups"]
    assert fields(benefits=[("model_worker", "cash", -1)]) == ["groups"]


def test_the_no_cash_rule_refuses_cash_only_for_festival_gifts() -> None:
    cash = [("holiday_frontline", "cash", 30_000)]
    assert fields(benefits=cash, in_kind_only_for_festivals=True) == ["groups"]
    assert fields(benefits=[("holiday_frontline", "in_kind", 30_000)], in_kind_only_for_festivals=True) == []
    assert fields(benefits=cash, kind="summer_cool", in_kind_only_for_festivals=True) == []


def test_default_amount_prefers_the_campaigns_own_then_the_tenants() -> None:
    defaults = {"hardship_household": 60_000}
    assert default_amount("hardship_household", None, defaults) == 60_000
    assert default_amount("hardship_household", 0, defaults) == 60_000
    assert default_amount("hardship_household", 80_000, defaults) == 80_000
    assert default_amount("model_worker", None, defaults) is None

"""Beijing's hospital allowance through the capability's hooks, with the source's own figures."""

from __future__ import annotations

import datetime as dt

import huijia_hardship.plugin
import pytest

import huijia_beijing.plugin
import huijia_mutual_aid.plugin
from core.context import TenantContext
from core.plugins import build_plugin_manager, hooks_for
from huijia_mutual_aid.interface import Claim, Enrolment, History, Sex
from huijia_mutual_aid.rules import apply_caps, eligibility_problems

PM = build_plugin_manager([huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_beijing.plugin], trace=False)
T = TenantContext(id=11, code="beijing", name="北京市总工会", province_code="11", plugins=("beijing",), settings={},
                  capabilities=("mutual_aid",))
D = dt.date
PLAN = next(p for batch in hooks_for(T, PM).register_mutual_aid_plans(tenant=T) for p in batch)


def allowance(days: int, history: History | None = None):
    history = history or History()
    claim = Claim("hospital_stay", D(2026, 3, 1), admitted_on=D(2026, 3, 1),
                  discharged_on=D(2026, 3, 1) + dt.timedelta(days=days))
    raw = hooks_for(T, PM).mutual_aid_benefit(tenant=T, plan=PLAN, claim=claim, history=history,
                                              enrolment=Enrolment(PLAN.code, 1, D(2026, 1, 2), D(2026, 12, 31)))
    return raw, apply_caps(PLAN, raw, history)


def test_the_allowance_costs_60_yuan_a_year_for_one_share() -> None:
    assert (PLAN.code, PLAN.premium_per_share_fen, PLAN.max_shares) == ("beijing_hospital_allowance", 6000, 1)


@pytest.mark.parametrize(("days", "fen"), [(1, 0), (3, 0), (4, 4000), (10, 28_000), (30, 108_000)])
def test_40_yuan_a_day_from_the_fourth_day(days: int, fen: int) -> None:
    raw, paid = allowance(days)
    assert raw.amount_fen == fen == paid.amount_fen
    assert f"住院{days}天" in raw.items[0].note_zh


def test_the_year_is_capped_at_7200_yuan_with_the_reason_shown() -> None:
    raw, paid = allowance(200)  # 197 paid days: 7880 元
    assert raw.amount_fen == 788_000 and paid.amount_fen == 720_000 and paid.capped_by == "year"
    _, rest = allowance(30, History(paid_in_year_fen=700_000))
    assert rest.amount_fen == 20_000 and rest.items[-1].label_zh == "年度给付上限"


@pytest.mark.parametrize(("sex", "birth", "ok"), [
    (Sex.FEMALE, D(1972, 1, 1), True), (Sex.FEMALE, D(1971, 1, 1), False),
    (Sex.MALE, D(1967, 1, 1), True), (Sex.MALE, D(1966, 1, 1), False)])
def test_women_under_55_and_men_under_60(sex: Sex, birth: dt.date, ok: bool) -> None:
    assert (eligibility_problems(PLAN, sex=sex, birth=birth, on=D(2026, 1, 1)) == []) is ok

"""Fujian's mutual-aid plans (Xiamen, Fuzhou, Nanping) through the capability's hooks, with the sources' figures."""

from __future__ import annotations

import datetime as dt

import huijia_hardship.plugin
import pytest
from hypothesis import given
from hypothesis import strategies as st

import huijia_fujian.plugin
import huijia_mutual_aid.plugin
import huijia_warmth.plugin
from core.context import TenantContext
from core.plugins import build_plugin_manager, hooks_for
from huijia_mutual_aid.interface import Claim, Enrolment, History, Sex, UnitKind
from huijia_mutual_aid.rules import apply_caps, claim_problems, eligibility_problems, ratio_problems

PM = build_plugin_manager([huijia_hardship.plugin, huijia_warmth.plugin, huijia_mutual_aid.plugin, huijia_fujian.plugin], trace=False)
T = TenantContext(id=35, code="fujian", name="福建省总工会", province_code="35", plugins=("fujian",), settings={},
                  capabilities=("mutual_aid",))
D = dt.date
PLANS = {p.code: p for batch in hooks_for(T, PM).register_mutual_aid_plans(tenant=T) for p in batch}


def benefit(code: str, claim: Claim, history: History | None = None):
    history = history or History()
    plan = PLANS[code]
    raw = hooks_for(T, PM).mutual_aid_benefit(tenant=T, plan=plan, claim=claim, history=history,
                                              enrolment=Enrolment(code, 1, D(2021, 1, 2), D(2021, 12, 31)))
    return raw, (None if raw is None else apply_caps(plan, raw, history))


def stay(**costs: int) -> Claim:
    return Claim("hospital_stay", D(2021, 6, 1), admitted_on=D(2021, 6, 1), discharged_on=D(2021, 6, 11), **costs)


def test_xiamen_term_16_pays_20_percent_of_own_cost_above_the_deductible_less_excess_bed_and_non_insured() -> None:
    assert PLANS["xiamen_term16"].premium_per_share_fen == 6000 and PLANS["xiamen_term16"].term.number == 16
    # own 30,000 元, of which 5,000 outside 医保 and 1,000 excess bed fees; deductible 1,000: base 23,000 → 4,600
    raw, paid = benefit("xiamen_term16", stay(own_cost_fen=3_000_000, non_insured_fen=500_000, excess_bed_fen=100_000,
                                              deductible_fen=100_000))
    assert raw.amount_fen == paid.amount_fen == 460_000
    assert [i.label_zh for i in raw.items][:4] == ["个人负担医疗费用", "医保目录外自费费用", "超标准床位费", "医保起付线"]
    assert sum(i.amount_fen for i in raw.items) == 460_000


def test_xiamen_pays_nothing_below_the_deductible_and_at_most_200000_a_term() -> None:
    raw, _ = benefit("xiamen_term16", stay(own_cost_fen=80_000, deductible_fen=100_000))
    assert raw.amount_fen == 0 and sum(i.amount_fen for i in raw.items) == 0
    raw, paid = benefit("xiamen_term16", stay(own_cost_fen=200_000_000), History(paid_in_term_fen=19_000_000))
    assert raw.amount_fen == 40_000_000 and paid.amount_fen == 1_000_000 and paid.capped_by == "term"


@given(own=st.integers(0, 10**9), out=st.integers(0, 10**8), bed=st.integers(0, 10**7), ded=st.integers(0, 10**6))
def test_xiamen_items_always_add_up_and_never_pay_more_than_a_fifth_of_own_cost(own: int, out: int, bed: int,
                                                                                ded: int) -> None:
    raw, _ = benefit("xiamen_term16", stay(own_cost_fen=own, non_insured_fen=out, excess_bed_fen=bed, deductible_fen=ded))
    assert sum(i.amount_fen for i in raw.items) == raw.amount_fen and 0 <= raw.amount_fen <= own // 5


def test_xiamen_term_21_enrolment_rules_deadline_and_cover_ending_at_the_cap() -> None:
    p = PLANS["xiamen_term21"]
    assert p.max_shares == 1 and p.eligibility.retirees_excluded
    assert eligibility_problems(p, sex=Sex.MALE, birth=D(1960, 1, 1), on=D(2026, 1, 1), retired=True)
    assert ratio_problems(p, UnitKind.STATE_OWNED, eligible=50, enrolling=39)
    assert ratio_problems(p, UnitKind.STATE_OWNED, eligible=50, enrolling=40) == []
    assert ratio_problems(p, UnitKind.OTHER, eligible=50, enrolling=25) == []
    enrolled = Enrolment(p.code, 1, D(2026, 1, 2), D(2026, 12, 31))
    claim = Claim("hospital_stay", D(2026, 7, 1))
    assert claim_problems(p, enrolled, claim, submitted_on=D(2027, 8, 31)) == []
    assert claim_problems(p, enrolled, claim, submitted_on=D(2027, 9, 1)) == ["本期申请截止日（2027-08-31）已过"]
    assert claim_problems(p, enrolled, claim, submitted_on=D(2026, 8, 1),
                          history=History(paid_in_term_fen=p.cap_per_term_fen)) == ["本期给付已达上限，保障已终止"]


def test_fuzhou_pays_10_percent_of_covered_costs_capped_at_50000_a_cycle() -> None:
    raw, paid = benefit("fuzhou_medical", stay(covered_cost_fen=4_567_899))
    assert raw.amount_fen == paid.amount_fen == 456_789  # rounded down to the fen
    _, paid = benefit("fuzhou_medical", stay(covered_cost_fen=100_000_000), History(paid_in_term_fen=4_000_000))
    assert paid.amount_fen == 1_000_000 and paid.capped_by == "term"


@pytest.mark.parametrize(("tier", "fen"), [(1, 600_000), (2, 300_000), (3, 200_000), (4, 100_000)])
def test_nanping_women_special_illness_pays_fixed_amounts_by_tier(tier: int, fen: int) -> None:
    assert PLANS["nanping_women_special"].premium_per_share_fen == 2500
    raw, _ = benefit("nanping_women_special", Claim("special_illness", D(2021, 3, 1), tier=tier))
    assert raw.amount_fen == fen


def test_nanping_is_for_women_18_to_55_and_an_unknown_tier_gets_no_answer() -> None:
    p = PLANS["nanping_women_special"]
    assert eligibility_problems(p, sex=Sex.MALE, birth=D(1990, 1, 1), on=D(2026, 1, 1))
    assert eligibility_problems(p, sex=Sex.FEMALE, birth=D(1970, 6, 1), on=D(2026, 1, 1)) == []  # 55
    assert eligibility_problems(p, sex=Sex.FEMALE, birth=D(1970, 1, 1), on=D(2026, 1, 1))  # 56
    assert benefit("nanping_women_special", Claim("special_illness", D(2021, 3, 1), tier=5))[0] is None
    assert benefit("nanping_women_special", Claim("hospital_stay", D(2021, 3, 1), tier=1))[0] is None

"""The capability's own rules as plain functions: eligibility, enrolment ratio, shares, exclusion, cover, claims, caps."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huijia_mutual_aid.interface import (
    AgeLimit,
    Benefit,
    BenefitItem,
    Claim,
    Eligibility,
    Enrolment,
    EnrolmentRule,
    History,
    PayerShare,
    Plan,
    Sex,
    Term,
    TermKind,
    UnitKind,
)
from huijia_mutual_aid.rules import (
    apply_caps,
    claim_problems,
    cover_period,
    eligibility_problems,
    exclusion_problems,
    ratio_problems,
    required_ratio_bp,
    shares_problems,
)

D = dt.date


def plan(**kw) -> Plan:
    return Plan(**{"code": "p", "name_zh": "计划", "premium_per_share_fen": 1000,
                   "claim_kinds": (("hospital_stay", "住院"),), **kw})


# --- declaring a plan ----------------------------------------------------------------------------

def test_a_plan_refuses_payers_that_do_not_add_up_and_other_nonsense() -> None:
    with pytest.raises(ValueError, match="add up"):
        plan(premium_per_share_fen=2400, payers=(PayerShare("district", 1200), PayerShare("city", 1100)))
    with pytest.raises(ValueError, match="lower-case identifier"):
        plan(code="Class-A")
    with pytest.raises(ValueError, match="start and end dates"):
        plan(term=Term(TermKind.PERIOD, 16))
    with pytest.raises(ValueError, match="exclude itself"):
        plan(excludes=("p",))
    assert plan(payers=(PayerShare("district", 500), PayerShare("city", 500))).fund == "mutual_aid.p"


# --- eligibility -------------------------------------------------------------------------------

BEIJING_AGES = Eligibility(ages=(AgeLimit(Sex.FEMALE, below_age=55), AgeLimit(Sex.MALE, below_age=60)))


@pytest.mark.parametrize(("sex", "birth", "ok"), [
    (Sex.FEMALE, D(1971, 6, 2), True),    # 54 on 2026-06-01
    (Sex.FEMALE, D(1971, 6, 1), False),   # 55 that day
    (Sex.MALE, D(1966, 6, 2), True),      # 59
    (Sex.MALE, D(1966, 6, 1), False),     # 60
])
def test_age_limits_differ_by_sex(sex: Sex, birth: dt.date, ok: bool) -> None:
    problems = eligibility_problems(plan(eligibility=BEIJING_AGES), sex=sex, birth=birth, on=D(2026, 6, 1))
    assert (problems == []) is ok, problems


def test_retirees_a_sex_without_limits_and_a_missing_birth_date_are_refused() -> None:
    women = plan(eligibility=Eligibility(ages=(AgeLimit(Sex.FEMALE, 18, 56),)))
    assert eligibility_problems(women, sex=Sex.MALE, birth=D(1990, 1, 1), on=D(2026, 1, 1)) == ["性别不符合本计划参保条件"]
    assert eligibility_problems(women, sex=Sex.FEMALE, birth=None, on=D(2026, 1, 1)) == ["缺少出生日期，无法核对年龄"]
    assert eligibility_problems(women, sex=Sex.FEMALE, birth=D(2009, 1, 2), on=D(2026, 1, 1))  # 16
    assert eligibility_problems(plan(), sex=None, birth=None, on=D(2026, 1, 1), retired=True) == ["退休人员不能参加本计划"]
    open_to_retirees = plan(eligibility=Eligibility(retirees_excluded=False))
    assert eligibility_problems(open_to_retirees, sex=None, birth=None, on=D(2026, 1, 1), retired=True) == []


# --- enrolment ratio ---------------------------------------------------------------------------

SHANGHAI_GROUP = EnrolmentRule(min_ratio_bp=7500, small_unit_staff=10, small_unit_ratio_bp=10000)
XIAMEN_21 = EnrolmentRule(min_ratio_bp=5000, min_ratio_bp_by_kind=(
    (UnitKind.GOVERNMENT, 8000), (UnitKind.INSTITUTION, 8000), (UnitKind.STATE_OWNED, 8000)))


def test_shanghai_group_accident_needs_75_percent_or_everyone_in_a_unit_of_ten_or_fewer() -> None:
    p = plan(enrolment=SHANGHAI_GROUP)
    assert ratio_problems(p, UnitKind.OTHER, eligible=40, enrolling=30) == []
    assert ratio_problems(p, UnitKind.OTHER, eligible=40, enrolling=29) == [
        "参保人数29人，未达到本单位符合条件会员40人的75%（至少30人）"]
    assert ratio_problems(p, UnitKind.OTHER, eligible=10, enrolling=10) == []
    assert ratio_problems(p, UnitKind.OTHER, eligible=10, enrolling=9)  # 90 % is not enough at 10 staff
    assert ratio_problems(p, UnitKind.OTHER, eligible=11, enrolling=9) == []  # 81.8 % at 11 staff


def test_xiamen_term_21_needs_80_percent_in_public_units_and_50_elsewhere() -> None:
    p = plan(enrolment=XIAMEN_21)
    for kind in (UnitKind.GOVERNMENT, UnitKind.INSTITUTION, UnitKind.STATE_OWNED):
        assert required_ratio_bp(p, kind, 100) == 8000
        assert ratio_problems(p, kind, eligible=100, enrolling=80) == []
        assert ratio_problems(p, kind, eligible=100, enrolling=79)
    assert ratio_problems(p, UnitKind.OTHER, eligible=100, enrolling=50) == []
    assert ratio_problems(p, UnitKind.OTHER, eligible=101, enrolling=50)  # 49.5 %
    assert ratio_problems(p, UnitKind.OTHER, eligible=0, enrolling=0) == ["本单位没有符合条件的会员"]


@given(eligible=st.integers(1, 5000), ratio=st.integers(0, 10000))
def test_the_minimum_head_count_shown_is_exactly_the_first_that_passes(eligible: int, ratio: int) -> None:
    p = plan(enrolment=EnrolmentRule(min_ratio_bp=ratio))
    passing = [n for n in (0, *range(max(eligible * ratio // 10000 - 1, 0), eligible + 1))
               if not ratio_problems(p, UnitKind.OTHER, eligible=eligible, enrolling=n)]
    least = min(passing)
    assert least * 10000 >= ratio * eligible and (least == 0 or (least - 1) * 10000 < ratio * eligible)


# --- shares and exclusion ----------------------------------------------------------------------

def test_shares_within_the_maximum_and_equal_across_the_unit() -> None:
    p = plan(max_shares=3, equal_shares=True)
    assert shares_problems(p, [2, 2, 2]) == []
    assert shares_problems(p, [2, 2, 3]) == ["本计划要求同一单位参保人员份数相同"]
    assert shares_problems(p, [2], existing=[3]) == ["本计划要求同一单位参保人员份数相同"]
    assert shares_problems(p, [4]) == ["每人参保份数须在1至3份之间"]
    assert shares_problems(plan(max_shares=3, equal_shares=False), [1, 3]) == []


def test_exclusive_plans_are_refused_whichever_side_declares_it() -> None:
    a = plan(code="serious_a", name_zh="重大疾病A", excludes=("serious_b",))
    b = plan(code="serious_b", name_zh="重大疾病B")
    assert exclusion_problems(b, [a]) == ["已参加互斥的“重大疾病A”"]
    assert exclusion_problems(a, [b]) == ["已参加互斥的“重大疾病B”"]
    assert exclusion_problems(a, [plan(code="other")]) == []


# --- cover and claims --------------------------------------------------------------------------

def test_cover_starts_the_next_day_or_after_a_waiting_period_and_ends_with_the_term() -> None:
    assert cover_period(plan(), D(2026, 3, 5)) == (D(2026, 3, 6), D(2026, 12, 31))
    assert cover_period(plan(cover_after_days=90), D(2026, 3, 5)) == (D(2026, 6, 3), D(2026, 12, 31))
    term16 = plan(term=Term(TermKind.PERIOD, 16, D(2021, 1, 1), D(2021, 12, 31)))
    assert cover_period(term16, D(2021, 5, 1))[1] == D(2021, 12, 31)


def test_claim_checks_cover_waiting_period_deadline_and_a_spent_term_cap() -> None:
    p = plan(cover_after_days=90, claim_within_days=180, claim_deadline=D(2027, 8, 31), cap_per_term_fen=100)
    enrolled = Enrolment("p", 1, D(2026, 4, 1), D(2026, 12, 31))
    ok = Claim("hospital_stay", D(2026, 5, 1))
    assert claim_problems(p, enrolled, ok, submitted_on=D(2026, 5, 10)) == []
    waiting = claim_problems(p, enrolled, Claim("hospital_stay", D(2026, 3, 1)), submitted_on=D(2026, 3, 2))
    assert waiting == ["事故发生在等待期内（保障自2026-04-01起）"]
    before = claim_problems(p, enrolled, Claim("hospital_stay", D(2025, 12, 1)), submitted_on=D(2026, 3, 2))
    assert before == ["事故发生在保障开始（2026-04-01）之前"]
    after = claim_problems(p, enrolled, Claim("hospital_stay", D(2027, 1, 2)), submitted_on=D(2027, 1, 3))
    assert after == ["事故发生在保障结束（2026-12-31）之后"]
    late = claim_problems(p, enrolled, ok, submitted_on=D(2026, 11, 1))
    assert late == ["已超过事故后180天的申请期限"]
    closed = claim_problems(plan(claim_deadline=D(2027, 8, 31)), enrolled, ok, submitted_on=D(2027, 9, 1))
    assert closed == ["本期申请截止日（2027-08-31）已过"]
    spent = claim_problems(p, enrolled, ok, submitted_on=D(2026, 5, 10), history=History(paid_in_term_fen=100))
    assert spent == ["本期给付已达上限，保障已终止"]
    assert claim_problems(p, enrolled, Claim("death", D(2026, 5, 1)), submitted_on=D(2026, 5, 2)) == ["本计划不保障该类事项"]


def test_caps_pay_up_to_the_tightest_remaining_cap_and_say_which() -> None:
    p = plan(cap_per_case_fen=50_000, cap_per_year_fen=720_000, cap_per_term_fen=1_000_000)
    raw = Benefit(80_000, (BenefitItem("住院津贴", 80_000),))
    by_case = apply_caps(p, raw, History())
    assert (by_case.amount_fen, by_case.capped_by) == (50_000, "case")
    assert by_case.items[-1].amount_fen == -30_000 and sum(i.amount_fen for i in by_case.items) == 50_000
    by_year = apply_caps(p, Benefit(40_000), History(paid_in_year_fen=700_000))
    assert (by_year.amount_fen, by_year.capped_by) == (20_000, "year")
    assert "剩余可付200.00元" in by_year.items[-1].note_zh
    spent = apply_caps(p, Benefit(40_000), History(paid_in_year_fen=0, paid_in_term_fen=1_000_000))
    assert (spent.amount_fen, spent.capped_by) == (0, "term")
    free = apply_caps(p, Benefit(40_000), History())
    assert (free.amount_fen, free.capped_by, len(free.items)) == (40_000, None, 0)


@given(amount=st.integers(0, 10**9), case=st.integers(0, 10**8), year=st.integers(0, 10**8),
       paid=st.integers(0, 2 * 10**8))
def test_a_capped_benefit_never_exceeds_any_cap_left_and_its_items_add_up(amount: int, case: int, year: int,
                                                                           paid: int) -> None:
    p = plan(cap_per_case_fen=case, cap_per_year_fen=year)
    got = apply_caps(p, Benefit(amount, (BenefitItem("公式", amount),)), History(paid_in_year_fen=paid))
    assert 0 <= got.amount_fen <= min(amount, case, max(year - paid, 0))
    assert got.amount_fen == min(amount, case, max(year - paid, 0))
    assert sum(i.amount_fen for i in got.items) == got.amount_fen


# --- a unit's batch --------------------------------------------------------------------------------

def test_a_batch_reports_every_problem_at_once_and_passes_when_clean() -> None:
    from huijia_mutual_aid.rules import Candidate, batch_problems

    group = plan(code="group", max_shares=3, enrolment=SHANGHAI_GROUP)
    other = plan(code="serious_a", name_zh="重大疾病A", excludes=("group",))
    plans = {"group": group, "serious_a": other}
    ok = [Candidate(i, 7, shares=2) for i in range(1, 9)]
    kw = dict(unit_id=7, unit_kind=UnitKind.OTHER, eligible=10, already_enrolled=2, existing_shares=[2], on=D(2026, 1, 5))
    assert batch_problems(group, plans, candidates=ok, **kw) == []
    bad = [*ok[:6], Candidate(1, 7, shares=2), Candidate(50, 8, shares=2), Candidate(60, 7, shares=3, held=("serious_a",))]
    got = batch_problems(group, plans, candidates=bad, **kw)
    assert (1, "已参加本计划") in got and (50, "不是本单位会员") in got
    assert (60, "已参加互斥的“重大疾病A”") in got
    assert (None, "本计划要求同一单位参保人员份数相同") in got
    # 2 enrolled + 7 distinct members of the unit = 9 of 10: a unit of 10 must enrol everyone
    assert any(m is None and r.startswith("参保人数9人") for m, r in got)
    assert batch_problems(group, plans, candidates=[], **kw) == [(None, "未选择参保会员")]


def test_a_duplicate_is_void_where_the_plan_allows_one_share() -> None:
    from huijia_mutual_aid.rules import Candidate, batch_problems

    one = plan(code="class_a")
    kw = dict(unit_id=1, unit_kind=UnitKind.OTHER, eligible=3, already_enrolled=0, existing_shares=[], on=D(2026, 1, 5))
    got = batch_problems(one, {"class_a": one}, candidates=[Candidate(5, 1), Candidate(5, 1), Candidate(6, 1, held=("class_a",))], **kw)
    assert got == [(5, "重复参保无效"), (6, "重复参保无效")]

"""Shanghai's mutual-aid plans through the capability's hooks, with the sources' own figures."""

from __future__ import annotations

import datetime as dt

import huijia_hardship.plugin
import pytest

import huijia_mutual_aid.plugin
import huijia_shanghai.plugin
from core.context import TenantContext
from core.plugins import build_plugin_manager, hooks_for
from huijia_mutual_aid.interface import Claim, Enrolment, History, UnitKind
from huijia_mutual_aid.rules import apply_caps, claim_refusals, cover_period, ratio_problems, shares_problems

PM = build_plugin_manager([huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_shanghai.plugin], trace=False)
D = dt.date


def tenant(capabilities: tuple[str, ...] = ("mutual_aid",)) -> TenantContext:
    return TenantContext(id=31, code="shanghai", name="上海市总工会", province_code="31", plugins=("shanghai",),
                         settings={}, capabilities=capabilities)


def plans() -> dict:
    t = tenant()
    return {p.code: p for batch in hooks_for(t, PM).register_mutual_aid_plans(tenant=t) for p in batch}


def benefit(code: str, claim: Claim, shares: int = 1):
    t, plan = tenant(), plans()[code]
    return hooks_for(t, PM).mutual_aid_benefit(tenant=t, plan=plan, claim=claim, history=History(),
                                               enrolment=Enrolment(code, shares, D(2026, 1, 2), D(2026, 12, 31)))


def test_class_a_costs_24_yuan_split_12_and_12_one_share_cover_from_the_next_day() -> None:
    a = plans()["shanghai_class_a"]
    assert a.premium_per_share_fen == 2400 and [(p.level, p.amount_fen) for p in a.payers] == [
        ("district", 1200), ("city", 1200)]
    assert a.max_shares == 1 and a.fund == "mutual_aid.shanghai_class_a"
    assert cover_period(a, D(2026, 3, 5)) == (D(2026, 3, 6), D(2026, 12, 31))


@pytest.mark.parametrize(("kind", "fen"), [
    ("serious_illness", 2_000_000), ("accidental_death_disability", 3_000_000), ("illness_death", 1_000_000)])
def test_class_b_pays_its_fixed_amounts(kind: str, fen: int) -> None:
    assert plans()["shanghai_class_b"].premium_per_share_fen == 7000
    got = benefit("shanghai_class_b", Claim(kind, D(2026, 5, 1)))
    assert got.amount_fen == fen and sum(i.amount_fen for i in got.items) == fen


def test_group_accident_pays_5000_a_share_up_to_three_equal_shares_at_75_or_100_percent() -> None:
    g = plans()["shanghai_group_accident"]
    assert g.premium_per_share_fen == 1000 and g.enrolment.new_hire_days == 60
    assert benefit("shanghai_group_accident", Claim("accidental_death_disability", D(2026, 5, 1)), 3).amount_fen == 1_500_000
    assert benefit("shanghai_group_accident", Claim("accidental_death_disability", D(2026, 5, 1)), 1).amount_fen == 500_000
    assert shares_problems(g, [3, 3]) == [] and shares_problems(g, [2, 3]) and shares_problems(g, [4])
    assert ratio_problems(g, UnitKind.OTHER, eligible=20, enrolling=15) == []
    assert ratio_problems(g, UnitKind.OTHER, eligible=20, enrolling=14)
    assert ratio_problems(g, UnitKind.OTHER, eligible=8, enrolling=7)


def test_other_plans_and_kinds_get_no_answer_and_a_tenant_without_the_capability_gets_none() -> None:
    assert benefit("shanghai_class_a", Claim("hospital_stay", D(2026, 5, 1))) is None
    assert benefit("shanghai_group_accident", Claim("illness_death", D(2026, 5, 1))) is None
    off = tenant(capabilities=())
    assert hooks_for(off, PM).register_mutual_aid_plans(tenant=off) == []


def test_the_benefit_is_not_capped_where_the_plan_has_no_cap() -> None:
    plan = plans()["shanghai_class_b"]
    got = benefit("shanghai_class_b", Claim("serious_illness", D(2026, 5, 1)))
    assert apply_caps(plan, got, History(paid_in_year_fen=3_000_000)).amount_fen == 2_000_000


@pytest.mark.parametrize(("graded", "ended", "reasons"), [
    # treatment unfinished: graded at day 180 (2026-08-29 for an accident on 2026-03-02), not before
    (D(2026, 8, 28), None, ["治疗未终结的，伤残在事故后第180天（2026-08-29）评定，此前的评定不予受理"]),
    (D(2026, 8, 29), None, []),
    # treatment ended on day 100: graded once it ended, before day 180 too
    (D(2026, 6, 10), D(2026, 6, 10), []),
    (D(2026, 6, 9), D(2026, 6, 10), ["伤残须在治疗终结（2026-06-10）后评定"]),
    # treatment still going on at day 180 (ends later): the day-180 grading stands
    (D(2026, 9, 1), D(2026, 12, 1), []),
    (D(2026, 8, 1), D(2026, 12, 1), ["治疗未终结的，伤残在事故后第180天（2026-08-29）评定，此前的评定不予受理"]),
    # a death of the same kind brings no grading
    (None, None, []),
])
def test_a_disability_is_graded_when_treatment_ends_or_at_day_180(graded, ended, reasons) -> None:
    for code in ("shanghai_group_accident", "shanghai_class_b"):
        plan = plans()[code]
        assert (plan.disability_grading_day, plan.disability_kinds) == (180, ("accidental_death_disability",))
        claim = Claim("accidental_death_disability", D(2026, 3, 2), graded_on=graded, treatment_ended_on=ended)
        got = claim_refusals(plan, Enrolment(code, 1, D(2026, 1, 2), D(2026, 12, 31)), claim, submitted_on=D(2026, 12, 20))
        assert [zh for reason, zh in got] == reasons and {reason for reason, _ in got} <= {"GRADING"}
        # the benefit hook sees the grading as part of the claim (the formula does not change with it)
        assert benefit(code, claim).amount_fen > 0

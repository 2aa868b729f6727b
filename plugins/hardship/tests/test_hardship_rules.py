"""The hardship capability's national rules and settings-driven aid, without a database: the
classification formula, the exclusions, and aid by settings alone (Hubei's caps need no code)."""

from __future__ import annotations

import msgspec
import pytest
from huijia_hardship import rules
from huijia_hardship.interface import AidRequest, HouseholdFacts
from huijia_hardship.settings import HardshipSettings

DIBAO = 100_000  # 1,000 元 a month


def facts(**kw) -> HouseholdFacts:
    base = {"region_code": "110105", "year": 2026, "household_size": 3, "monthly_income_fen": 600_000,
            "monthly_rigid_expense_fen": 0, "dibao_line_fen": DIBAO}
    return HouseholdFacts(**{**base, **kw})


@pytest.mark.parametrize(("income", "rigid", "category"), [
    (280_000, 0, "deep"),            # 933 元 a head, below the 1,000 元 低保
    (300_000, 0, "relative"),        # exactly 低保: not below it, below twice it
    (500_000, 0, "relative"),        # 1,666 元 a head
    (700_000, 200_000, "relative"),  # rigid expenses come off first: 1,666 元 a head
    (600_000, 0, "none"),            # 2,000 元 a head: not below twice 低保
])
def test_the_national_formula(income, rigid, category):
    assert rules.classify(facts(monthly_income_fen=income, monthly_rigid_expense_fen=rigid)).category == category


def test_accident_and_migrant_rules():
    assert rules.classify(facts(accident=True)).category == "accident"
    # The year's hardship costs above 80 % of the year's income.
    assert rules.classify(facts(yearly_hardship_cost_fen=6_000_000)).category == "accident"
    assert rules.classify(facts(yearly_hardship_cost_fen=5_700_000)).category == "none"
    young = rules.classify(facts(monthly_income_fen=100_000, migrant=True, employment_months=6))
    assert young.category == "none" and "农民工" in young.reasons[0]
    assert rules.classify(facts(monthly_income_fen=100_000, migrant=True, employment_months=12)).category == "deep"
    assert rules.classify(facts(dibao_line_fen=None)).category == "none"


def test_exclusions_override_the_category():
    found = rules.exclusions(facts(homes=2, business_owner=True, private_school_fee_fen=2_100_000,
                                   public_school_fee_fen=1_000_000, study_abroad_self_paid=True,
                                   civil_check_failed=True))
    assert len(found) == 5
    assert rules.exclusions(facts(private_school_fee_fen=2_000_000, public_school_fee_fen=1_000_000)) == []
    result = rules.apply_exclusions(rules.classify(facts(monthly_income_fen=100_000)), found[:1])
    assert (result.category, result.excluded, result.exclusions) == ("none", True, ("家庭拥有两套及以上住房",))


def request(**kw) -> AidRequest:
    base = {"aid_type": "living", "category": "deep", "region_code": "420102", "year": 2026,
            "dibao_line_fen": 80_000, "household_size": 3}
    return AidRequest(**{**base, **kw})


HUBEI = {
    "aid": {
        "living": {"months_of_dibao": {"deep": 12, "relative": 10, "accident": 10}},
        "medical": {"cost_ratio_bp": 10000, "cap_fen": 2_000_000},
        "education": {"months_of_dibao": {"university": 10, "high_school": 6}},
        "temporary": {"cap_fen": 300_000, "per_person": True, "needs_archive": False},
    }
}


def test_hubei_caps_are_reached_by_settings_alone():
    s = msgspec.convert(HUBEI, HardshipSettings)
    quote = rules.quote_from_rule(request(), s.aid["living"])
    assert quote.amount_fen == 12 * 80_000 and quote.breakdown[0].label_zh == "12个月低保标准"
    assert rules.quote_from_rule(request(category="relative"), s.aid["living"]).amount_fen == 10 * 80_000
    medical = rules.quote_from_rule(request(aid_type="medical", medical_cost_fen=2_500_000), s.aid["medical"])
    assert (medical.amount_fen, medical.cap_fen) == (2_000_000, 2_000_000)
    assert medical.breakdown[-1].amount_fen == -500_000  # what the cap cuts off, shown as an item
    school = rules.quote_from_rule(request(aid_type="education", school_level="high_school"), s.aid["education"])
    assert school.amount_fen == 6 * 80_000
    temp = rules.quote_from_rule(request(aid_type="temporary", category=None, requested_fen=350_000),
                                 s.aid["temporary"])
    assert (temp.amount_fen, temp.per_person) == (300_000, True)


def test_a_category_without_a_rule_is_refused_with_a_reason():
    s = HardshipSettings()
    quote = rules.quote_from_rule(request(category="none"), s.aid["living"])
    assert quote.amount_fen == 0 and quote.refusals
    assert rules.quote_from_rule(request(dibao_line_fen=None), s.aid["living"]).refusals


def test_bad_settings_are_refused():
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"aid": {"living": {"cost_ratio_bp": 20_000}}}, HardshipSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"relative_multiplier_bp": 5_000}, HardshipSettings)

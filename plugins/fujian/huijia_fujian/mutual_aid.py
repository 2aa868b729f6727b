"""Fujian's mutual-aid plans (Xiamen, Fuzhou, Nanping) and their benefit formulas. Pure, no I/O.

Sources: Xiamen 第16期 (2021): 60 元; 20 % of the member's own cost above the 医保 deductible, less
bed fees above the standard; costs wholly outside 医保 excluded; at most 200,000 元 [S]. Xiamen 第21期
(from 2025-12): at least 80 % of members for 机关, 事业单位 and state-owned units, 50 % for others;
retirees excluded; one share per worker; claims until 2027-08; cover ends once the term cap is
reached [S]. Fuzhou (2010): 10 % of 医保-covered costs, at most 50,000 元 a cycle [S]. Nanping
女职工特种疾病 (2012): 25 元 a year; fixed payouts 6000, 3000, 2000 or 1000 元 by tier [S]; women aged
18 to 55 enrolled as a group by at least 80 % of a unit's women (中互会's plan terms) [S].
Figures marked [I] are not from a source.
"""

from __future__ import annotations

import datetime as dt

from huijia_mutual_aid.interface import (
    BP,
    AgeLimit,
    Benefit,
    BenefitItem,
    Claim,
    Eligibility,
    Enrolment,
    EnrolmentRule,
    Plan,
    Sex,
    Term,
    TermKind,
    UnitKind,
)

XIAMEN_RATIO_BP = 2000
XIAMEN_CAP_FEN = 20_000_000
MEDICAL = (("hospital_stay", "住院医疗"),)

XIAMEN_TERM_16 = Plan(
    code="xiamen_term16", name_zh="厦门市职工医疗互助（第16期）", premium_per_share_fen=6000,
    # [I] the period's dates: the source gives the year, 2021
    term=Term(TermKind.PERIOD, 16, dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
    cap_per_term_fen=XIAMEN_CAP_FEN, claim_kinds=MEDICAL,
)
XIAMEN_TERM_21 = Plan(
    code="xiamen_term21", name_zh="厦门市职工医疗互助（第21期）",
    premium_per_share_fen=6000,  # [I] term 16's premium; term 21's is not in the source
    # [I] the period's dates: the source gives its opening in 2025-12
    term=Term(TermKind.PERIOD, 21, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    max_shares=1,
    eligibility=Eligibility(retirees_excluded=True),
    enrolment=EnrolmentRule(min_ratio_bp=5000, min_ratio_bp_by_kind=(
        (UnitKind.GOVERNMENT, 8000), (UnitKind.INSTITUTION, 8000), (UnitKind.STATE_OWNED, 8000))),
    claim_deadline=dt.date(2027, 8, 31),
    cap_per_term_fen=XIAMEN_CAP_FEN,  # [I] term 16's cap; the source says cover ends once the cap is paid
    claim_kinds=MEDICAL,
)
FUZHOU_RATIO_BP = 1000
FUZHOU_MEDICAL = Plan(
    code="fuzhou_medical", name_zh="福州市职工医疗互助", premium_per_share_fen=5000,  # [I] premium not in the source
    cap_per_term_fen=5_000_000,  # a cycle: [I] one calendar year
    claim_kinds=MEDICAL,
)
NANPING_TIERS_FEN = {1: 600_000, 2: 300_000, 3: 200_000, 4: 100_000}
NANPING_WOMEN = Plan(
    code="nanping_women_special", name_zh="南平市女职工特种疾病互助保障", premium_per_share_fen=2500,
    eligibility=Eligibility(ages=(AgeLimit(Sex.FEMALE, min_age=18, below_age=56),)),
    enrolment=EnrolmentRule(min_ratio_bp=8000),
    claim_kinds=(("special_illness", "女职工特种疾病"),),
)
PLANS = (XIAMEN_TERM_16, XIAMEN_TERM_21, FUZHOU_MEDICAL, NANPING_WOMEN)


def plans() -> list[Plan]:
    return list(PLANS)


def xiamen_benefit(claim: Claim) -> Benefit:
    """20 % of the own cost that 医保 recognises, above its deductible; items add up to the amount."""
    base = max(claim.own_cost_fen - claim.non_insured_fen - claim.excess_bed_fen - claim.deductible_fen, 0)
    amount = base * XIAMEN_RATIO_BP // BP
    items = (
        BenefitItem("个人负担医疗费用", claim.own_cost_fen),
        BenefitItem("医保目录外自费费用", -claim.non_insured_fen, "不予给付"),
        BenefitItem("超标准床位费", -claim.excess_bed_fen, "不予给付"),
        BenefitItem("医保起付线", -claim.deductible_fen),
    )
    # whatever the deductions leave below zero, and the 80 % not paid, close the sum to the amount
    rest = amount - sum(i.amount_fen for i in items)
    return Benefit(amount, (*items, BenefitItem("按20%给付", rest, f"计算基数{base / 100:.2f}元×20%")))


def fuzhou_benefit(claim: Claim) -> Benefit:
    amount = claim.covered_cost_fen * FUZHOU_RATIO_BP // BP
    return Benefit(amount, (BenefitItem("医保范围内医疗费用", claim.covered_cost_fen),
                            BenefitItem("按10%给付", amount - claim.covered_cost_fen)))


def benefit(plan: Plan, enrolment: Enrolment, claim: Claim) -> Benefit | None:
    if plan.code in (XIAMEN_TERM_16.code, XIAMEN_TERM_21.code) and claim.kind == "hospital_stay":
        return xiamen_benefit(claim)
    if plan.code == FUZHOU_MEDICAL.code and claim.kind == "hospital_stay":
        return fuzhou_benefit(claim)
    if plan.code == NANPING_WOMEN.code and claim.kind == "special_illness" and claim.tier in NANPING_TIERS_FEN:
        amount = NANPING_TIERS_FEN[claim.tier]
        return Benefit(amount, (BenefitItem("女职工特种疾病", amount, f"第{claim.tier}档定额给付"),))
    return None

"""Shanghai's mutual-aid plans (上海市职工保障互助会) and their benefit formulas: pure, no I/O.

Sources: 会员专享基本保障 (2019): Class A 24 元 a year, 12 from the district union and 12 from 市总,
one share per member, duplicates void, calendar year, cover from the day after enrolment [S];
Class B 重大病: 70 元 a year paid by the union; 20,000 元 for 12 serious illnesses, 30,000 for accidental
death or total disability, 10,000 for death from illness [S]; 团体意外 (2006): at least 75 % of the
unit's staff (100 % with 10 or fewer), 10 元 a share a year, at most 3 shares and the same for the
whole unit, 5000 元 a share, new hires within 2 months [S]. Figures marked [I] are not from a source.
"""

from __future__ import annotations

from huijia_mutual_aid.interface import (
    Benefit,
    BenefitItem,
    Claim,
    Enrolment,
    EnrolmentRule,
    PayerShare,
    Plan,
)

CLASS_A = Plan(
    code="shanghai_class_a", name_zh="会员专享基本保障（A类）", premium_per_share_fen=2400,
    payers=(PayerShare("district", 1200), PayerShare("city", 1200)),
    max_shares=1, cover_after_days=1,
    # [I] the sources give Class A's premium and cover rules, not its benefit schedule: no claim kind yet
    claim_kinds=(),
)
CLASS_B_AMOUNTS = {
    "serious_illness": 2_000_000,  # 12 种重大疾病，首次确诊并住院
    "accidental_death_disability": 3_000_000,  # 意外身故或全残
    "illness_death": 1_000_000,  # 疾病身故
}
CLASS_B = Plan(
    code="shanghai_class_b", name_zh="会员专享基本保障（B类·重大病）", premium_per_share_fen=7000,
    max_shares=1, cover_after_days=1,
    claim_kinds=(("serious_illness", "重大疾病"), ("accidental_death_disability", "意外身故或全残"),
                 ("illness_death", "疾病身故")),
    # [I] as accident cover grades a disability: when treatment ends, or at day 180 while it has not
    disability_grading_day=180, disability_kinds=("accidental_death_disability",),
)
GROUP_ACCIDENT_PER_SHARE_FEN = 500_000
GROUP_ACCIDENT = Plan(
    code="shanghai_group_accident", name_zh="团体意外伤害保障", premium_per_share_fen=1000,
    max_shares=3, equal_shares=True, cover_after_days=1,
    enrolment=EnrolmentRule(min_ratio_bp=7500, small_unit_staff=10, small_unit_ratio_bp=10000, new_hire_days=60),
    claim_kinds=(("accidental_death_disability", "意外身故或全残"),),
    disability_grading_day=180, disability_kinds=("accidental_death_disability",),
)
PLANS = (CLASS_A, CLASS_B, GROUP_ACCIDENT)


def plans() -> list[Plan]:
    return list(PLANS)


def benefit(plan: Plan, enrolment: Enrolment, claim: Claim) -> Benefit | None:
    if plan.code == CLASS_B.code and claim.kind in CLASS_B_AMOUNTS:
        amount = CLASS_B_AMOUNTS[claim.kind]
        return Benefit(amount, (BenefitItem(plan.claim_kind_label(claim.kind) or claim.kind, amount, "定额给付"),))
    if plan.code == GROUP_ACCIDENT.code and claim.kind == "accidental_death_disability":
        amount = GROUP_ACCIDENT_PER_SHARE_FEN * enrolment.shares
        return Benefit(amount, (BenefitItem("意外身故或全残", amount,
                                            f"每份{GROUP_ACCIDENT_PER_SHARE_FEN // 100}元×{enrolment.shares}份"),))
    return None

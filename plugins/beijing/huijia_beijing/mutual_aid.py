"""Beijing's mutual-aid plan (北京市职工互助保障): the hospital allowance. Pure, no I/O.

Source (住院津贴, 2011): 60 元 a year; 40 元 a day from the 4th day in hospital; at most 7200 元;
women under 55 and men under 60 may enrol [S]. That the cap is per year is [I].
"""

from __future__ import annotations

from huijia_mutual_aid.interface import (
    AgeLimit,
    Benefit,
    BenefitItem,
    Claim,
    Eligibility,
    Enrolment,
    History,
    Plan,
    Sex,
)

DAILY_FEN = 4000
FIRST_PAID_DAY = 4

HOSPITAL_ALLOWANCE = Plan(
    code="beijing_hospital_allowance", name_zh="职工住院津贴互助保障", premium_per_share_fen=6000,
    max_shares=1, cover_after_days=1, cap_per_year_fen=720_000,
    eligibility=Eligibility(ages=(AgeLimit(Sex.FEMALE, below_age=55), AgeLimit(Sex.MALE, below_age=60))),
    claim_kinds=(("hospital_stay", "住院"),),
)


def plans() -> list[Plan]:
    return [HOSPITAL_ALLOWANCE]


def benefit(plan: Plan, enrolment: Enrolment, claim: Claim) -> Benefit | None:
    if plan.code != HOSPITAL_ALLOWANCE.code or claim.kind != "hospital_stay":
        return None
    days = claim.hospital_days
    paid_days = max(days - (FIRST_PAID_DAY - 1), 0)
    amount = paid_days * DAILY_FEN
    return Benefit(amount, (BenefitItem("住院津贴", amount,
                                        f"住院{days}天，自第{FIRST_PAID_DAY}天起{paid_days}天×{DAILY_FEN // 100}元"),))


def benefits(plan: Plan, cases: list[tuple[Enrolment, Claim, History]]) -> list[Benefit | None] | None:
    """``benefit`` for many claims (the history plays no part in Beijing's formula)."""
    if plan.code != HOSPITAL_ALLOWANCE.code:
        return None
    # the allowance depends on the days in hospital only: one answer per length of stay
    by_days: dict[int, Benefit | None] = {}
    out = []
    for e, c, _ in cases:
        days = c.hospital_days if c.kind == "hospital_stay" else -1
        if days not in by_days:
            by_days[days] = benefit(plan, e, c)
        out.append(by_days[days])
    return out

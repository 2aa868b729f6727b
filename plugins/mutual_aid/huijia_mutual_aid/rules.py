"""The capability's own rules, the same for every province: pure functions of plans and plain values.

Each check returns the reasons to refuse (Chinese, for the UI), an empty list meaning "go ahead", so
that a batch can report every problem at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from huijia_mutual_aid.interface import (
    BP,
    Benefit,
    BenefitItem,
    Claim,
    Enrolment,
    History,
    Plan,
    Sex,
    UnitKind,
)

NOTHING_PAID = History()
CHINA = ZoneInfo("Asia/Shanghai")


def china_today() -> dt.date:
    """Today on China's calendar: premiums, terms, claim dates and deadlines are days in Beijing time (a
    claim made at 07:30 on 1 January is that year's, though it is still 31 December in UTC)."""
    return dt.datetime.now(CHINA).date()


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def eligibility_problems(plan: Plan, *, sex: Sex | None, birth: dt.date | None, on: dt.date,
                         retired: bool = False, work_status: str | None = None) -> list[str]:
    rule = plan.eligibility
    problems = []
    if retired and rule.retirees_excluded:
        problems.append("退休人员不能参加本计划")
    if rule.work_statuses and work_status not in rule.work_statuses:
        problems.append("在职状态不符合本计划要求")
    if rule.ages:
        limit = None
        for a in rule.ages:
            if a.sex is sex:
                limit = a
                break
        if limit is None:
            problems.append("性别不符合本计划参保条件")
        elif birth is None:
            problems.append("缺少出生日期，无法核对年龄")
        else:
            age = age_on(birth, on)
            if (limit.min_age is not None and age < limit.min_age) or (limit.below_age is not None and age >= limit.below_age):
                low = limit.min_age if limit.min_age is not None else 0
                problems.append(f"年龄{age}岁，不在参保年龄范围（{low}至{limit.below_age}周岁以下）内")
    return problems


def required_ratio_bp(plan: Plan, kind: UnitKind, eligible: int) -> int:
    return plan.enrolment.ratio_bp_for(kind, eligible)


def ratio_problems(plan: Plan, kind: UnitKind, *, eligible: int, enrolling: int) -> list[str]:
    """The unit's enrolment ratio: ``enrolling`` of its ``eligible`` members (already enrolled included)."""
    if eligible <= 0:
        return ["本单位没有符合条件的会员"]
    need = required_ratio_bp(plan, kind, eligible)
    # integer comparison: enrolling / eligible >= need / BP
    if enrolling * BP < need * eligible:
        # the smallest head count that meets the ratio, rounding up
        minimum = -(-need * eligible // BP)
        return [f"参保人数{enrolling}人，未达到本单位符合条件会员{eligible}人的{need / 100:g}%（至少{minimum}人）"]
    return []


def shares_problems(plan: Plan, shares: Sequence[int], existing: Iterable[int] = ()) -> list[str]:
    """Shares per member in one batch, against the plan's maximum and its equal-shares rule."""
    problems = []
    if any(s < 1 or s > plan.max_shares for s in shares):
        problems.append(f"每人参保份数须在1至{plan.max_shares}份之间")
    if plan.equal_shares and len({*shares, *existing}) > 1:
        problems.append("本计划要求同一单位参保人员份数相同")
    return problems


def exclusion_problems(plan: Plan, held: Iterable[Plan]) -> list[str]:
    """A member may not hold plans that exclude each other, whichever of the two declares it."""
    return [f"已参加互斥的“{other.name_zh}”" for other in held
            if other.code in plan.excludes or plan.code in other.excludes]


def new_hire_problems(plan: Plan, *, unit_enrolled_on: dt.date, joined_on: dt.date | None, on: dt.date) -> list[str]:
    """Once a unit is enrolled for the term, a member is added later only as a new hire: joined the unit
    after the unit's enrolment, and added within the plan's ``new_hire_days`` of joining (no rule: any
    member may be added while the ratio holds)."""
    days = plan.enrolment.new_hire_days
    if days is None:
        return []
    if joined_on is None or joined_on < unit_enrolled_on:
        return [f"本单位已于{unit_enrolled_on.isoformat()}参保，期中只可补充此后入职的会员"]
    if (on - joined_on).days > days:
        return [f"已超过入职后{days}天的补充参保期限（{joined_on.isoformat()}入职）"]
    return []


def cover_period(plan: Plan, enrolled_on: dt.date) -> tuple[dt.date, dt.date]:
    """When cover starts (after ``cover_after_days``) and ends (the end of the term)."""
    _, term_end = plan.term.bounds(enrolled_on)
    return enrolled_on + dt.timedelta(days=plan.cover_after_days), term_end


def claim_refusals(plan: Plan, enrolment: Enrolment, claim: Claim, *, submitted_on: dt.date,
                   history: History = NOTHING_PAID) -> list[tuple[str, str]]:
    """Whether a claim may go ahead, as (stable reason code, Chinese reason) pairs: kind, cover on the
    event date, waiting period, deadline, age on the event date, spent term cap."""
    problems = []
    if plan.claim_kind_label(claim.kind) is None:
        problems.append(("KIND", "本计划不保障该类事项"))
    if claim.event_date < enrolment.cover_from:
        if claim.event_date >= enrolment.cover_from - dt.timedelta(days=plan.cover_after_days):
            problems.append(("WAITING_PERIOD", f"事故发生在等待期内（保障自{enrolment.cover_from.isoformat()}起）"))
        else:
            problems.append(("BEFORE_COVER", f"事故发生在保障开始（{enrolment.cover_from.isoformat()}）之前"))
    elif claim.event_date > enrolment.cover_to:
        problems.append(("AFTER_COVER", f"事故发生在保障结束（{enrolment.cover_to.isoformat()}）之后"))
    if claim.event_date > submitted_on:
        problems.append(("FUTURE_EVENT", "事故日期不能晚于申请日期"))
    if plan.claim_within_days is not None and (submitted_on - claim.event_date).days > plan.claim_within_days:
        problems.append(("DEADLINE", f"已超过事故后{plan.claim_within_days}天的申请期限"))
    if plan.claim_deadline is not None and submitted_on > plan.claim_deadline:
        problems.append(("DEADLINE", f"本期申请截止日（{plan.claim_deadline.isoformat()}）已过"))
    if enrolment.birth_date is not None and plan.eligibility.ages and not _age_fits(plan, enrolment, claim.event_date):
        # the age limits hold on the event date too: cover ends with the birthday that passes them
        ages = [p for p in eligibility_problems(plan, sex=enrolment.sex, birth=enrolment.birth_date,
                                                on=claim.event_date, retired=False) if p.startswith("年龄")]
        problems += [("AGE", f"事故发生时{p}") for p in ages]
    if plan.cap_per_term_fen is not None and history.paid_in_term_fen >= plan.cap_per_term_fen:
        problems.append(("TERM_CAP", "本期给付已达上限，保障已终止"))
    problems += grading_refusals(plan, claim)
    return problems


def grading_refusals(plan: Plan, claim: Claim) -> list[tuple[str, str]]:
    """The plan's grading rule for a disability: graded once treatment has ended, or, while treatment is
    unfinished, at ``disability_grading_day`` days after the accident (not before: a grade given earlier
    may still change). A claim without a grading date (a death) is not a grading."""
    day = plan.disability_grading_day
    if day is None or claim.kind not in plan.disability_kinds or claim.graded_on is None:
        return []
    if claim.graded_on < claim.event_date:
        return [("GRADING", "伤残评定日期不能早于事故日期")]
    due = claim.grading_due(day)
    ended = claim.treatment_ended_on
    if ended is not None and ended <= due:
        if claim.graded_on < ended:
            return [("GRADING", f"伤残须在治疗终结（{ended.isoformat()}）后评定")]
        return []
    if claim.graded_on < due:
        return [("GRADING", f"治疗未终结的，伤残在事故后第{day}天（{due.isoformat()}）评定，此前的评定不予受理")]
    return []


def _age_fits(plan: Plan, enrolment: Enrolment, on: dt.date) -> bool:
    """Whether the member's age on ``on`` is within the plan's limits for their sex (the quick yes that
    spares a file of 100,000 stays the reasons nobody reads)."""
    assert enrolment.birth_date is not None
    for a in plan.eligibility.ages:
        if a.sex is enrolment.sex:
            age = age_on(enrolment.birth_date, on)
            return (a.min_age is None or age >= a.min_age) and (a.below_age is None or age < a.below_age)
    return False


def claim_problems(plan: Plan, enrolment: Enrolment, claim: Claim, *, submitted_on: dt.date,
                   history: History = NOTHING_PAID) -> list[str]:
    """The Chinese reasons of :func:`claim_refusals` (empty: the claim may go ahead)."""
    return [zh for _, zh in claim_refusals(plan, enrolment, claim, submitted_on=submitted_on, history=history)]


def claim_deadline(plan: Plan, term_start: dt.date) -> dt.date:
    """The last day a claim of the term may be made: the plan's hard deadline, or the term's end plus the
    days a claim may follow its event. After it the term can be settled and closed."""
    if plan.claim_deadline is not None:
        return plan.claim_deadline
    _, end = plan.term.bounds(term_start)
    return end + dt.timedelta(days=plan.claim_within_days or 0)


@dataclass(frozen=True, slots=True)
class CappedBenefit:
    """The benefit actually payable: the hook's items, then a capping item when a cap cut it."""

    amount_fen: int
    items: tuple[BenefitItem, ...]
    capped_by: str | None = None  # "case" | "year" | "term"


_CAP_LABELS = {"case": "单次给付上限", "year": "年度给付上限", "term": "本期给付上限"}


def apply_caps(plan: Plan, benefit: Benefit, history: History) -> CappedBenefit:
    """Pay up to the tightest remaining cap, and say which cap cut the amount and by how much."""
    amount = max(benefit.amount_fen, 0)
    remaining = {
        "case": None if plan.cap_per_case_fen is None else plan.cap_per_case_fen - history.paid_on_case_fen,
        "year": None if plan.cap_per_year_fen is None else plan.cap_per_year_fen - history.paid_in_year_fen,
        "term": None if plan.cap_per_term_fen is None else plan.cap_per_term_fen - history.paid_in_term_fen,
    }
    binding = None
    for name, left in remaining.items():
        if left is not None and max(left, 0) < amount:
            amount, binding = max(left, 0), name
    items = benefit.items
    if binding is not None:
        cap = {"case": plan.cap_per_case_fen, "year": plan.cap_per_year_fen, "term": plan.cap_per_term_fen}[binding]
        items = (*items, BenefitItem(_CAP_LABELS[binding], amount - max(benefit.amount_fen, 0),
                                     f"上限{cap / 100:.2f}元，剩余可付{amount / 100:.2f}元"))
    return CappedBenefit(amount, items, binding)


def share_of(amount_fen: int, ratio_bp: int) -> int:
    """``ratio_bp`` of an amount, rounded down to the fen (a payout never exceeds the formula)."""
    return amount_fen * ratio_bp // BP


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member a unit union puts forward for a plan, with what enrolment checks need (no personal data)."""

    member_id: int
    org_unit_id: int
    shares: int = 1
    sex: Sex | None = None
    birth: dt.date | None = None
    retired: bool = False
    work_status: str | None = None
    held: tuple[str, ...] = ()  # codes of the plans the member already holds this term


def batch_problems(plan: Plan, plans: dict[str, Plan], *, unit_id: int, unit_kind: UnitKind, eligible: int,
                   already_enrolled: int, existing_shares: Iterable[int], candidates: Sequence[Candidate],
                   on: dt.date, check_ratio: bool = True) -> list[tuple[int | None, str]]:
    """Every reason to refuse a unit's batch, as (member id or None for the batch, reason).

    A batch is all or nothing: the caller stores none of it while any reason stands. A member the
    plan already covers, or named twice, is a duplicate (void where the plan allows one share).
    ``check_ratio=False`` for new hires joining a unit already enrolled: the ratio was the unit's, met then.
    """
    problems: list[tuple[int | None, str]] = []
    if not candidates:
        return [(None, "未选择参保会员")]
    seen: set[int] = set()
    for c in candidates:
        if c.org_unit_id != unit_id:
            problems.append((c.member_id, "不是本单位会员"))
            continue
        if c.member_id in seen or plan.code in c.held:
            problems.append((c.member_id, "重复参保无效" if plan.max_shares == 1 else "已参加本计划"))
            continue
        seen.add(c.member_id)
        held = [plans[code] for code in c.held if code in plans]
        problems += [(c.member_id, r) for r in exclusion_problems(plan, held)]
        problems += [(c.member_id, r) for r in eligibility_problems(
            plan, sex=c.sex, birth=c.birth, on=on, retired=c.retired, work_status=c.work_status)]
    problems += [(None, r) for r in shares_problems(plan, [c.shares for c in candidates], existing_shares)]
    if plan.enrolment.group_only and check_ratio:
        problems += [(None, r) for r in ratio_problems(plan, unit_kind, eligible=eligible,
                                                       enrolling=already_enrolled + len(seen))]
    return problems


def ids_in(ids: Iterable[int]) -> str:
    """``IN (…)`` over integer ids, written into the SQL: ``= ANY({})`` takes a list on PostgreSQL only, and
    the embedded SQLite default must run the same statements. ``int()`` on each keeps it injection-free;
    an empty list matches nothing."""
    values = ", ".join(str(int(v)) for v in ids)
    return f"IN ({values})" if values else "IN (NULL)"

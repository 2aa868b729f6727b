"""The mutual_aid capability's declared interface: the plan and claim dataclasses its hooks pass.

Province plugins serving the capability import this module (and only this one) from the capability;
the import-linter contracts allow exactly that. Everything here is a frozen value: money in integer
fen, ratios in basis points (10000 = 100 %), dates as ``datetime.date``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

BP = 10_000


class TermKind(StrEnum):
    CALENDAR_YEAR = "calendar_year"  # cover runs with the calendar year of enrolment
    PERIOD = "period"  # a numbered period with its own dates (Xiamen's 第16期)


class UnitKind(StrEnum):
    """What the enrolment ratio depends on: public-sector units must enrol a larger share."""

    GOVERNMENT = "government"  # 机关
    INSTITUTION = "institution"  # 事业单位
    STATE_OWNED = "state_owned"  # 国有企业
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"


@dataclass(frozen=True, slots=True)
class PayerShare:
    """Who pays how much of one share's premium: ``level`` is the union level (``district``, ``city``,
    ``grassroots``, ``member``), ``amount_fen`` its part."""

    level: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Term:
    kind: TermKind
    # a numbered period: its number and dates (both inclusive); a calendar year needs none
    number: int | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None

    def bounds(self, on: dt.date) -> tuple[dt.date, dt.date]:
        """The term that ``on`` falls in: its first and last day."""
        if self.kind is TermKind.CALENDAR_YEAR:
            return dt.date(on.year, 1, 1), dt.date(on.year, 12, 31)
        assert self.starts_on is not None and self.ends_on is not None
        return self.starts_on, self.ends_on


@dataclass(frozen=True, slots=True)
class AgeLimit:
    """Ages allowed at enrolment for one sex: ``min_age <= age < below_age`` (None = no bound)."""

    sex: Sex
    min_age: int | None = None
    below_age: int | None = None


@dataclass(frozen=True, slots=True)
class Eligibility:
    # no entry for a sex = that sex may not enrol; an empty tuple = no age or sex limit at all
    ages: tuple[AgeLimit, ...] = ()
    retirees_excluded: bool = True
    # work statuses allowed (empty = any): e.g. ("employed",)
    work_statuses: tuple[str, ...] = ()
    # the member declares good health at enrolment (the unit union certifies it)
    healthy_at_enrolment: bool = False


@dataclass(frozen=True, slots=True)
class EnrolmentRule:
    """Group enrolment through the unit union, with a minimum share of the unit's eligible members."""

    group_only: bool = True
    # minimum ratio by unit kind, basis points; a kind not listed uses ``min_ratio_bp``
    min_ratio_bp: int = 0
    min_ratio_bp_by_kind: tuple[tuple[UnitKind, int], ...] = ()
    # units with at most ``small_unit_staff`` eligible members must enrol ``small_unit_ratio_bp``
    small_unit_staff: int | None = None
    small_unit_ratio_bp: int | None = None
    # new hires may join an enrolled unit within this many days of starting
    new_hire_days: int | None = None

    def ratio_bp_for(self, kind: UnitKind, eligible: int) -> int:
        if self.small_unit_staff is not None and self.small_unit_ratio_bp is not None and eligible <= self.small_unit_staff:
            return self.small_unit_ratio_bp
        return dict(self.min_ratio_bp_by_kind).get(kind, self.min_ratio_bp)


@dataclass(frozen=True, slots=True)
class Plan:
    """One mutual-aid plan a province offers, declared by its plugin (``register_mutual_aid_plans``).

    ``code`` is unique in the tenant and names the ledger fund ``mutual_aid.<code>``. Caps are fen per
    member (None = none); once ``cap_per_term_fen`` has been paid the member's cover ends.
    """

    code: str
    name_zh: str
    premium_per_share_fen: int
    # who pays one share's premium; empty = the unit union pays it all
    payers: tuple[PayerShare, ...] = ()
    max_shares: int = 1
    equal_shares: bool = True  # every enrolled member of a unit takes the same number of shares
    term: Term = field(default_factory=lambda: Term(TermKind.CALENDAR_YEAR))
    eligibility: Eligibility = field(default_factory=Eligibility)
    enrolment: EnrolmentRule = field(default_factory=EnrolmentRule)
    # cover starts this many days after enrolment: 1 = the next day; a waiting period is longer
    cover_after_days: int = 1
    # claims are accepted until this many days after the event, and never after ``claim_deadline``
    claim_within_days: int | None = None
    claim_deadline: dt.date | None = None
    cap_per_case_fen: int | None = None
    cap_per_year_fen: int | None = None
    cap_per_term_fen: int | None = None
    # plan codes a member may not hold together with this one (重大疾病 A or B)
    excludes: tuple[str, ...] = ()
    # the claim kinds the plan pays (its benefit hook answers for these), code -> Chinese label
    claim_kinds: tuple[tuple[str, str], ...] = ()
    # A disability is graded when its treatment ends, or at this day after the accident while treatment is
    # still unfinished (the usual 180): a claim of one of ``disability_kinds`` that brings a grading date
    # is checked against it (a death claim of such a kind brings none).
    disability_grading_day: int | None = None
    disability_kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not self.code.isidentifier() or self.code != self.code.lower():
            problems.append(f"code {self.code!r} must be a lower-case identifier")
        if self.premium_per_share_fen <= 0:
            problems.append("premium_per_share_fen must be positive")
        if self.payers and sum(p.amount_fen for p in self.payers) != self.premium_per_share_fen:
            problems.append("the payers' parts must add up to the premium per share")
        if self.max_shares < 1:
            problems.append("max_shares must be at least 1")
        if self.cover_after_days < 0:
            problems.append("cover_after_days must not be negative")
        if self.term.kind is TermKind.PERIOD and (
            self.term.starts_on is None or self.term.ends_on is None or self.term.starts_on > self.term.ends_on
        ):
            problems.append("a numbered period needs its start and end dates, in order")
        if self.code in self.excludes:
            problems.append("a plan cannot exclude itself")
        if self.disability_kinds and (self.disability_grading_day is None or self.disability_grading_day < 1):
            problems.append("disability_kinds need a positive disability_grading_day")
        if problems:
            raise ValueError(f"mutual-aid plan {self.code!r}: " + "; ".join(problems))

    @property
    def fund(self) -> str:
        return f"mutual_aid.{self.code}"

    def claim_kind_label(self, kind: str) -> str | None:
        return dict(self.claim_kinds).get(kind)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A member's cover under a plan, as the benefit hook sees it (no personal data)."""

    plan_code: str
    shares: int
    cover_from: dt.date
    cover_to: dt.date
    sex: Sex | None = None
    birth_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """What happened and what it cost. Fields a claim kind does not use stay at their defaults."""

    kind: str
    event_date: dt.date
    # a hospital stay: admission and discharge days (counted as hospitals bill: the nights, a same-day stay one)
    admitted_on: dt.date | None = None
    discharged_on: dt.date | None = None
    # costs of the stay, fen: total covered by 医保, the member's own part, the 医保 deductible (起付线),
    # bed fees above the 医保 standard, and costs wholly outside 医保 (自费)
    covered_cost_fen: int = 0
    own_cost_fen: int = 0
    deductible_fen: int = 0
    excess_bed_fen: int = 0
    non_insured_fen: int = 0
    # a plan paying fixed amounts by tier (illness grade, disability grade): 1 = the highest
    tier: int | None = None
    # a disability: the day it was graded, and the day treatment ended (None: not ended when graded)
    graded_on: dt.date | None = None
    treatment_ended_on: dt.date | None = None

    def grading_due(self, day: int) -> dt.date:
        """The day a disability of this accident is graded at the latest when treatment is unfinished."""
        return self.event_date + dt.timedelta(days=day)

    @property
    def hospital_days(self) -> int:
        if self.admitted_on is None or self.discharged_on is None:
            return 0
        return max((self.discharged_on - self.admitted_on).days, 1)


@dataclass(frozen=True, slots=True)
class History:
    """What the plan already paid this member: in the claim's year, in its term, and on this case."""

    paid_in_year_fen: int = 0
    paid_in_term_fen: int = 0
    paid_on_case_fen: int = 0


@dataclass(frozen=True, slots=True)
class BenefitItem:
    label_zh: str
    amount_fen: int  # negative for a deduction
    note_zh: str = ""


@dataclass(frozen=True, slots=True)
class Benefit:
    """The benefit before the plan's caps: ``amount_fen`` and the items that explain it."""

    amount_fen: int
    items: tuple[BenefitItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Settlement:
    """A plan's term at settlement, as the surplus hook sees it (fen)."""

    plan_code: str
    term_start: dt.date
    premiums_fen: int
    claims_fen: int

    @property
    def surplus_fen(self) -> int:
        return self.premiums_fen - self.claims_fen


@dataclass(frozen=True, slots=True)
class SurplusMove:
    """Where a term's surplus goes: the ledger fund (``hardship`` for 靖江's one-off serious-illness
    relief), and the memo the entry carries. An empty fund keeps the surplus in the plan's fund."""

    fund: str
    memo_zh: str = ""

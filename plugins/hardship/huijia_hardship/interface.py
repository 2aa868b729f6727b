"""The frozen values the hardship capability hands to province plugins (never ORM rows).

Money is integer fen; ratios are basis points. A province plugin serving ``hardship`` imports
these from here only through the hook arguments it receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEEP = "deep"  # 深度困难
RELATIVE = "relative"  # 相对困难
ACCIDENT = "accident"  # 意外致困
NONE = "none"  # not in hardship (or excluded)
CATEGORIES = (DEEP, RELATIVE, ACCIDENT, NONE)
CATEGORY_ZH = {DEEP: "深度困难", RELATIVE: "相对困难", ACCIDENT: "意外致困", NONE: "不符合建档条件"}


@dataclass(frozen=True, slots=True)
class HouseholdFacts:
    """What a classification is decided on: a household's figures for one year."""

    region_code: str  # the household's 民政 area code (6 digits)
    year: int
    household_size: int
    monthly_income_fen: int  # household disposable income, per month (annual ÷ 12)
    monthly_rigid_expense_fen: int  # 刚性支出 per month
    dibao_line_fen: int | None  # the region's monthly 低保 line for the year, as the tenant's rules give it
    accident: bool = False  # injured, disabled or killed in a major disaster or accident
    yearly_hardship_cost_fen: int = 0  # the year's costs of the hardship (illness, accident)
    migrant: bool = False  # 农民工
    employment_months: int = 0  # de-facto employment, for 农民工
    homes: int = 1
    business_owner: bool = False  # owns a shop or employs others
    private_school_fee_fen: int = 0  # a child's yearly private-school fee
    public_school_fee_fen: int = 0  # the public school's yearly fee it is compared with
    study_abroad_self_paid: bool = False
    civil_check_failed: bool = False  # the 民政 economic check found assets or income
    # Aid paid in the last year, counted as income (set only where the tenant's rules say so).
    prior_aid_yearly_fen: int = 0

    @property
    def monthly_per_capita_fen(self) -> int:
        size = max(self.household_size, 1)
        income = self.monthly_income_fen + self.prior_aid_yearly_fen // 12
        return (income - self.monthly_rigid_expense_fen) // size


@dataclass(frozen=True, slots=True)
class Classification:
    """A category with the reasons for it (Chinese, for the case page; no figures of the household)
    and the rule that decided it, stored with the case so a later change of rules never rewrites it."""

    category: str
    reasons: tuple[str, ...]
    rule_version: str
    excluded: bool = False
    exclusions: tuple[str, ...] = field(default_factory=tuple)


LIVING = "living"  # 生活救助
EDUCATION = "education"  # 子女助学
MEDICAL = "medical"  # 医疗救助
TRAINING = "training"  # 职业培训
TEMPORARY = "temporary"  # 临时救助 (possible without an archive)
AID_TYPES = (LIVING, EDUCATION, MEDICAL, TRAINING, TEMPORARY)
AID_TYPE_ZH = {LIVING: "生活救助", EDUCATION: "子女助学", MEDICAL: "医疗救助", TRAINING: "职业培训", TEMPORARY: "临时救助"}


@dataclass(frozen=True, slots=True)
class AidRequest:
    """One proposed grant, as a rule sees it."""

    aid_type: str
    category: str | None  # the archive's category; None for 临时救助 without an archive
    region_code: str
    year: int
    dibao_line_fen: int | None  # monthly 低保 of the household's region
    household_size: int
    requested_fen: int | None = None  # what the clerk asks for; None = what the rule gives
    medical_cost_fen: int = 0  # the year's own share of medical costs (医疗救助)
    school_level: str | None = None  # university | high_school | compulsory | kindergarten (子女助学)
    disabled_child: bool = False


@dataclass(frozen=True, slots=True)
class AidItem:
    label_zh: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class AidQuote:
    """What a rule gives: the amount this grant may have, the yearly cap it counts against (per
    household, or per person when ``per_person``), an itemised breakdown the UI shows, and reasons
    when the type is not available at all."""

    amount_fen: int
    cap_fen: int | None
    breakdown: tuple[AidItem, ...]
    rule_version: str
    per_person: bool = False
    refusals: tuple[str, ...] = ()

"""Settings schema of the hardship capability (``[settings.hardship]`` in a tenant manifest).

[S] sourced figures, [I] invented defaults a federation sets for itself.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import BasisPoints, Fen, TenantContext, tenant_settings

NAME = "hardship"


class AidRule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """How one aid type is computed when no province plugin answers ``aid_amount``: months of 低保
    (by category, or for 子女助学 by school level), a share of the cost, a fixed sum, then the
    yearly cap (per household, or per person)."""

    months_of_dibao: dict[str, int] = msgspec.field(default_factory=dict)
    cost_ratio_bp: BasisPoints | None = None
    fixed_fen: Fen | None = None
    cap_fen: Fen | None = None
    per_person: bool = False
    needs_archive: bool = True


def default_aid() -> dict[str, AidRule]:
    return {
        # [S] the unnamed province: 深度 10 months of 低保, 相对 8; 意外致困 [I] 8.
        "living": AidRule(months_of_dibao={"deep": 10, "relative": 8, "accident": 8}),
        # [S] university 10 months; high school half of that [Shanghai]; [I] compulsory 3 months.
        "education": AidRule(months_of_dibao={"university": 10, "high_school": 5, "compulsory": 3}),
        # [S] own share, usually at most 20,000 a household a year (Hubei).
        "medical": AidRule(cost_ratio_bp=10_000, cap_fen=2_000_000),
        # [S] training at most 3,000 a year (blog summary).
        "training": AidRule(cap_fen=300_000),
        # [S] 临时救助 at most 3,000 a person a year (Hubei), possible without an archive.
        "temporary": AidRule(cap_fen=300_000, per_person=True, needs_archive=False),
    }


class HardshipSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """困难职工帮扶: notice period, re-verification interval and the national classification ratios."""

    # 公示 days before a case with no open objection is ready for approval [I: 5-7 days; not found].
    notice_days: int = msgspec.field(default=7)
    # Re-verification interval (复核) in months [S: yearly; a mine union used 6].
    reverify_months: Annotated[int, msgspec.Meta(ge=1, le=60)] = 12
    # A temporary (临时救助) archive lapses this many days after its approval unless converted to a
    # regular one [I: a federation sets its own].
    temporary_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] = 180
    # Re-verification reminders are recorded this many days before an archive falls due [I].
    reminder_lead_days: Annotated[int, msgspec.Meta(ge=0, le=366)] = 30
    # 相对困难: per-capita income below this multiple of 低保 [S: 2 ×].
    relative_multiplier_bp: Annotated[int, msgspec.Meta(ge=10_000, le=100_000)] = 20_000
    # 意外致困: the year's hardship costs above this share of household income [S: 80 %].
    accident_cost_ratio_bp: BasisPoints = 8_000
    # 农民工: months of de-facto employment needed [S: ≥ 1 year].
    migrant_min_months: int = 12
    # Aid rules by type (living, education, medical, training, temporary); a province plugin's
    # aid_amount answer takes precedence. Hubei's caps, for one, are settings only.
    aid: dict[str, AidRule] = msgspec.field(default_factory=default_aid)
    # Escalation [S]: from 20,000 the province (a grant at the root) approves; from 50,000 the
    # national federation, whose decision number the approval records.
    escalate_province_fen: Fen = 2_000_000
    escalate_national_fen: Fen = 5_000_000
    # Categories allowed only one aid type a year [S: 相对困难 in the unnamed province].
    single_type_categories: list[str] = msgspec.field(default_factory=list)
    # At most this many grants per household a year; 0 = no limit [S: Yinchuan, once a year].
    max_grants_per_year: int = 0
    # Aid received in the last year counts as income at re-verification [S: the unnamed province, 深度].
    prior_aid_counts_as_income: bool = False


def for_tenant(tenant: TenantContext) -> HardshipSettings:
    return tenant_settings(tenant, NAME, HardshipSettings)

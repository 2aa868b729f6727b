"""Settings schema for the Shanghai plugin (``[settings.shanghai]`` in a tenant manifest).

Every figure is a setting with a realistic default, never a constant in code: 低保 lines change every
year and are raised by notice, not by software release. Defaults marked [I] are not from a source.
"""

from __future__ import annotations

import msgspec

from core.sdk import BasisPoints, DibaoTable, Fen, TenantContext, tenant_settings

NAME = "shanghai"


def default_dibao() -> dict[str, dict[str, int]]:
    # Shanghai sets one city-wide urban line, so a single province-level row covers every district
    # (310101 黄浦区 falls back to 310000). Raised each July. [I] 2023 and 2025 are estimates.
    return {"310000": {"2023": 142000, "2024": 151000, "2025": 155000}}


class ShanghaiSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Shanghai's settings; all keys are optional."""

    # region code -> year -> monthly 低保 line in fen per person
    dibao: DibaoTable = msgspec.field(default_factory=default_dibao)
    # [I] Members carrying any of these tag codes must give a mobile number: 新就业形态 workers move
    # between employers and sites, and 申工社 reaches them (and pays 职工保障 benefits) by phone.
    phone_required_tags: list[str] = msgspec.field(default_factory=lambda: ["new_employment"])
    # 困难职工帮扶 (沪工总权〔2019〕19号, 深度困难 Shanghai workers in employment) [S]:
    # living aid 5,000 元 a household a year;
    hardship_living_fen: Fen = 500_000
    # university 10 months of 低保, high school or a disabled child half of that;
    hardship_university_months: int = 10
    hardship_high_school_bp: BasisPoints = 5_000
    # medical 90 % of the own cost up to 10,000 元, 70 % above, at most 20,000 元 a person a year.
    hardship_medical_tier_fen: Fen = 1_000_000
    hardship_medical_low_bp: BasisPoints = 9_000
    hardship_medical_high_bp: BasisPoints = 7_000
    hardship_medical_cap_fen: Fen = 2_000_000


def for_tenant(tenant: TenantContext) -> ShanghaiSettings:
    return tenant_settings(tenant, NAME, ShanghaiSettings)

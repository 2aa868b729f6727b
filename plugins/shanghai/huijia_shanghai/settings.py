"""Settings schema for the Shanghai plugin (``[settings.shanghai]`` in a tenant manifest).

Every figure is a setting with a realistic default, never a constant in code: 低保 lines change every
year and are raised by notice, not by software release. Defaults marked [I] are not from a source.
"""

from __future__ import annotations

import msgspec

from core.sdk import DibaoTable, TenantContext, tenant_settings

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


def for_tenant(tenant: TenantContext) -> ShanghaiSettings:
    return tenant_settings(tenant, NAME, ShanghaiSettings)

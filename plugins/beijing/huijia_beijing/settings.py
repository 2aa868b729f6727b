"""Settings schema for the Beijing plugin (``[settings.beijing]`` in a tenant manifest).

Every figure is a setting with a realistic default; defaults marked [I] are not from a source.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import BasisPoints, DibaoTable, TenantContext, YearKey, tenant_settings

NAME = "beijing"

TagCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class TagSetting(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One member tag offered to Beijing tenants."""

    code: TagCode
    label_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    description_zh: str = ""


def default_dibao() -> dict[str, dict[str, int]]:
    # Beijing has one city-wide line (城乡统一), so 110000 covers every district. [I] 2023 and 2025
    # are estimates; 2024 is 1450 元.
    return {"110000": {"2023": 139500, "2024": 145000, "2025": 149500}}


def default_member_tags() -> list[TagSetting]:
    # 京卡·互助服务卡: Beijing pays mutual-aid benefits (e.g. 住院津贴) onto this card, so knowing who
    # holds one decides whether a payout can go straight to the member. [S] Beijing's mutual-aid scheme rules.
    return [
        TagSetting(
            code="jingka",
            label_zh="京卡持卡人",
            description_zh="持有京卡·互助服务卡，互助保障给付直接打入京卡",
        )
    ]


class BeijingSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Beijing's settings; all keys are optional."""

    # region code -> year -> monthly 低保 line in fen per person
    dibao: DibaoTable = msgspec.field(default_factory=default_dibao)
    member_tags: list[TagSetting] = msgspec.field(default_factory=default_member_tags)
    # year -> share of income moved to the 解困脱困 special fund. [I] empty: defer to the national
    # default until the federation publishes its own figure.
    special_allocation_bp_by_year: dict[YearKey, BasisPoints] = {}


def for_tenant(tenant: TenantContext) -> BeijingSettings:
    return tenant_settings(tenant, NAME, BeijingSettings)

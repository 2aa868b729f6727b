"""Settings schema of the warmth capability (``[settings.warmth]`` in a tenant manifest)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import Fen, TenantContext, tenant_settings

NAME = "warmth"


class WarmthSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    # The capability's own amount per target group, in fen, used when no province plugin answers
    # campaign_amount. Defaults [S]: a provincial federation's 2024 spring-festival brief (600 yuan per
    # archived hardship household, 1000 yuan a person off work six months or more, 1200 yuan a person
    # unpaid six months or more); other groups have no default and need the campaign's own amount.
    default_amounts_fen: dict[str, Fen] = msgspec.field(default_factory=lambda: {
        "hardship_household": 60_000, "off_work_6m": 100_000, "unpaid_6m": 120_000})
    # Festival gifts in neither cash nor shopping cards (Anhui's rule for grassroots welfare [S]):
    # when true, a 元旦春节 campaign may give its groups only goods.
    festival_gifts_in_kind_only: bool = False
    # Months of no pay (or no work) that make a worker one of the unpaid (off-work) group.
    months_threshold: int = 6
    # Days after a paid benefit during which a person is left out of other campaigns' automatic lists
    # (the tenant's no-repeat window across campaigns); 0 turns it off.
    no_repeat_days: Annotated[int, msgspec.Meta(ge=0, le=3660)] = 0


def for_tenant(tenant: TenantContext) -> WarmthSettings:
    return tenant_settings(tenant, NAME, WarmthSettings)

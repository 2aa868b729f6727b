"""Settings schema of the procurement capability (``[settings.procurement]`` in a tenant manifest)."""

from __future__ import annotations

import msgspec

from core.sdk import Fen, TenantContext, tenant_settings

NAME = "procurement"

# 荆门's categories plus legal aid; a tenant may name its own in settings.
DEFAULT_CATEGORIES = {
    "skills": "素质提升",
    "care": "帮扶关爱",
    "culture": "文体娱乐",
    "grassroots": "基层组织建设",
    "legal_aid": "法律援助",
}


class ProcurementSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    # The most one project may cost (江门: 200,000 元).
    budget_cap_fen: Fen = 20_000_000
    # Need-list categories: code -> Chinese label.
    categories: dict[str, str] = msgspec.field(default_factory=lambda: dict(DEFAULT_CATEGORIES))
    # Items no union of the tenant may buy, matched as text in a need (淮安: no guarantees of a
    # provider's financing); unions add their own below this.
    excluded_terms: list[str] = msgspec.field(default_factory=lambda: ["融资担保"])
    # The score a newly approved organisation starts with, in basis points of 100.
    initial_score_bp: int = 7000
    # ProZorro's sandbox acceleration: every period of a call runs this many times faster (1 = real
    # time; 1440 makes a day a minute). Only for demo and test tenants.
    sandbox_acceleration: int = 1
    # How much of a bid's total comes from the organisation's performance score (the rest from the
    # panel), in basis points: past evaluations count in later calls.
    performance_weight_bp: int = 1000
    # An evaluator's total this many points (of 100) away from the panel's median is shown as an outlier.
    outlier_points: int = 15
    # Where a contract's value is reserved and paid from: the buying union's fund and the expense
    # account of the union accounting system (501 职工活动支出).
    fund: str = "general"
    expense_code: str = "501"
    # The OCDS ocid prefix the publisher registered (ocds-xxxxxx); the tenant code and call id follow.
    ocid_prefix: str = "ocds-huijia"
    # Requests per minute per client address on the public listing.
    public_requests_per_minute: int = 60


def for_tenant(tenant: TenantContext) -> ProcurementSettings:
    return tenant_settings(tenant, NAME, ProcurementSettings)

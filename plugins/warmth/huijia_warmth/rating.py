"""What a worker may rate of warmth (满意度评价): the service_network capability's ``rating_subjects``
hook, answered here as an optional hook, so warmth loads where service_network is not installed and
the host asks it only for tenants enabling both.

The rated thing is a campaign benefit (one beneficiary row): used once the distribution paid the cash
or gave the goods to that member. Confirming receipt is not required: a worker who got the benefit may
say what they thought of it even before (or instead of) pressing 确认收到."""

from __future__ import annotations

from typing import Any

from core.sdk import TenantContext, raw

SUBJECT = "warmth_benefit"


async def benefit_used(tenant: TenantContext, subject_id: int, member_id: int) -> int | None:
    """The beneficiary's union as frozen on the list (the row's subtree unit) when the benefit was
    given to this member; ``None`` otherwise."""
    rows = await raw("SELECT org_unit_id FROM warmth_beneficiary WHERE tenant_id = {} AND id = {} AND member_id = {} "
                     "AND paid_at IS NOT NULL", tenant.id, subject_id, member_id)
    return int(rows[0]["org_unit_id"]) if rows else None


def subjects() -> list[dict[str, Any]]:
    return [{"type": SUBJECT, "label_zh": "送温暖慰问", "used": benefit_used}]

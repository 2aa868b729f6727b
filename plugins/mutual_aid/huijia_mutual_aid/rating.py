"""What a worker may rate of mutual aid (满意度评价): the service_network capability's ``rating_subjects``
hook, answered here as an optional hook, so mutual aid loads where service_network is not installed and
the host asks it only for tenants enabling both.

The rated thing is a claim, used once its benefit was paid to the member (state ``paid``); a claim
still being checked, or rejected, was not received."""

from __future__ import annotations

from typing import Any

from core.sdk import TenantContext, raw

SUBJECT = "mutual_aid_claim"


async def claim_used(tenant: TenantContext, subject_id: int, member_id: int) -> int | None:
    """The claim's union when it is this member's and paid; ``None`` otherwise."""
    rows = await raw("SELECT c.org_unit_id FROM mutual_aid_claim c JOIN workflow_case w ON w.tenant_id = c.tenant_id "
                     "AND w.capability = 'mutual_aid' AND w.case_type = 'claim' AND w.case_id = c.id "
                     "WHERE c.tenant_id = {} AND c.id = {} AND c.member_id = {} AND w.state = 'paid'",
                     tenant.id, subject_id, member_id)
    return int(rows[0]["org_unit_id"]) if rows else None


def subjects() -> list[dict[str, Any]]:
    return [{"type": SUBJECT, "label_zh": "互助保障给付", "used": claim_used}]

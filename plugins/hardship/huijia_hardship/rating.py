"""What a worker may rate of hardship (满意度评价): the service_network capability's ``rating_subjects``
hook, answered here as an optional hook, so hardship loads where service_network is not installed and
the host asks it only for tenants enabling both.

The rated thing is an aid grant, not the archive: a worker "used" hardship aid when money reached their
household (the grant was paid). An archive that was archived, or a case that was closed, gave nothing a
worker would rate yet; a rejected or cancelled grant was not received either."""

from __future__ import annotations

from typing import Any

from core.sdk import TenantContext, raw

SUBJECT = "hardship_grant"


async def grant_used(tenant: TenantContext, subject_id: int, member_id: int) -> int | None:
    """The grant's union (where the household's subtree rule is decided) when it was paid to the
    household the member belongs to; ``None`` otherwise, for any other tenant's grant too."""
    rows = await raw("SELECT g.org_unit_id FROM hardship_grant g JOIN workflow_case w ON w.tenant_id = g.tenant_id "
                     "AND w.capability = 'hardship' AND w.case_type = 'grant' AND w.case_id = g.id "
                     "WHERE g.tenant_id = {} AND g.id = {} AND w.state = 'paid' AND EXISTS (SELECT 1 FROM "
                     "household_person p WHERE p.tenant_id = g.tenant_id AND p.household_id = g.household_id "
                     "AND p.member_id = {})", tenant.id, subject_id, member_id)
    return int(rows[0]["org_unit_id"]) if rows else None


def subjects() -> list[dict[str, Any]]:
    return [{"type": SUBJECT, "label_zh": "帮扶救助", "used": grant_used}]

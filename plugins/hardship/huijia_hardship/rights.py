"""维权帮扶一体化: a rights request of the service_network capability opens a temporary relief (临时救助)
or a hardship archive application (建档申请) in one step. The hook is service_network's
(``service_network_open_aid``); it is optional here, so hardship runs where service_network is not
installed, and the host asks it only for tenants enabling hardship. Permissions are hardship's own,
checked on the household as for any grant or archive; the case records where it came from."""

from __future__ import annotations

from typing import Any

from core.sdk import DomainError, ErrorCode, TenantContext, audit_record


async def _open(tenant: TenantContext, principal: Any, actor: Any, kind: str, request: dict[str, Any],
                details: dict[str, Any]) -> dict[str, Any]:
    from huijia_hardship import aid, services

    household_id = details.get("household_id")
    if household_id is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "householdId is required", "householdId", "请选择困难职工家庭")
    if kind == "temporary_relief":
        grant_id = await aid.propose(tenant, principal, actor, aid.Proposal(
            aid_type="temporary", household_id=int(household_id), person_id=details.get("person_id"),
            requested_fen=details.get("requested_fen"), area_code=details.get("area_code") or None))
        case = {"capability": "hardship", "case_type": "grant", "case_id": grant_id, "label_zh": "临时救助"}
    else:
        finances = services.Finances(monthly_income_fen=int(details.get("monthly_income_fen") or 0),
                                     monthly_rigid_expense_fen=int(details.get("monthly_rigid_expense_fen") or 0))
        archive_id = await services.create_archive(tenant, principal, actor, services.ArchiveInput(
            household_id=int(household_id), tier=str(details.get("tier") or "grassroots"), finances=finances,
            area_code=details.get("area_code") or None))
        case = {"capability": "hardship", "case_type": "archive", "case_id": archive_id, "label_zh": "困难职工建档申请"}
    # The other half of the link: the case's audit trail names the request it came from.
    await audit_record(tenant, actor, "hardship.opened_from_service_request",
                       "HardshipGrant" if case["case_type"] == "grant" else "HardshipArchive", case["case_id"],
                       {"service_request_id": request["id"], "category": request["category"]})
    return case


def open_aid(tenant: TenantContext, principal: Any, actor: Any, kind: str, request: dict[str, Any],
             details: dict[str, Any]) -> Any:
    if kind not in ("temporary_relief", "archive"):
        return None
    return _open(tenant, principal, actor, kind, request, details)

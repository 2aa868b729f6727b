"""Service need lists (服务项目清单): the projects a union wants to buy, by category, each within the
tenant's budget cap, none of them on the negative list of items (the tenant's own terms, and those
of the union and every union above it)."""

from __future__ import annotations

import json
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    get_unit,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)
from huijia_procurement.common import invalid, text
from huijia_procurement.settings import for_tenant
from huijia_procurement.tables import ProcurementExcluded, ProcurementNeed

UNIT_NOT_FOUND_ZH = "工会不存在，或您无权操作"


async def _unit(tenant: TenantContext, principal: Principal, unit_id: int) -> dict[str, Any]:
    unit = await get_unit(tenant, unit_id)
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId", UNIT_NOT_FOUND_ZH)
    require_in_subtree(principal, "procurement.need.write", unit["path"], what="org unit", field="orgUnitId",
                       read_action="procurement.read", message_zh=UNIT_NOT_FOUND_ZH)
    return unit


async def excluded_terms(tenant: TenantContext, unit_path: str) -> list[dict[str, Any]]:
    """The negative list in force at a union: the tenant's terms and those set at the union or above."""
    rows = await raw("SELECT e.term, e.reason FROM procurement_excluded e JOIN org_unit o ON o.id = e.org_unit_id "
                     "AND o.tenant_id = e.tenant_id WHERE e.tenant_id = {} AND {} LIKE o.path || '%' ORDER BY e.id",
                     tenant.id, unit_path)
    return [{"term": t, "reason": "本省负面清单"} for t in for_tenant(tenant).excluded_terms] + list(rows)


async def check_not_excluded(tenant: TenantContext, unit_path: str, *texts: str) -> None:
    body = " ".join(texts)
    for item in await excluded_terms(tenant, unit_path):
        if item["term"] and item["term"] in body:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, "the project names an item on the negative list", "title",
                              f"项目含负面清单事项「{item['term']}」，不得购买",
                              extensions={"term": item["term"]})


def check_budget(tenant: TenantContext, budget_fen: int, field: str = "budgetFen") -> None:
    cap = for_tenant(tenant).budget_cap_fen
    if budget_fen <= 0:
        raise invalid(f"{field} must be positive", field, "预算须大于0")
    if budget_fen > cap:
        raise DomainError(ErrorCode.CAP_EXCEEDED, f"{field} is above the cap of {cap} fen per project", field,
                          f"单个项目预算不得超过{cap / 100:,.2f}元", extensions={"capFen": cap})


async def add_excluded(tenant: TenantContext, principal: Principal, actor: Actor, unit_id: int, term: str,
                       reason: str) -> dict[str, Any]:
    unit = await _unit(tenant, principal, unit_id)
    term = text("term", term, 50, "负面清单事项")
    reason = text("reason", reason, 200, "理由", required=False)
    async with transaction():
        rows = await ProcurementExcluded.insert(ProcurementExcluded(
            tenant_id=tenant.id, org_unit_id=unit["id"], term=term, reason=reason, created_by=actor.user_id,
            created_at=utcnow())).returning(*ProcurementExcluded.all_columns())
        await audit_record(tenant, actor, "procurement.excluded.add", "OrgUnit", int(unit["id"]), {"term": term})
    return rows[0]


async def create_need(tenant: TenantContext, principal: Principal, actor: Actor, *, unit_id: int, category: str,
                      title: str, description: str, budget_fen: int, source_capability: str | None = None,
                      source_ids: list[int] | None = None) -> dict[str, Any]:
    unit = await _unit(tenant, principal, unit_id)
    categories = for_tenant(tenant).categories
    if category not in categories:
        raise invalid(f"unknown category {category!r}; one of {', '.join(categories)}", "category", "服务类别不正确")
    title = text("title", title, 200, "项目名称")
    description = text("description", description, 5000, "项目说明", required=False)
    check_budget(tenant, budget_fen)
    await check_not_excluded(tenant, unit["path"], title, description)
    async with transaction():
        rows = await ProcurementNeed.insert(ProcurementNeed(
            tenant_id=tenant.id, org_unit_id=unit["id"], category=category, title=title, description=description,
            budget_fen=budget_fen, created_by=actor.user_id, created_at=utcnow(), source_capability=source_capability,
            source_ids=json.dumps(sorted(source_ids or [])))).returning(ProcurementNeed.id)
        need_id = int(rows[0]["id"])
        await audit_record(tenant, actor, "procurement.need.create", "ServiceNeed", need_id,
                           {"category": category, "budget_fen": budget_fen, "source_capability": source_capability,
                            "source_ids": sorted(source_ids or [])})
    need = await load_need(tenant, need_id)
    assert need is not None
    return need


async def load_need(tenant: TenantContext, need_id: int) -> dict[str, Any] | None:
    rows = await raw("SELECT n.*, o.path AS unit_path FROM procurement_need n JOIN org_unit o ON o.id = n.org_unit_id "
                     "AND o.tenant_id = n.tenant_id WHERE n.tenant_id = {} AND n.id = {}", tenant.id, need_id)
    return rows[0] if rows else None

"""Campaign definitions: the target groups a tenant offers, and creating a campaign at a unit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.sdk import (
    DomainError,
    DomainErrors,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    get_unit,
    hooks_for,
    require_in_subtree,
    transaction,
    workflow_open,
)
from huijia_warmth import rules
from huijia_warmth.interface import BUILTIN_GROUPS, TargetGroup
from huijia_warmth.settings import for_tenant
from huijia_warmth.workflow import CAMPAIGN

MAX_GROUPS = 50
MAX_BUDGETS = 500


@dataclass(frozen=True)
class BenefitIn:
    group: str
    form: str
    amount_fen: int
    item: str | None = None


@dataclass(frozen=True)
class CampaignIn:
    org_unit_id: int
    name: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    fund: str
    benefits: tuple[BenefitIn, ...]
    budgets: tuple[tuple[int, int], ...]  # (org unit id, budget in fen)


def target_groups(tenant: TenantContext) -> list[TargetGroup]:
    """The built-in groups, then those the tenant's province plugins register (first code wins)."""
    groups = {g.code: g for g in BUILTIN_GROUPS}
    for answer in hooks_for(tenant).campaign_target_groups(tenant=tenant):
        for g in answer or ():
            groups.setdefault(g.code, TargetGroup(g.code, g.label_zh, bool(getattr(g, "per_household", False))))
    return list(groups.values())


async def create_campaign(tenant: TenantContext, principal: Principal, actor: Any, data: CampaignIn) -> dict[str, Any]:
    from huijia_warmth.tables import WarmthCampaign, WarmthCampaignBudget, WarmthCampaignGroup

    unit = await get_unit(tenant, data.org_unit_id)
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId")
    # The grant must cover the TARGET unit: holding warmth.write somewhere is not enough.
    require_in_subtree(principal, "warmth.write", unit["path"], what="org unit", field="orgUnitId",
                       read_action="warmth.read")
    groups = {g.code: g for g in target_groups(tenant)}
    found = rules.campaign_problems(
        name=data.name, kind=data.kind, starts_on=data.starts_on, ends_on=data.ends_on,
        benefits=[(b.group, b.form, b.amount_fen) for b in data.benefits], known_groups=groups,
        in_kind_only_for_festivals=for_tenant(tenant).festival_gifts_in_kind_only)
    problems = [DomainError(ErrorCode.INVALID_INPUT, en, field, zh) for field, en, zh in found]
    if not data.fund.strip() or len(data.fund) > 30:
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "fund must have 1 to 30 characters", "fund", "须指定支付资金"))
    for b in data.benefits:
        if b.form == rules.IN_KIND and not (b.item or "").strip():
            problems.append(DomainError(ErrorCode.INVALID_INPUT, "an in-kind benefit needs its item", "groups",
                                        "实物慰问须填写物品名称"))
        if b.item is not None and len(b.item) > 100:
            problems.append(DomainError(ErrorCode.INVALID_INPUT, "item must have at most 100 characters", "groups"))
    if len(data.benefits) > MAX_GROUPS or len(data.budgets) > MAX_BUDGETS:
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "too many groups or budgets", "groups"))
    budget_units: list[int] = []
    for unit_id, fen in data.budgets:
        if fen < 0:
            problems.append(DomainError(ErrorCode.INVALID_INPUT, "a budget cannot be negative", "budgets", "预算不能为负数"))
        if unit_id in budget_units:
            problems.append(DomainError(ErrorCode.INVALID_INPUT, "a unit's budget is given twice", "budgets", "同一单位预算重复"))
        budget_units.append(unit_id)
        target = await get_unit(tenant, unit_id)
        # Allocations go down the campaign's own tree, never sideways or to another tenant.
        if target is None or not str(target["path"]).startswith(str(unit["path"])):
            problems.append(DomainError(ErrorCode.NOT_FOUND, "a budget's org unit is not in the campaign's subtree",
                                        "budgets", "预算单位不在本活动的组织范围内"))
    if problems:
        raise DomainErrors(problems) if len(problems) > 1 else problems[0]
    async with transaction():
        row = (await WarmthCampaign.insert(WarmthCampaign(
            tenant_id=tenant.id, org_unit_id=unit["id"], name=data.name.strip(), kind=data.kind,
            starts_on=data.starts_on, ends_on=data.ends_on, fund=data.fund.strip(), created_by=principal.user_id,
        )).returning(*WarmthCampaign.all_columns()))[0]
        for b in data.benefits:
            await WarmthCampaignGroup.insert(WarmthCampaignGroup(
                tenant_id=tenant.id, campaign_id=row["id"], group_code=b.group, form=b.form, amount_fen=b.amount_fen,
                item=(b.item or "").strip() or None, per_household=groups[b.group].per_household))
        for unit_id, fen in data.budgets:
            await WarmthCampaignBudget.insert(WarmthCampaignBudget(
                tenant_id=tenant.id, campaign_id=row["id"], org_unit_id=unit_id, budget_fen=fen))
        await workflow_open(tenant, CAMPAIGN, row["id"], unit["id"], actor)
        await audit_record(tenant, actor, "warmth.campaign.create", "WarmthCampaign", row["id"],
                           {"org_unit_id": unit["id"], "groups": len(data.benefits), "budgets": len(data.budgets)})
    return row

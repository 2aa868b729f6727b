"""Aid grants (帮扶救助): propose with the province's amount rule and the yearly caps, approve
(maker-checker, escalation) reserving the money from the paying union's hardship fund, pay
(posting the reservation) or cancel (voiding it). The grant's steps run on core's state machine
(``hardship.grant``), so order, permission on the household's union, reasons and concurrent
approvals are checked there; the money moves in the step's own transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    get_household,
    get_unit,
    hooks_for,
    household_people,
    ledger_post_reservation,
    ledger_reserve,
    ledger_void_reservation,
    raw,
    require_in_subtree,
    roles_for,
    transaction,
    utcnow,
    workflow_open,
    workflow_step,
)
from huijia_hardship import services
from huijia_hardship.interface import AID_TYPE_ZH, AID_TYPES, AidQuote, AidRequest
from huijia_hardship.settings import for_tenant
from huijia_hardship.tables import HardshipGrant
from huijia_hardship.workflow import GRANT

FUND = "hardship"
# 维权支出: the union accounting system books 困难职工帮扶 here.
EXPENSE_CODE = "502"
LIVE_STATES = ("proposed", "approved", "paid")


@dataclass(frozen=True)
class Proposal:
    aid_type: str
    archive_id: int | None = None
    household_id: int | None = None
    person_id: int | None = None
    paying_unit_id: int | None = None
    requested_fen: int | None = None
    medical_cost_fen: int = 0
    school_level: str | None = None
    disabled_child: bool = False
    area_code: str | None = None


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


async def _used(tenant: TenantContext, household_id: int, person_id: int | None, aid_type: str, year: int,
                per_person: bool) -> int:
    cond, args = "", []
    if per_person and person_id is not None:
        cond, args = " AND g.person_id = {}", [person_id]
    rows = await raw("SELECT coalesce(sum(g.amount_fen), 0) AS n FROM hardship_grant g JOIN workflow_case w "
                     "ON w.tenant_id = g.tenant_id AND w.capability = 'hardship' AND w.case_type = 'grant' "
                     "AND w.case_id = g.id WHERE g.tenant_id = {} AND g.household_id = {} AND g.aid_type = {} "
                     f"AND g.year = {{}} AND w.state IN ('proposed', 'approved', 'paid'){cond}",
                     tenant.id, household_id, aid_type, year, *args)
    return int(rows[0]["n"])


async def _types_and_count(tenant: TenantContext, household_id: int, year: int) -> tuple[set[str], int]:
    rows = await raw("SELECT g.aid_type FROM hardship_grant g JOIN workflow_case w ON w.tenant_id = g.tenant_id "
                     "AND w.capability = 'hardship' AND w.case_type = 'grant' AND w.case_id = g.id "
                     "WHERE g.tenant_id = {} AND g.household_id = {} AND g.year = {} "
                     "AND w.state IN ('proposed', 'approved', 'paid')", tenant.id, household_id, year)
    return {r["aid_type"] for r in rows}, len(rows)


async def quote(tenant: TenantContext, principal: Principal, p: Proposal) -> tuple[dict[str, Any], AidQuote, int]:
    """Where the grant stands before it is written: (context, the rule's quote, used this year)."""
    if p.aid_type not in AID_TYPES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"unknown aid type {p.aid_type!r}", "aidType", "救助类型不正确")
    rule = for_tenant(tenant).aid.get(p.aid_type)
    if p.archive_id is not None:
        archive = await services.load(tenant, p.archive_id)
        if archive is None:
            raise DomainError(ErrorCode.NOT_FOUND, "hardship archive not found", "archiveId", "档案不存在，或您无权查看")
        require_in_subtree(principal, "hardship.write", archive["unit_path"], what="hardship archive",
                           field="archiveId", read_action="hardship.read", message_zh="档案不存在，或您无权查看")
        if archive["state"] != "archived":
            raise DomainError(ErrorCode.INVALID_STATE, "aid is given to archived households only", "archiveId",
                              "先建档后帮扶：档案尚未审批建档，或已脱困、销档")
        household_id, unit_id, unit_path = int(archive["household_id"]), int(archive["org_unit_id"]), archive["unit_path"]
        category, area, size = archive["category"], archive["area_code"], int(archive["household_size"])
    else:
        if rule is not None and rule.needs_archive:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, f"{p.aid_type} aid needs an archive", "archiveId",
                              f"{AID_TYPE_ZH[p.aid_type]}须先建档（仅临时救助可不建档）")
        if p.household_id is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "archiveId or householdId is required", "householdId")
        household = await get_household(tenant, p.household_id)
        if household is None:
            raise DomainError(ErrorCode.NOT_FOUND, "household not found", "householdId", "家庭不存在，或您无权查看")
        unit = await get_unit(tenant, household["org_unit_id"])
        assert unit is not None
        require_in_subtree(principal, "hardship.write", unit["path"], what="household", field="householdId",
                           read_action="hardship.read", message_zh="家庭不存在，或您无权查看")
        household_id, unit_id, unit_path = int(household["id"]), int(unit["id"]), unit["path"]
        category, area = None, p.area_code or (unit.get("area_code") or "")[:6]
        size = max(len(await household_people(tenant, household_id)), 1)
    people = {int(r["id"]) for r in await household_people(tenant, household_id)}
    if p.person_id is not None and p.person_id not in people:
        raise DomainError(ErrorCode.INVALID_INPUT, "the person is not of this household", "personId",
                          "受助人不是该家庭成员")
    paying_id = p.paying_unit_id or unit_id
    paying = await get_unit(tenant, paying_id)
    if paying is None or not unit_path.startswith(paying["path"]):
        raise DomainError(ErrorCode.INVALID_INPUT, "the paying union must be the household's union or above it",
                          "payingUnitId", "支付单位须为该家庭所在工会或其上级工会")
    year = utcnow().year
    dibao = hooks_for(tenant).hardship_dibao_line(tenant=tenant, region_code=area, year=year) if area else None
    req = AidRequest(aid_type=p.aid_type, category=category, region_code=area, year=year, dibao_line_fen=dibao,
                     household_size=size, requested_fen=p.requested_fen, medical_cost_fen=p.medical_cost_fen,
                     school_level=p.school_level, disabled_child=p.disabled_child)
    q = hooks_for(tenant).aid_amount(tenant=tenant, request=req)
    if q is None:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, f"no rule gives {p.aid_type} aid in this province", "aidType",
                          f"本省未设置{AID_TYPE_ZH[p.aid_type]}标准")
    if q.per_person and p.person_id is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "personId is required: the cap is per person", "personId",
                          "该项救助按人计算上限，请选择受助人")
    used = await _used(tenant, household_id, p.person_id, p.aid_type, year, q.per_person)
    ctx = {"household_id": household_id, "unit_id": unit_id, "unit_path": unit_path, "paying": paying,
           "category": category, "year": year}
    return ctx, q, used


async def propose(tenant: TenantContext, principal: Principal, actor: Actor, p: Proposal) -> int:
    """A clerk proposes a grant: amount by the province's rule, checked against the yearly cap and the
    per-category rules; nothing is reserved until someone else approves it."""
    s = for_tenant(tenant)
    if p.requested_fen is not None and not 0 < p.requested_fen <= 10**12:
        raise DomainError(ErrorCode.INVALID_INPUT, "requestedFen must be positive", "requestedFen", "申请金额须大于0")
    if not 0 <= p.medical_cost_fen <= 10**12:
        raise DomainError(ErrorCode.INVALID_INPUT, "medicalCostFen must not be negative", "medicalCostFen")
    async with transaction():
        ctx, q, _ = await quote(tenant, principal, p)
        # Serialise proposals for one household, so two clerks cannot both fit under one cap.
        await raw("SELECT id FROM household WHERE tenant_id = {} AND id = {}" +
                  (" FOR UPDATE" if _on_pg() else ""), tenant.id, ctx["household_id"])
        used = await _used(tenant, ctx["household_id"], p.person_id, p.aid_type, ctx["year"], q.per_person)
        if q.refusals:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, "; ".join(q.refusals), "aidType", "；".join(q.refusals))
        amount = p.requested_fen if p.requested_fen is not None else q.amount_fen
        room = q.amount_fen if q.cap_fen is None else min(q.amount_fen, q.cap_fen - used)
        if amount <= 0 or amount > room:
            cap = q.cap_fen if q.cap_fen is not None else q.amount_fen
            raise DomainError(ErrorCode.CAP_EXCEEDED, f"{amount} fen is over what the rule allows ({max(room, 0)} fen "
                              f"left of a cap of {cap} fen, {used} fen used this year)", "requestedFen",
                              f"超过救助上限：本项上限{_yuan(cap)}元，今年已救助{_yuan(used)}元，本次最多{_yuan(max(room, 0))}元",
                              extensions={"capFen": cap, "usedFen": used, "allowedFen": max(room, 0)})
        types, count = await _types_and_count(tenant, ctx["household_id"], ctx["year"])
        if ctx["category"] in s.single_type_categories and types - {p.aid_type}:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, "this category may receive one aid type a year", "aidType",
                              "该困难类别每年只能享受一种救助")
        if s.max_grants_per_year and count >= s.max_grants_per_year:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, f"at most {s.max_grants_per_year} grants a year", "aidType",
                              f"每户每年最多救助{s.max_grants_per_year}次")
        escalation = "national" if amount >= s.escalate_national_fen else \
            "province" if amount >= s.escalate_province_fen else ""
        rows = await HardshipGrant.insert(HardshipGrant(
            tenant_id=tenant.id, org_unit_id=ctx["unit_id"], paying_unit_id=ctx["paying"]["id"],
            archive_id=p.archive_id, household_id=ctx["household_id"], person_id=p.person_id, aid_type=p.aid_type,
            year=ctx["year"], amount_fen=amount, cap_fen=q.cap_fen, used_before_fen=used,
            breakdown=[{"label_zh": i.label_zh, "amount_fen": i.amount_fen} for i in q.breakdown],
            rule_version=q.rule_version, escalation=escalation, created_by=actor.user_id,
            created_by_name=actor.username[:150], created_at=utcnow())).returning(HardshipGrant.id)
        grant_id = int(rows[0]["id"])
        await workflow_open(tenant, GRANT, grant_id, ctx["unit_id"], actor,
                            payload={"aid_type": p.aid_type, "amount_fen": amount, "escalation": escalation})
    return grant_id


def _on_pg() -> bool:
    from core.sdk import get_settings

    return get_settings().is_postgres


async def step(tenant: TenantContext, principal: Principal, actor: Actor, grant_id: int, action: str, *,
               reasons: list[str] | None = None, expected_version: int | None = None,
               national_approval_ref: str | None = None) -> None:
    payload = {"national_approval_ref": national_approval_ref.strip()[:100]} if national_approval_ref else {}
    await workflow_step(tenant, GRANT, grant_id, action, actor=actor, principal=principal, reasons=reasons or [],
                        expected_version=expected_version, payload=payload)


async def load(tenant: TenantContext, grant_id: int) -> dict[str, Any] | None:
    rows = await raw(GRANTS_SQL + " AND g.id = {}", tenant.id, grant_id)
    return rows[0] if rows else None


GRANTS_SQL = ("SELECT g.*, o.path AS unit_path, w.state, w.version FROM hardship_grant g "
              "JOIN org_unit o ON o.id = g.org_unit_id AND o.tenant_id = g.tenant_id "
              "JOIN workflow_case w ON w.tenant_id = g.tenant_id AND w.capability = 'hardship' "
              "AND w.case_type = 'grant' AND w.case_id = g.id WHERE g.tenant_id = {}")


# -- guards and effects of the grant machine --------------------------------------------------------


async def approval_refusals(ctx: Any) -> list[Any]:
    g = await load(ctx.tenant, ctx.case.case_id)
    assert g is not None
    out: list[Any] = []
    if ctx.principal is None:
        return out
    if g["created_by"] is not None and g["created_by"] == ctx.actor.user_id:
        out.append(DomainError(ErrorCode.SELF_APPROVAL, "the clerk who proposed a grant cannot approve it", "id",
                               "经办人不能审批本人经办的救助"))
    if g["escalation"]:
        approvers = roles_for("hardship.approve")
        at_root = any(grant.role in approvers and grant.org_unit_path.count("/") == 2 for grant in ctx.principal.grants)
        if not at_root:
            out.append(DomainError(ErrorCode.FORBIDDEN, "a grant this large is approved at the province", "id",
                                   f"救助金额达到{_yuan(for_tenant(ctx.tenant).escalate_province_fen)}元，须由省总工会审批"))
    if g["escalation"] == "national" and not ctx.payload.get("national_approval_ref"):
        out.append(DomainError(ErrorCode.INVALID_INPUT, "a grant this large needs the national federation's approval "
                               "number", "nationalApprovalRef",
                               f"救助金额达到{_yuan(for_tenant(ctx.tenant).escalate_national_fen)}元，须填写全总批准文号"))
    return out


async def reserve(ctx: Any) -> None:
    g = await load(ctx.tenant, ctx.case.case_id)
    assert g is not None
    paying = await get_unit(ctx.tenant, g["paying_unit_id"])
    maker = Actor(g["created_by"], g["created_by_name"] or "clerk")
    try:
        res_id = await ledger_reserve(
            ctx.tenant, maker, unit=paying, fund=FUND, amount_fen=int(g["amount_fen"]), expense_code=EXPENSE_CODE,
            key=f"hardship-grant:{g['id']}", memo=f"{AID_TYPE_ZH[g['aid_type']]} {g['year']}",
            source_type="hardship_grant", source_id=str(g["id"]), approved_by=ctx.actor.user_id)
    except DomainError as exc:
        if exc.code is ErrorCode.INSUFFICIENT_FUNDS:
            raise DomainError(ErrorCode.INSUFFICIENT_FUNDS, "the paying union's hardship fund cannot cover the grant",
                              "id", f"{paying['name']}帮扶专项资金可用余额不足{_yuan(int(g['amount_fen']))}元，不能审批") from None
        raise
    await raw("UPDATE hardship_grant SET reservation_id = {} WHERE tenant_id = {} AND id = {}", res_id, ctx.tenant.id,
              g["id"])
    ctx.payload["reservation_id"] = res_id


async def pay(ctx: Any) -> None:
    g = await load(ctx.tenant, ctx.case.case_id)
    assert g is not None and g["reservation_id"] is not None
    entry = await ledger_post_reservation(ctx.tenant, ctx.actor, int(g["reservation_id"]), key=f"hardship-grant:{g['id']}",
                                          final=True, memo=f"{AID_TYPE_ZH[g['aid_type']]}发放")
    await raw("UPDATE hardship_grant SET entry_id = {} WHERE tenant_id = {} AND id = {}", entry, ctx.tenant.id, g["id"])
    ctx.payload["entry_id"] = entry


async def void(ctx: Any) -> None:
    g = await load(ctx.tenant, ctx.case.case_id)
    assert g is not None and g["reservation_id"] is not None
    await ledger_void_reservation(ctx.tenant, ctx.actor, int(g["reservation_id"]), reason="; ".join(ctx.reasons)[:500])


def breakdown_of(g: dict[str, Any]) -> list[dict[str, Any]]:
    value = g["breakdown"]
    return json.loads(value) if isinstance(value, str) else list(value or [])

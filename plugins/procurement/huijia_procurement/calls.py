"""Calls for proposals: drafting, the lifecycle's effects (deadlines from the periods and the tenant's
sandbox acceleration), questions and answers, complaints, and who may see a call.

Staff see the calls of the unions in their subtree, drafts included; an organisation's login sees
every call once it is published, and the questions with their answers but never who asked.
"""

from __future__ import annotations

import datetime as dt
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
    workflow_current,
    workflow_open,
    workflow_step,
)
from huijia_procurement import needs
from huijia_procurement.common import invalid, is_social_org, own_org, text
from huijia_procurement.settings import for_tenant
from huijia_procurement.tables import ProcurementCall, ProcurementComplaint, ProcurementQuestion
from huijia_procurement.workflow import CALL

NOT_FOUND_ZH = "项目不存在，或您无权查看"
PERIODS = {"enquiryDays": (1, 30), "tenderDays": (1, 60), "standstillDays": (1, 30)}


def period(tenant: TenantContext, days: int) -> dt.timedelta:
    """``days`` of the call's calendar, shortened by the tenant's sandbox acceleration."""
    return dt.timedelta(days=days) / max(1, for_tenant(tenant).sandbox_acceleration)


async def load(tenant: TenantContext, call_id: int) -> dict[str, Any] | None:
    rows = await raw("SELECT c.*, o.path AS unit_path, w.state, w.version FROM procurement_call c "
                     "JOIN org_unit o ON o.id = c.org_unit_id AND o.tenant_id = c.tenant_id "
                     "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'procurement' "
                     "AND w.case_type = 'call' AND w.case_id = c.id WHERE c.tenant_id = {} AND c.id = {}",
                     tenant.id, call_id)
    return rows[0] if rows else None


def may_see(principal: Principal, call: dict[str, Any]) -> bool:
    if principal.can("procurement.read", call["unit_path"]):
        return True
    return is_social_org(principal) and call["state"] != "draft"


async def visible(tenant: TenantContext, principal: Principal, call_id: int, field: str = "callId") -> dict[str, Any]:
    call = await load(tenant, call_id)
    if call is None or not may_see(principal, call):
        raise DomainError(ErrorCode.NOT_FOUND, "call not found", field, NOT_FOUND_ZH)
    return call


async def create(tenant: TenantContext, principal: Principal, actor: Actor, *, unit_id: int, title: str,
                 category: str, description: str, budget_fen: int, need_id: int | None, area_code: str | None,
                 enquiry_days: int, tender_days: int, standstill_days: int) -> dict[str, Any]:
    unit = await get_unit(tenant, unit_id)
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId", needs.UNIT_NOT_FOUND_ZH)
    require_in_subtree(principal, "procurement.call.draft", unit["path"], what="org unit", field="orgUnitId",
                       read_action="procurement.read", message_zh=needs.UNIT_NOT_FOUND_ZH)
    if category not in for_tenant(tenant).categories:
        raise invalid(f"unknown category {category!r}", "category", "服务类别不正确")
    title = text("title", title, 200, "项目名称")
    description = text("description", description, 5000, "项目说明", required=False)
    for name, value in (("enquiryDays", enquiry_days), ("tenderDays", tender_days), ("standstillDays", standstill_days)):
        low, high = PERIODS[name]
        if not low <= value <= high:
            raise invalid(f"{name} must be between {low} and {high}", name, f"期限须为{low}至{high}天")
    area = (area_code or unit.get("area_code") or "")[:6]
    if area and not area.isdigit():
        raise invalid("areaCode must be an administrative division code", "areaCode", "地区代码不正确")
    needs.check_budget(tenant, budget_fen)
    await needs.check_not_excluded(tenant, unit["path"], title, description)
    if need_id is not None:
        need = await needs.load_need(tenant, need_id)
        if need is None or not unit["path"].startswith(need["unit_path"]) and not need["unit_path"].startswith(unit["path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "need not found", "needId", "服务需求不存在")
        if budget_fen > int(need["budget_fen"]):
            raise DomainError(ErrorCode.CAP_EXCEEDED, "budgetFen is above the need's budget", "budgetFen",
                              "项目预算超过需求清单的预算", extensions={"capFen": int(need["budget_fen"])})
    async with transaction():
        rows = await ProcurementCall.insert(ProcurementCall(
            tenant_id=tenant.id, org_unit_id=unit["id"], need_id=need_id, title=title, category=category,
            description=description, budget_fen=budget_fen, area_code=area, enquiry_days=enquiry_days,
            tender_days=tender_days, standstill_days=standstill_days, created_by=actor.user_id, created_at=utcnow(),
        )).returning(ProcurementCall.id)
        call_id = int(rows[0]["id"])
        await workflow_open(tenant, CALL, call_id, int(unit["id"]), actor)
        await audit_record(tenant, actor, "procurement.call.create", "ProcurementCall", call_id, {"budget_fen": budget_fen})
    call = await load(tenant, call_id)
    assert call is not None
    return call


async def step(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, transition: str,
               reasons: list[str], payload: dict[str, Any] | None = None,
               expected_version: int | None = None) -> dict[str, Any]:
    await visible(tenant, principal, call_id)
    await workflow_step(tenant, CALL, call_id, transition, actor=actor, principal=principal, reasons=reasons,
                        payload=payload, expected_version=expected_version)
    call = await load(tenant, call_id)
    assert call is not None
    return call


# -- effects of the machine --------------------------------------------------------------------------


async def on_publish(ctx: Any) -> None:
    call = await load(ctx.tenant, ctx.case.case_id)
    assert call is not None
    await needs.check_not_excluded(ctx.tenant, call["unit_path"], call["title"], call["description"])
    enquiry_end = ctx.now + period(ctx.tenant, int(call["enquiry_days"]))
    tender_end = enquiry_end + period(ctx.tenant, int(call["tender_days"]))
    await raw("UPDATE procurement_call SET published_at = {}, enquiry_end = {}, tender_end = {} "
              "WHERE tenant_id = {} AND id = {}", ctx.now, enquiry_end, tender_end, ctx.tenant.id, call["id"])
    ctx.due_at = enquiry_end
    ctx.payload.update({"enquiry_end": enquiry_end.isoformat(), "tender_end": tender_end.isoformat()})


async def on_bidding(ctx: Any) -> None:
    call = await load(ctx.tenant, ctx.case.case_id)
    assert call is not None
    ctx.due_at = call["tender_end"]


async def bid_count(tenant: TenantContext, call_id: int) -> int:
    rows = await raw("SELECT count(*) AS n FROM procurement_bid WHERE tenant_id = {} AND call_id = {}", tenant.id, call_id)
    return int(rows[0]["n"])


async def on_award(ctx: Any) -> None:
    bid_id = ctx.payload.get("bid_id")
    rows = await raw("SELECT id FROM procurement_bid WHERE tenant_id = {} AND call_id = {} AND id = {}",
                     ctx.tenant.id, ctx.case.case_id, int(bid_id or 0))
    if not rows:
        raise DomainError(ErrorCode.INVALID_INPUT, "bidId is not a bid on this call", "bidId", "所选投标不属于该项目")
    call = await load(ctx.tenant, ctx.case.case_id)
    assert call is not None
    end = ctx.now + period(ctx.tenant, int(call["standstill_days"]))
    await raw("UPDATE procurement_call SET award_bid_id = {}, award_reasons = {}, standstill_end = {} "
              "WHERE tenant_id = {} AND id = {}", int(bid_id), json.dumps(list(ctx.reasons), ensure_ascii=False),
              end, ctx.tenant.id, call["id"])
    ctx.due_at = end


async def on_complaint_decided(ctx: Any, *, upheld: bool) -> None:
    # the approver's reasons are the complaint's resolution, kept with it for the bidder and the file
    await raw("UPDATE procurement_complaint SET outcome = {}, decided_at = {}, resolution = {}, decided_by = {} "
              "WHERE tenant_id = {} AND call_id = {} AND outcome = ''", "upheld" if upheld else "dismissed", ctx.now,
              "；".join(ctx.reasons)[:2000], ctx.actor.user_id, ctx.tenant.id, ctx.case.case_id)
    if upheld:
        await raw("UPDATE procurement_call SET award_bid_id = NULL, standstill_end = NULL WHERE tenant_id = {} "
                  "AND id = {}", ctx.tenant.id, ctx.case.case_id)
        ctx.due_at = None
        return
    call = await load(ctx.tenant, ctx.case.case_id)
    assert call is not None
    end = ctx.now + period(ctx.tenant, int(call["standstill_days"]))
    await raw("UPDATE procurement_call SET standstill_end = {} WHERE tenant_id = {} AND id = {}", end, ctx.tenant.id,
              call["id"])
    ctx.due_at = end


# -- questions and complaints --------------------------------------------------------------------------


async def _bidder(tenant: TenantContext, principal: Principal) -> dict[str, Any]:
    org = await own_org(tenant, principal)
    if org is None or org["status"] != "approved":
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "only an approved organisation may do this", None,
                          "仅已入库的社会组织可以操作")
    return org


async def ask(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, question: str) -> dict[str, Any]:
    org = await _bidder(tenant, principal)
    call = await visible(tenant, principal, call_id)
    question = text("question", question, 1000, "问题")
    if call["state"] != "enquiries" or utcnow() >= call["enquiry_end"]:
        raise DomainError(ErrorCode.INVALID_STATE, "questions are taken during the enquiry period only", "callId",
                          "答疑期已结束，不能再提问")
    async with transaction():
        rows = await ProcurementQuestion.insert(ProcurementQuestion(
            tenant_id=tenant.id, call_id=call_id, org_id=org["id"], question=question, asked_at=utcnow(),
        )).returning(*ProcurementQuestion.all_columns())
        await audit_record(tenant, actor, "procurement.question.ask", "ProcurementCall", call_id,
                           {"question_id": int(rows[0]["id"])})
    return rows[0]


async def answer(tenant: TenantContext, principal: Principal, actor: Actor, question_id: int, text_: str) -> dict[str, Any]:
    rows = await raw("SELECT * FROM procurement_question WHERE tenant_id = {} AND id = {}", tenant.id, question_id)
    if not rows:
        raise DomainError(ErrorCode.NOT_FOUND, "question not found", "questionId")
    call = await load(tenant, int(rows[0]["call_id"]))
    assert call is not None
    require_in_subtree(principal, "procurement.call.draft", call["unit_path"], what="question", field="questionId",
                       read_action="procurement.read")
    reply = text("answer", text_, 2000, "答复")
    if call["state"] not in ("enquiries", "bidding"):
        raise DomainError(ErrorCode.INVALID_STATE, "answers are given before the tender deadline", "questionId",
                          "投标截止后不能再答复")
    done = await raw("UPDATE procurement_question SET answer = {}, answered_by = {}, answered_at = {} "
                     "WHERE tenant_id = {} AND id = {} RETURNING *", reply, principal.user_id, utcnow(), tenant.id,
                     question_id)
    await audit_record(tenant, actor, "procurement.question.answer", "ProcurementCall", int(call["id"]),
                       {"question_id": question_id})
    return done[0]


async def questions_of(tenant: TenantContext, call_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not call_ids:
        return {}
    ids = ", ".join(str(int(i)) for i in call_ids)
    rows = await raw(f"SELECT id, call_id, question, answer, asked_at, answered_at FROM procurement_question "
                     f"WHERE tenant_id = {{}} AND call_id IN ({ids}) ORDER BY id", tenant.id)
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(int(r["call_id"]), []).append(r)
    return out


async def complain(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, text_: str) -> dict[str, Any]:
    org = await _bidder(tenant, principal)
    call = await visible(tenant, principal, call_id)
    body = text("text", text_, 2000, "投诉内容")
    bid = await raw("SELECT id FROM procurement_bid WHERE tenant_id = {} AND call_id = {} AND org_id = {}", tenant.id,
                    call_id, org["id"])
    if not bid:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "only a bidder of the call may complain", "callId",
                          "仅该项目的投标人可以投诉")
    if call["state"] != "standstill":
        raise DomainError(ErrorCode.INVALID_STATE, "complaints are taken during the standstill period", "callId",
                          "仅在中标公示期内可以投诉")
    async with transaction():
        rows = await ProcurementComplaint.insert(ProcurementComplaint(
            tenant_id=tenant.id, call_id=call_id, org_id=org["id"], text=body, created_at=utcnow(),
        )).returning(*ProcurementComplaint.all_columns())
        # the bidder's login has no grant over the call's union: the service checked it is a bidder
        await workflow_step(tenant, CALL, call_id, "complain", actor=actor, principal=None,
                            payload={"complaint_id": int(rows[0]["id"])})
    return rows[0]


async def complaints_of(tenant: TenantContext, principal: Principal, call: dict[str, Any]) -> list[dict[str, Any]]:
    """A call's complaints with their text and resolution: every one for staff of the call's union, an
    organisation's own for its login (another bidder's complaint is not its business)."""
    sql = ("SELECT p.*, g.name AS org_name FROM procurement_complaint p JOIN procurement_org g ON g.tenant_id = "
           "p.tenant_id AND g.id = p.org_id WHERE p.tenant_id = {} AND p.call_id = {}")
    args: list[Any] = [tenant.id, int(call["id"])]
    if not principal.can("procurement.read", call["unit_path"]):
        org = await own_org(tenant, principal)
        if org is None:
            return []
        sql += " AND p.org_id = {}"
        args.append(int(org["id"]))
    return await raw(sql + " ORDER BY p.id", *args)


async def resolve_complaint(tenant: TenantContext, principal: Principal, actor: Actor, complaint_id: int,
                            uphold: bool, resolution: str) -> dict[str, Any]:
    """Decide the open complaint: dismiss (the standstill starts again) or uphold (back to evaluation)."""
    rows = await raw("SELECT * FROM procurement_complaint WHERE tenant_id = {} AND id = {}", tenant.id, complaint_id)
    call = await load(tenant, int(rows[0]["call_id"])) if rows else None
    if call is None or not principal.can("procurement.read", call["unit_path"]):
        raise DomainError(ErrorCode.NOT_FOUND, "complaint not found", "complaintId", "投诉不存在，或您无权查看")
    require_in_subtree(principal, "procurement.call.award", call["unit_path"], what="complaint", field="complaintId",
                       read_action="procurement.read")
    resolution = text("resolution", resolution, 2000, "处理意见")
    if rows[0]["outcome"] or call["state"] != "complaint":
        raise DomainError(ErrorCode.INVALID_STATE, "the complaint was decided already", "complaintId", "该投诉已处理")
    await step(tenant, principal, actor, int(call["id"]), "uphold" if uphold else "dismiss", [resolution])
    done = await raw("SELECT p.*, g.name AS org_name FROM procurement_complaint p JOIN procurement_org g ON "
                     "g.tenant_id = p.tenant_id AND g.id = p.org_id WHERE p.tenant_id = {} AND p.id = {}",
                     tenant.id, complaint_id)
    return done[0]


async def state_of(tenant: TenantContext, call_id: int) -> str | None:
    case = await workflow_current(tenant, CALL, call_id)
    return case.state if case else None

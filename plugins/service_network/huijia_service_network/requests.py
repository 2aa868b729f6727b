"""Service requests (需求导向, 维权帮扶一体化): a worker (portal), the 12351 hotline clerk or a station
submits a need; the tenant's routing rules send it to the aid centre of the right org unit, or to a
social organisation under contract; an SLA clock per category runs for the first response and the
resolution. The request's state lives in core's shared case workflow (``REQUEST``), so every step
is locked, checked on the case's unit, put on the timeline and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.sdk import (
    SYSTEM,
    DomainError,
    ErrorCode,
    Machine,
    PhoneError,
    StepContext,
    TenantContext,
    Timer,
    Transition,
    hooks_for,
    normalize_phone,
    phone_digest,
    pii_encrypt,
    raw,
    transaction,
    utcnow,
    workflow_open,
)
from huijia_service_network.settings import Category, for_tenant

CHANNELS = ("portal", "hotline", "station")
OPEN_STATES = ("submitted", "accepted", "referred")


async def _responded(ctx: StepContext) -> None:
    await raw("UPDATE sn_request SET first_responded_at = COALESCE(first_responded_at, {}) WHERE tenant_id = {} "
              "AND id = {}", ctx.now, ctx.tenant.id, ctx.case.case_id)


async def _resolved(ctx: StepContext) -> None:
    await raw("UPDATE sn_request SET first_responded_at = COALESCE(first_responded_at, {}), resolved_at = {} "
              "WHERE tenant_id = {} AND id = {}", ctx.now, ctx.now, ctx.tenant.id, ctx.case.case_id)


REQUEST = Machine(
    capability="service_network", case_type="request",
    states=("submitted", "accepted", "referred", "resolved", "closed", "rejected"),
    initial="submitted", final=("closed", "rejected"), read_permission="service_network.read",
    transitions=(
        Transition("accept", ("submitted",), "accepted", permission="service_network.handle", effect=_responded,
                   label_zh="受理"),
        Transition("refer", ("submitted", "accepted"), "referred", permission="service_network.handle",
                   effect=_responded, reasons_required=True, label_zh="转介"),
        Transition("resolve", ("accepted", "referred"), "resolved", permission="service_network.handle",
                   effect=_resolved, label_zh="办结"),
        Transition("reject", ("submitted", "accepted"), "rejected", permission="service_network.handle",
                   effect=_responded, reasons_required=True, label_zh="不予受理"),
        Transition("close", ("resolved",), "closed", permission="service_network.handle", label_zh="归档"),
        Transition("auto_close", ("resolved",), "closed", label_zh="到期归档"),
    ),
    # A resolved request closes by itself a week later (the requester had time to rate it).
    timers=(Timer("close_resolved", "resolved", "auto_close", after=dt.timedelta(days=7)),),
    labels_zh={"submitted": "已提交", "accepted": "已受理", "referred": "已转介", "resolved": "已办结",
               "closed": "已归档", "rejected": "不予受理"},
)


def category(tenant: TenantContext, code: str) -> Category:
    for c in for_tenant(tenant).request_categories:
        if c.code == code:
            return c
    raise DomainError(ErrorCode.INVALID_INPUT, f"unknown category {code!r}", "category", "不支持的诉求类别")


async def route(tenant: TenantContext, origin: dict[str, Any], cat: Category) -> tuple[int, dict[str, Any] | None]:
    """The handling unit (the nearest unit at or above the origin whose level is the category's,
    else the origin itself) and the referral, when the category is referred to a social
    organisation: it must be under contract for the category (procurement's contract register when
    the tenant enables it, else the tenant's ``contracted_social_orgs``)."""
    referral = None
    if cat.route == "social_org":
        named = cat.social_org or cat.social_org_credit_code or ""
        pending = hooks_for(tenant).service_network_referral_contract(
            tenant=tenant, org={"name": cat.social_org, "credit_code": cat.social_org_credit_code},
            category=cat.code) if named else None
        answer = (await pending) if pending is not None else None
        if not answer or not answer.get("contracted"):
            raise DomainError(ErrorCode.NOT_ELIGIBLE, f"no contract with the social organisation {named!r}", "category",
                              f"未与社会组织“{named}”签订服务合同，不能转介")
        referral = {"name": str(answer.get("name") or named)[:200], "capability": str(answer.get("capability") or ""),
                    "org_id": answer.get("org_id"), "contract_id": answer.get("contract_id")}
    rows = await raw("SELECT a.id FROM org_unit a WHERE a.tenant_id = {} AND a.level = {} AND {} LIKE a.path || '%' "
                     "ORDER BY a.depth DESC LIMIT 1", tenant.id, cat.level, origin["path"])
    return (int(rows[0]["id"]) if rows else int(origin["id"])), referral


async def submit(tenant: TenantContext, actor: Any, user_id: int, origin: dict[str, Any], *, channel: str,
                 category_code: str, summary: str, requester_name: str, phone: str | None, member_id: int | None,
                 station_id: int | None, service_item_id: int | None) -> int:
    if channel not in CHANNELS:
        raise DomainError(ErrorCode.INVALID_INPUT, "channel must be portal, hotline or station", "channel",
                          "来源只能是职工端、12351热线或驿站")
    cat = category(tenant, category_code)
    summary = summary.strip()
    if not summary or len(summary) > 2000 or "\x00" in summary:
        raise DomainError(ErrorCode.INVALID_INPUT, "summary must have 1 to 2000 characters", "summary", "诉求内容须为1至2000个字")
    requester_name = requester_name.strip()
    if len(requester_name) > 50:
        raise DomainError(ErrorCode.INVALID_INPUT, "requesterName is too long", "requesterName", "姓名不能超过50个字")
    phone_enc = phone_ix = None
    if phone:
        try:
            canonical = normalize_phone(phone)
        except PhoneError:
            raise DomainError(ErrorCode.INVALID_INPUT, "phone is not a valid phone number", "phone", "手机号码格式不正确") from None
        phone_enc = pii_encrypt(canonical, "sn_request", "phone", tenant.id)
        phone_ix = phone_digest(canonical, tenant.id)
    unit_id, referral = await route(tenant, origin, cat)
    org = referral["name"] if referral else None
    ref = referral or {}
    now = utcnow()
    async with transaction():
        row = (await raw(
            "INSERT INTO sn_request (tenant_id, org_unit_id, origin_unit_id, category, channel, member_id, requester_name, "
            "phone_enc, phone_bidx, summary, social_org, referral_capability, referral_org_id, referral_contract_id, "
            "station_id, service_item_id, first_response_due, resolution_due, created_by, created_at) VALUES ({}, {}, {}, "
            "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
            tenant.id, unit_id, origin["id"], cat.code, channel, member_id, requester_name, phone_enc, phone_ix, summary,
            org, ref.get("capability"), ref.get("org_id"), ref.get("contract_id"), station_id, service_item_id, now + dt.timedelta(hours=cat.first_response_hours),
            now + dt.timedelta(hours=cat.resolution_hours), user_id, now))[0]
        await workflow_open(tenant, REQUEST, int(row["id"]), unit_id, actor or SYSTEM,
                            payload={"category": cat.code, "channel": channel, "social_org": org,
                                     "referral_contract_id": ref.get("contract_id")})
    return int(row["id"])


async def request_used(tenant: TenantContext, subject_id: int, member_id: int) -> int | None:
    """A member used a request they made once it is resolved (or closed)."""
    rows = await raw("SELECT r.org_unit_id FROM sn_request r JOIN workflow_case c ON c.tenant_id = r.tenant_id AND "
                     "c.capability = 'service_network' AND c.case_type = 'request' AND c.case_id = r.id "
                     "WHERE r.tenant_id = {} AND r.id = {} AND r.member_id = {} AND c.state IN ('resolved', 'closed')",
                     tenant.id, subject_id, member_id)
    return int(rows[0]["org_unit_id"]) if rows else None


async def service_item_used(tenant: TenantContext, subject_id: int, member_id: int) -> int | None:
    """A member used a listed service when a request of theirs for it was resolved."""
    rows = await raw("SELECT i.org_unit_id FROM sn_service_item i WHERE i.tenant_id = {} AND i.id = {} AND EXISTS "
                     "(SELECT 1 FROM sn_request r JOIN workflow_case c ON c.tenant_id = r.tenant_id AND "
                     "c.capability = 'service_network' AND c.case_type = 'request' AND c.case_id = r.id "
                     "WHERE r.tenant_id = i.tenant_id AND r.service_item_id = i.id AND r.member_id = {} "
                     "AND c.state IN ('resolved', 'closed'))", tenant.id, subject_id, member_id)
    return int(rows[0]["org_unit_id"]) if rows else None


AID_KINDS = {"temporary_relief": "临时救助", "archive": "困难职工建档申请"}
AID_STATES = ("submitted", "accepted", "referred", "resolved")


async def open_aid(tenant: TenantContext, principal: Any, actor: Any, request_id: int, unit_path: str, kind: str,
                   details: dict[str, Any]) -> None:
    """维权帮扶一体化: open a temporary relief or a hardship archive application for a rights request,
    through the hardship capability's implementation of ``service_network_open_aid``, and link it.
    The request's row is locked first, so two clicks open one case."""
    from core.sdk import audit_record, capability_enabled, require_in_subtree

    require_in_subtree(principal, "service_network.handle", unit_path, what="service request", field="id",
                       read_action="service_network.read")
    if kind not in AID_KINDS:
        raise DomainError(ErrorCode.INVALID_INPUT, "kind must be temporary_relief or archive", "kind",
                          "只能转临时救助或困难职工建档申请")
    if not capability_enabled(tenant, "hardship"):
        raise DomainError(ErrorCode.CAPABILITY_NOT_ENABLED, "the hardship capability is not enabled in this province",
                          "kind", "本省未启用困难帮扶，不能一键转帮扶")
    async with transaction():
        lock = " FOR UPDATE" if _on_pg() else ""
        rows = await raw("SELECT r.id, r.category, r.summary, r.member_id, r.org_unit_id, r.aid_case_id, c.state "
                         "FROM sn_request r JOIN workflow_case c ON c.tenant_id = r.tenant_id AND c.capability = "
                         "'service_network' AND c.case_type = 'request' AND c.case_id = r.id WHERE r.tenant_id = {} "
                         "AND r.id = {}" + lock, tenant.id, request_id)
        r = rows[0]
        if r["category"] not in for_tenant(tenant).rights_categories:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, "only a rights case (legal aid, wage arrears, labour dispute) "
                              "opens a hardship case", "id", "只有维权类诉求（法律援助、欠薪、劳动争议）可一键转帮扶")
        if r["aid_case_id"] is not None:
            raise DomainError(ErrorCode.INVALID_STATE, "this request has opened an aid case already", "id",
                              "该诉求已转帮扶")
        if r["state"] not in AID_STATES:
            raise DomainError(ErrorCode.INVALID_STATE, f"a {r['state']} request opens no aid case", "id",
                              "该诉求已结束，不能转帮扶")
        pending = hooks_for(tenant).service_network_open_aid(
            tenant=tenant, principal=principal, actor=actor, kind=kind,
            request={"id": int(r["id"]), "category": r["category"], "summary": r["summary"],
                     "member_id": r["member_id"], "org_unit_id": int(r["org_unit_id"])}, details=dict(details))
        if pending is None:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, f"no capability opens {kind} here", "kind", "本省不支持该帮扶类型")
        case = await pending
        await raw("UPDATE sn_request SET aid_capability = {}, aid_case_type = {}, aid_case_id = {}, aid_label_zh = {} "
                  "WHERE tenant_id = {} AND id = {}", str(case["capability"]), str(case["case_type"]),
                  int(case["case_id"]), str(case.get("label_zh") or AID_KINDS[kind])[:40], tenant.id, request_id)
        await audit_record(tenant, actor, "service_network.request.open_aid", "ServiceRequest", request_id,
                           {"kind": kind, "capability": case["capability"], "case_type": case["case_type"],
                            "case_id": int(case["case_id"])})


def _on_pg() -> bool:
    from core.sdk import get_settings

    return bool(get_settings().is_postgres)

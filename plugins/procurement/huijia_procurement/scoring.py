"""Panel scoring. An approver appoints evaluators (users holding the evaluator role,
``procurement.evaluate``, at the call's union or above: only they can read its bids); each declares that
they have no conflict of interest before the bids open to them, then scores every bid on the call's
weighted criteria (hook ``procurement_criteria``, default 江门's five). A bid's total is the panel's
mean, blended with the organisation's performance score (``performance_weight_bp``), so past
evaluations count in later calls. Evaluator totals far from the panel's median are shown as outliers.
Equal totals prefer an organisation that has its own union (淮安), then the lower price, then the
earlier bid. The award must go to the first-ranked bid once every seated evaluator has scored.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    hooks_for,
    pii_decrypt,
    raw,
    require_in_subtree,
    roles_for,
    transaction,
    utcnow,
)
from huijia_procurement import bids, calls
from huijia_procurement.interface import Criterion
from huijia_procurement.settings import for_tenant
from huijia_procurement.tables import ProcurementPanelMember, ProcurementScore

APPOINTABLE_STATES = ("draft", "enquiries", "bidding", "evaluation")


def criteria_for(tenant: TenantContext, call: dict[str, Any]) -> list[Criterion]:
    found = hooks_for(tenant).procurement_criteria(tenant=tenant, call=bids.call_info(call)) or []
    codes = [c.code for c in found]
    if (not found or sum(c.weight_bp for c in found) != 10_000 or len(set(codes)) != len(codes)
            or any(not c.code.isascii() or not c.code.replace("_", "a").isalnum() or c.weight_bp <= 0 for c in found)):
        raise DomainError(ErrorCode.PLUGIN_CONFIG, "the province's scoring criteria must have distinct codes and "
                          "weigh 10,000 basis points together", None, "评分标准配置有误（权重合计须为100%）")
    return list(found)


async def members(tenant: TenantContext, call_id: int) -> list[dict[str, Any]]:
    return await raw("SELECT m.*, u.username FROM procurement_panel_member m JOIN app_user u ON u.tenant_id = m.tenant_id "
                     "AND u.id = m.user_id WHERE m.tenant_id = {} AND m.call_id = {} ORDER BY m.id", tenant.id, call_id)


async def appoint(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, user_id: int) -> dict[str, Any]:
    call = await calls.visible(tenant, principal, call_id)
    require_in_subtree(principal, "procurement.call.award", call["unit_path"], what="call", field="callId",
                       read_action="procurement.read", message_zh=calls.NOT_FOUND_ZH)
    if call["state"] not in APPOINTABLE_STATES:
        raise DomainError(ErrorCode.INVALID_STATE, "the panel is set before the award", "callId", "评审已结束，不能再增补评委")
    if not await _eligible(tenant, call, user_id=user_id):
        raise DomainError(ErrorCode.NOT_FOUND, "not an eligible evaluator for this call: an active user holding the "
                          "evaluator role at the call's union or above", "userId", "该用户不是本项目可选的评委")
    async with transaction():
        if await raw("SELECT id FROM procurement_panel_member WHERE tenant_id = {} AND call_id = {} AND user_id = {}",
                     tenant.id, call_id, user_id):
            raise DomainError(ErrorCode.DUPLICATE, "already on the panel", "userId", "该评委已在评审组中")
        rows = await ProcurementPanelMember.insert(ProcurementPanelMember(
            tenant_id=tenant.id, call_id=call_id, user_id=user_id, appointed_by=actor.user_id, created_at=utcnow(),
        )).returning(*ProcurementPanelMember.all_columns())
        await audit_record(tenant, actor, "procurement.panel.appoint", "ProcurementCall", call_id, {"user_id": user_id})
    return rows[0]


def _covering_paths(unit_path: str) -> list[str]:
    """The call's unit and every unit above it ("/1/5/9/" -> "/1/", "/1/5/", "/1/5/9/")."""
    parts = [p for p in unit_path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


async def _eligible(tenant: TenantContext, call: dict[str, Any], *, user_id: int | None = None,
                    search: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Active users holding the evaluator role (``procurement.evaluate``) at the call's union or above it:
    a grant reaches its subtree only, so nobody else could read the call's bids to score them."""
    roles = sorted(r.value for r in roles_for("procurement.evaluate"))
    paths = _covering_paths(call["unit_path"])
    sql = ("SELECT u.id, u.username, u.display_name, min(o.path) AS unit_path FROM app_user u "
           "JOIN role_grant g ON g.tenant_id = u.tenant_id AND g.user_id = u.id "
           "JOIN org_unit o ON o.tenant_id = g.tenant_id AND o.id = g.org_unit_id "
           f"WHERE u.tenant_id = {{}} AND u.active AND g.role IN ({', '.join('{}' for _ in roles)}) "
           f"AND o.path IN ({', '.join('{}' for _ in paths)})")
    args: list[Any] = [tenant.id, *roles, *paths]
    if user_id is not None:
        sql += " AND u.id = {}"
        args.append(user_id)
    else:  # the picker: not those on the panel already
        sql += (" AND NOT EXISTS (SELECT 1 FROM procurement_panel_member m WHERE m.tenant_id = u.tenant_id "
                "AND m.call_id = {} AND m.user_id = u.id)")
        args.append(int(call["id"]))
    if search:
        sql += " AND (lower(u.username) LIKE {} ESCAPE '\\' OR lower(u.display_name) LIKE {} ESCAPE '\\')"
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [pattern, pattern]
    return await raw(sql + f" GROUP BY u.id, u.username, u.display_name ORDER BY u.username, u.id LIMIT {int(limit)}",
                     *args)


async def eligible_evaluators(tenant: TenantContext, principal: Principal, call_id: int,
                              search: str | None = None) -> list[dict[str, Any]]:
    """Whom an approver of the call may appoint (the picker): no user.read is needed, and it lists
    nobody the call's bids would stay closed to."""
    call = await calls.visible(tenant, principal, call_id)
    require_in_subtree(principal, "procurement.call.award", call["unit_path"], what="call", field="callId",
                       read_action="procurement.read", message_zh=calls.NOT_FOUND_ZH)
    return await _eligible(tenant, call, search=(search or "").strip()[:64])


async def seat(tenant: TenantContext, principal: Principal, call_id: int) -> dict[str, Any] | None:
    rows = await raw("SELECT * FROM procurement_panel_member WHERE tenant_id = {} AND call_id = {} AND user_id = {}",
                     tenant.id, call_id, principal.user_id)
    return rows[0] if rows else None


async def declare(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, no_conflict: bool) -> dict[str, Any]:
    await calls.visible(tenant, principal, call_id)
    mine = await seat(tenant, principal, call_id)
    if mine is None:
        raise DomainError(ErrorCode.FORBIDDEN, "you are not on this call's panel", "callId", "您不是该项目的评委")
    if mine["declared_at"] is not None:
        raise DomainError(ErrorCode.INVALID_STATE, "you have declared already", "callId", "您已作出声明")
    done = await raw("UPDATE procurement_panel_member SET declared_at = {}, conflict = {} WHERE tenant_id = {} AND id = {} "
                     "AND declared_at IS NULL RETURNING *", utcnow(), not no_conflict, tenant.id, mine["id"])
    if not done:
        raise DomainError(ErrorCode.INVALID_STATE, "you have declared already", "callId", "您已作出声明")
    await audit_record(tenant, actor, "procurement.panel.declare", "ProcurementCall", call_id, {"conflict": not no_conflict})
    return done[0]


async def require_declared(tenant: TenantContext, principal: Principal, call_id: int) -> dict[str, Any] | None:
    """A panel member sees and scores bids only after declaring no conflict; a conflict recuses them."""
    mine = await seat(tenant, principal, call_id)
    if mine is None:
        return None
    if mine["declared_at"] is None:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "declare that you have no conflict of interest first", "noConflict",
                          "请先声明与投标人无利害关系")
    if mine["conflict"]:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "you declared a conflict of interest: you are recused", "noConflict",
                          "您已声明存在利害关系，须回避")
    return mine


async def score(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, bid_id: int,
                points: dict[str, int]) -> list[dict[str, Any]]:
    call = await calls.visible(tenant, principal, call_id)
    mine = await require_declared(tenant, principal, call_id)
    if mine is None:
        raise DomainError(ErrorCode.FORBIDDEN, "only the call's evaluators score", "callId", "仅该项目的评委可以评分")
    if call["state"] != "evaluation":
        raise DomainError(ErrorCode.INVALID_STATE, "bids are scored during the evaluation", "callId", "不在评审阶段")
    bids.require_open(call)
    if not await raw("SELECT id FROM procurement_bid WHERE tenant_id = {} AND call_id = {} AND id = {}", tenant.id,
                     call_id, bid_id):
        raise DomainError(ErrorCode.NOT_FOUND, "bid not found on this call", "bidId", "投标不存在")
    wanted = {c.code for c in criteria_for(tenant, call)}
    if set(points) != wanted:
        raise DomainError(ErrorCode.INVALID_INPUT, f"score exactly the criteria {sorted(wanted)}", "scores",
                          "须对每项评分标准打分", extensions={"criteria": sorted(wanted)})
    if any(not 0 <= p <= 100 for p in points.values()):
        raise DomainError(ErrorCode.INVALID_INPUT, "points are 0 to 100", "scores", "分值须在0至100之间")
    async with transaction():
        await raw("DELETE FROM procurement_score WHERE tenant_id = {} AND call_id = {} AND bid_id = {} AND user_id = {}",
                  tenant.id, call_id, bid_id, principal.user_id)
        for code, p in sorted(points.items()):
            await ProcurementScore.insert(ProcurementScore(tenant_id=tenant.id, call_id=call_id, bid_id=bid_id,
                                                           user_id=principal.user_id, criterion=code, points=p,
                                                           created_at=utcnow()))
        await audit_record(tenant, actor, "procurement.score", "ProcurementCall", call_id, {"bid_id": bid_id})
    return [{"criterion": c, "points": p} for c, p in sorted(points.items())]


@dataclass
class BidResult:
    bid_id: int
    org_id: int
    org_name: str
    has_own_union: bool
    price_fen: int
    panel_bp: int
    performance_bp: int
    total_bp: int
    evaluator_totals: dict[int, int]
    outliers: list[int] = field(default_factory=list)
    rank: int = 0
    won_tie_by_union: bool = False


@dataclass
class Results:
    criteria: list[Criterion]
    complete: bool
    scorers: list[int]
    bids: list[BidResult]


async def results(tenant: TenantContext, call: dict[str, Any]) -> Results:
    """The ranking of a call's bids (the call must be open: prices are part of the tie-break)."""
    bids.require_open(call)
    criteria = criteria_for(tenant, call)
    weight = {c.code: c.weight_bp for c in criteria}
    s = for_tenant(tenant)
    seated = [m for m in await members(tenant, int(call["id"])) if m["declared_at"] is not None and not m["conflict"]]
    scorers = [int(m["user_id"]) for m in seated]
    rows = await raw("SELECT b.id, b.org_id, b.price_enc, b.submitted_at, g.name, g.has_own_union, g.score_bp "
                     "FROM procurement_bid b JOIN procurement_org g ON g.tenant_id = b.tenant_id AND g.id = b.org_id "
                     "WHERE b.tenant_id = {} AND b.call_id = {} ORDER BY b.id", tenant.id, call["id"])
    points = await raw("SELECT bid_id, user_id, criterion, points FROM procurement_score WHERE tenant_id = {} "
                       "AND call_id = {}", tenant.id, call["id"])
    by: dict[tuple[int, int], dict[str, int]] = {}
    for p in points:
        by.setdefault((int(p["bid_id"]), int(p["user_id"])), {})[p["criterion"]] = int(p["points"])
    complete = bool(scorers) and all(set(by.get((int(r["id"]), u), {})) == set(weight) for r in rows for u in scorers)
    out: list[BidResult] = []
    for r in rows:
        totals = {u: sum(v * weight.get(c, 0) for c, v in by[(int(r["id"]), u)].items()) // 100
                  for u in scorers if (int(r["id"]), u) in by}
        panel = round(sum(totals.values()) / len(totals)) if totals else 0
        median = statistics.median(totals.values()) if totals else 0
        pw = s.performance_weight_bp
        total = (panel * (10_000 - pw) + int(r["score_bp"]) * pw) // 10_000
        out.append(BidResult(
            bid_id=int(r["id"]), org_id=int(r["org_id"]), org_name=r["name"], has_own_union=bool(r["has_own_union"]),
            price_fen=int(pii_decrypt(r["price_enc"], *bids.PRICE_CONTEXT, tenant.id)), panel_bp=panel,
            performance_bp=int(r["score_bp"]), total_bp=total, evaluator_totals=totals,
            outliers=sorted(u for u, t in totals.items() if abs(t - median) > s.outlier_points * 100)))
    submitted = {int(r["id"]): r["submitted_at"] for r in rows}
    out.sort(key=lambda b: (-b.total_bp, not b.has_own_union, b.price_fen, submitted[b.bid_id]))
    for i, b in enumerate(out):
        b.rank = i + 1
        nxt = out[i + 1] if i + 1 < len(out) else None
        b.won_tie_by_union = bool(nxt and nxt.total_bp == b.total_bp and b.has_own_union and not nxt.has_own_union)
    return Results(criteria, complete, scorers, out)


async def award_refusals(ctx: Any) -> list[Any]:
    call = await calls.load(ctx.tenant, ctx.case.case_id)
    assert call is not None
    r = await results(ctx.tenant, call)
    if not r.complete:
        return [DomainError(ErrorCode.INVALID_STATE, "every seated evaluator must score every bid first", "callId",
                            "评委尚未完成全部评分")]
    if not r.bids or r.bids[0].bid_id != int(ctx.payload.get("bid_id") or 0):
        return [DomainError(ErrorCode.INVALID_INPUT, "the award goes to the first-ranked bid", "bidId",
                            "须授予综合排名第一的投标")]
    return []

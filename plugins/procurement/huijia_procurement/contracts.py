"""Contracts (合同) with payment milestones and evaluations.

Signing (the call's ``sign`` step, an approver) writes the contract with the winning bid's price as
its value, splits it into milestones whose percentages must add up to 100, and reserves the whole
value from the buying union's fund in the ledger, with the call's drafter as maker and the signer as
checker (never the same person). The organisation reports each delivery, the union accepts it, and
finance pays it: the payment posts the milestone's share of the reservation under an idempotency key
derived from the milestone, so a retried payment cannot post twice; an unaccepted milestone is never
paid. Mid-term and final evaluations move the organisation's performance score, which later calls'
rankings blend in.

Termination (an approver, with reasons) ends a contract that is not fully paid: its unpaid milestones
are closed and what is left of the reservation is voided, so the unspent money returns to the fund's
available balance; payments already made stay as they are (no entry is deleted or rewritten).
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
    audit_record,
    get_unit,
    ledger_post_reservation,
    ledger_reserve,
    ledger_void_reservation,
    pii_decrypt,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)
from huijia_procurement import bids, calls, registry
from huijia_procurement.common import invalid, own_org, text
from huijia_procurement.settings import for_tenant
from huijia_procurement.tables import ProcurementContract, ProcurementEvaluation, ProcurementMilestone

NOT_FOUND_ZH = "合同不存在，或您无权查看"
EVALUATION_KINDS = {"midterm": "中期评估", "final": "终期评估"}


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    deliverable: str
    percent: int


def check_milestones(specs: list[MilestoneSpec]) -> list[MilestoneSpec]:
    if not 1 <= len(specs) <= 12:
        raise invalid("a contract has 1 to 12 milestones", "milestones", "合同须有1至12个付款节点")
    clean = [MilestoneSpec(text("title", m.title, 200, "节点名称"), text("deliverable", m.deliverable, 1000, "交付成果"),
                           m.percent) for m in specs]
    if any(not 1 <= m.percent <= 100 for m in clean):
        raise invalid("each milestone's percent is 1 to 100", "milestones", "每个节点的付款比例须在1%至100%之间")
    total = sum(m.percent for m in clean)
    if total != 100:
        raise DomainError(ErrorCode.INVALID_INPUT, f"milestone percentages must add up to 100, not {total}",
                          "milestones", f"各节点付款比例之和须为100%，现为{total}%", extensions={"percentTotal": total})
    return clean


def split(value_fen: int, specs: list[MilestoneSpec]) -> list[int]:
    """Each milestone's amount; the last takes the rounding remainder, so they add up to the value."""
    amounts = [value_fen * m.percent // 100 for m in specs[:-1]]
    return [*amounts, value_fen - sum(amounts)]


async def on_sign(ctx: Any) -> None:
    """The call's ``sign`` effect: write the contract and its milestones, reserve the value."""
    tenant = ctx.tenant
    specs = [MilestoneSpec(**m) for m in ctx.payload.pop("milestones_input", [])]
    specs = check_milestones(specs)
    call = await calls.load(tenant, ctx.case.case_id)
    assert call is not None
    rows = await raw("SELECT * FROM procurement_bid WHERE tenant_id = {} AND id = {}", tenant.id, call["award_bid_id"])
    bid = rows[0]
    value = int(pii_decrypt(bid["price_enc"], *bids.PRICE_CONTEXT, tenant.id))
    if call["created_by"] is not None and int(call["created_by"]) == ctx.actor.user_id:
        raise DomainError(ErrorCode.SELF_APPROVAL, "the drafter of the call cannot also sign its contract", "callId",
                          "项目经办人不能签订本项目合同")
    contract = (await ProcurementContract.insert(ProcurementContract(
        tenant_id=tenant.id, org_unit_id=call["org_unit_id"], call_id=call["id"], bid_id=bid["id"], org_id=bid["org_id"],
        value_fen=value, signed_by=ctx.actor.user_id, signed_at=ctx.now)).returning(ProcurementContract.id))[0]
    for seq, (m, amount) in enumerate(zip(specs, split(value, specs), strict=True), start=1):
        await ProcurementMilestone.insert(ProcurementMilestone(
            tenant_id=tenant.id, contract_id=contract["id"], seq=seq, title=m.title, deliverable=m.deliverable,
            percent=m.percent, amount_fen=amount))
    s = for_tenant(tenant)
    unit = await get_unit(tenant, int(call["org_unit_id"]))
    maker = Actor(int(call["created_by"]) if call["created_by"] is not None else None, "drafter")
    res_id = await ledger_reserve(tenant, maker, unit=unit, fund=s.fund, amount_fen=value, expense_code=s.expense_code,
                                  key=f"procurement-contract:{contract['id']}", memo=f"购买服务合同 {call['title']}"[:200],
                                  source_type="procurement_contract", source_id=str(contract["id"]),
                                  approved_by=ctx.actor.user_id)
    await raw("UPDATE procurement_contract SET reservation_id = {} WHERE tenant_id = {} AND id = {}", res_id, tenant.id,
              contract["id"])
    ctx.payload.update({"contract_id": int(contract["id"]), "reservation_id": res_id})


async def load(tenant: TenantContext, contract_id: int) -> dict[str, Any] | None:
    rows = await raw("SELECT k.*, o.path AS unit_path FROM procurement_contract k JOIN org_unit o ON o.id = k.org_unit_id "
                     "AND o.tenant_id = k.tenant_id WHERE k.tenant_id = {} AND k.id = {}", tenant.id, contract_id)
    return rows[0] if rows else None


async def visible(tenant: TenantContext, principal: Principal, contract_id: int, field: str = "contractId") -> dict[str, Any]:
    """The contract for staff of its union's subtree or for the contracted organisation's login."""
    k = await load(tenant, contract_id)
    if k is not None and not principal.can("procurement.read", k["unit_path"]):
        org = await own_org(tenant, principal)
        if org is None or int(org["id"]) != int(k["org_id"]):
            k = None
    if k is None:
        raise DomainError(ErrorCode.NOT_FOUND, "contract not found", field, NOT_FOUND_ZH)
    return k


async def _milestone(tenant: TenantContext, principal: Principal, milestone_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = await raw("SELECT * FROM procurement_milestone WHERE tenant_id = {} AND id = {}", tenant.id, milestone_id)
    if not rows:
        raise DomainError(ErrorCode.NOT_FOUND, "milestone not found", "milestoneId", NOT_FOUND_ZH)
    k = await visible(tenant, principal, int(rows[0]["contract_id"]), field="milestoneId")
    return rows[0], k


async def _move(tenant: TenantContext, milestone_id: int, want: str, to: str, sets: str, *args: Any) -> dict[str, Any]:
    done = await raw(f"UPDATE procurement_milestone SET status = {{}}{sets} WHERE tenant_id = {{}} AND id = {{}} "
                     "AND status = {} RETURNING *", to, *args, tenant.id, milestone_id, want)
    if not done:
        raise DomainError(ErrorCode.INVALID_STATE, f"the milestone is not {want}", "milestoneId", "付款节点状态已变化，请刷新")
    return done[0]


def _require_active(k: dict[str, Any], field: str = "milestoneId") -> None:
    if k.get("status", "active") != "active":
        raise DomainError(ErrorCode.INVALID_STATE, "the contract was terminated", field, "合同已终止")


async def terminate(tenant: TenantContext, principal: Principal, actor: Actor, contract_id: int,
                    reasons: list[str]) -> dict[str, Any]:
    k = await visible(tenant, principal, contract_id)
    require_in_subtree(principal, "procurement.contract.terminate", k["unit_path"], what="contract",
                       field="contractId", read_action="procurement.read", message_zh=NOT_FOUND_ZH)
    reasons = [text("reasons", r, 500, "终止理由") for r in reasons if (r or "").strip()]
    if not reasons or len(reasons) > 10:
        raise invalid("give 1 to 10 reasons for the termination", "reasons", "请填写终止合同的理由")
    async with transaction():
        # Claim the contract (compare-and-set): a second termination finds it terminated. Milestone rows
        # are then updated under their own row locks, so a payment racing this either committed first
        # (its milestone stays paid) or finds the milestone closed / the reservation voided and rolls back.
        claimed = await raw("UPDATE procurement_contract SET status = 'terminated', terminated_by = {}, terminated_at = {}, "
                            "termination_reasons = {} WHERE tenant_id = {} AND id = {} AND status = 'active' RETURNING id",
                            actor.user_id, utcnow(), json.dumps(reasons, ensure_ascii=False), tenant.id, contract_id)
        if not claimed:
            raise DomainError(ErrorCode.INVALID_STATE, "the contract was terminated already", "contractId", "合同已终止")
        closed = await raw("UPDATE procurement_milestone SET status = 'closed' WHERE tenant_id = {} AND contract_id = {} "
                           "AND status IN ('pending', 'delivered', 'accepted') RETURNING id, amount_fen", tenant.id,
                           contract_id)
        if not closed:
            raise DomainError(ErrorCode.INVALID_STATE, "every milestone is paid: the contract is fulfilled", "contractId",
                              "合同各节点均已付款，无需终止")
        released = 0
        if k["reservation_id"] is not None:
            res = await ledger_void_reservation(tenant, actor, int(k["reservation_id"]),
                                                reason=f"合同终止：{'；'.join(reasons)}"[:500])
            released = int(res["amount_fen"]) - int(res["posted_fen"])
        await raw("UPDATE procurement_contract SET released_fen = {} WHERE tenant_id = {} AND id = {}", released,
                  tenant.id, contract_id)
        await audit_record(tenant, actor, "procurement.contract.terminate", "Contract", contract_id,
                           {"released_fen": released, "closed_milestones": [int(m["id"]) for m in closed],
                            "reasons": reasons})
    out = await load(tenant, contract_id)
    assert out is not None
    return out


async def deliver(tenant: TenantContext, principal: Principal, actor: Actor, milestone_id: int, note: str) -> dict[str, Any]:
    m, k = await _milestone(tenant, principal, milestone_id)
    org = await own_org(tenant, principal)
    if org is None or int(org["id"]) != int(k["org_id"]):
        raise DomainError(ErrorCode.FORBIDDEN, "only the contracted organisation reports a delivery")
    _require_active(k)
    note = text("note", note, 2000, "交付说明")
    if m["status"] != "pending":
        raise DomainError(ErrorCode.INVALID_STATE, "the milestone was delivered already", "milestoneId", "该节点已报告交付")
    out = await _move(tenant, milestone_id, "pending", "delivered", ", delivery_note = {}, delivered_at = {}", note, utcnow())
    await audit_record(tenant, actor, "procurement.milestone.deliver", "Contract", int(k["id"]), {"milestone_id": milestone_id})
    return out


async def accept(tenant: TenantContext, principal: Principal, actor: Actor, milestone_id: int) -> dict[str, Any]:
    m, k = await _milestone(tenant, principal, milestone_id)
    require_in_subtree(principal, "procurement.contract.accept", k["unit_path"], what="contract", field="milestoneId",
                       read_action="procurement.read", message_zh=NOT_FOUND_ZH)
    _require_active(k)
    if m["status"] != "delivered":
        raise DomainError(ErrorCode.INVALID_STATE, "only a delivered milestone is accepted", "milestoneId",
                          "社会组织尚未报告交付，不能验收")
    out = await _move(tenant, milestone_id, "delivered", "accepted", ", accepted_by = {}, accepted_at = {}",
                      principal.user_id, utcnow())
    await audit_record(tenant, actor, "procurement.milestone.accept", "Contract", int(k["id"]), {"milestone_id": milestone_id})
    return out


async def pay(tenant: TenantContext, principal: Principal, actor: Actor, milestone_id: int) -> dict[str, Any]:
    m, k = await _milestone(tenant, principal, milestone_id)
    require_in_subtree(principal, "procurement.contract.pay", k["unit_path"], what="contract", field="milestoneId",
                       read_action="procurement.read", message_zh=NOT_FOUND_ZH)
    if m["status"] == "paid":
        return m  # a retry after a lost answer: the payment stands once
    _require_active(k)
    if m["status"] != "accepted":
        raise DomainError(ErrorCode.INVALID_STATE, "a milestone is paid only after it is accepted", "milestoneId",
                          "该节点尚未验收，不能付款")
    async with transaction():
        # Claim the milestone first (compare-and-set): a second payment racing this one waits for the
        # row, then finds it paid and returns it; if the posting fails, the claim rolls back with it.
        claimed = await raw("UPDATE procurement_milestone SET status = 'paid', paid_at = {} WHERE tenant_id = {} "
                            "AND id = {} AND status = 'accepted' RETURNING *", utcnow(), tenant.id, milestone_id)
        if not claimed:
            again = await raw("SELECT * FROM procurement_milestone WHERE tenant_id = {} AND id = {}", tenant.id,
                              milestone_id)
            if again[0]["status"] != "paid":  # closed by a termination that committed first
                raise DomainError(ErrorCode.INVALID_STATE, "the contract was terminated", "milestoneId", "合同已终止")
            return again[0]
        left = await raw("SELECT count(*) AS n FROM procurement_milestone WHERE tenant_id = {} AND contract_id = {} "
                         "AND status <> 'paid'", tenant.id, k["id"])
        entry = await ledger_post_reservation(tenant, actor, int(k["reservation_id"]), key=f"procurement-milestone:{milestone_id}",
                                              amount_fen=int(m["amount_fen"]), final=int(left[0]["n"]) == 0,
                                              memo=f"购买服务 第{m['seq']}期 {m['title']}"[:200])
        out = (await raw("UPDATE procurement_milestone SET entry_id = {} WHERE tenant_id = {} AND id = {} RETURNING *",
                         entry, tenant.id, milestone_id))[0]
        await audit_record(tenant, actor, "procurement.milestone.pay", "Contract", int(k["id"]),
                           {"milestone_id": milestone_id, "amount_fen": int(m["amount_fen"]), "entry_id": entry})
    return out


async def evaluate(tenant: TenantContext, principal: Principal, actor: Actor, contract_id: int, kind: str, score: int,
                   comments: str) -> dict[str, Any]:
    k = await visible(tenant, principal, contract_id)
    require_in_subtree(principal, "procurement.contract.accept", k["unit_path"], what="contract", field="contractId",
                       read_action="procurement.read", message_zh=NOT_FOUND_ZH)
    if kind not in EVALUATION_KINDS:
        raise invalid("kind is midterm or final", "kind", "评估类型须为中期或终期")
    if not 0 <= score <= 100:
        raise invalid("score is 0 to 100", "score", "评估得分须在0至100之间")
    comments = text("comments", comments, 2000, "评估意见", required=False)
    async with transaction():
        if await raw("SELECT id FROM procurement_evaluation WHERE tenant_id = {} AND contract_id = {} AND kind = {}",
                     tenant.id, contract_id, kind):
            raise DomainError(ErrorCode.DUPLICATE, f"the {kind} evaluation was made already", "kind", "该评估已完成")
        if kind == "final" and not await raw("SELECT id FROM procurement_evaluation WHERE tenant_id = {} AND "
                                             "contract_id = {} AND kind = 'midterm'", tenant.id, contract_id):
            raise DomainError(ErrorCode.INVALID_STATE, "the mid-term evaluation comes first", "kind", "须先完成中期评估")
        row = (await ProcurementEvaluation.insert(ProcurementEvaluation(
            tenant_id=tenant.id, contract_id=contract_id, org_id=k["org_id"], kind=kind, score=score, comments=comments,
            created_by=actor.user_id, created_at=utcnow())).returning(*ProcurementEvaluation.all_columns()))[0]
        # The score: the mean of the starting score and every evaluation, each counted once.
        past = await raw("SELECT score FROM procurement_evaluation WHERE tenant_id = {} AND org_id = {}", tenant.id,
                         k["org_id"])
        marks = [for_tenant(tenant).initial_score_bp, *(int(p["score"]) * 100 for p in past)]
        await registry.record_score(tenant, int(k["org_id"]), round(sum(marks) / len(marks)), "evaluation",
                                    int(row["id"]), f"{EVALUATION_KINDS[kind]}：{score}分")
        await audit_record(tenant, actor, f"procurement.contract.evaluate.{kind}", "Contract", contract_id, {"score": score})
    return row

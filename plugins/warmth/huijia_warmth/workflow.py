"""A campaign's lifecycle on core's shared case state machine.

draft ──submit──▶ submitted ──approve──▶ approved ──distribute──▶ distributing ──finish──▶ distributed ──close──▶ closed
  │  ◀──return───────┘                        │
  └──────────────cancel (draft, submitted, approved; with a reason)──▶ cancelled

Approval freezes the beneficiary list with its amounts (``beneficiaries.freeze``) and reserves each
budget in the ledger (``money.reserve_budgets``); close, or cancel after approval, releases what is left; ``finish`` is the system's (the distribution job), the rest a person's at the campaign's unit.
"""

from __future__ import annotations

from typing import Any

from core.sdk import DomainError, ErrorCode, Machine, Transition, raw
from huijia_warmth.beneficiaries import freeze
from huijia_warmth.money import no_unpaid_left, release_budgets, reserve_budgets


async def has_budget(ctx: Any) -> list[Any]:
    rows = await raw("SELECT COALESCE(SUM(budget_fen), 0) AS total FROM warmth_campaign_budget "
                     "WHERE tenant_id = {} AND campaign_id = {}", ctx.tenant.id, ctx.case.case_id)
    if int(rows[0]["total"]) <= 0:
        return [DomainError(ErrorCode.NOT_ELIGIBLE, "the campaign has no budget to approve", "budgets",
                            "活动没有预算，不能审批")]
    return []


async def approve(ctx: Any) -> None:
    # One transaction: a refused reservation leaves no frozen row and no other reservation behind.
    await freeze(ctx)
    await reserve_budgets(ctx)


async def cancel(ctx: Any) -> None:
    if ctx.case.state == "approved":
        await release_budgets(ctx)


CAMPAIGN = Machine(
    capability="warmth",
    case_type="campaign",
    states=("draft", "submitted", "approved", "distributing", "distributed", "closed", "cancelled"),
    initial="draft",
    final=("closed", "cancelled"),
    read_permission="warmth.read",
    transitions=(
        Transition("submit", ("draft",), "submitted", permission="warmth.write", label_zh="提交"),
        Transition("return", ("submitted",), "draft", permission="warmth.approve", reasons_required=True,
                   label_zh="退回"),
        Transition("approve", ("submitted",), "approved", permission="warmth.approve", guard=has_budget,
                   effect=approve, label_zh="审批"),
        Transition("distribute", ("approved",), "distributing", permission="warmth.write", label_zh="开始发放"),
        Transition("finish", ("distributing",), "distributed", guard=no_unpaid_left, label_zh="发放完成"),
        Transition("close", ("distributed",), "closed", permission="warmth.approve", effect=release_budgets,
                   label_zh="结项"),
        Transition("cancel", ("draft", "submitted", "approved"), "cancelled", permission="warmth.approve",
                   reasons_required=True, effect=cancel, label_zh="撤销"),
    ),
    labels_zh={"draft": "草稿", "submitted": "待审批", "approved": "已审批", "distributing": "发放中",
               "distributed": "已发放", "closed": "已结项", "cancelled": "已撤销"},
)

# What a person may ask for through the API; ``finish`` belongs to the distribution job.
PERSON_STEPS = ("submit", "return", "approve", "distribute", "close", "cancel")

"""A call's lifecycle, on core's shared case state machine (``core.sdk.Machine``), after ProZorro's
tender: the periods end by timers on the call's own deadlines (``due_at``), so the cron job moves it.

draft ─publish(approver)─▶ enquiries ─(enquiry_end)─▶ bidding ─(tender_end, with bids)─▶ evaluation
  bidding ─(tender_end, no bids)─▶ unsuccessful          evaluation ─fail(reasons)─▶ unsuccessful
evaluation ─award(approver, reasons)─▶ standstill ─(standstill_end)─▶ awarded ─sign─▶ contracted
standstill ─complain(a bidder)─▶ complaint ─dismiss─▶ standstill (the standstill starts again)
                                            complaint ─uphold─▶ evaluation (the award is withdrawn)
draft | enquiries | bidding | evaluation | standstill | complaint | awarded ─cancel(reasons)─▶ cancelled
"""

from __future__ import annotations

from typing import Any

from core.sdk import Machine, Timer, Transition

STATES_ZH = {
    "draft": "草稿", "enquiries": "答疑中", "bidding": "投标中", "evaluation": "评审中", "standstill": "公示期",
    "complaint": "投诉处理中", "awarded": "已确定中标", "contracted": "已签约", "cancelled": "已取消",
    "unsuccessful": "流标",
}
OPEN_STATES = ("draft", "enquiries", "bidding", "evaluation", "standstill", "complaint", "awarded")


async def _publish(ctx: Any) -> None:
    from huijia_procurement import calls

    await calls.on_publish(ctx)


async def _to_bidding(ctx: Any) -> None:
    from huijia_procurement import calls

    await calls.on_bidding(ctx)


async def _has_bids(ctx: Any) -> list[Any]:
    from huijia_procurement import calls

    return [] if await calls.bid_count(ctx.tenant, ctx.case.case_id) else ["没有投标"]


async def _no_bids(ctx: Any) -> list[Any]:
    from huijia_procurement import calls

    return ["已有投标"] if await calls.bid_count(ctx.tenant, ctx.case.case_id) else []


async def _evaluation(ctx: Any) -> None:
    ctx.due_at = None


async def _ranked_first(ctx: Any) -> list[Any]:
    from huijia_procurement import scoring

    return await scoring.award_refusals(ctx)


async def _award(ctx: Any) -> None:
    from huijia_procurement import calls

    await calls.on_award(ctx)


async def _restart_standstill(ctx: Any) -> None:
    from huijia_procurement import calls

    await calls.on_complaint_decided(ctx, upheld=False)


async def _withdraw_award(ctx: Any) -> None:
    from huijia_procurement import calls

    await calls.on_complaint_decided(ctx, upheld=True)


async def _sign(ctx: Any) -> None:
    from huijia_procurement import contracts

    await contracts.on_sign(ctx)


async def _pause(ctx: Any) -> None:
    ctx.due_at = None  # a complaint stops the standstill clock


CALL = Machine(
    capability="procurement",
    case_type="call",
    states=tuple(STATES_ZH),
    initial="draft",
    final=("contracted", "cancelled", "unsuccessful"),
    read_permission="procurement.read",
    labels_zh=STATES_ZH,
    transitions=(
        Transition("publish", ("draft",), "enquiries", permission="procurement.call.publish", effect=_publish,
                   label_zh="发布"),
        Transition("enquiry_end", ("enquiries",), "bidding", effect=_to_bidding, label_zh="答疑期满"),
        Transition("tender_end", ("bidding",), "evaluation", guard=_has_bids, effect=_evaluation,
                   label_zh="投标截止"),
        Transition("no_bids", ("bidding",), "unsuccessful", guard=_no_bids, effect=_evaluation, label_zh="无人投标"),
        Transition("fail", ("evaluation",), "unsuccessful", permission="procurement.call.award",
                   reasons_required=True, label_zh="流标"),
        Transition("award", ("evaluation",), "standstill", permission="procurement.call.award",
                   reasons_required=True, guard=_ranked_first, effect=_award, label_zh="确定中标"),
        # Taken by the service for a bidder of the call (an organisation's grant does not follow the
        # union tree), so the machine knows it as a system step.
        Transition("complain", ("standstill",), "complaint", effect=_pause, label_zh="投诉"),
        Transition("dismiss", ("complaint",), "standstill", permission="procurement.call.award",
                   reasons_required=True, effect=_restart_standstill, label_zh="驳回投诉"),
        Transition("uphold", ("complaint",), "evaluation", permission="procurement.call.award",
                   reasons_required=True, effect=_withdraw_award, label_zh="投诉成立"),
        Transition("standstill_end", ("standstill",), "awarded", label_zh="公示期满"),
        Transition("sign", ("awarded",), "contracted", permission="procurement.contract.sign", effect=_sign,
                   label_zh="签订合同"),
        Transition("cancel", OPEN_STATES, "cancelled", permission="procurement.call.publish",
                   reasons_required=True, effect=_evaluation, label_zh="取消"),
    ),
    timers=(
        Timer("enquiry_period", "enquiries", "enquiry_end"),
        Timer("tender_period", "bidding", "tender_end"),
        Timer("tender_period_empty", "bidding", "no_bids"),
        Timer("standstill_period", "standstill", "standstill_end"),
    ),
)

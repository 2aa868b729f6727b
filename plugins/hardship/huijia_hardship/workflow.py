"""The archive's workflow, on core's shared case state machine (``core.sdk.Machine``).

applied ─review(初审)─▶ reviewed ─visit(入户走访, signed letters attached)─▶ visited
  ─civil_check(民政核对)─▶ checked ─publish(公示)─▶ notice ↺ object / resolve
  ─(notice_days without an open objection: the host's timer)─▶ ready ─approve(at the tier)─▶ archived
archived ↺ recheck (复核) ─exit(脱困)─▶ exited ─return(返困)─▶ applied
archived ─cancel(销档: retired, moved, deceased, misidentified)─▶ cancelled
archived (temporary 临时救助) ─convert(转为常态档案)─▶ archived (regular)
archived (temporary) ─(temporary_months after approval, not converted: the host's timer)─▶ lapsed
applied | reviewed | visited | checked | ready ─reject(with reasons)─▶ rejected
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.sdk import Machine, Timer, Transition

STATES_ZH = {
    "applied": "已申请", "reviewed": "已初审", "visited": "已入户", "checked": "已核对", "notice": "公示中",
    "ready": "待审批", "archived": "已建档", "rejected": "未通过", "exited": "已脱困", "cancelled": "已销档",
    "lapsed": "已失效",
}
CANCEL_REASONS = {"retired": "退休", "moved": "调离", "deceased": "死亡", "misidentified": "识别不准"}


def _notice(tenant: Any) -> dt.timedelta:
    from huijia_hardship.settings import for_tenant

    return dt.timedelta(days=for_tenant(tenant).notice_days)


async def _consent(ctx: Any) -> list[Any]:
    from huijia_hardship import services

    return await services.consent_refusals(ctx)


async def _no_open_objection(ctx: Any) -> list[Any]:
    from huijia_hardship import services

    return await services.objection_refusals(ctx, want_open=False)


async def _an_open_objection(ctx: Any) -> list[Any]:
    from huijia_hardship import services

    return await services.objection_refusals(ctx, want_open=True)


async def _eligible(ctx: Any) -> list[Any]:
    from huijia_hardship import services

    return await services.eligibility_refusals(ctx)


async def _approval(ctx: Any) -> list[Any]:
    from huijia_hardship import services

    return await services.approval_refusals(ctx)


async def _temporary(ctx: Any) -> list[Any]:
    from huijia_hardship import services

    return await services.temporary_refusals(ctx)


async def _convert(ctx: Any) -> None:
    from huijia_hardship import services

    await services.convert_temporary(ctx)


async def _cancel_reason(ctx: Any) -> list[Any]:
    from core.sdk import DomainError, ErrorCode

    if ctx.payload.get("cancel_reason") not in CANCEL_REASONS:
        return [DomainError(ErrorCode.INVALID_INPUT, "cancelReason is required to cancel an archive", "cancelReason",
                            "销档须选择原因：退休、调离、死亡或识别不准")]
    return []


async def _civil_check(ctx: Any) -> None:
    from huijia_hardship import services

    await services.record_civil_check(ctx)


async def _archived(ctx: Any) -> None:
    from huijia_hardship import services

    await services.on_archived(ctx)


async def _close(ctx: Any) -> None:
    from huijia_hardship import services

    await services.close_archive(ctx)


async def _reopen(ctx: Any) -> None:
    from huijia_hardship import services

    await services.reopen_archive(ctx)


ARCHIVE = Machine(
    capability="hardship",
    case_type="archive",
    states=tuple(STATES_ZH),
    initial="applied",
    final=("rejected", "cancelled", "lapsed"),
    read_permission="hardship.read",
    labels_zh=STATES_ZH,
    transitions=(
        Transition("review", ("applied",), "reviewed", permission="hardship.review", label_zh="初审"),
        Transition("visit", ("reviewed",), "visited", permission="hardship.write", guard=_consent,
                   label_zh="入户走访"),
        Transition("civil_check", ("visited",), "checked", permission="hardship.write", guard=_consent,
                   effect=_civil_check, label_zh="民政核对"),
        Transition("publish", ("checked",), "notice", permission="hardship.write", guard=_eligible, label_zh="公示"),
        Transition("object", ("notice",), "notice", permission="hardship.write", reasons_required=True,
                   label_zh="登记异议"),
        Transition("resolve", ("notice",), "notice", permission="hardship.review", guard=_an_open_objection,
                   reasons_required=True, label_zh="处理异议"),
        Transition("notice_ended", ("notice",), "ready", guard=_no_open_objection, label_zh="公示期满"),
        Transition("approve", ("ready",), "archived", permission="hardship.approve", guard=_approval,
                   effect=_archived, label_zh="审批建档"),
        Transition("reject", ("applied", "reviewed", "visited", "checked", "ready"), "rejected",
                   permission="hardship.review", reasons_required=True, effect=_close, label_zh="不予建档"),
        Transition("recheck", ("archived",), "archived", permission="hardship.write", label_zh="复核"),
        Transition("exit", ("archived",), "exited", permission="hardship.review", reasons_required=True,
                   effect=_close, label_zh="脱困"),
        Transition("cancel", ("archived",), "cancelled", permission="hardship.review", reasons_required=True,
                   guard=_cancel_reason, effect=_close, label_zh="销档"),
        Transition("return", ("exited",), "applied", permission="hardship.write", reasons_required=True,
                   effect=_reopen, label_zh="返困"),
        # 临时救助 archives: converted to a regular archive by an approver, or lapsed by the timer
        # (due_at, set at approval) when nobody did.
        Transition("convert", ("archived",), "archived", permission="hardship.approve", guard=_temporary,
                   reasons_required=True, effect=_convert, label_zh="转为常态档案"),
        Transition("lapse", ("archived",), "lapsed", guard=_temporary, effect=_close, label_zh="临时档案到期失效"),
    ),
    timers=(Timer("notice_period", "notice", "notice_ended", after=_notice),
            Timer("temporary_period", "archived", "lapse")),
)


GRANT_STATES_ZH = {"proposed": "待审批", "approved": "已审批", "paid": "已发放", "rejected": "未批准",
                   "cancelled": "已撤销"}


async def _grant_approval(ctx: Any) -> list[Any]:
    from huijia_hardship import aid

    return await aid.approval_refusals(ctx)


async def _reserve(ctx: Any) -> None:
    from huijia_hardship import aid

    await aid.reserve(ctx)


async def _pay(ctx: Any) -> None:
    from huijia_hardship import aid

    await aid.pay(ctx)


async def _void(ctx: Any) -> None:
    from huijia_hardship import aid

    await aid.void(ctx)


GRANT = Machine(
    capability="hardship",
    case_type="grant",
    states=tuple(GRANT_STATES_ZH),
    initial="proposed",
    final=("paid", "rejected", "cancelled"),
    read_permission="hardship.read",
    labels_zh=GRANT_STATES_ZH,
    transitions=(
        Transition("approve", ("proposed",), "approved", permission="hardship.approve", guard=_grant_approval,
                   effect=_reserve, label_zh="审批"),
        Transition("reject", ("proposed",), "rejected", permission="hardship.approve", reasons_required=True,
                   label_zh="不予批准"),
        Transition("pay", ("approved",), "paid", permission="hardship.pay", effect=_pay, label_zh="发放"),
        Transition("cancel", ("approved",), "cancelled", permission="hardship.approve", reasons_required=True,
                   effect=_void, label_zh="撤销"),
    ),
)

"""A claim's review on core's shared case state machine (``core.sdk.Machine``).

entered ─check(核查: cover, waiting period, deadline, age, documents)─▶ checked
  ─approve(审批, by an approver above the unit, never the one who entered it; reserves the payout)─▶ approved
  ─pay(给付, finance: posts the reservation from the plan's fund)─▶ paid
entered | checked ─reject(with reasons)─▶ rejected
approved ─cancel(with reasons; releases the reservation)─▶ rejected
"""

from __future__ import annotations

from typing import Any

from core.sdk import Machine, Transition

# The steps an automatic claim (免申即享) takes at once when its stay file is imported: its case is written
# as one row in the state they end in, and its timeline shows them from the claim's own record.
AUTOMATIC_PATH = ("check", "approve")
STATES_ZH = {"entered": "已受理", "checked": "已核查", "approved": "已审批", "paid": "已给付", "rejected": "未通过"}


async def _check(ctx: Any) -> list[Any]:
    from huijia_mutual_aid import claims

    return await claims.check_refusals(ctx)


async def _approval(ctx: Any) -> list[Any]:
    from huijia_mutual_aid import claims

    return await claims.approval_refusals(ctx)


async def _reserve(ctx: Any) -> None:
    from huijia_mutual_aid import claims

    await claims.reserve(ctx)


async def _pay(ctx: Any) -> None:
    from huijia_mutual_aid import claims

    await claims.pay(ctx)


async def _cancellable(ctx: Any) -> list[Any]:
    from huijia_mutual_aid import claims

    return await claims.cancel_refusals(ctx)


async def _void(ctx: Any) -> None:
    from huijia_mutual_aid import claims

    await claims.void(ctx)


CLAIM = Machine(
    capability="mutual_aid",
    case_type="claim",
    states=tuple(STATES_ZH),
    initial="entered",
    final=("paid", "rejected"),
    read_permission="mutual_aid.read",
    labels_zh=STATES_ZH,
    transitions=(
        Transition("check", ("entered",), "checked", permission="mutual_aid.check", guard=_check, label_zh="核查"),
        Transition("approve", ("checked",), "approved", permission="mutual_aid.approve", guard=_approval,
                   effect=_reserve, label_zh="审批"),
        Transition("reject", ("entered", "checked"), "rejected", permission="mutual_aid.check",
                   reasons_required=True, label_zh="不予给付"),
        Transition("pay", ("approved",), "paid", permission="mutual_aid.pay", effect=_pay, label_zh="给付"),
        Transition("cancel", ("approved",), "rejected", permission="mutual_aid.approve", reasons_required=True,
                   guard=_cancellable, effect=_void, label_zh="撤销审批"),
    ),
)

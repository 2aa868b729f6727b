"""The test capability's case workflow: a time-driven notice, the shape of a 公示 period or a
procurement call. It is declared in ``CapabilityInfo(workflows=...)``, so the host's cron job runs
its timers for the tenants that enable ``testcap``.

draft ──publish──▶ notice ──(7 days, no open objection)──▶ ready ──approve──▶ approved
  │                  ↺ object / resolve (the notice clock keeps running)
  └──(its own deadline passes)──▶ lapsed
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.sdk import Machine, Timer, Transition, workflow_timeline

NOTICE_DAYS = 7


async def no_open_objection(ctx: Any) -> list[str]:
    steps = await workflow_timeline(ctx.tenant, ctx.machine, ctx.case.case_id)
    raised = sum(1 for s in steps if s.transition == "object")
    resolved = sum(1 for s in steps if s.transition == "resolve")
    return [f"{raised - resolved} objection(s) still open"] if raised > resolved else []


async def one_open_objection(ctx: Any) -> list[str]:
    return [] if await no_open_objection(ctx) else ["no objection is open"]


NOTICE = Machine(
    capability="testcap",
    case_type="notice",
    states=("draft", "notice", "ready", "approved", "lapsed"),
    initial="draft",
    final=("approved", "lapsed"),
    read_permission="testcap.read",
    transitions=(
        Transition("publish", ("draft",), "notice", permission="testcap.write", label_zh="公示"),
        Transition("object", ("notice",), "notice", permission="testcap.write", reasons_required=True,
                   label_zh="登记异议"),
        Transition("resolve", ("notice",), "notice", permission="testcap.write", guard=one_open_objection,
                   reasons_required=True, label_zh="处理异议"),
        Transition("notice_ended", ("notice",), "ready", guard=no_open_objection, label_zh="公示期满"),
        Transition("approve", ("ready",), "approved", permission="testcap.approve", label_zh="审批"),
        Transition("lapse", ("draft",), "lapsed", label_zh="逾期失效"),
    ),
    timers=(
        Timer("notice_period", "notice", "notice_ended", after=lambda tenant: dt.timedelta(days=NOTICE_DAYS)),
        Timer("draft_deadline", "draft", "lapse"),
    ),
    labels_zh={"draft": "草稿", "notice": "公示中", "ready": "待审批", "approved": "已审批", "lapsed": "已失效"},
)

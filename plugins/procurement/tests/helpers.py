"""Shared set-up of the procurement tests: organisations applying through their own logins."""

from __future__ import annotations

import itertools
from typing import Any

from core.testing import persona
from huijia_procurement.credit_code import check_char

_seq = itertools.count(1)

APPLY = """mutation($i: SocialOrgApplyInput!) {
  procurementOrgApply(input: $i) { org { id name creditCode status scoreBp hasOwnUnion serviceAreas }
    errors { field code message } }
}"""
DECIDE = """mutation($id: ID!, $a: Boolean!, $r: [String!]) {
  procurementOrgDecide(orgId: $id, approve: $a, reasons: $r) { org { id name status decisionReasons scoreBp
    scoreHistory { scoreBp source } } errors { field code message } }
}"""


def synthetic_credit_code(n: int, area: str = "440700") -> str:
    """A well-formed 民政 credit code (5 = civil affairs, 2 = 民办非企业单位) that belongs to nobody."""
    body = f"52{area}MJ{n % 10_000_000:07d}"
    return body + check_char(body)


def application(code: str | None = None, **over: Any) -> dict[str, Any]:
    n = next(_seq)
    return {"name": f"江门社工服务中心{n}", "creditCode": code or synthetic_credit_code(n * 7919 + 11),
            "registrationNo": f"粤江民证字第{n:05d}号", "registrationAuthority": "江门市民政局",
            "serviceAreas": ["440703"], "hasOwnUnion": False, **over}


async def new_org(api: Any, tenant: Any, approver: Any | None = None, unit: str | None = None,
                  **over: Any) -> tuple[Any, dict[str, Any]]:
    """A social_org login at ``unit`` (default the root) that applied; approved when ``approver`` is given."""
    who = await persona(api, tenant.code, "social_org", unit or tenant.root_unit)
    made = (await who.api.data(APPLY, {"i": application(**over)}))["procurementOrgApply"]
    assert made["errors"] == [], made
    org = made["org"]
    if approver is not None:
        done = (await approver.data(DECIDE, {"id": org["id"], "a": True}))["procurementOrgDecide"]
        assert done["errors"] == [], done
        org = done["org"]
    return who.api, org


# -- calls on an accelerated tenant (sandbox: a day of the call's calendar lasts a second) -----------


CALL_FIELDS = "id state version tenderEnd enquiryEnd standstillEnd awardBidId awardReasons"
CREATE_CALL = ("mutation($i: CallCreateInput!) { procurementCallCreate(input: $i) { call { " + CALL_FIELDS
               + " title budgetFen } errors { field code message } } }")
STEP = ("mutation($id: ID!, $s: CallStep!, $r: [String!]) { procurementCallStep(callId: $id, step: $s, reasons: $r) "
        "{ call { " + CALL_FIELDS + " } errors { field code message } } }")
BID = """mutation($id: ID!, $p: BigInt!, $d: [BidDocumentInput!]!) {
  procurementBidSubmit(callId: $id, priceFen: $p, documents: $d) { bid { id callId priceFen }
    errors { field code message } } }"""
CALL_ONE = "query($id: ID!) { procurementCall(id: $id) { " + CALL_FIELDS + " questions { question answer } } }"
BIDS = "query($id: ID!) { procurementCallBids(callId: $id) { id orgId orgName priceFen hasOwnUnion documentIds } }"


def call_input(tenant: Any, **over: Any) -> dict[str, Any]:
    return {"orgUnitId": tenant.unit_ids[tenant.root_unit], "title": "法律知识进企业（12场，覆盖1500人）",
            "category": "legal_aid", "budgetFen": 3_000_000, "enquiryDays": 1, "tenderDays": 6, "standstillDays": 2,
            **over}


async def run_timers(tenant: Any, now: Any = None) -> None:
    """What the host's cron does every ten minutes, now (optionally as if at ``now``)."""
    from core.sdk import tenant_scope, workflow_run_timers
    from huijia_procurement.workflow import CALL

    ctx = await tenant.context()
    with tenant_scope(ctx):
        await workflow_run_timers(ctx, [CALL], now=now)


def parse(ts: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(ts)


async def wait_until(ts: str) -> None:
    import asyncio
    import datetime as dt

    left = (parse(ts) - dt.datetime.now(dt.UTC)).total_seconds()
    if left > 0:
        await asyncio.sleep(left + 0.05)


async def published_call(clerk: Any, approver: Any, tenant: Any, **over: Any) -> dict[str, Any]:
    """A call drafted, published and moved into its bidding period (the enquiry period's timer fired)."""
    made = (await clerk.data(CREATE_CALL, {"i": call_input(tenant, **over)}))["procurementCallCreate"]
    assert made["errors"] == [], made
    pub = (await approver.data(STEP, {"id": made["call"]["id"], "s": "PUBLISH"}))["procurementCallStep"]
    assert pub["errors"] == [] and pub["call"]["state"] == "enquiries", pub
    await run_timers(tenant, parse(pub["call"]["enquiryEnd"]))
    call = (await clerk.data(CALL_ONE, {"id": made["call"]["id"]}))["procurementCall"]
    assert call["state"] == "bidding", call
    return call


# -- the evaluation panel ------------------------------------------------------------------------------

APPOINT = """mutation($c: ID!, $u: ID!) { procurementPanelAppoint(callId: $c, userId: $u) { member { userId declared }
  errors { field code message } } }"""
DECLARE = """mutation($c: ID!, $n: Boolean!) { procurementPanelDeclare(callId: $c, noConflict: $n) {
  member { declared conflict } errors { field code message } } }"""
SCORE = """mutation($c: ID!, $b: ID!, $s: [CriterionScoreInput!]!) { procurementScoreSubmit(callId: $c, bidId: $b,
  scores: $s) { scored errors { field code message } } }"""
AWARD = """mutation($id: ID!, $b: ID!, $r: [String!]!) { procurementCallAward(callId: $id, bidId: $b, reasons: $r) {
  call { id state standstillEnd awardBidId awardReasons } errors { field code message } } }"""
CRITERIA = ("targeting", "breadth", "innovation", "demonstration", "professionalism")


def points(p: int) -> list[dict[str, Any]]:
    return [{"criterion": c, "points": p} for c in CRITERIA]


async def evaluator(api: Any, tenant: Any, approver: Any, call_id: str, *, declare: bool | None = True,
                    role: str = "clerk") -> Any:
    """A staff user appointed to the call's panel (and, unless ``declare`` is None, declared)."""
    who = (await persona(api, tenant.code, role, tenant.root_unit)).api
    user_id = (await who.data("{ me { user { id } } }"))["me"]["user"]["id"]
    made = (await approver.data(APPOINT, {"c": call_id, "u": user_id}))["procurementPanelAppoint"]
    assert made["errors"] == [], made
    if declare is not None:
        done = (await who.data(DECLARE, {"c": call_id, "n": declare}))["procurementPanelDeclare"]
        assert done["errors"] == [], done
    who.user_id = user_id
    return who


async def bidding_closed(api: Any, clerk: Any, approver: Any, tenant: Any, prices: list[int],
                         unions: list[bool] | None = None) -> tuple[dict[str, Any], list[Any]]:
    """A call with one bid per price (from new approved organisations), past its deadline, in evaluation."""
    import base64

    # organisations first: the sandbox's bidding period lasts seconds
    orgs = [await new_org(api, tenant, approver, hasOwnUnion=bool(unions and unions[i])) for i in range(len(prices))]
    call = await published_call(clerk, approver, tenant)
    docs = [{"filename": "方案.pdf", "contentBase64": base64.b64encode(b"%PDF-1.4 plan").decode()}]
    for (org_api, _), price in zip(orgs, prices, strict=True):
        body = (await org_api.data(BID, {"id": call["id"], "p": price, "d": docs}))["procurementBidSubmit"]
        assert body["errors"] == [], body
    await wait_until(call["tenderEnd"])
    await run_timers(tenant)
    call = (await clerk.data(CALL_ONE, {"id": call["id"]}))["procurementCall"]
    assert call["state"] == "evaluation", call
    return call, orgs


async def awarded_call(api: Any, staff: dict[str, Any], tenant: Any, prices: list[int],
                       clerk: Any | None = None) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
    """A call awarded to its cheapest bid (equal scores) and past its standstill: ready to sign."""
    approver = staff["approver"]
    call, orgs = await bidding_closed(api, clerk or staff["clerk"], approver, tenant, prices)
    judge = await evaluator(api, tenant, approver, call["id"])
    bids = sorted((await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"], key=lambda b: b["priceFen"])
    for bid in bids:
        assert (await judge.data(SCORE, {"c": call["id"], "b": bid["id"], "s": points(80)}))[
            "procurementScoreSubmit"]["errors"] == []
    done = (await approver.data(AWARD, {"id": call["id"], "b": bids[0]["id"], "r": ["综合排名第一"]}))["procurementCallAward"]
    assert done["errors"] == [], done
    await run_timers(tenant, parse(done["call"]["standstillEnd"]))
    call = (await approver.data(CALL_ONE, {"id": call["id"]}))["procurementCall"]
    assert call["state"] == "awarded", call
    return call, orgs, bids[0]

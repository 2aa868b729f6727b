"""service_network meets procurement. Referral of service requests to contracted social organisations: with procurement enabled, its
contract register answers service_network's referral hook (approved, not blacklisted, a signed and
unfinished contract in the request's category); without it the tenant's settings list does. Needs
from requests: a clerk turns service requests into a need-list item, linked both ways; refused
without procurement."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest

from core.testing import create_plugin_tenant, persona

from .helpers import (
    AWARD,
    BID,
    BIDS,
    SCORE,
    evaluator,
    new_org,
    parse,
    points,
    published_call,
    run_timers,
    synthetic_credit_code,
    wait_until,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONTRACTED = synthetic_credit_code(9_100_001)
UNCONTRACTED = synthetic_credit_code(9_100_002)
SETTINGS = f"""
[settings.procurement]
sandbox_acceleration = 86400

[settings.service_network]
contracted_social_orgs = ["阳光社工", "{CONTRACTED}"]
request_categories = [
  {{ code = "legal_aid", label_zh = "法律援助", route = "social_org", social_org_credit_code = "{CONTRACTED}" }},
  {{ code = "counselling", label_zh = "心理咨询", route = "social_org", social_org_credit_code = "{UNCONTRACTED}" }},
  {{ code = "childcare", label_zh = "托育服务", route = "social_org", social_org = "阳光社工" }},
  {{ code = "other", label_zh = "其他" }},
]
"""
SUBMIT = """mutation($i: ServiceRequestInput!) { serviceRequestSubmit(input: $i) { request { id socialOrg
  referralCapability referralContractId referralOrgId } errors { field code message messageZh } } }"""
SIGN = """mutation($c: ID!, $m: [MilestoneInput!]!) { procurementContractSign(callId: $c, milestones: $m) {
  call { id state } errors { field code message } } }"""
CONTRACTS = "{ procurementContracts { id milestones { id } } }"
DELIVER = """mutation($m: ID!, $n: String!) { procurementMilestoneDeliver(milestoneId: $m, note: $n) { errors { code } } }"""
ACCEPT = """mutation($m: ID!) { procurementMilestoneAccept(milestoneId: $m) { errors { code } } }"""
PAY = """mutation($m: ID!) { procurementMilestonePay(milestoneId: $m) { milestone { status } errors { code } } }"""
LIFT = """mutation($id: ID!) { procurementOrgBlacklistLift(entryId: $id) { errors { code } } }"""
BLACKLIST = """mutation($id: ID!, $r: String!, $s: Date!, $e: Date!) {
  procurementOrgBlacklist(orgId: $id, reason: $r, startsOn: $s, endsOn: $e) { entry { id } errors { code } } }"""
ONE = "query($id: ID!) { serviceRequest(id: $id) { id } }"


async def _fund(tenant) -> None:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry
    from core.tenancy import queries as tenancy

    ctx = await tenant.context()
    with tenant_scope(ctx):
        unit = await tenancy.get_unit_by_code(ctx, tenant.root_unit)
        refs = [AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                AccountRef(org_unit_id=unit["id"], fund="general", code="404")]
        for _ in range(2):
            done = await create_manual_entry(ctx, Actor(None, "test"), refs=refs, amounts=[5_000_000, -5_000_000],
                                             key=f"referral-test-{uuid.uuid4().hex}", memo="test funding")
            assert done.entry_id is not None


async def _sign_with(api, tenant, clerk, approver, org_api) -> None:
    """A legal-aid call the organisation wins, signed: the real way a contract comes to be."""
    call = await published_call(clerk, approver, tenant)
    docs = [{"filename": "方案.pdf", "contentBase64": base64.b64encode(b"%PDF-1.4 plan").decode()}]
    assert (await org_api.data(BID, {"id": call["id"], "p": 1_000_000, "d": docs}))["procurementBidSubmit"][
        "errors"] == []
    await wait_until(call["tenderEnd"])
    await run_timers(tenant)
    judge = await evaluator(api, tenant, approver, call["id"])
    bid = (await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"][0]
    assert (await judge.data(SCORE, {"c": call["id"], "b": bid["id"], "s": points(80)}))["procurementScoreSubmit"][
        "errors"] == []
    done = (await approver.data(AWARD, {"id": call["id"], "b": bid["id"], "r": ["唯一有效投标"]}))["procurementCallAward"]
    assert done["errors"] == [], done
    await run_timers(tenant, parse(done["call"]["standstillEnd"]))
    signed = (await approver.data(SIGN, {"c": call["id"], "m": [
        {"title": "全期", "deliverable": "12场法律讲座", "percent": 100}]}))["procurementContractSign"]
    assert signed["errors"] == [], signed


def _codes(out: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in out["errors"]]


async def test_the_contract_register_decides_referrals(api, tmp_path) -> None:
    t = await create_plugin_tenant(["procurement", "service_network"], tmp_path, SETTINGS)
    await _fund(t)
    clerk = (await persona(api, t.code, "clerk", t.root_unit)).api
    approver = (await persona(api, t.code, "approver", t.root_unit)).api
    org_api, org = await new_org(api, t, approver, creditCode=CONTRACTED)
    await new_org(api, t, approver, creditCode=UNCONTRACTED)
    base = {"orgUnitId": t.unit_ids[t.grassroots_unit], "channel": "hotline", "summary": "需要帮助"}

    # approved but no contract yet: refused, though the settings list names it
    before = (await clerk.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert _codes(before) == [("category", "NOT_ELIGIBLE")] and "签订" in before["errors"][0]["messageZh"]
    await _sign_with(api, t, clerk, approver, org_api)
    contract = (await approver.data(CONTRACTS))["procurementContracts"][0]
    contract_id = contract["id"]
    ok = (await clerk.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert ok["errors"] == [], ok
    assert ok["request"]["referralCapability"] == "procurement"
    assert ok["request"]["referralContractId"] == contract_id and ok["request"]["referralOrgId"] == org["id"]
    assert ok["request"]["socialOrg"] == org["name"]
    # an approved organisation without a contract, and one only the settings list knows: refused
    for category in ("counselling", "childcare"):
        out = (await clerk.data(SUBMIT, {"i": {**base, "category": category}}))["serviceRequestSubmit"]
        assert _codes(out) == [("category", "NOT_ELIGIBLE")], (category, out)

    # another province: the same credit code is not under contract there, and it sees nothing of ours
    other = await create_plugin_tenant(["procurement", "service_network"], tmp_path, SETTINGS)
    stranger = (await persona(api, other.code, "clerk", other.root_unit)).api
    theirs = (await stranger.data(SUBMIT, {"i": {**base, "orgUnitId": other.unit_ids[other.grassroots_unit],
                                                  "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert _codes(theirs) == [("category", "NOT_ELIGIBLE")]
    assert (await stranger.data(ONE, {"id": ok["request"]["id"]}))["serviceRequest"] is None

    # blacklisted: no more referrals under its contract
    today = dt.date.today()
    listed = (await approver.data(BLACKLIST, {"id": org["id"], "r": "虚报服务人次", "s": str(today - dt.timedelta(days=1)),
                                               "e": str(today + dt.timedelta(days=30))}))["procurementOrgBlacklist"]
    assert listed["errors"] == [], listed
    after = (await clerk.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert _codes(after) == [("category", "NOT_ELIGIBLE")]
    assert (await approver.data(LIFT, {"id": listed["entry"]["id"]}))["procurementOrgBlacklistLift"]["errors"] == []
    lifted = (await clerk.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert lifted["errors"] == [] and lifted["request"]["referralContractId"] == contract_id

    # finished (its last milestone paid): no more referrals under it
    finance = (await persona(api, t.code, "finance", t.root_unit)).api
    milestone = contract["milestones"][0]["id"]
    assert (await org_api.data(DELIVER, {"m": milestone, "n": "12场讲座已完成"}))["procurementMilestoneDeliver"][
        "errors"] == []
    assert (await clerk.data(ACCEPT, {"m": milestone}))["procurementMilestoneAccept"]["errors"] == []
    assert (await finance.data(PAY, {"m": milestone}))["procurementMilestonePay"]["milestone"]["status"] == "paid"
    finished = (await clerk.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert _codes(finished) == [("category", "NOT_ELIGIBLE")]


async def test_without_procurement_the_settings_list_answers(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path, SETTINGS.split("[settings.service_network]")[0]
                                   .replace("[settings.procurement]\nsandbox_acceleration = 86400\n", "")
                                   + "[settings.service_network]" + SETTINGS.split("[settings.service_network]")[1])
    clerk = (await persona(api, t.code, "clerk", t.root_unit)).api
    base = {"orgUnitId": t.unit_ids[t.grassroots_unit], "channel": "hotline", "summary": "需要帮助"}
    by_code = (await clerk.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert by_code["errors"] == [] and by_code["request"]["referralCapability"] == "settings"
    assert by_code["request"]["referralContractId"] is None and by_code["request"]["socialOrg"] == CONTRACTED
    by_name = (await clerk.data(SUBMIT, {"i": {**base, "category": "childcare"}}))["serviceRequestSubmit"]
    assert by_name["errors"] == [] and by_name["request"]["socialOrg"] == "阳光社工"
    refused = (await clerk.data(SUBMIT, {"i": {**base, "category": "counselling"}}))["serviceRequestSubmit"]
    assert _codes(refused) == [("category", "NOT_ELIGIBLE")]


TO_NEED = """mutation($ids: [ID!]!, $i: RequestsToNeedInput!) { serviceRequestsToNeed(ids: $ids, input: $i) { needId
  requests { id procurementNeedId } errors { field code message messageZh } } }"""
NEED = "query($id: ID!) { node(id: $id) { ... on ServiceNeed { id title category sourceRequestIds } } }"


async def test_service_requests_become_a_need_linked_both_ways(api, tmp_path) -> None:
    t = await create_plugin_tenant(["procurement", "service_network"], tmp_path, SETTINGS)
    clerk = (await persona(api, t.code, "clerk", t.root_unit)).api
    district = (await persona(api, t.code, "clerk", t.district_unit)).api
    root = t.unit_ids[t.root_unit]
    ids = []
    for summary in ("园区缺少托育服务", "希望开设托育班"):
        made = (await clerk.data(SUBMIT, {"i": {"orgUnitId": root, "channel": "hotline", "category": "other",
                                                "summary": summary}}))["serviceRequestSubmit"]
        assert made["errors"] == [], made
        ids.append(made["request"]["id"])
    need = {"orgUnitId": root, "category": "care", "title": "职工子女暑期托管", "budgetFen": 500_000}
    # procurement's own checks refuse, and nothing is linked
    for bad, expected in (({"category": "astrology"}, ("category", "INVALID_INPUT")),
                          ({"budgetFen": 900_000_000}, ("budgetFen", "CAP_EXCEEDED")),
                          ({"title": "为机构融资担保"}, ("title", "NOT_ELIGIBLE"))):
        out = (await clerk.data(TO_NEED, {"ids": ids, "i": {**need, **bad}}))["serviceRequestsToNeed"]
        assert _codes(out) == [expected], (bad, out)
    # outside the district clerk's subtree: not found, nothing made
    outside = (await district.data(TO_NEED, {"ids": ids, "i": need}))["serviceRequestsToNeed"]
    assert [e["code"] for e in outside["errors"]] == ["NOT_FOUND"]
    assert _codes((await clerk.data(TO_NEED, {"ids": [], "i": need}))["serviceRequestsToNeed"]) == \
        [("ids", "INVALID_INPUT")]

    ok = (await clerk.data(TO_NEED, {"ids": ids, "i": need}))["serviceRequestsToNeed"]
    assert ok["errors"] == [], ok
    assert sorted(r["id"] for r in ok["requests"]) == sorted(ids)
    assert {r["procurementNeedId"] for r in ok["requests"]} == {ok["needId"]}
    made = (await clerk.data(NEED, {"id": ok["needId"]}))["node"]
    assert made["title"] == "职工子女暑期托管" and sorted(made["sourceRequestIds"]) == sorted(ids)
    # a request is on one need list once
    again = (await clerk.data(TO_NEED, {"ids": ids[:1], "i": need}))["serviceRequestsToNeed"]
    assert _codes(again) == [("ids", "INVALID_STATE")]

    # two clerks at once on one fresh request: one need, the other is told it is taken
    import asyncio

    fresh = (await clerk.data(SUBMIT, {"i": {"orgUnitId": root, "channel": "station", "category": "other",
                                             "summary": "需要职工书屋"}}))["serviceRequestSubmit"]["request"]["id"]
    both = await asyncio.gather(*(clerk.data(TO_NEED, {"ids": [fresh], "i": {**need, "title": f"职工书屋{n}"}})
                                  for n in (1, 2)))
    outcomes = sorted(tuple(e["code"] for e in b["serviceRequestsToNeed"]["errors"]) for b in both)
    assert outcomes == [(), ("INVALID_STATE",)], outcomes

    # another province sees neither the requests nor the need, and cannot use our requests
    other = await create_plugin_tenant(["procurement", "service_network"], tmp_path, SETTINGS)
    stranger = (await persona(api, other.code, "clerk", other.root_unit)).api
    theirs = (await stranger.data(TO_NEED, {"ids": ids, "i": {**need, "orgUnitId": other.unit_ids[other.root_unit]}}))
    assert [e["code"] for e in theirs["serviceRequestsToNeed"]["errors"]] == ["NOT_FOUND"]
    assert (await stranger.data(NEED, {"id": ok["needId"]}))["node"] is None


async def test_needs_from_requests_are_refused_without_procurement(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = (await persona(api, t.code, "clerk", t.root_unit)).api
    root = t.unit_ids[t.root_unit]
    made = (await clerk.data(SUBMIT, {"i": {"orgUnitId": root, "channel": "hotline", "category": "other",
                                            "summary": "需要托育"}}))["serviceRequestSubmit"]
    out = (await clerk.data(TO_NEED, {"ids": [made["request"]["id"]], "i": {
        "orgUnitId": root, "category": "care", "title": "托管", "budgetFen": 100}}))["serviceRequestsToNeed"]
    assert [e["code"] for e in out["errors"]] == ["CAPABILITY_NOT_ENABLED"] and out["needId"] is None
    assert "购买服务" in out["errors"][0]["messageZh"]

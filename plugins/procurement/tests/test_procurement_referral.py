"""Referral of service requests to contracted social organisations: with procurement enabled, its
contract register answers service_network's referral hook (approved, not blacklisted, a signed and
unfinished contract in the request's category); without it the tenant's settings list does."""

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
]
"""
SUBMIT = """mutation($i: ServiceRequestInput!) { serviceRequestSubmit(input: $i) { request { id socialOrg
  referralCapability referralContractId referralOrgId } errors { field code message messageZh } } }"""
SIGN = """mutation($c: ID!, $m: [MilestoneInput!]!) { procurementContractSign(callId: $c, milestones: $m) {
  call { id state } errors { field code message } } }"""
CONTRACTS = "{ procurementContracts { id } }"
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
    contract_id = (await approver.data(CONTRACTS))["procurementContracts"][0]["id"]
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

"""Service requests through the API: routing per tenant, SLA clocks, the shared case workflow,
the requester following their request, the dashboard, and rating a resolved request."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from core.testing import create_plugin_tenant, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")
_seq = itertools.count(1)

SUBMIT = """mutation($i: ServiceRequestInput!) { serviceRequestSubmit(input: $i) { request { id orgUnitId category
  categoryLabelZh channel state stateLabelZh version phoneMasked socialOrg referralCapability firstResponseDue resolutionDue responseSla
  resolutionSla allowedTransitions } errors { field code message messageZh } } }"""
STEP = """mutation($id: ID!, $t: String!, $r: [String!], $v: Int) { serviceRequestStep(id: $id, transition: $t, reasons: $r,
  expectedVersion: $v) { request { id state version firstRespondedAt resolvedAt responseSla timeline { transition toState reasons } }
  errors { field code message messageZh } } }"""
ONE = "query($id: ID!) { serviceRequest(id: $id) { id state stateLabelZh } }"
RATE = """mutation($i: RatingInput!) { ratingSubmit(input: $i) { rating { id stars } errors { field code } } }"""


def codes(payload):
    return [(e["field"], e["code"]) for e in payload["errors"]]


def pk_of(gid: str) -> int:
    return int(__import__("base64").b64decode(gid).decode().split(":")[1])


async def _member(t, phone: str) -> str:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.members.services import create_member
    from core.tenancy import services as tenancy

    tenant = await t.context()
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                  values={"name": "钱七", "id_number": synthetic_id_number(95_000 + next(_seq)),
                                          "phone": phone, "employer": "建筑公司"})
    return to_global_id("Member", row["id"])


async def test_a_hotline_wage_arrears_request_from_submission_to_rating(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    hotline = await persona(api, t.code, "clerk", t.root_unit)
    district = await persona(api, t.code, "clerk", t.district_unit)
    member = await _member(t, "13300001111")
    g1 = t.unit_ids[t.grassroots_unit]
    made = (await hotline.api.data(SUBMIT, {"i": {"orgUnitId": g1, "category": "wage_arrears", "channel": "hotline",
                                                  "summary": "工地拖欠三个月工资", "requesterName": "钱七",
                                                  "phone": "13300001111", "memberId": member}}))["serviceRequestSubmit"]
    assert made["errors"] == [], made
    req = made["request"]
    # routed to the county (district) union's aid centre, the wage-arrears clocks started
    assert req["orgUnitId"] == t.unit_ids[t.district_unit] and req["categoryLabelZh"] == "欠薪"
    assert req["state"] == "submitted" and req["stateLabelZh"] == "已提交" and req["phoneMasked"] == "133****1111"
    due = dt.datetime.fromisoformat(req["resolutionDue"]) - dt.datetime.fromisoformat(req["firstResponseDue"])
    assert due == dt.timedelta(days=10) - dt.timedelta(hours=24) and req["responseSla"] == "ok"
    assert set(req["allowedTransitions"]) == {"accept", "refer", "reject"}

    # rating before it is resolved is refused
    rate = {"subjectType": "service_request", "subjectId": pk_of(req["id"]), "memberId": member, "stars": 5}
    assert codes((await hotline.api.data(RATE, {"i": rate}))["ratingSubmit"]) == [("subjectId", "NOT_ELIGIBLE")]

    bad = (await district.api.data(STEP, {"id": req["id"], "t": "resolve"}))["serviceRequestStep"]
    assert [e["code"] for e in bad["errors"]] == ["INVALID_TRANSITION"]
    no_reason = (await district.api.data(STEP, {"id": req["id"], "t": "reject"}))["serviceRequestStep"]
    assert codes(no_reason) == [("reasons", "INVALID_INPUT")]
    accepted = (await district.api.data(STEP, {"id": req["id"], "t": "accept", "v": 1}))["serviceRequestStep"]
    assert accepted["errors"] == [] and accepted["request"]["state"] == "accepted"
    assert accepted["request"]["firstRespondedAt"] and accepted["request"]["responseSla"] == "met"
    stale = (await district.api.data(STEP, {"id": req["id"], "t": "resolve", "v": 1}))["serviceRequestStep"]
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    done = (await district.api.data(STEP, {"id": req["id"], "t": "resolve"}))["serviceRequestStep"]
    assert done["request"]["state"] == "resolved" and done["request"]["resolvedAt"]
    assert [s["transition"] for s in done["request"]["timeline"]] == ["open", "accept", "resolve"]

    rated = (await hotline.api.data(RATE, {"i": rate}))["ratingSubmit"]
    assert rated["errors"] == [] and rated["rating"]["stars"] == 5

    board = (await district.api.data("""query($s: Date!, $u: Date!) { serviceRequestDashboard(since: $s, until: $u) {
      unitName category total open overdue avgFirstResponseHours avgResolutionHours } }""",
                                      {"s": "2000-01-01", "u": "2100-01-01"}))["serviceRequestDashboard"]
    assert len(board) == 1 and board[0]["category"] == "wage_arrears" and board[0]["total"] == 1
    assert board[0]["open"] == 0 and board[0]["avgResolutionHours"] is not None


async def test_a_worker_role_cannot_submit_for_others_read_others_or_work_the_queue(api, tmp_path) -> None:
    """Workers submit and follow their own requests through the portal fields, which take the member
    from the login (test_service_network_portal.py); the staff fields are closed to them."""
    t = await create_plugin_tenant(["service_network"], tmp_path)
    worker = await persona(api, t.code, "worker", t.grassroots_unit)
    clerk = await persona(api, t.code, "clerk", t.grassroots_unit)
    need = {"orgUnitId": t.unit_ids[t.grassroots_unit], "category": "counselling", "channel": "hotline",
            "summary": "工作压力大，想咨询"}
    # The staff field takes a unit and a requester from the client: not for workers.
    refused = await worker.api.data(SUBMIT, {"i": need})
    assert [e["code"] for e in refused["serviceRequestSubmit"]["errors"]] == ["FORBIDDEN"]
    made = (await clerk.api.data(SUBMIT, {"i": need}))["serviceRequestSubmit"]
    assert made["errors"] == []
    rid = made["request"]["id"]
    # a request the worker did not submit reads as nothing
    assert (await worker.api.data(ONE, {"id": rid}))["serviceRequest"] is None
    # a worker may not work the queue
    step = (await worker.api.data(STEP, {"id": rid, "t": "accept"}))["serviceRequestStep"]
    assert [e["code"] for e in step["errors"]] in (["FORBIDDEN"], ["NOT_FOUND"])
    body = await worker.api.gql("{ serviceRequests { id } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_bad_requests_and_routing_to_a_social_organisation_without_a_contract(api, tmp_path) -> None:
    settings = """
[settings.service_network]
contracted_social_orgs = ["阳光社工"]
request_categories = [
  { code = "counselling", label_zh = "心理咨询", route = "social_org", social_org = "阳光社工" },
  { code = "childcare", label_zh = "托育服务", route = "social_org", social_org = "无合同托育机构" },
  { code = "legal_aid", label_zh = "法律援助", level = "province" },
]
"""
    t = await create_plugin_tenant(["service_network"], tmp_path, settings=settings)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    district = await persona(api, t.code, "clerk", t.district_unit)
    g1 = t.unit_ids[t.grassroots_unit]
    base = {"orgUnitId": g1, "channel": "hotline", "summary": "需要帮助"}
    ok = (await clerk.api.data(SUBMIT, {"i": {**base, "category": "counselling"}}))["serviceRequestSubmit"]
    assert ok["errors"] == [] and ok["request"]["socialOrg"] == "阳光社工"
    assert ok["request"]["referralCapability"] == "settings"
    refused = (await clerk.api.data(SUBMIT, {"i": {**base, "category": "childcare"}}))["serviceRequestSubmit"]
    assert codes(refused) == [("category", "NOT_ELIGIBLE")] and "签订" in refused["errors"][0]["messageZh"]
    # legal aid routes to the province here: the district clerk cannot see or work it
    up = (await clerk.api.data(SUBMIT, {"i": {**base, "category": "legal_aid"}}))["serviceRequestSubmit"]["request"]
    assert up["orgUnitId"] == t.unit_ids[t.root_unit]
    assert (await district.api.data(ONE, {"id": up["id"]}))["serviceRequest"] is None
    assert [e["code"] for e in (await district.api.data(STEP, {"id": up["id"], "t": "accept"}))["serviceRequestStep"][
        "errors"]] == ["NOT_FOUND"]
    for bad, field in (({"category": "astrology"}, "category"), ({"category": "legal_aid", "channel": "fax"}, "channel"),
                       ({"category": "legal_aid", "summary": " "}, "summary"),
                       ({"category": "legal_aid", "phone": "123"}, "phone")):
        out = (await clerk.api.data(SUBMIT, {"i": {**base, **bad}}))["serviceRequestSubmit"]
        assert [e["field"] for e in out["errors"]] == [field], (bad, out)
    # a district clerk cannot submit for a unit outside their subtree
    outside = (await district.api.data(SUBMIT, {"i": {**base, "orgUnitId": t.unit_ids[t.root_unit],
                                                      "category": "legal_aid"}}))["serviceRequestSubmit"]
    assert codes(outside) == [("orgUnitId", "NOT_FOUND")]
    # another tenant's clerk sees nothing of it
    other = await create_plugin_tenant(["service_network"], tmp_path)
    stranger = await persona(api, other.code, "clerk", other.root_unit)
    assert (await stranger.api.data(ONE, {"id": up["id"]}))["serviceRequest"] is None


async def test_resolved_requests_close_by_the_timer(api, tmp_path) -> None:
    from core.sdk import tenant_scope, workflow_run_timers
    from huijia_service_network.requests import REQUEST

    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    rid = (await clerk.api.data(SUBMIT, {"i": {"orgUnitId": t.unit_ids[t.root_unit], "category": "other",
                                               "channel": "station", "summary": "饮水机坏了"}}))["serviceRequestSubmit"][
        "request"]["id"]
    for step in ("accept", "resolve"):
        assert (await clerk.api.data(STEP, {"id": rid, "t": step}))["serviceRequestStep"]["errors"] == []
    tenant = await t.context()
    with tenant_scope(tenant):
        early = await workflow_run_timers(tenant, [REQUEST], now=dt.datetime.now(dt.UTC) + dt.timedelta(days=6))
        late = await workflow_run_timers(tenant, [REQUEST], now=dt.datetime.now(dt.UTC) + dt.timedelta(days=8))
    assert early.fired == 0 and late.fired == 1
    assert (await clerk.api.data(ONE, {"id": rid}))["serviceRequest"]["state"] == "closed"


async def test_a_contract_register_answers_the_referral_hook_before_the_settings_list(api, tmp_path) -> None:
    """What procurement will do: a plugin answering service_network_referral_contract decides;
    without it the tenant's contracted_social_orgs stands in."""
    import dataclasses

    from core.plugins import get_plugin_manager
    from core.sdk import DomainError, get_unit, hookimpl, tenant_scope
    from huijia_service_network import requests

    settings = """
[settings.service_network]
contracted_social_orgs = ["阳光社工"]
request_categories = [
  { code = "counselling", label_zh = "心理咨询", route = "social_org", social_org = "阳光社工" },
  { code = "childcare", label_zh = "托育服务", route = "social_org", social_org = "新签托育机构" },
]
"""
    t = await create_plugin_tenant(["service_network"], tmp_path, settings=settings)
    asked: list[tuple[str, str]] = []

    class Contracts:
        @hookimpl
        def service_network_referral_contract(self, tenant, org, category):
            asked.append((org["name"], category))
            contracted = {"新签托育机构": True, "阳光社工": False}.get(org["name"])

            async def answer():
                return {"contracted": contracted, "capability": "test", "org_id": 7, "contract_id": 70,
                        "name": org["name"]}

            return answer()

    base = await t.context()
    with tenant_scope(base):
        origin = await get_unit(base, pk_of(t.unit_ids[t.grassroots_unit]))
        # the settings list alone: 阳光社工 yes, the new one no
        listed = (await requests.route(base, origin, requests.category(base, "counselling")))[1]
        assert listed == {"name": "阳光社工", "capability": "settings", "org_id": None, "contract_id": None}
        with pytest.raises(DomainError) as caught:
            await requests.route(base, origin, requests.category(base, "childcare"))
        assert caught.value.code.value == "NOT_ELIGIBLE"
        pm = get_plugin_manager()
        pm.register(Contracts(), name="sn_test_contracts")
        try:
            tenant = dataclasses.replace(base, plugins=("sn_test_contracts",))
            referred = (await requests.route(tenant, origin, requests.category(tenant, "childcare")))[1]
            assert referred == {"name": "新签托育机构", "capability": "test", "org_id": 7, "contract_id": 70}
            with pytest.raises(DomainError):  # the register says the listed organisation's contract has ended
                await requests.route(tenant, origin, requests.category(tenant, "counselling"))
        finally:
            pm.unregister(name="sn_test_contracts")
    assert asked == [("新签托育机构", "childcare"), ("阳光社工", "counselling")]

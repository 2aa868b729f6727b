"""The worker portal's service-network fields (core.sdk.require_worker) on PostgreSQL: a worker
submits a need, follows their requests, rates what they used and sees their check-ins; another
worker's request reads as not found by id; staff accounts are refused."""

from __future__ import annotations

import itertools
import random

import httpx
import pytest

from core.testing import Api, create_plugin_tenant, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")
_seq = itertools.count(random.randrange(1000, 9000) * 10)
_ips = itertools.count(1)

REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token worker { status memberId }
  errors { field code message } } }"""
SUBMIT = """mutation($category: String!, $summary: String!, $phone: String, $stationId: ID, $serviceItemId: ID) {
  workerServiceRequestSubmit(category: $category, summary: $summary, phone: $phone, stationId: $stationId,
  serviceItemId: $serviceItemId) { request { id state category channel orgUnitId phoneMasked allowedTransitions }
  errors { field code message messageZh } } }"""
MINE = "{ myServiceRequests { id state stateLabelZh category summary } }"
ONE = "query($id: ID!) { myServiceRequest(id: $id) { id state } }"
RATE = """mutation($subjectType: String!, $subjectId: BigInt!, $stars: Int!, $dimensions: [DimensionInput!],
  $comment: String! = "") { workerRatingSubmit(subjectType: $subjectType, subjectId: $subjectId, stars: $stars,
  dimensions: $dimensions, comment: $comment) { rating { id stars version subjectType memberId }
  errors { field code message } } }"""
MY_RATINGS = "{ myRatings { subjectType stars version } }"
CHECK_INS = "{ myStationVisits { stationNumber stationName occupation visitedAt } }"
STEP = """mutation($id: ID!, $t: String!) { serviceRequestStep(id: $id, transition: $t) { request { state } errors { code } } }"""
STATION_CREATE = """mutation($i: StationInput!) { stationCreate(input: $i) { station { id number } errors { field code } } }"""


async def _worker(app, t, name: str, phone: str) -> tuple[Api, str, httpx.AsyncClient]:
    """A member of the grassroots union and the worker account bound to it (same ID number and phone)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.members.services import create_member
    from core.tenancy import services as tenancy

    id_number = synthetic_id_number(next(_seq))
    tenant = await t.context()
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                  values={"name": name, "id_number": id_number, "phone": phone, "employer": "快递公司"})
    n = next(_ips)
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.88.{n // 250 % 250}.{n % 250 + 1}", 40000)),
                          base_url="http://testserver")
    out = (await Api(c).data(REGISTER, {"i": {"tenantCode": t.code, "name": name, "idNumber": id_number, "phone": phone,
                                              "password": "worker-pass-123"}}))["workerRegister"]
    assert out["errors"] == [] and out["worker"]["status"] == "MEMBER", out
    return Api(c).as_(out["token"]), to_global_id("Member", row["id"]), c


def pk_of(gid: str) -> int:
    from core.sdk import from_global_id

    return from_global_id(gid)[1]


async def test_a_worker_submits_follows_and_rates_their_own_request(api, app, client, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    district = await persona(api, t.code, "clerk", t.district_unit)
    me, member, c1 = await _worker(app, t, "孙八", "13512340001")
    other, _, c2 = await _worker(app, t, "周九", "13512340002")
    try:
        made = (await me.data(SUBMIT, {"category": "wage_arrears", "summary": "老板拖欠两个月工资",
                                        "phone": "13512340001"}))["workerServiceRequestSubmit"]
        assert made["errors"] == [], made
        req = made["request"]
        # from my union, routed to the district's aid centre like any request; I cannot work it
        assert req["channel"] == "portal" and req["orgUnitId"] == t.unit_ids[t.district_unit]
        assert req["phoneMasked"] == "135****0001" and req["allowedTransitions"] == []
        mine = (await me.data(MINE))["myServiceRequests"]
        assert [(r["id"], r["stateLabelZh"]) for r in mine] == [(req["id"], "已提交")]
        # another worker: nothing in their list, and my request by id reads as not found
        assert (await other.data(MINE))["myServiceRequests"] == []
        assert (await other.data(ONE, {"id": req["id"]}))["myServiceRequest"] is None
        assert (await me.data(ONE, {"id": req["id"]}))["myServiceRequest"]["state"] == "submitted"

        rate = {"subjectType": "service_request", "subjectId": pk_of(req["id"]), "stars": 2}
        early = (await me.data(RATE, rate))["workerRatingSubmit"]
        assert [(e["field"], e["code"]) for e in early["errors"]] == [("subjectId", "NOT_ELIGIBLE")]
        for step in ("accept", "resolve"):
            assert (await district.api.data(STEP, {"id": req["id"], "t": step}))["serviceRequestStep"]["errors"] == []
        assert [r["state"] for r in (await me.data(MINE))["myServiceRequests"]] == ["resolved"]
        # the other worker never used it: refused; stars outside 1-5: refused
        assert (await other.data(RATE, rate))["workerRatingSubmit"]["errors"][0]["code"] == "NOT_ELIGIBLE"
        bad = (await me.data(RATE, {**rate, "stars": 6}))["workerRatingSubmit"]
        assert [(e["field"], e["code"]) for e in bad["errors"]] == [("stars", "INVALID_INPUT")]
        first = (await me.data(RATE, rate))["workerRatingSubmit"]
        assert first["errors"] == [] and first["rating"]["memberId"] == member and first["rating"]["version"] == 1
        second = (await me.data(RATE, {**rate, "stars": 4}))["workerRatingSubmit"]["rating"]
        assert second["id"] == first["rating"]["id"] and second["version"] == 2
        assert (await me.data(MY_RATINGS))["myRatings"] == [{"subjectType": "service_request", "stars": 4, "version": 2}]
        assert (await other.data(MY_RATINGS))["myRatings"] == []
    finally:
        await c1.aclose()
        await c2.aclose()


async def test_a_worker_sees_their_check_ins_and_bad_input_is_refused(api, app, client, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    st = {"orgUnitId": t.unit_ids[t.root_unit], "number": "W-1", "name": "五一广场驿站", "lat": 26.0745, "lon": 119.2965}
    assert (await clerk.api.data(STATION_CREATE, {"i": st}))["stationCreate"]["errors"] == []
    me, _, c1 = await _worker(app, t, "吴十", "13612340001")
    other, _, c2 = await _worker(app, t, "郑十一", "13612340002")
    try:
        url = f"/public/service-network/{t.code}/stations/W-1/check-in"
        assert (await client.post(url, json={"phone": "136 1234 0001", "occupation": "外卖骑手"})).status_code == 201
        got = (await me.data(CHECK_INS))["myStationVisits"]
        assert [(g["stationNumber"], g["stationName"], g["occupation"]) for g in got] == [("W-1", "五一广场驿站", "外卖骑手")]
        assert (await other.data(CHECK_INS))["myStationVisits"] == []
        # the station visit makes the station ratable by me, not by the other worker
        sid = pk_of((await clerk.api.data("{ stations { id } }"))["stations"][0]["id"])
        rate = {"subjectType": "station", "subjectId": sid, "stars": 5,
                "dimensions": [{"key": "hygiene", "stars": 5}]}
        assert (await me.data(RATE, rate))["workerRatingSubmit"]["errors"] == []
        assert (await other.data(RATE, rate))["workerRatingSubmit"]["errors"][0]["code"] == "NOT_ELIGIBLE"

        for bad, field in (({"category": "astrology"}, "category"), ({"summary": " "}, "summary"),
                           ({"phone": "123"}, "phone"), ({"stationId": "U3RhdGlvbjo5OTk5OTk="}, "stationId")):
            out = (await me.data(SUBMIT, {"category": "other", "summary": "需要帮助", **bad}))["workerServiceRequestSubmit"]
            assert [e["field"] for e in out["errors"]] == [field], (bad, out)
        # a staff account is not a worker
        body = await clerk.api.gql(MINE)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        staff_submit = (await clerk.api.data(SUBMIT, {"category": "other", "summary": "x"}))["workerServiceRequestSubmit"]
        assert [e["code"] for e in staff_submit["errors"]] == ["FORBIDDEN"]
        # another province's clerk sees none of it
        stranger_t = await create_plugin_tenant(["service_network"], tmp_path)
        stranger = await persona(api, stranger_t.code, "clerk", stranger_t.root_unit)
        assert (await stranger.api.data("{ serviceRequests { id } }"))["serviceRequests"] == []
    finally:
        await c1.aclose()
        await c2.aclose()

"""The worker portal's service-network fields through the API: a registered, bound worker submits a
need for themselves, follows it, checks in with the phone on file, sees the visit and rates the
station; another worker sees none of it; staff accounts are refused; bad input is refused."""

from __future__ import annotations

import itertools

import httpx
import pytest

from core.testing import Api, create_plugin_tenant, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")
_seq = itertools.count(1)

REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token errors { field code message } } }"""
ME = "{ myWorker { memberId } }"
CATEGORIES = "{ serviceRequestCategories { code labelZh firstResponseHours } }"
SUBMIT = """mutation($c: String!, $s: String!) { workerServiceRequestSubmit(category: $c, summary: $s) {
  request { id category state stateLabelZh channel requesterName } errors { field code message messageZh } } }"""
MINE = "{ myServiceRequests { id summary stateLabelZh responseSla } }"
CHECK_IN = """mutation($n: String!, $o: String!) { workerStationCheckIn(number: $n, occupation: $o) {
  visit { stationId stationNumber stationName occupation myStars } errors { field code message } } }"""
VISITS = "{ myStationVisits { stationNumber myStars } }"
RATE = """mutation($t: String!, $id: BigInt!, $s: Int!, $d: [DimensionInput!], $c: String!) {
  workerRatingSubmit(subjectType: $t, subjectId: $id, stars: $s, dimensions: $d, comment: $c) {
    rating { stars version flagged comment } errors { field code message } } }"""
STATION_CREATE = """mutation($i: StationInput!) { stationCreate(input: $i) { station { id number } errors { code } } }"""


def codes(payload):
    return [(e["field"], e["code"]) for e in payload["errors"]]


def pk_of(gid: str) -> int:
    return int(__import__("base64").b64decode(gid).decode().split(":")[1])


async def _worker(app, t, n: int, phone: str) -> Api:
    """A member of the grassroots union and the worker account bound to it."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.tenancy import services as tenancy

    tenant = await t.context()
    id_number = synthetic_id_number(97_000 + n)
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                            values={"name": f"孙{n}", "id_number": id_number, "phone": phone, "employer": "快递公司"})
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.77.{n // 250}.{n % 250 + 1}", 40000)),
                               base_url="http://testserver")
    made = (await Api(client).data(REGISTER, {"i": {"tenantCode": t.code, "name": f"孙{n}", "idNumber": id_number,
                                                     "phone": phone, "password": "worker-pass-123"}}))["workerRegister"]
    assert made["errors"] == [], made
    me = Api(client, made["token"])
    # Registration with the ID number and the phone on file binds the account to the member.
    assert (await me.data(ME))["myWorker"]["memberId"]
    return me


async def test_a_worker_submits_follows_checks_in_and_rates(api, app, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    n = next(_seq) * 10
    me = await _worker(app, t, n, f"1370000{n:04d}")
    other = await _worker(app, t, n + 1, f"1370000{n + 1:04d}")
    clerk = await persona(api, t.code, "clerk", t.root_unit)

    cats = (await me.data(CATEGORIES))["serviceRequestCategories"]
    assert {"code": "wage_arrears", "labelZh": "欠薪", "firstResponseHours": 24} in cats

    bad = (await me.data(SUBMIT, {"c": "astrology", "s": "x"}))["workerServiceRequestSubmit"]
    assert bad["request"] is None and bad["errors"], bad
    made = (await me.data(SUBMIT, {"c": "wage_arrears", "s": "快递站拖欠两个月工资"}))["workerServiceRequestSubmit"]
    assert made["errors"] == [], made
    req = made["request"]
    assert (req["category"], req["state"], req["channel"], req["requesterName"]) == ("wage_arrears", "submitted", "portal",
                                                                                       f"孙{n}")
    mine = (await me.data(MINE))["myServiceRequests"]
    assert [r["id"] for r in mine] == [req["id"]] and mine[0]["stateLabelZh"] == "已提交"
    assert mine[0]["responseSla"] == "ok"
    assert (await other.data(MINE))["myServiceRequests"] == []

    station = (await clerk.api.data(STATION_CREATE, {"i": {
        "orgUnitId": t.unit_ids[t.district_unit], "number": f"PT-{n}", "name": "五四路驿站", "lat": 26.08, "lon": 119.3,
        "hours": [{"start": "00:00", "end": "24:00", "kind": "staffed"}]}}))["stationCreate"]
    assert station["errors"] == [], station
    sid = pk_of(station["station"]["id"])

    # Rating before any visit: refused (the owner hook finds no check-in with my phone).
    never = (await me.data(RATE, {"t": "station", "id": sid, "s": 4, "d": [], "c": ""}))["workerRatingSubmit"]
    assert codes(never) == [("subjectId", "NOT_ELIGIBLE")]

    unknown = (await me.data(CHECK_IN, {"n": "NOPE-1", "o": "快递员"}))["workerStationCheckIn"]
    assert codes(unknown) == [("number", "NOT_FOUND")]
    no_job = (await me.data(CHECK_IN, {"n": f"PT-{n}", "o": "  "}))["workerStationCheckIn"]
    assert codes(no_job) == [("occupation", "INVALID_INPUT")]
    visit = (await me.data(CHECK_IN, {"n": f"PT-{n}", "o": "快递员"}))["workerStationCheckIn"]
    assert visit["errors"] == [] and visit["visit"]["stationName"] == "五四路驿站" and visit["visit"]["myStars"] is None
    assert (await other.data(VISITS))["myStationVisits"] == []

    six = (await me.data(RATE, {"t": "station", "id": sid, "s": 6, "d": [], "c": ""}))["workerRatingSubmit"]
    assert codes(six) == [("stars", "INVALID_INPUT")]
    rated = (await me.data(RATE, {"t": "station", "id": sid, "s": 2, "c": "没有热水",
                                  "d": [{"key": "hygiene", "stars": 2}]}))["workerRatingSubmit"]
    assert rated["errors"] == [] and rated["rating"] == {"stars": 2, "version": 1, "flagged": True, "comment": "没有热水"}
    again = (await me.data(RATE, {"t": "station", "id": sid, "s": 5, "d": [], "c": ""}))["workerRatingSubmit"]
    assert again["rating"]["version"] == 2
    assert (await me.data(VISITS))["myStationVisits"] == [{"stationNumber": f"PT-{n}", "myStars": 5}]
    # The other worker never checked in there.
    theirs = (await other.data(RATE, {"t": "station", "id": sid, "s": 5, "d": [], "c": ""}))["workerRatingSubmit"]
    assert codes(theirs) == [("subjectId", "NOT_ELIGIBLE")]


async def test_another_province_sees_nothing(api, app, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    other_t = await create_plugin_tenant(["service_network"], tmp_path)
    n = next(_seq) * 10
    me = await _worker(app, t, n, f"1370000{n:04d}")
    stranger = await _worker(app, other_t, n + 1, f"1370000{n + 1:04d}")
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    made = (await me.data(SUBMIT, {"c": "counselling", "s": "压力很大"}))["workerServiceRequestSubmit"]
    assert made["errors"] == [], made
    station = (await clerk.api.data(STATION_CREATE, {"i": {
        "orgUnitId": t.unit_ids[t.district_unit], "number": f"PX-{n}", "name": "驿站", "lat": 26.08, "lon": 119.3}}))
    assert station["stationCreate"]["errors"] == []
    assert (await me.data(CHECK_IN, {"n": f"PX-{n}", "o": "环卫工人"}))["workerStationCheckIn"]["errors"] == []
    # The other province's worker: none of it, and the station number means nothing there.
    assert (await stranger.data(MINE))["myServiceRequests"] == []
    assert (await stranger.data(VISITS))["myStationVisits"] == []
    check = (await stranger.data(CHECK_IN, {"n": f"PX-{n}", "o": "环卫工人"}))["workerStationCheckIn"]
    assert codes(check) == [("number", "NOT_FOUND")]
    rate = (await stranger.data(RATE, {"t": "station", "id": pk_of(station["stationCreate"]["station"]["id"]), "s": 5, "d": [],
                                       "c": ""}))["workerRatingSubmit"]
    assert codes(rate) == [("subjectId", "NOT_ELIGIBLE")]


async def test_staff_accounts_and_strangers_are_refused(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    for query in (MINE, VISITS):
        body = await clerk.api.gql(query)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    submit = (await clerk.api.data(SUBMIT, {"c": "wage_arrears", "s": "x"}))["workerServiceRequestSubmit"]
    assert [e["code"] for e in submit["errors"]] == ["FORBIDDEN"]
    anonymous = await api.gql(MINE, expect_status=401)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

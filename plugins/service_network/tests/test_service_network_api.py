"""The service_network capability through the real app: GraphQL for staff, the public routes for
everyone, on PostgreSQL with row-level security (huijia.testing: a fresh database, a tenant
enabling the capability, clients per role)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from core.testing import create_plugin_tenant, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")

_seq = itertools.count(1)
FUZHOU = (26.0745, 119.2965)  # WGS-84, 福州 city centre

ITEM_CREATE = """mutation($u: ID!, $i: ServiceItemInput!) {
  serviceItemCreate(orgUnitId: $u, input: $i) { item { id name published providerKind } errors { field code message messageZh } } }"""
ITEM_UPDATE = """mutation($id: ID!, $i: ServiceItemInput!) {
  serviceItemUpdate(id: $id, input: $i) { item { id published } errors { field code message } } }"""
STATION_CREATE = """mutation($i: StationInput!) {
  stationCreate(input: $i) { station { id number lat lon gcj02 stars facilities homeName unionUnitId
    hours { start end kind overnight } } errors { field code message messageZh } } }"""
STATION_UPDATE = """mutation($id: ID!, $i: StationInput!) {
  stationUpdate(id: $id, input: $i) { station { id stars } errors { field code message } } }"""
RATE = """mutation($i: RatingInput!) {
  ratingSubmit(input: $i) { rating { id stars flagged followedUp version comment dimensions { key labelZh stars }
    history { version stars comment } } errors { field code message messageZh } } }"""
FOLLOW = """mutation($id: ID!, $n: String!) {
  ratingFollowUp(id: $id, note: $n) { rating { id followedUp followUps { note resolved } } errors { field code message } } }"""


def station_input(unit: str, number: str | None = None, *, lat: float = FUZHOU[0], lon: float = FUZHOU[1], **extra):
    return {"orgUnitId": unit, "number": number or f"FZ-{next(_seq):05d}", "name": "鼓楼区五四路驿站", "lat": lat,
            "lon": lon, "address": "福州市鼓楼区五四路1号", "facilities": ["room", "tables", "water"],
            "areaM2": 25, "capacity": 12,
            "hours": [{"start": "08:00", "end": "22:00", "kind": "staffed"},
                      {"start": "22:00", "end": "08:00", "kind": "qr", "overnight": True}], **extra}


def codes(payload):
    return [(e["field"], e["code"]) for e in payload["errors"]]


# ---------------------------------------------------------------------------------------------
# Service-item lists
# ---------------------------------------------------------------------------------------------


async def test_service_items_are_published_to_the_public_without_login(plugin_tenant, clerk, client) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    item = {"name": "法律援助", "providerKind": "aid_centre", "providerName": "区职工服务中心", "howTo": "拨打12351或到中心窗口",
            "hours": "工作日 9:00-17:00", "contact": "12351", "published": True}
    made = (await clerk.data(ITEM_CREATE, {"u": unit, "i": item}))["serviceItemCreate"]
    assert made["errors"] == [] and made["item"]["published"] is True
    hidden = (await clerk.data(ITEM_CREATE, {"u": unit, "i": {**item, "name": "内部草稿", "published": False}}))
    draft_id = hidden["serviceItemCreate"]["item"]["id"]

    r = await client.get(f"/public/service-network/{plugin_tenant.code}/items",
                         params={"unit": plugin_tenant.grassroots_unit})
    assert r.status_code == 200, r.text
    names = [i["name"] for i in r.json()["items"]]
    assert "法律援助" in names and "内部草稿" not in names
    assert r.json()["items"][0]["unit"]["code"] == plugin_tenant.grassroots_unit

    # publishing the draft shows it
    upd = (await clerk.data(ITEM_UPDATE, {"id": draft_id, "i": {**item, "name": "内部草稿", "published": True}}))
    assert upd["serviceItemUpdate"]["errors"] == []
    r = await client.get(f"/public/service-network/{plugin_tenant.code}/items")
    assert "内部草稿" in [i["name"] for i in r.json()["items"]]


async def test_bad_service_items_and_the_wrong_place_are_refused(plugin_tenant, clerk, district_clerk, auditor) -> None:
    root = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    base = {"name": "心理咨询", "providerKind": "social_org", "providerName": "某社工机构"}
    bad = (await clerk.data(ITEM_CREATE, {"u": root, "i": {**base, "providerKind": "church"}}))["serviceItemCreate"]
    assert codes(bad) == [("providerKind", "INVALID_INPUT")] and bad["errors"][0]["messageZh"]
    empty = (await clerk.data(ITEM_CREATE, {"u": root, "i": {**base, "name": "  "}}))["serviceItemCreate"]
    assert codes(empty) == [("name", "INVALID_INPUT")]
    # a district clerk cannot write at the province root (outside their subtree: it does not exist for them)
    outside = (await district_clerk.data(ITEM_CREATE, {"u": root, "i": base}))["serviceItemCreate"]
    assert codes(outside) == [("orgUnitId", "NOT_FOUND")]
    # an auditor reads but does not write
    refused = (await auditor.data(ITEM_CREATE, {"u": root, "i": base}))["serviceItemCreate"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    # a root item is invisible to the district clerk, by id and in lists
    mine = (await clerk.data(ITEM_CREATE, {"u": root, "i": base}))["serviceItemCreate"]["item"]["id"]
    one = await district_clerk.data("query($id: ID!) { serviceItem(id: $id) { id } node(id: $id) { id } }", {"id": mine})
    assert one == {"serviceItem": None, "node": None}
    listed = (await district_clerk.data("{ serviceItems { id } }"))["serviceItems"]
    assert mine not in [i["id"] for i in listed]
    upd = (await district_clerk.data(ITEM_UPDATE, {"id": mine, "i": base}))["serviceItemUpdate"]
    assert codes(upd) == [("id", "NOT_FOUND")]


async def test_public_reads_are_rate_limited_per_address(api, client, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path,
                                   settings="\n[settings.service_network]\npublic_requests_per_minute = 3\n")
    statuses = [(await client.get(f"/public/service-network/{t.code}/items")).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    r = await client.get(f"/public/service-network/{t.code}/items")
    assert r.json()["error"]["code"] == "TOO_MANY_ATTEMPTS" and int(r.headers["retry-after"]) > 0


async def test_the_public_routes_answer_only_for_tenants_enabling_the_capability(api, client, tmp_path) -> None:
    other = await create_plugin_tenant([], tmp_path)
    for path in ("items", "stations/nearby?lat=26&lon=119"):
        r = await client.get(f"/public/service-network/{other.code}/{path}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert (await client.get("/public/service-network/nosuch/items")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Stations
# ---------------------------------------------------------------------------------------------


async def test_a_station_with_haicang_hours_and_gcj02_coordinates(plugin_tenant, clerk) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.district_unit]
    root = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    # What a Chinese map app shows for the Beijing test point; stored as its WGS-84 original.
    made = (await clerk.data(STATION_CREATE, {"i": station_input(
        unit, lat=39.91334545536069, lon=116.38404722455657, datum="gcj02", homeName="某街道职工之家",
        unionUnitId=root)}))["stationCreate"]
    assert made["errors"] == [], made
    s = made["station"]
    assert s["lat"] == pytest.approx(39.911954, abs=1e-8) and s["lon"] == pytest.approx(116.377817, abs=1e-8)
    assert s["gcj02"] == pytest.approx([39.91334545536069, 116.38404722455657], abs=1e-8)
    assert s["hours"] == [{"start": "08:00", "end": "22:00", "kind": "staffed", "overnight": False},
                          {"start": "22:00", "end": "08:00", "kind": "qr", "overnight": True}]
    assert s["homeName"] == "某街道职工之家" and s["unionUnitId"] == root
    # 3 of the 7 checklist items: the capability's own rule gives 1★
    assert s["stars"] == 1


async def test_bad_stations_are_refused_with_clear_errors(plugin_tenant, clerk, district_clerk) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.district_unit]
    root = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    tokyo = (await clerk.data(STATION_CREATE, {"i": station_input(unit, lat=35.68, lon=139.69)}))["stationCreate"]
    assert codes(tokyo) == [("lat", "INVALID_INPUT")] and "境内" in tokyo["errors"][0]["messageZh"]
    swapped = (await clerk.data(STATION_CREATE, {"i": station_input(unit, lat=119.3, lon=26.07)}))["stationCreate"]
    assert codes(swapped) == [("lat", "INVALID_INPUT")]
    backwards = station_input(unit, hours=[{"start": "22:00", "end": "08:00", "kind": "staffed"}])
    bw = (await clerk.data(STATION_CREATE, {"i": backwards}))["stationCreate"]
    assert codes(bw) == [("hours.0", "INVALID_INPUT")] and "早于" in bw["errors"][0]["messageZh"]
    overlap = station_input(unit, hours=[{"start": "08:00", "end": "22:00", "kind": "staffed"},
                                         {"start": "21:00", "end": "09:00", "kind": "qr", "overnight": True}])
    assert codes((await clerk.data(STATION_CREATE, {"i": overlap}))["stationCreate"]) == [("hours", "INVALID_INPUT")]
    unknown = (await clerk.data(STATION_CREATE, {"i": station_input(unit, facilities=["pool"])}))["stationCreate"]
    assert codes(unknown) == [("facilities", "INVALID_INPUT")]
    datum = (await clerk.data(STATION_CREATE, {"i": station_input(unit, datum="bd09")}))["stationCreate"]
    assert codes(datum) == [("datum", "INVALID_INPUT")]
    first = (await clerk.data(STATION_CREATE, {"i": station_input(unit, "DUP-1")}))["stationCreate"]
    assert first["errors"] == []
    dup = (await clerk.data(STATION_CREATE, {"i": station_input(unit, "DUP-1")}))["stationCreate"]
    assert codes(dup) == [("number", "DUPLICATE")]
    # the district clerk may not place a station at the root, nor link the root union
    assert codes((await district_clerk.data(STATION_CREATE, {"i": station_input(root)}))["stationCreate"]) == [
        ("orgUnitId", "NOT_FOUND")]
    linked = (await district_clerk.data(STATION_CREATE, {"i": station_input(unit, unionUnitId=root)}))["stationCreate"]
    assert codes(linked) == [("unionUnitId", "NOT_FOUND")]


async def test_a_station_update_is_rated_again_and_checks_the_target(plugin_tenant, clerk, district_clerk) -> None:
    root = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    unit = plugin_tenant.unit_ids[plugin_tenant.district_unit]
    made = (await clerk.data(STATION_CREATE, {"i": station_input(root)}))["stationCreate"]["station"]
    every = ["room", "tables", "microwave", "water", "climate", "fridge", "first_aid"]
    upd = (await clerk.data(STATION_UPDATE, {"id": made["id"], "i": station_input(root, facilities=every)}))
    assert upd["stationUpdate"]["station"]["stars"] == 3
    # a district clerk cannot see (so cannot change) a root station, nor move one of theirs to the root
    assert codes((await district_clerk.data(STATION_UPDATE, {"id": made["id"], "i": station_input(unit)}))[
        "stationUpdate"]) == [("id", "NOT_FOUND")]
    theirs = (await district_clerk.data(STATION_CREATE, {"i": station_input(unit)}))["stationCreate"]["station"]
    moved = (await district_clerk.data(STATION_UPDATE, {"id": theirs["id"], "i": station_input(root)}))["stationUpdate"]
    assert codes(moved) == [("orgUnitId", "NOT_FOUND")]


async def test_fuzhou_rates_five_stars_only_with_30_m2_room_for_20_and_an_aed(api, tmp_path) -> None:
    t = await create_plugin_tenant(["fujian", "service_network"], tmp_path)
    assert t.capabilities == ("service_network",)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    unit = t.unit_ids[t.root_unit]
    every = ["room", "tables", "microwave", "water", "climate", "fridge", "first_aid"]

    async def stars(area: int, capacity: int, facilities: list[str]) -> int:
        body = await clerk.api.data(STATION_CREATE, {"i": station_input(unit, areaM2=area, capacity=capacity,
                                                                       facilities=facilities)})
        assert body["stationCreate"]["errors"] == [], body
        return body["stationCreate"]["station"]["stars"]

    assert await stars(30, 20, [*every, "aed"]) == 5
    assert await stars(29, 20, [*every, "aed"]) == 4   # one square metre short
    assert await stars(30, 19, [*every, "aed"]) == 4   # room for 19
    assert await stars(30, 20, every) == 4             # no AED
    assert await stars(30, 20, ["aed", *every[:-1]]) == 2  # the checklist incomplete
    assert await stars(10, 5, every) == 3


# ---------------------------------------------------------------------------------------------
# The public finder
# ---------------------------------------------------------------------------------------------


async def test_the_finder_orders_by_distance_with_open_now_and_facility_filters(api, client, tmp_path) -> None:
    from core.sdk import tenant_scope
    from huijia_service_network import services

    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    unit = t.unit_ids[t.root_unit]
    tenant = await t.context()
    now = services.local_minute(tenant)

    def hhmm(m: int) -> str:
        m %= 1440
        return f"{m // 60:02d}:{m % 60:02d}"

    open_now = [{"start": hhmm(now - 60), "end": hhmm(now + 60), "kind": "staffed",
                 "overnight": (now + 60) % 1440 < (now - 60) % 1440}]
    shut = [{"start": hhmm(now + 120), "end": hhmm(now + 180), "kind": "staffed",
             "overnight": (now + 180) % 1440 < (now + 120) % 1440}]
    # Stations due north of the point, 0.5 km apart (about 0.0045° of latitude).
    made = {}
    for i in range(8):
        s = station_input(unit, f"N{i}", lat=FUZHOU[0] + 0.0045 * (i + 1), lon=FUZHOU[1],
                          hours=shut if i in (0, 3) else open_now,
                          facilities=["room", "aed"] if i in (2, 5) else ["room"])
        body = await clerk.api.data(STATION_CREATE, {"i": s})
        assert body["stationCreate"]["errors"] == [], body
        made[f"N{i}"] = body["stationCreate"]["station"]
    far = station_input(unit, "FAR", lat=FUZHOU[0] + 0.3, lon=FUZHOU[1])  # about 33 km
    assert (await clerk.api.data(STATION_CREATE, {"i": far}))["stationCreate"]["errors"] == []

    base = f"/public/service-network/{t.code}/stations/nearby"
    r = await client.get(base, params={"lat": FUZHOU[0], "lon": FUZHOU[1], "n": 3})
    assert r.status_code == 200, r.text
    got = r.json()["stations"]
    assert [s["number"] for s in got] == ["N0", "N1", "N2"]
    assert [s["distanceM"] for s in got] == sorted(s["distanceM"] for s in got)
    assert 480 <= got[0]["distanceM"] <= 520

    r = await client.get(base, params={"lat": FUZHOU[0], "lon": FUZHOU[1], "n": 3, "openNow": "1"})
    assert [s["number"] for s in r.json()["stations"]] == ["N1", "N2", "N4"]
    r = await client.get(base, params={"lat": FUZHOU[0], "lon": FUZHOU[1], "n": 5, "facility": "aed"})
    assert [s["number"] for s in r.json()["stations"]] == ["N2", "N5"]
    # everything, the far one last: the search widened until it had n stations
    r = await client.get(base, params={"lat": FUZHOU[0], "lon": FUZHOU[1], "n": 20})
    assert [s["number"] for s in r.json()["stations"]][-1] == "FAR" and len(r.json()["stations"]) == 9
    # GCJ-02 input finds the same first station
    g = __import__("huijia_service_network.geo", fromlist=["x"]).wgs_to_gcj(*FUZHOU)
    r = await client.get(base, params={"lat": g[0], "lon": g[1], "datum": "gcj02", "n": 1})
    assert r.json()["stations"][0]["number"] == "N0"
    # the finder's answer equals a brute-force one computed from every station
    with tenant_scope(tenant):
        found, _ = await services.nearest(tenant, FUZHOU[0] + 0.01, FUZHOU[1] + 0.002, 4, open_at=None,
                                          facility=None)
    from huijia_service_network import geo
    everyone = sorted((geo.haversine_m(FUZHOU[0] + 0.01, FUZHOU[1] + 0.002,
                                        FUZHOU[0] + 0.0045 * (i + 1), FUZHOU[1]), f"N{i}") for i in range(8))
    assert [f.row["number"] for f in found] == [n for _, n in everyone[:4]]


async def test_the_finder_refuses_bad_points(plugin_tenant, client) -> None:
    base = f"/public/service-network/{plugin_tenant.code}/stations/nearby"
    for params, field in (({"lat": 48.86, "lon": 2.35}, "lat"), ({"lat": "x", "lon": 119}, "lat"),
                          ({"lat": 26, "lon": "nan"}, "lon"), ({"lat": 26, "lon": 119, "n": 0}, "n"),
                          ({"lat": 26, "lon": 119, "n": 101}, "n"), ({"lat": 26, "lon": 119, "facility": "pool"}, "facilities")):
        r = await client.get(base, params=params)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (params, r.text)


# ---------------------------------------------------------------------------------------------
# QR check-ins and ratings
# ---------------------------------------------------------------------------------------------


async def _member_with_phone(t, phone: str) -> str:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.members.services import create_member
    from core.tenancy import services as tenancy

    tenant = await t.context()
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                  values={"name": "赵六", "id_number": synthetic_id_number(90_000 + next(_seq)),
                                          "phone": phone, "employer": "快递公司"})
    return to_global_id("Member", row["id"])


async def test_check_ins_encrypt_the_phone_and_a_flood_is_throttled(api, client, tmp_path) -> None:
    from core.sdk import raw, tenant_scope

    t = await create_plugin_tenant(["service_network"], tmp_path,
                                   settings="\n[settings.service_network]\ncheckins_per_phone_per_hour = 2\n")
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    await clerk.api.data(STATION_CREATE, {"i": station_input(t.unit_ids[t.root_unit], "QR-1")})
    url = f"/public/service-network/{t.code}/stations/QR-1/check-in"
    for _ in range(2):
        r = await client.post(url, json={"phone": "139 0000 1234", "occupation": "快递员"})
        assert r.status_code == 201, r.text
    flood = await client.post(url, json={"phone": "13900001234", "occupation": "快递员"})
    assert flood.status_code == 429 and flood.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert "频繁" in flood.json()["error"]["messageZh"]
    # another phone is not held up by the flood
    assert (await client.post(url, json={"phone": "13900005678", "occupation": "环卫工人"})).status_code == 201
    bad = await client.post(url, json={"phone": "12345", "occupation": "快递员"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "phone"
    assert (await client.post(url, json={"phone": "13900009999"})).status_code == 400
    assert (await client.post(f"/public/service-network/{t.code}/stations/NOPE/check-in",
                              json={"phone": "13900009999", "occupation": "快递员"})).status_code == 404
    with tenant_scope(await t.context()):
        rows = await raw("SELECT phone_enc, occupation FROM sn_station_visit")
    assert len(rows) == 3 and all("1390000" not in r["phone_enc"] for r in rows)


async def test_a_member_rates_a_station_they_used_once_per_station_with_history(api, client, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    worker = await persona(api, t.code, "worker", t.grassroots_unit)
    # A clerk of the member's union records the rating (a satisfaction survey); workers rate their own
    # through the portal fields, which take the member from the login.
    surveyor = await persona(api, t.code, "clerk", t.grassroots_unit)
    made = (await clerk.api.data(STATION_CREATE, {"i": station_input(t.unit_ids[t.district_unit], "R-1")}))
    station_pk = int(__import__("base64").b64decode(made["stationCreate"]["station"]["id"]).decode().split(":")[1])
    member = await _member_with_phone(t, "13700001111")
    stranger = await _member_with_phone(t, "13700002222")
    rating = {"subjectType": "station", "subjectId": station_pk, "memberId": member, "stars": 4,
              "dimensions": [{"key": "hygiene", "stars": 5}, {"key": "supplies", "stars": 3}], "comment": "干净"}

    never = (await surveyor.api.data(RATE, {"i": rating}))["ratingSubmit"]
    assert codes(never) == [("subjectId", "NOT_ELIGIBLE")] and "未使用" in never["errors"][0]["messageZh"]
    r = await client.post(f"/public/service-network/{t.code}/stations/R-1/check-in",
                          json={"phone": "137-0000-1111", "occupation": "外卖骑手"})
    assert r.status_code == 201

    first = (await surveyor.api.data(RATE, {"i": rating}))["ratingSubmit"]
    assert first["errors"] == [] and first["rating"]["version"] == 1 and not first["rating"]["flagged"]
    assert {d["key"]: d["labelZh"] for d in first["rating"]["dimensions"]} == {"hygiene": "卫生", "supplies": "物资"}
    for bad, field in (({"stars": 0}, "stars"), ({"stars": 6}, "stars"),
                       ({"dimensions": [{"key": "hygiene", "stars": 9}]}, "dimensions"),
                       ({"dimensions": [{"key": "taste", "stars": 3}]}, "dimensions"),
                       ({"subjectType": "spaceship", "dimensions": []}, "subjectType"),
                       ({"memberId": stranger}, "subjectId")):
        out = (await surveyor.api.data(RATE, {"i": {**rating, **bad}}))["ratingSubmit"]
        assert [e["field"] for e in out["errors"]] == [field], (bad, out)

    second = (await surveyor.api.data(RATE, {"i": {**rating, "stars": 1, "comment": "没有热水"}}))["ratingSubmit"]
    got = second["rating"]
    assert got["id"] == first["rating"]["id"] and got["version"] == 2 and got["flagged"] is True
    assert [(h["version"], h["stars"]) for h in got["history"]] == [(1, 4), (2, 1)]

    queue = (await clerk.api.data("{ ratings(flagged: true) { id comment } }"))["ratings"]
    assert [q["id"] for q in queue] == [got["id"]]
    followed = (await clerk.api.data(FOLLOW, {"id": got["id"], "n": "已电话回访，补充热水"}))["ratingFollowUp"]
    assert followed["errors"] == [] and followed["rating"]["followedUp"] is True
    assert followed["rating"]["followUps"] == [{"note": "已电话回访，补充热水", "resolved": True}]
    assert (await clerk.api.data("{ ratings(flagged: true) { id } }"))["ratings"] == []
    # a worker may neither rate in a member's name through the staff field nor follow up
    assert [e["code"] for e in (await worker.api.data(RATE, {"i": {**rating, "stars": 5}}))["ratingSubmit"]["errors"]] == [
        "FORBIDDEN"]
    assert [e["code"] for e in (await worker.api.data(FOLLOW, {"id": got["id"], "n": "x"}))["ratingFollowUp"]["errors"]] == [
        "FORBIDDEN"]

    ranking = (await clerk.api.data("""query($s: Date!, $u: Date!) { ratingRanking(since: $s, until: $u, level: "county") {
      name count averageStars lowCount rank } }""", {"s": "2000-01-01", "u": "2100-01-01"}))["ratingRanking"]
    assert ranking == [{"name": f"{t.code} 测试区总工会", "count": 1, "averageStars": 1.0, "lowCount": 1, "rank": 1}]


async def test_concurrent_ratings_of_one_station_by_one_member_keep_one_current(api, client, tmp_path) -> None:
    from core.sdk import raw, tenant_scope

    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    made = (await clerk.api.data(STATION_CREATE, {"i": station_input(t.unit_ids[t.root_unit], "C-1")}))
    pk = int(__import__("base64").b64decode(made["stationCreate"]["station"]["id"]).decode().split(":")[1])
    member = await _member_with_phone(t, "13600003333")
    await client.post(f"/public/service-network/{t.code}/stations/C-1/check-in",
                      json={"phone": "13600003333", "occupation": "保洁"})
    results = await asyncio.gather(*[clerk.api.data(RATE, {"i": {"subjectType": "station", "subjectId": pk,
                                                                 "memberId": member, "stars": s}}) for s in (1, 2, 3, 4, 5)])
    assert all(r["ratingSubmit"]["errors"] == [] for r in results)
    with tenant_scope(await t.context()):
        current = await raw("SELECT version FROM sn_rating WHERE subject_id = {}", pk)
        history = await raw("SELECT version FROM sn_rating_history ORDER BY version")
    assert current == [{"version": 5}] and [h["version"] for h in history] == [1, 2, 3, 4, 5]


async def test_rating_a_member_outside_the_raters_subtree_is_refused(api, client, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    made = (await clerk.api.data(STATION_CREATE, {"i": station_input(t.unit_ids[t.root_unit], "S-1")}))
    pk = int(__import__("base64").b64decode(made["stationCreate"]["station"]["id"]).decode().split(":")[1])
    member = await _member_with_phone(t, "13500004444")
    # a worker at the root's other branch: give them a grant at the district, the member is in g1 below it,
    # so use an auditor (no rate permission) and a tenant without the capability instead
    auditor = await persona(api, t.code, "auditor", t.root_unit)
    out = (await auditor.api.data(RATE, {"i": {"subjectType": "station", "subjectId": pk, "memberId": member,
                                               "stars": 5}}))["ratingSubmit"]
    assert [e["code"] for e in out["errors"]] == ["FORBIDDEN"]
    other = await create_plugin_tenant(["service_network"], tmp_path)
    stranger = await persona(api, other.code, "clerk", other.root_unit)
    out = (await stranger.api.data(RATE, {"i": {"subjectType": "station", "subjectId": pk, "memberId": member,
                                                "stars": 5}}))["ratingSubmit"]
    assert codes(out) == [("memberId", "NOT_FOUND")]


async def test_a_tenant_without_the_capability_is_refused_and_sees_nothing(api, clerk, plugin_tenant, tmp_path) -> None:
    other = await create_plugin_tenant([], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    body = await outsider.api.gql("{ stations { id } }")
    assert body["errors"][0]["extensions"]["code"] == "CAPABILITY_NOT_ENABLED", body
    payload = (await outsider.api.data(STATION_CREATE, {"i": station_input(other.unit_ids[other.root_unit])}))
    assert [e["code"] for e in payload["stationCreate"]["errors"]] == ["CAPABILITY_NOT_ENABLED"]
    sid = (await clerk.data(STATION_CREATE, {"i": station_input(plugin_tenant.unit_ids[plugin_tenant.root_unit])}))[
        "stationCreate"]["station"]["id"]
    assert (await outsider.api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": sid}))["data"]["node"] is None


async def test_every_table_is_fenced_by_forced_row_level_security(plugin_tenant, clerk) -> None:
    from core.sdk import raw, tenant_scope

    await clerk.data(STATION_CREATE, {"i": station_input(plugin_tenant.unit_ids[plugin_tenant.root_unit])})
    tables = ["sn_service_item", "sn_station", "sn_station_window", "sn_station_visit", "sn_rating",
              "sn_rating_history", "sn_rating_follow_up", "sn_request", "sn_station_incident", "sn_station_assessment",
              "sn_station_photo"]
    for name in tables:
        rows = await raw("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = {}", name)
        assert rows == [{"relrowsecurity": True, "relforcerowsecurity": True}], name
    # without the app-level filter, another tenant's session sees none of these stations
    other = await create_plugin_tenant([], __import__("pathlib").Path(__import__("tempfile").mkdtemp()))
    with tenant_scope(await other.context()):
        assert await raw("SELECT id FROM sn_station") == []
        assert await raw("SELECT id FROM sn_station_window") == []
    with tenant_scope(await plugin_tenant.context()):
        assert await raw("SELECT id FROM sn_station")


async def test_weekday_hours_through_the_api_and_open_now_on_postgresql(api, client, tmp_path) -> None:
    from core.sdk import tenant_scope
    from huijia_service_network import hours, services

    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    unit = t.unit_ids[t.root_unit]
    tenant = await t.context()
    today, _ = services.local_time(tenant)
    iso_today = today + 1
    others = [d for d in range(1, 8) if d != iso_today]
    plans = {
        # weekdays 09–18, Saturdays 09–12, closed Sundays; Friday and Saturday nights a QR door to 02:00
        "WK": [{"start": "09:00", "end": "18:00", "days": [1, 2, 3, 4, 5]}, {"start": "09:00", "end": "12:00", "days": [6]},
               {"start": "22:00", "end": "02:00", "kind": "qr", "overnight": True, "days": [5, 6]}],
        "TODAY": [{"start": "00:00", "end": "24:00", "days": [iso_today]}],  # open all day, today only
        "NOT-TODAY": [{"start": "00:00", "end": "24:00", "days": others}],   # open all day, except today
    }
    for i, (number, windows) in enumerate(plans.items()):
        out = (await clerk.api.data(STATION_CREATE, {"i": station_input(unit, number, lat=FUZHOU[0] + 0.001 * (i + 1),
                                                                         hours=windows)}))["stationCreate"]
        assert out["errors"] == [], out
    got = (await clerk.api.data("{ stations { number hours { start end overnight days } } }"))["stations"]
    wk = next(s for s in got if s["number"] == "WK")["hours"]
    assert [(h["start"], h["end"], h["days"]) for h in wk] == [("09:00", "18:00", [1, 2, 3, 4, 5]), ("09:00", "12:00", [6]),
                                                               ("22:00", "02:00", [5, 6])]

    # the public finder's openNow honours today's weekday
    r = await client.get(f"/public/service-network/{t.code}/stations/nearby",
                         params={"lat": FUZHOU[0], "lon": FUZHOU[1], "n": 5, "openNow": "1"})
    numbers = [s["number"] for s in r.json()["stations"]]
    assert "TODAY" in numbers and "NOT-TODAY" not in numbers

    # the finder on PostgreSQL agrees with the rule at every weekday, every two hours and round midnight
    parsed = {s["number"]: [hours.parse_window(h["start"], h["end"], "staffed", overnight=h["overnight"], days=h["days"])
                            for h in s["hours"]] for s in got}
    with tenant_scope(tenant):
        for day in range(7):
            for minute in [*range(0, 1440, 120), 61, 719, 1379]:
                found, _ = await services.nearest(tenant, FUZHOU[0], FUZHOU[1], 5, open_at=(day, minute), facility=None)
                want = sorted(n for n, ws in parsed.items() if hours.open_at(ws, minute, day))
                assert sorted(f.row["number"] for f in found) == want, (day, minute)

    # bad weekdays and windows overlapping on a shared day are refused; the same hours on other days are not
    bad = (await clerk.api.data(STATION_CREATE, {"i": station_input(unit, hours=[{"start": "09:00", "end": "10:00",
                                                                                  "days": [8]}])}))["stationCreate"]
    assert codes(bad) == [("hours.0", "INVALID_INPUT")] and "星期" in bad["errors"][0]["messageZh"]
    clash = [{"start": "09:00", "end": "12:00", "days": [1, 2]}, {"start": "11:00", "end": "13:00", "days": [2]}]
    bad = (await clerk.api.data(STATION_CREATE, {"i": station_input(unit, hours=clash)}))["stationCreate"]
    assert codes(bad) == [("hours", "INVALID_INPUT")]
    fine = [{"start": "09:00", "end": "12:00", "days": [1]}, {"start": "11:00", "end": "13:00", "days": [2]}]
    assert (await clerk.api.data(STATION_CREATE, {"i": station_input(unit, hours=fine)}))["stationCreate"]["errors"] == []

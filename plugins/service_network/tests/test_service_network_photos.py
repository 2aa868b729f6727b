"""Station photos through the API on PostgreSQL: stored encrypted in core's file store, checked by
content, downloaded by staff in the station's subtree only, and shown to the public when marked so
(rate-limited per address like every public read)."""

from __future__ import annotations

import base64

import httpx
import pytest

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"JFIF\x00" + bytes(range(100, 164))
STATION_CREATE = """mutation($i: StationInput!) { stationCreate(input: $i) { station { id number } errors { code } } }"""
ADD = """mutation($s: ID!, $f: String!, $c: String!, $t: String, $p: Boolean, $cap: String) {
  stationPhotoAdd(stationId: $s, filename: $f, contentBase64: $c, contentType: $t, public: $p, caption: $cap) {
    photo { id filename contentType size public caption url } errors { field code message messageZh } } }"""
REMOVE = """mutation($id: ID!) { stationPhotoRemove(id: $id) { photo { id } errors { field code } } }"""
LIST = "{ stations { number photos { filename public url } } }"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_photos_are_checked_stored_and_served_by_permission(api, app, client, tmp_path) -> None:
    from core.sdk import raw, tenant_scope

    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    district = await persona(api, t.code, "clerk", t.district_unit)
    stations = {}
    for number, unit in (("P-ROOT", t.root_unit), ("P-DIST", t.district_unit)):
        st = {"orgUnitId": t.unit_ids[unit], "number": number, "name": "驿站", "lat": 26.0745, "lon": 119.2965}
        stations[number] = (await clerk.api.data(STATION_CREATE, {"i": st}))["stationCreate"]["station"]["id"]

    made = (await clerk.api.data(ADD, {"s": stations["P-ROOT"], "f": "休息室.png", "c": b64(PNG), "p": True,
                                       "cap": "休息室"}))["stationPhotoAdd"]
    assert made["errors"] == [], made
    pub = made["photo"]
    assert (pub["contentType"], pub["size"], pub["public"]) == ("image/png", len(PNG), True)
    inner = (await clerk.api.data(ADD, {"s": stations["P-ROOT"], "f": "store.jpg", "c": b64(JPEG)}))["stationPhotoAdd"]["photo"]
    assert inner["contentType"] == "image/jpeg" and inner["public"] is False
    dist = (await district.api.data(ADD, {"s": stations["P-DIST"], "f": "d.png", "c": b64(PNG)}))["stationPhotoAdd"]
    assert dist["errors"] == []

    # checked by content: a PDF, a script named .png, a JPEG claimed as PNG, not base64, nothing at all
    for data, claimed, field in ((b"%PDF-1.4 ...", None, "contentBase64"), (b"<script>alert(1)</script>", None, "contentBase64"),
                                 (JPEG, "image/png", "contentBase64"), (b"", None, "contentBase64")):
        out = (await clerk.api.data(ADD, {"s": stations["P-ROOT"], "f": "x.png", "c": b64(data), "t": claimed}))["stationPhotoAdd"]
        assert [(e["field"], e["code"]) for e in out["errors"]] == [(field, "INVALID_INPUT")], (data[:8], out)
    out = (await clerk.api.data(ADD, {"s": stations["P-ROOT"], "f": "x.png", "c": "%%%"}))["stationPhotoAdd"]
    assert [e["field"] for e in out["errors"]] == ["contentBase64"]
    # the district clerk cannot add to the root's station (outside their subtree)
    out = (await district.api.data(ADD, {"s": stations["P-ROOT"], "f": "x.png", "c": b64(PNG)}))["stationPhotoAdd"]
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND"]

    listed = {s["number"]: s["photos"] for s in (await clerk.api.data(LIST))["stations"]}
    assert [p["filename"] for p in listed["P-ROOT"]] == ["休息室.png", "store.jpg"] and len(listed["P-DIST"]) == 1
    # stored encrypted: the file on disk is not the image
    from core.sdk import files

    path = files.store("service_network").path_for("photo", (await t.context()).id, int(pub["url"].rsplit("/", 1)[1]))
    assert path.exists() and PNG not in path.read_bytes()

    # staff download: the root clerk reads both; the district clerk only their own; no token: 401
    r = await client.get(pub["url"], headers={"Authorization": f"Bearer {clerk.token}"})
    assert r.status_code == 200 and r.content == PNG and r.headers["content-type"].startswith("image/png")
    assert (await client.get(inner["url"], headers={"Authorization": f"Bearer {district.token}"})).status_code == 404
    r = await client.get(dist["photo"]["url"], headers={"Authorization": f"Bearer {district.token}"})
    assert r.status_code == 200 and r.content == PNG
    assert (await client.get(pub["url"])).status_code == 401
    other = await create_plugin_tenant(["service_network"], tmp_path)
    stranger = await persona(api, other.code, "clerk", other.root_unit)
    assert (await client.get(pub["url"], headers={"Authorization": f"Bearer {stranger.token}"})).status_code == 404

    # the public: the public photo only, by the station's number
    base = f"/public/service-network/{t.code}/stations/P-ROOT/photos"
    r = await client.get(base)
    assert r.status_code == 200 and [p["caption"] for p in r.json()["photos"]] == ["休息室"]
    got = await client.get(r.json()["photos"][0]["url"])
    assert got.status_code == 200 and got.content == PNG and "public" in got.headers["cache-control"]
    inner_id = inner["url"].rsplit("/", 1)[1]
    assert (await client.get(f"{base}/{inner_id}")).status_code == 404
    assert (await client.get(f"/public/service-network/{other.code}/stations/P-ROOT/photos")).json()["photos"] == []

    # removed: gone from the list, the store and the route
    assert (await clerk.api.data(REMOVE, {"id": inner["id"]}))["stationPhotoRemove"]["errors"] == []
    assert (await clerk.api.data(REMOVE, {"id": inner["id"]}))["stationPhotoRemove"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await client.get(inner["url"], headers={"Authorization": f"Bearer {clerk.token}"})).status_code == 404
    with tenant_scope(await t.context()):
        assert len(await raw("SELECT id FROM sn_station_photo WHERE station_id IN (SELECT id FROM sn_station "
                             "WHERE number = 'P-ROOT')")) == 1
    with tenant_scope(await other.context()):
        assert await raw("SELECT id FROM sn_station_photo") == []  # the fence, without the app's filter


async def test_public_photo_reads_are_rate_limited_per_address(api, app, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path,
                                   settings="\n[settings.service_network]\npublic_requests_per_minute = 3\n")
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    st = {"orgUnitId": t.unit_ids[t.root_unit], "number": "RL-1", "name": "驿站", "lat": 26.0745, "lon": 119.2965}
    sid = (await clerk.api.data(STATION_CREATE, {"i": st}))["stationCreate"]["station"]["id"]
    url = (await clerk.api.data(ADD, {"s": sid, "f": "a.png", "c": b64(PNG), "p": True}))["stationPhotoAdd"]["photo"]["url"]
    pid = url.rsplit("/", 1)[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.99.1.7", 40000)),
                                 base_url="http://testserver") as c:
        codes = [(await c.get(f"/public/service-network/{t.code}/stations/RL-1/photos/{pid}")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]

"""The stations' yearly assessment through the API on PostgreSQL: staff record missed hours,
shortages and complaints; the assessment job (arq on Redis) computes one record per station and
year with the triggers that fired and the star change; a province rule adds or overrides triggers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from core.testing import create_plugin_tenant, persona, run_jobs

pytestmark = pytest.mark.asyncio(loop_scope="session")
_seq = itertools.count(1)

SEVEN = ["room", "tables", "microwave", "water", "climate", "fridge", "first_aid"]  # Wuhan's 七个一: 3★
STATION_CREATE = """mutation($i: StationInput!) { stationCreate(input: $i) { station { id number stars } errors { field code } } }"""
STATION_UPDATE = """mutation($id: ID!, $i: StationInput!) { stationUpdate(id: $id, input: $i) { station { stars } errors { code } } }"""
RECORD = """mutation($s: ID!, $k: String!, $d: Date!, $h: Int, $n: String) {
  stationIncidentRecord(stationId: $s, kind: $k, occurredOn: $d, hours: $h, note: $n) {
    incident { id kind kindLabelZh quantity occurredOn } errors { field code message messageZh } } }"""
RUN = """mutation($y: Int!) { stationAssessmentRun(year: $y) { jobId errors { field code message } } }"""
LIST = """query($y: Int!, $d: Boolean) { stationAssessments(year: $y, downgradedOnly: $d) { stationNumber year starsBefore
  starsAfter missedHours shortages complaints ratings satisfaction ratingsPrev satisfactionPrev
  triggers { code labelZh downgrade detail } } }"""
JOB = """query($id: ID!) { job(id: $id) { status result } }"""
INCIDENTS = """query($s: ID!, $y: Int!) { stationIncidents(stationId: $s, year: $y) { kind quantity } }"""

YEAR = dt.date.today().year
# Incidents of the assessed year, dated early in it so they are never in the future.
D1, D2 = dt.date(YEAR, 1, 1).isoformat(), dt.date(YEAR, 1, 2).isoformat()


def station(unit: str, number: str) -> dict:
    return {"orgUnitId": unit, "number": number, "name": f"驿站{number}", "lat": 26.0745 + next(_seq) * 0.001,
            "lon": 119.2965, "facilities": SEVEN, "areaM2": 25, "capacity": 12}


async def _ratings(t, station_gid: str, year: int, stars: list[int]) -> None:
    """Ratings of a station in a given year. A past year's ratings cannot be made through the API
    (they are stamped now), so they are written as the rating service would have stored them then."""
    from core.sdk import from_global_id, raw, tenant_scope

    sid = from_global_id(station_gid, "Station")[1]
    tenant = await t.context()
    with tenant_scope(tenant):
        unit = (await raw("SELECT org_unit_id FROM sn_station WHERE id = {}", sid))[0]["org_unit_id"]
        for s in stars:
            await raw("INSERT INTO sn_rating (tenant_id, org_unit_id, subject_type, subject_id, member_id, stars, "
                      "dimensions, comment, flagged, followed_up, version, rated_at) VALUES ({}, {}, 'station', {}, {}, {}, "
                      "{}, '', {}, {}, 1, {})", tenant.id, unit, sid, 900_000 + next(_seq), s, "{}", s <= 2, False,
                      dt.datetime(year, 6, 1, tzinfo=dt.UTC))


async def test_the_yearly_assessment_downgrades_by_the_triggers_that_fired(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    root = await persona(api, t.code, "clerk", t.root_unit)
    district = await persona(api, t.code, "clerk", t.district_unit)
    unit = t.unit_ids[t.district_unit]
    made = {}
    for n in ("A", "B", "C", "D", "E"):
        out = (await root.api.data(STATION_CREATE, {"i": station(unit, n)}))["stationCreate"]
        assert out["errors"] == [] and out["station"]["stars"] == 3
        made[n] = out["station"]["id"]

    async def record(who, s, kind, day=D1, hours=None):
        out = (await who.api.data(RECORD, {"s": made[s], "k": kind, "d": day, "h": hours}))["stationIncidentRecord"]
        assert out["errors"] == [], out
        return out["incident"]

    # A: 16 missed hours (the threshold) and 3 complaints: two stars lost, 3★ -> 1★
    first = await record(district, "A", "missed_hours", D1, 8)
    assert first["quantity"] == 8 and first["kindLabelZh"] == "缺勤闭站"
    await record(district, "A", "missed_hours", D2, 8)
    for _ in range(3):
        await record(district, "A", "complaint")
    # B: 15 missed hours (one short) and 4 shortages: one star lost
    await record(district, "B", "missed_hours", D1, 15)
    for _ in range(4):
        await record(root, "B", "shortage")
    # C: satisfaction 4.4 last year, 3.8 this year (a fall of 0.6 >= 0.5 with 5 ratings each): one star
    await _ratings(t, made["C"], YEAR - 1, [5, 5, 4, 4, 4])
    await _ratings(t, made["C"], YEAR, [4, 4, 4, 4, 3])
    # D: a fall of 0.4 only; E: a fall of 1.0 but only 4 ratings this year: neither fires
    await _ratings(t, made["D"], YEAR - 1, [5, 5, 4, 4, 4])
    await _ratings(t, made["D"], YEAR, [4, 4, 4, 4, 4])
    await _ratings(t, made["E"], YEAR - 1, [5, 5, 5, 5, 5])
    await _ratings(t, made["E"], YEAR, [4, 4, 4, 4])
    # an incident of last year does not count this year
    await record(district, "E", "complaint", dt.date(YEAR - 1, 12, 31).isoformat())
    await record(district, "E", "complaint", dt.date(YEAR - 1, 12, 30).isoformat())
    await record(district, "E", "complaint", dt.date(YEAR - 1, 12, 29).isoformat())
    assert [i["kind"] for i in (await district.api.data(INCIDENTS, {"s": made["E"], "y": YEAR - 1}))["stationIncidents"]] \
        == ["complaint"] * 3

    # only at the province root
    refused = (await district.api.data(RUN, {"y": YEAR}))["stationAssessmentRun"]
    assert refused["jobId"] is None and [e["code"] for e in refused["errors"]] in (["FORBIDDEN"], ["NOT_FOUND"])
    bad_year = (await root.api.data(RUN, {"y": 1999}))["stationAssessmentRun"]
    assert [(e["field"], e["code"]) for e in bad_year["errors"]] == [("year", "INVALID_INPUT")]
    started = (await root.api.data(RUN, {"y": YEAR}))["stationAssessmentRun"]
    assert started["errors"] == [] and started["jobId"]
    await run_jobs()
    job = (await root.api.data(JOB, {"id": started["jobId"]}))["job"]
    assert job["status"] == "SUCCEEDED" and job["result"] == {"year": YEAR, "stations": 5, "downgraded": 3}

    got = {a["stationNumber"]: a for a in (await district.api.data(LIST, {"y": YEAR}))["stationAssessments"]}
    assert {n: (a["starsBefore"], a["starsAfter"]) for n, a in got.items()} == {
        "A": (3, 1), "B": (3, 2), "C": (3, 2), "D": (3, 3), "E": (3, 3)}
    assert [t_["code"] for t_ in got["A"]["triggers"]] == ["complaints", "missed_hours"]
    assert got["A"]["missedHours"] == 16 and got["A"]["complaints"] == 3
    assert [(t_["code"], t_["labelZh"], t_["downgrade"]) for t_ in got["B"]["triggers"]] == [("shortages", "物资短缺", 1)]
    assert got["B"]["missedHours"] == 15 and got["B"]["shortages"] == 4
    assert got["C"]["satisfaction"] == 3.8 and got["C"]["satisfactionPrev"] == 4.4
    assert [t_["code"] for t_ in got["C"]["triggers"]] == ["falling_satisfaction"]
    assert got["D"]["triggers"] == [] and got["E"]["triggers"] == [] and got["E"]["complaints"] == 0
    assert got["E"]["ratings"] == 4 and got["E"]["ratingsPrev"] == 5
    downgraded = (await district.api.data(LIST, {"y": YEAR, "d": True}))["stationAssessments"]
    assert sorted(a["stationNumber"] for a in downgraded) == ["A", "B", "C"]

    # the downgrade holds when the station's facts are edited (until the next assessment)
    again = (await root.api.data(STATION_UPDATE, {"id": made["A"], "i": station(unit, "A")}))["stationUpdate"]
    assert again["errors"] == [] and again["station"]["stars"] == 1

    # a rerun replaces the year's records (one per station): D has had three complaints since
    for _ in range(3):
        await record(root, "D", "complaint")
    assert (await root.api.data(RUN, {"y": YEAR}))["stationAssessmentRun"]["errors"] == []
    await run_jobs()
    rows = (await root.api.data(LIST, {"y": YEAR}))["stationAssessments"]
    assert len(rows) == 5
    d = next(a for a in rows if a["stationNumber"] == "D")
    assert (d["starsBefore"], d["starsAfter"], [x["code"] for x in d["triggers"]]) == (3, 2, ["complaints"])
    # A was 1★ before the rerun; its rule says 3★ and the same two triggers fire again
    a = next(a for a in rows if a["stationNumber"] == "A")
    assert (a["starsBefore"], a["starsAfter"]) == (1, 1)

    # another province sees none of it, even by the station's id
    other = await create_plugin_tenant(["service_network"], tmp_path)
    stranger = await persona(api, other.code, "clerk", other.root_unit)
    assert (await stranger.api.data(LIST, {"y": YEAR}))["stationAssessments"] == []
    out = (await stranger.api.data(RECORD, {"s": made["A"], "k": "complaint", "d": D1}))["stationIncidentRecord"]
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND"]


async def test_bad_incidents_and_the_wrong_subtree_are_refused(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    root = await persona(api, t.code, "clerk", t.root_unit)
    district = await persona(api, t.code, "clerk", t.district_unit)
    auditor = await persona(api, t.code, "auditor", t.root_unit)
    sid = (await root.api.data(STATION_CREATE, {"i": station(t.unit_ids[t.root_unit], "ROOT")}))["stationCreate"]["station"]["id"]
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for kind, day, hours, field in (("flood", D1, None, "kind"), ("missed_hours", D1, 0, "hours"),
                                    ("missed_hours", D1, 25, "hours"), ("complaint", tomorrow, None, "occurredOn")):
        out = (await root.api.data(RECORD, {"s": sid, "k": kind, "d": day, "h": hours}))["stationIncidentRecord"]
        assert [(e["field"], e["code"]) for e in out["errors"]] == [(field, "INVALID_INPUT")], (kind, out)
        assert out["errors"][0]["messageZh"]
    too_long = (await root.api.data(RECORD, {"s": sid, "k": "complaint", "d": D1, "n": "长" * 501}))["stationIncidentRecord"]
    assert [e["field"] for e in too_long["errors"]] == ["note"]
    # the station sits at the root: a district clerk cannot see it, an auditor may read but not record
    out = (await district.api.data(RECORD, {"s": sid, "k": "complaint", "d": D1}))["stationIncidentRecord"]
    assert [e["code"] for e in out["errors"]] == ["NOT_FOUND"]
    out = (await auditor.api.data(RECORD, {"s": sid, "k": "complaint", "d": D1}))["stationIncidentRecord"]
    assert [e["code"] for e in out["errors"]] == ["FORBIDDEN"]
    assert (await auditor.api.data(RUN, {"y": YEAR}))["stationAssessmentRun"]["errors"][0]["code"] == "FORBIDDEN"


async def test_a_province_rule_adds_and_overrides_triggers(api, tmp_path) -> None:
    from core.plugins import get_plugin_manager
    from core.sdk import from_global_id, hookimpl, raw, tenant_scope
    from huijia_service_network import assessment

    t = await create_plugin_tenant(["service_network"], tmp_path)
    root = await persona(api, t.code, "clerk", t.root_unit)
    sid = (await root.api.data(STATION_CREATE, {"i": station(t.unit_ids[t.root_unit], "P1")}))["stationCreate"]["station"]["id"]
    for day in (D1, D2):
        assert (await root.api.data(RECORD, {"s": sid, "k": "missed_hours", "d": day, "h": 10}))[
            "stationIncidentRecord"]["errors"] == []
    await root.api.data(RECORD, {"s": sid, "k": "shortage", "d": D1})

    class ProvinceRule:
        """A province that forgives missed hours and takes two stars for any shortage."""

        @hookimpl
        def station_assessment_triggers(self, tenant, facts):
            seen.append(dict(facts))
            out = [{"code": "missed_hours", "downgrade": 0}]
            if facts["shortages"] >= 1:
                out.append({"code": "any_shortage", "label_zh": "出现物资短缺", "downgrade": 2, "detail": "province rule"})
            return out

    seen: list[dict] = []
    pm = get_plugin_manager()
    pm.register(ProvinceRule(), name="sn_test_province_rule")
    try:
        tenant = dataclasses.replace(await t.context(), plugins=("sn_test_province_rule",))
        with tenant_scope(tenant):
            assert await assessment.assess_batch(tenant, YEAR, 0, None) == (1, from_global_id(sid, "Station")[1])
            row = (await raw("SELECT stars_before, stars_after, missed_hours, triggers FROM sn_station_assessment"))[0]
    finally:
        pm.unregister(name="sn_test_province_rule")
    assert seen and seen[0]["missed_hours"] == 20 and seen[0]["stars"] == 3 and seen[0]["year"] == YEAR
    import json

    assert (row["stars_before"], row["stars_after"]) == (3, 1)
    assert [(x["code"], x["downgrade"]) for x in json.loads(row["triggers"])] == [("any_shortage", 2)]


async def test_the_january_cron_assesses_last_year_once_per_tenant(api, tmp_path) -> None:
    from core.sdk import raw, tenant_scope
    from huijia_service_network import assessment

    t = await create_plugin_tenant(["service_network"], tmp_path)
    root = await persona(api, t.code, "clerk", t.root_unit)
    sid = (await root.api.data(STATION_CREATE, {"i": station(t.unit_ids[t.root_unit], "CRON")}))["stationCreate"]["station"]["id"]
    last = dt.date(YEAR - 1, 3, 1).isoformat()
    for _ in range(3):
        assert (await root.api.data(RECORD, {"s": sid, "k": "complaint", "d": last}))["stationIncidentRecord"]["errors"] == []
    assert await assessment.cron_assess({}) >= 1
    assert await assessment.cron_assess({}) >= 1  # fired twice: the year's key makes it one job
    tenant = await t.context()
    with tenant_scope(tenant):
        jobs = await raw("SELECT id FROM job_record WHERE tenant_id = {} AND name = 'service_network.assess_stations'",
                         tenant.id)
    assert len(jobs) == 1
    await run_jobs()
    got = (await root.api.data(LIST, {"y": YEAR - 1}))["stationAssessments"]
    assert [(a["stationNumber"], a["complaints"], a["starsAfter"]) for a in got] == [("CRON", 3, 2)]

"""The stations' yearly assessment (年度考核) with downgrade triggers: missed opening hours, supply
shortages, complaints (recorded by staff as incidents) and falling satisfaction (the station's
ratings this year against the year before). A job per tenant assesses every station in batches and
stores one record per station and year with the triggers that fired and the star change; province
plugins add or override triggers through ``station_assessment_triggers``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from core.sdk import JobContext, TenantContext, hooks_for, job, raw, transaction
from huijia_service_network import rules, services
from huijia_service_network.settings import ServiceNetworkSettings, for_tenant

INCIDENT_KINDS = {"missed_hours": "缺勤闭站", "shortage": "物资短缺", "complaint": "投诉"}
TRIGGER_ZH = {"missed_hours": "未按时开放", "shortages": "物资短缺", "complaints": "投诉较多",
              "falling_satisfaction": "满意度下降"}
BATCH = 500  # stations per query round: a province has tens of thousands


def default_triggers(s: ServiceNetworkSettings, f: dict[str, Any]) -> list[dict[str, Any]]:
    """The capability's triggers, one star each, thresholds from the tenant's settings."""
    fired: list[dict[str, Any]] = []
    if f["missed_hours"] >= s.assessment_missed_hours:
        fired.append({"code": "missed_hours", "downgrade": 1,
                      "detail": f"{f['missed_hours']} h missed (threshold {s.assessment_missed_hours})"})
    if f["shortages"] >= s.assessment_shortages:
        fired.append({"code": "shortages", "downgrade": 1,
                      "detail": f"{f['shortages']} shortages (threshold {s.assessment_shortages})"})
    if f["complaints"] >= s.assessment_complaints:
        fired.append({"code": "complaints", "downgrade": 1,
                      "detail": f"{f['complaints']} complaints (threshold {s.assessment_complaints})"})
    now, before = f["satisfaction"], f["satisfaction_prev"]
    enough = f["ratings"] >= s.assessment_min_ratings and f["ratings_prev"] >= s.assessment_min_ratings
    if enough and now is not None and before is not None and before - now >= s.assessment_satisfaction_drop - 1e-9:
        fired.append({"code": "falling_satisfaction", "downgrade": 1,
                      "detail": f"mean stars {before:.2f} -> {now:.2f} (drop threshold {s.assessment_satisfaction_drop})"})
    for t in fired:
        t["label_zh"] = TRIGGER_ZH[t["code"]]
    return fired


def decide(tenant: TenantContext, s: ServiceNetworkSettings, facts: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The triggers that fired (province ones replacing the capability's by code) and the stars after."""
    by_code = {t["code"]: t for t in default_triggers(s, facts)}
    for group in hooks_for(tenant).station_assessment_triggers(tenant=tenant, facts=dict(facts)) or ():
        for t in group or ():
            by_code[str(t["code"])] = {"code": str(t["code"]), "label_zh": str(t.get("label_zh") or t["code"]),
                                       "downgrade": max(0, int(t.get("downgrade", 1))), "detail": str(t.get("detail", ""))}
    fired = [t for t in by_code.values() if t["downgrade"] > 0]
    fired.sort(key=lambda t: t["code"])
    return fired, max(1, facts["stars"] - sum(t["downgrade"] for t in fired))


def _year_bounds(year: int, offset_min: int) -> tuple[dt.datetime, dt.datetime]:
    # The tenant's local year, in UTC.
    shift = dt.timedelta(minutes=offset_min)
    return (dt.datetime(year, 1, 1, tzinfo=dt.UTC) - shift, dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) - shift)


async def _ratings(tenant: TenantContext, ids: list[int], year: int, offset: int) -> dict[int, tuple[int, float]]:
    since, until = _year_bounds(year, offset)
    marks = ", ".join("{}" for _ in ids)
    rows = await raw(f"SELECT subject_id, count(*) AS n, avg(stars * 1.0) AS mean FROM sn_rating WHERE tenant_id = {{}} "
                     f"AND subject_type = 'station' AND subject_id IN ({marks}) AND rated_at >= {{}} AND rated_at < {{}} "
                     f"GROUP BY subject_id", tenant.id, *ids, since, until)
    return {int(r["subject_id"]): (int(r["n"]), float(r["mean"])) for r in rows}


async def assess_batch(tenant: TenantContext, year: int, after_id: int, job_id: int | None) -> tuple[int, int]:
    """Assess the next ``BATCH`` stations after ``after_id``; (how many, the last id)."""
    s = for_tenant(tenant)
    stations = await raw("SELECT id, org_unit_id, number, stars, area_m2, capacity, facilities FROM sn_station "
                         "WHERE tenant_id = {} AND id > {} ORDER BY id LIMIT {}", tenant.id, after_id, BATCH)
    if not stations:
        return 0, after_id
    ids = [int(r["id"]) for r in stations]
    marks = ", ".join("{}" for _ in ids)
    incidents = await raw(f"SELECT station_id, kind, sum(quantity) AS q, count(*) AS n FROM sn_station_incident "
                          f"WHERE tenant_id = {{}} AND station_id IN ({marks}) AND occurred_on >= {{}} AND occurred_on < {{}} "
                          f"GROUP BY station_id, kind", tenant.id, *ids, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    counts: dict[tuple[int, str], int] = {}
    for r in incidents:
        counts[(int(r["station_id"]), r["kind"])] = int(r["q"] if r["kind"] == "missed_hours" else r["n"])
    now_r = await _ratings(tenant, ids, year, s.utc_offset_minutes)
    prev_r = await _ratings(tenant, ids, year - 1, s.utc_offset_minutes)
    now = dt.datetime.now(dt.UTC)
    async with transaction():
        for st in stations:
            sid = int(st["id"])
            facilities = rules.facilities_of(st["facilities"])
            base = services.stars_for(tenant, st["area_m2"], st["capacity"], facilities)
            n, mean = now_r.get(sid, (0, None))
            pn, pmean = prev_r.get(sid, (0, None))
            facts = {"station_id": sid, "number": st["number"], "year": year, "stars": base,
                     "missed_hours": counts.get((sid, "missed_hours"), 0), "shortages": counts.get((sid, "shortage"), 0),
                     "complaints": counts.get((sid, "complaint"), 0), "ratings": n, "satisfaction": mean,
                     "ratings_prev": pn, "satisfaction_prev": pmean, "area_m2": st["area_m2"],
                     "capacity": st["capacity"], "facilities": facilities}
            fired, after = decide(tenant, s, facts)
            await raw(
                "INSERT INTO sn_station_assessment (tenant_id, org_unit_id, station_id, year, stars_before, stars_after, "
                "missed_hours, shortages, complaints, ratings, satisfaction, ratings_prev, satisfaction_prev, triggers, "
                "job_id, computed_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
                "ON CONFLICT (tenant_id, station_id, year) DO UPDATE SET org_unit_id = excluded.org_unit_id, "
                "stars_before = excluded.stars_before, stars_after = excluded.stars_after, "
                "missed_hours = excluded.missed_hours, shortages = excluded.shortages, complaints = excluded.complaints, "
                "ratings = excluded.ratings, satisfaction = excluded.satisfaction, ratings_prev = excluded.ratings_prev, "
                "satisfaction_prev = excluded.satisfaction_prev, triggers = excluded.triggers, job_id = excluded.job_id, "
                "computed_at = excluded.computed_at",
                tenant.id, st["org_unit_id"], sid, year, int(st["stars"]), after, facts["missed_hours"], facts["shortages"],
                facts["complaints"], n, mean, pn, pmean, json.dumps(fired, ensure_ascii=False), job_id, now)
            # The assessment's stars hold (as a cap on the rule's) until the next assessment.
            await raw("UPDATE sn_station SET stars = {}, star_cap = {} WHERE tenant_id = {} AND id = {}",
                      after, after, tenant.id, sid)
    return len(stations), ids[-1]


@job("assess_stations")
async def assess_stations(ctx: JobContext, year: int) -> dict[str, Any]:
    """Every station of the tenant, in batches (idempotent: a rerun replaces the year's records)."""
    total = (await raw("SELECT count(*) AS n FROM sn_station WHERE tenant_id = {}", ctx.tenant.id))[0]["n"]
    done, last = 0, 0
    while True:
        n, last = await assess_batch(ctx.tenant, int(year), last, ctx.job_id)
        if not n:
            break
        done += n
        await ctx.progress(done, int(total))
    downgraded = (await raw("SELECT count(*) AS n FROM sn_station_assessment WHERE tenant_id = {} AND year = {} "
                            "AND stars_after < stars_before", ctx.tenant.id, int(year)))[0]["n"]
    return {"year": int(year), "stations": done, "downgraded": int(downgraded)}


async def cron_assess(ctx: dict[str, Any]) -> int:
    """Early in January: last year's assessment for every tenant enabling the capability. The key is
    the year's, so a cron firing twice assesses once (a manual rerun uses a key of its own)."""
    from core.sdk import capability_enabled, enqueue, list_tenants

    year = dt.date.today().year - 1
    n = 0
    for tenant in await list_tenants():
        if capability_enabled(tenant, "service_network"):
            await enqueue(tenant, "service_network.assess_stations", year, key=f"service_network.assess_stations:{year}:cron")
            n += 1
    return n

"""bench-stations: the public finder's nearest-20 open-now query (weekday-aware hours) at 200,000 stations, p50 under
concurrent load, against a raw SQL endpoint returning the same rows in the same run. Prints the
EXPLAIN plan of the finder's query, then interleaved rounds (BENCH_ROUNDS), and last one JSON line with the
median ratio of the rounds, its spread and the load (target <= 3)."""

from __future__ import annotations

import asyncio
import os
import random

import asyncpg
import httpx

from bench.common import (
    PG_ADMIN,
    ROUNDS,
    Rounds,
    app_dsn,
    create_database,
    drop_database,
    free_port,
    load,
    python,
    result_line,
    server,
)

STATIONS = int(os.environ.get("BENCH_STATIONS", "200000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1600"))
N = 20
# Fujian's extent; stations cluster around the cities as they do on 高德 (70 %), the rest spread out.
LAT, LON = (23.5, 28.3), (115.8, 120.7)
CITIES = [(26.07, 119.30), (24.48, 118.09), (24.87, 118.68), (25.45, 119.01), (24.51, 117.65), (26.27, 117.64),
          (26.64, 118.18), (25.08, 117.02), (26.66, 119.55)]


def stations(rng: random.Random):
    for i in range(STATIONS):
        if rng.random() < 0.7:
            c = rng.choice(CITIES)
            lat, lon = rng.gauss(c[0], 0.15), rng.gauss(c[1], 0.15)
        else:
            lat, lon = rng.uniform(*LAT), rng.uniform(*LON)
        yield i, lat, lon


async def seed(db: str) -> int:
    os.environ["DATABASE_URL"] = app_dsn(db)
    from core.actor import Actor
    from core.bootstrap import migrate, start_database, stop_database
    from core.context import tenant_scope
    from core.tenancy.manifest import ensure_platform_tenant
    from core.tenancy.services import create_tenant, root_unit

    await start_database()
    await migrate()
    await ensure_platform_tenant()
    tenant = await create_tenant(Actor(None, "bench"), code="benchfj", name="基准测试省总工会", province_code="35",
                                 capabilities=["service_network"],
                                 settings={"service_network": {"public_requests_per_minute": 100_000}})
    with tenant_scope(tenant):
        root = await root_unit(tenant)
    await stop_database()

    rng = random.Random(20261203)
    # COPY refuses tables under row-level security: load as the server's superuser.
    conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + db)
    try:
        rows, windows = [], []
        for i, lat, lon in stations(rng):
            rows.append((i + 1, tenant.id, root["id"], f"FJ{i:06d}", f"驿站{i}", lat, lon, "", ",room,water,",
                         20, 10, 2))
            kind = i % 3
            if kind == 0:    # round the clock
                windows.append((tenant.id, i + 1, 0, 1440, "staffed", 127))
            elif kind == 1:  # 海沧: staffed by day, QR door by night
                windows += [(tenant.id, i + 1, 480, 1320, "staffed", 127), (tenant.id, i + 1, 1320, 480, "qr", 127)]
            else:            # office hours on weekdays, Saturday mornings, closed on Sundays
                windows += [(tenant.id, i + 1, 540, 1080, "staffed", 31), (tenant.id, i + 1, 540, 720, "staffed", 32)]
        await conn.copy_records_to_table("sn_station", records=rows, columns=[
            "id", "tenant_id", "org_unit_id", "number", "name", "lat", "lon", "address", "facilities", "area_m2",
            "capacity", "stars"])
        await conn.execute("SELECT setval(pg_get_serial_sequence('sn_station', 'id'), $1)", STATIONS)
        await conn.copy_records_to_table("sn_station_window", records=windows,
                                         columns=["tenant_id", "station_id", "start_min", "end_min", "kind", "days"])
        await conn.execute("ANALYZE sn_station")
        await conn.execute("ANALYZE sn_station_window")
    finally:
        await conn.close()
    return tenant.id


async def explain(db: str, tenant_id: int, lat: float, lon: float) -> str:
    from huijia_service_network import geo, services

    sql, args = services.finder_sql(tenant_id, lat, lon, geo.box(lat, lon, 2000), (3, 600), None, 28)
    n = 0

    def mark(_m: object) -> str:
        nonlocal n
        n += 1
        return f"${n}"

    import re
    pg_sql = re.sub(r"\{\}", mark, sql)
    conn = await asyncpg.connect(app_dsn(db))
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant_id))
        plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + pg_sql, *args)
    finally:
        await conn.close()
    return "\n".join(r[0] for r in plan)


async def main() -> None:
    db = await create_database()
    try:
        tenant_id = await seed(db)
        rng = random.Random(7)
        points = [(rng.gauss(c[0], 0.1), rng.gauss(c[1], 0.1)) for c in CITIES for _ in range(4)]
        print(await explain(db, tenant_id, *points[0]))
        env = {**os.environ, "DATABASE_URL": app_dsn(db), "HUIJIA_LOG_LEVEL": "WARNING", "RAW_DSN": app_dsn(db),
               "RAW_TENANT": str(tenant_id)}
        env.pop("REDIS_URL", None)
        ours_port, raw_port = free_port(), free_port()
        ours_paths = [f"/public/service-network/benchfj/stations/nearby?lat={a:.6f}&lon={b:.6f}&n={N}&openNow=1"
                      for a, b in points]

        def ok(doc):
            return len(doc["stations"]) == N

        uvicorn = [python(), "-m", "uvicorn", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
        with server(uvicorn + ["--port", str(raw_port), "bench.raw_stations:app"], env, raw_port) as raw_url, \
                server([python(), "-m", "core.cli", "serve", "--port", str(ours_port)], env, ours_port) as ours_url:
            # Same rows: every point's answer from both, compared by station number and order. The raw
            # query is given the radius the finder ended with, so it runs once with the tightest box.
            raw_paths = []
            async with httpx.AsyncClient() as c:
                for ours_path, (a_lat, a_lon) in zip(ours_paths, points, strict=True):
                    answer = (await c.get(ours_url + ours_path)).json()
                    a = answer["stations"]
                    raw_paths.append(f"/nearby?lat={a_lat:.6f}&lon={a_lon:.6f}&n={N}&r={answer['radiusM']}")
                    b = (await c.get(raw_url + raw_paths[-1])).json()["stations"]
                    if [s["number"] for s in a] != [s["number"] for s in b]:
                        raise SystemExit(f"different rows for {ours_path}: {a[:3]} vs {b[:3]}")
            await load(raw_url, None, {}, concurrency=CONCURRENCY, requests=CONCURRENCY * 10, check=ok, paths=raw_paths)
            await load(ours_url, None, {}, concurrency=CONCURRENCY, requests=CONCURRENCY * 10, check=ok, paths=ours_paths)
            rounds = Rounds()
            for r in range(ROUNDS):
                got = {}
                for side in (("raw", "ours") if rounds.first(r) == "raw" else ("ours", "raw")):
                    got[side] = await load(raw_url if side == "raw" else ours_url, None, {}, concurrency=CONCURRENCY,
                                           requests=REQUESTS, check=ok, paths=raw_paths if side == "raw" else ours_paths)
                rounds.add(got["ours"]["p50_ms"] / got["raw"]["p50_ms"])
                print(f"round {r + 1}: raw {got['raw']}  ours {got['ours']}  ratio {rounds.ratios[-1]:.2f}")
        print(result_line("stations", rounds, "<=3", stations=STATIONS, n=N, concurrency=CONCURRENCY,
                          ours_p50_ms=got["ours"]["p50_ms"], raw_p50_ms=got["raw"]["p50_ms"], ours_rps=got["ours"]["rps"],
                          raw_rps=got["raw"]["rps"], ours_p95_ms=got["ours"]["p95_ms"], raw_p95_ms=got["raw"]["p95_ms"]))
    finally:
        await drop_database(db)


if __name__ == "__main__":
    asyncio.run(main())

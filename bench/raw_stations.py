"""The raw baseline for bench-stations: a bare ASGI app, asyncpg and json.dumps, answering the same
nearest-N open-now question with one SQL query (the box prefilter, the open-now test, great-circle
distance and ORDER BY ... LIMIT in PostgreSQL), under the same RLS fence as the platform. It is
given the radius the finder ended with for each point, so it never widens its box as the finder
may: the stricter baseline."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from urllib.parse import parse_qs

import asyncpg

# $1 tenant, $2 lat, $3 lon, $4..$7 box, $8 local minute, $9 n, $10 today's weekday bit, $11 yesterday's
SQL = """SELECT s.number, s.name, s.lat, s.lon, s.address, s.stars,
  2 * 6371008.8 * asin(sqrt(power(sin(radians(s.lat - $2) / 2), 2)
    + cos(radians($2)) * cos(radians(s.lat)) * power(sin(radians(s.lon - $3) / 2), 2))) AS d
FROM sn_station s
WHERE s.tenant_id = $1 AND s.lat BETWEEN $4 AND $5 AND s.lon BETWEEN $6 AND $7
  AND EXISTS (SELECT 1 FROM sn_station_window w WHERE w.tenant_id = s.tenant_id AND w.station_id = s.id AND
    ((w.start_min < w.end_min AND (w.days & $10) <> 0 AND w.start_min <= $8 AND w.end_min > $8) OR
     (w.end_min < w.start_min AND (((w.days & $10) <> 0 AND w.start_min <= $8) OR ((w.days & $11) <> 0 AND w.end_min > $8)))))
ORDER BY d, s.id LIMIT $9"""

pool: asyncpg.Pool | None = None


def box(lat: float, lon: float, r: float) -> tuple[float, float, float, float]:
    d_lat = math.degrees(r / 6371008.8)
    d_lon = d_lat / math.cos(math.radians(abs(lat) + d_lat))
    return lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon


async def app(scope, receive, send):
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                pool = await asyncpg.create_pool(os.environ["RAW_DSN"], min_size=2, max_size=20)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/health":
        body = b'{"ok":true}'
    else:
        q = parse_qs(scope["query_string"].decode())
        lat, lon, n = float(q["lat"][0]), float(q["lon"][0]), int(q.get("n", ["20"])[0])
        radius = float(q["r"][0])  # the box the finder ended with for this point: the tightest that holds the answer
        now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)
        tenant_id = int(os.environ["RAW_TENANT"])
        async with pool.acquire() as conn:
            await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant_id))
            rows = await conn.fetch(SQL, tenant_id, lat, lon, *box(lat, lon, radius), now.hour * 60 + now.minute, n,
                                    1 << now.weekday(), 1 << ((now.weekday() - 1) % 7))
        stations = [{"number": r["number"], "name": r["name"], "address": r["address"], "lat": r["lat"], "lon": r["lon"],
                     "distanceM": round(r["d"]), "stars": r["stars"]} for r in rows]
        body = json.dumps({"stations": stations}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

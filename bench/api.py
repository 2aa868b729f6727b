"""bench-api: a GraphQL list of 100 org units with a nested field, against a raw asyncpg + JSON
endpoint serving the same rows, under the same concurrent load in one run. Prints the p50 ratio."""

from __future__ import annotations

import asyncio
import os

from bench.common import (
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

QUERY = """query Units { orgUnits(first: 100) { totalCount nodes { id code name level areaCode active depth parent { name } } } }"""
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "800"))  # per side per round


async def seed(db: str) -> tuple[int, str]:
    """Migrate, create a province with 150 units and a logged-in clerk; return (tenant id, token)."""
    os.environ["DATABASE_URL"] = app_dsn(db)
    from core.accounts.services import create_user, login
    from core.actor import Actor
    from core.bootstrap import migrate, start_database, stop_database
    from core.context import tenant_scope
    from core.tenancy.manifest import ensure_platform_tenant
    from core.tenancy.services import create_tenant, create_unit, root_unit

    await start_database()
    await migrate()
    await ensure_platform_tenant()
    actor = Actor(None, "bench")
    tenant = await create_tenant(actor, code="benchprov", name="基准测试省总工会", province_code="33")
    with tenant_scope(tenant):
        root = await root_unit(tenant)
        for c in range(5):
            city = await create_unit(tenant, actor, parent_id=root["id"], code=f"c{c}", name=f"第{c}市总工会", level="city",
                                     area_code=f"33{c:02d}00")
            for g in range(29):
                await create_unit(tenant, actor, parent_id=city["id"], code=f"c{c}g{g}", name=f"第{c}市第{g}基层工会",
                                  level="grassroots")
        await create_user(tenant, actor, username="clerk", password="bench-password", grants=[("clerk", root["id"])])
    result = await login("benchprov", "clerk", "bench-password")
    await stop_database()
    return tenant.id, result.token


async def main() -> None:
    db = await create_database()
    try:
        tenant_id, token = await seed(db)
        env = {**os.environ, "DATABASE_URL": app_dsn(db), "HUIJIA_LOG_LEVEL": "WARNING", "RAW_DSN": app_dsn(db),
               "RAW_TENANT": str(tenant_id)}
        env.pop("REDIS_URL", None)
        ours_port, raw_port = free_port(), free_port()
        body = {"query": QUERY}
        headers = {"authorization": f"Bearer {token}"}

        def ok(doc):  # responses really carry 100 units (checked on each connection's first reply)
            return len(doc["data"]["orgUnits"]["nodes"]) == 100

        uvicorn = [python(), "-m", "uvicorn", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
        with server(uvicorn + ["--port", str(raw_port), "bench.raw_api:app"], env, raw_port) as raw_url, \
                server([python(), "-m", "core.cli", "serve", "--port", str(ours_port)], env, ours_port) as ours_url:
            # Warm up both (caches, pools, allocator), then measure in interleaved rounds.
            await load(raw_url, body, headers, concurrency=CONCURRENCY, requests=CONCURRENCY * 10, check=ok)
            await load(ours_url, body, headers, concurrency=CONCURRENCY, requests=CONCURRENCY * 10, check=ok)
            rounds = Rounds()
            for r in range(ROUNDS):
                got = {}
                for side in (("raw", "ours") if rounds.first(r) == "raw" else ("ours", "raw")):
                    got[side] = await load(raw_url if side == "raw" else ours_url, body, headers,
                                           concurrency=CONCURRENCY, requests=REQUESTS, check=ok)
                rounds.add(got["ours"]["p50_ms"] / got["raw"]["p50_ms"])
                print(f"round {r + 1}: raw {got['raw']}  ours {got['ours']}  ratio {rounds.ratios[-1]:.2f}")
        print(result_line("api", rounds, "<=3", rows=100, concurrency=CONCURRENCY, requests_per_round=REQUESTS,
                          ours_p50_ms=got["ours"]["p50_ms"], raw_p50_ms=got["raw"]["p50_ms"], ours_rps=got["ours"]["rps"],
                          raw_rps=got["raw"]["rps"]))
    finally:
        await drop_database(db)


if __name__ == "__main__":
    asyncio.run(main())

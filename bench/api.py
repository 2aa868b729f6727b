"""bench-api: two GraphQL lists against a raw asyncpg + JSON endpoint serving the same rows, under the
same concurrent load in one run, rounds interleaved:

- ``orgUnits(first: 100)`` with a nested field (the parent's name): target <= 3x the raw p50;
- ``members(first: 100)`` with name, masked ID number, masked phone, work status, tags and the org
  unit's name (the list staff open most): target <= 4x. The raw side decrypts and masks the same two
  personal fields per row (AES-GCM, the platform's keyring), so both sides pay for the cryptography.

The last line is one JSON object: ``ratio``/``target`` for the org units, ``members`` with its own
``ratio``/``target`` and spread."""

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
MEMBERS_QUERY = ("query Members { members(first: 100) { nodes { id name idNumberMasked phoneMasked workStatus "
                 "tags { code label } orgUnit { name } } } }")
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000"))
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
        await seed_members(tenant, actor)
        await create_user(tenant, actor, username="clerk", password="bench-password", grants=[("clerk", root["id"])])
    result = await login("benchprov", "clerk", "bench-password")
    await stop_database()
    await analyze(db)
    return tenant.id, result.token


async def analyze(db: str) -> None:
    """Statistics for what the seed loaded, as autovacuum would have gathered them in production (it
    is off on the bench machines). Without them the planner guesses one row per table and picks a
    nested loop over every org unit for each parent: 4.7 ms of database time per org-unit page
    instead of 0.3, on the two cores the servers are measured on."""
    import asyncpg

    conn = await asyncpg.connect(app_dsn(db))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def seed_members(tenant, actor) -> None:
    """MEMBERS members spread over the grassroots unions, with phones, work statuses and some tags."""
    import datetime as dt

    from core.members.services import create_member
    from core.tenancy.services import get_unit_by_code
    from core.testing.tenant import synthetic_id_number

    units = [await get_unit_by_code(tenant, f"c{c}g{g}") for c in range(5) for g in range(29)]
    statuses = ["在岗"] * 6 + ["退休", "农民工"]
    tags = [[], [], [], ["劳模"], ["户外"], ["新就业形态", "劳模"]]
    names = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    for n in range(MEMBERS):
        born = (dt.date(1970, 1, 1) + dt.timedelta(days=n // 1000)).strftime("%Y%m%d")
        await create_member(tenant, actor, values={
            "name": f"{names[n % len(names)]}会员{n}", "id_number": synthetic_id_number(n, born=born),
            "phone": f"13{n % 10}{n:08d}", "employer": "基准测试公司", "work_status": statuses[n % len(statuses)],
            "tags": tags[n % len(tags)]}, unit_id=units[n % len(units)]["id"], scope_paths=None)


async def measure(name: str, raw_url: str, ours_url: str, body: dict, raw_path: str, headers: dict,
                  ok_ours, ok_raw) -> tuple[Rounds, dict]:
    """Interleaved rounds of one list; returns the rounds and the last round's figures."""
    rounds = Rounds()
    got: dict = {}
    for r in range(ROUNDS):
        got = {}
        for side in (("raw", "ours") if rounds.first(r) == "raw" else ("ours", "raw")):
            if side == "raw":
                got[side] = await load(raw_url, body, headers, concurrency=CONCURRENCY, requests=REQUESTS,
                                       check=ok_raw, post_path=raw_path)
            else:
                got[side] = await load(ours_url, body, headers, concurrency=CONCURRENCY, requests=REQUESTS,
                                       check=ok_ours)
        rounds.add(got["ours"]["p50_ms"] / got["raw"]["p50_ms"])
        print(f"{name} round {r + 1}: raw {got['raw']}  ours {got['ours']}  ratio {rounds.ratios[-1]:.2f}", flush=True)
    return rounds, got


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
            members_body = {"query": MEMBERS_QUERY}

            def ok_members(doc):
                nodes = doc["data"]["members"]["nodes"]
                return len(nodes) == 100 and all("*" in n["idNumberMasked"] and n["orgUnit"]["name"] for n in nodes)

            for url, path in ((raw_url, "/graphql"), (ours_url, "/graphql")):
                await load(url, body, headers, concurrency=CONCURRENCY, requests=CONCURRENCY * 10, check=ok, post_path=path)
            await load(raw_url, members_body, headers, concurrency=CONCURRENCY, requests=CONCURRENCY * 10,
                       check=ok_members, post_path="/members")
            await load(ours_url, members_body, headers, concurrency=CONCURRENCY, requests=CONCURRENCY * 10,
                       check=ok_members)
            rounds, got = await measure("orgUnits", raw_url, ours_url, body, "/graphql", headers, ok, ok)
            m_rounds, m_got = await measure("members", raw_url, ours_url, members_body, "/members", headers,
                                            ok_members, ok_members)
        members = {"bench": "api-members", **m_rounds.summary(), "target": "<=4",
                   "ours_p50_ms": m_got["ours"]["p50_ms"], "raw_p50_ms": m_got["raw"]["p50_ms"],
                   "ours_rps": m_got["ours"]["rps"], "raw_rps": m_got["raw"]["rps"], "members": MEMBERS}
        print(result_line("api", rounds, "<=3", rows=100, concurrency=CONCURRENCY, requests_per_round=REQUESTS,
                          ours_p50_ms=got["ours"]["p50_ms"], raw_p50_ms=got["raw"]["p50_ms"], ours_rps=got["ours"]["rps"],
                          raw_rps=got["raw"]["rps"], members=members))
    finally:
        await drop_database(db)


if __name__ == "__main__":
    asyncio.run(main())

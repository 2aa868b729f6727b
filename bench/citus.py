"""bench-citus: tenant-scoped throughput on a Citus cluster with one worker against two, on this machine.

Starts its own throw-away cluster (deploy/citus/cluster.sh, two workers, pg_stat_statements preloaded so
citus_stat_statements counts), creates the run's database on every node and joins the first worker
only; ``huijia migrate`` distributes the tables there. The demo provinces (tenants/*.toml) get a finance
user each. Then, in rounds, the same load runs on each layout: with one worker, and with two after
``rebalance_table_shards`` spread the shards (``citus_drain_node`` takes them back to one for the next
round; both move shards with ``block_writes``).

The load: per province, clients in a closed loop over HTTP against ``huijia serve`` on the coordinator,
half reading (a page of org units and the ledger accounts) and half posting a two-line ledger entry.
ratio = requests per second with two workers / with one. On one machine the two workers share its
cores with the coordinator, the server and the load, so no speed-up is expected: the figure shows what
the second hop and two-phase commit cost, not what a second machine would give.

Router share: of the statements on distributed tables during the measured rounds (citus_stat_statements),
the share of calls that Citus routed to one shard by the tenant (those with a partition key); the
statements without one are listed, most called first (statements sent to every shard, and reads of
the reference table ``tenant``).

Environment: CITUS_PORT (coordinator; workers the next two; default 55432), BENCH_SECONDS per layout and
round (default 8), BENCH_ROUNDS (default 3), BENCH_CLIENTS per province (default 4).
The last line of output is one JSON object.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import Rounds, free_port, python, result_line, server

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "deploy" / "citus" / "cluster.sh"
PORT = int(os.environ.get("CITUS_PORT", "55432"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
PROVINCES = ("shanghai", "beijing", "fujian")
PASSWORD = "bench-password-citus"
READ = {"query": "{ orgUnits(first: 20) { nodes { id code name } } ledgerAccounts(first: 20) { nodes { id code balanceFen } } }"}
WRITE = """mutation($i: LedgerEntryInput!) { ledgerEntryCreate(input: $i) { entry { id } errors { code message } } }"""


def _env(run: str) -> Any:
    from core.testing.env import TestEnvironment

    return TestEnvironment(run_id=run, admin_dsn=f"postgresql://postgres@127.0.0.1:{PORT}/postgres",
                           app_role="huijia_app_bench", owner_role="huijia_owner_bench", database=f"huijia_bench_{run}",
                           redis_url=os.environ.get("HUIJIA_TEST_REDIS", "redis://127.0.0.1:6379/0"),
                           queue=f"huijia-bench:{run}",
                           citus_workers=(f"127.0.0.1:{PORT + 1}", f"127.0.0.1:{PORT + 2}"))


async def _superuser(env: Any) -> Any:
    from core.testing.env import _with_database

    return await asyncpg.connect(_with_database(env.admin_dsn, env.database))


async def create_database(env: Any) -> None:
    """Roles and the database on every node, the extension everywhere, the first worker joined."""
    from core.testing.env import _with_database

    for dsn in (env.admin_dsn, *env.citus_worker_dsns):
        conn = await asyncpg.connect(dsn)
        try:
            for role in (env.app_role, env.owner_role):
                if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                    await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
            await conn.execute(f"CREATE DATABASE {env.database} OWNER {env.owner_role}")
        finally:
            await conn.close()
        conn = await asyncpg.connect(_with_database(dsn, env.database))
        try:
            await conn.execute("CREATE EXTENSION citus")
        finally:
            await conn.close()
    conn = await _superuser(env)
    try:
        await conn.execute("CREATE EXTENSION pg_stat_statements")  # citus_stat_statements reads through it
        await conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', $1)", PORT)
        await conn.execute("SELECT citus_add_node('127.0.0.1', $1)", PORT + 1)
    finally:
        await conn.close()


async def seed(env: Any) -> dict[str, str]:
    """Demo provinces, a finance user at each root; returns a token per province."""
    from core.accounts.services import create_user, login
    from core.actor import Actor
    from core.context import tenant_scope
    from core.dbutil import start_database, stop_database
    from core.tenancy.manifest import sync_all
    from core.tenancy.services import get_tenant, root_unit
    from core.testing.env import migrate_as_owner

    await migrate_as_owner(env)
    await start_database()
    try:
        await sync_all()
        tokens = {}
        for code in PROVINCES:
            tenant = await get_tenant(code=code)
            with tenant_scope(tenant):
                root = await root_unit(tenant)
                await create_user(tenant, Actor(None, "bench"), username="benchfin", password=PASSWORD,
                                  grants=[("finance", root["id"])])
            tokens[code] = (await login(code, "benchfin", PASSWORD)).token
        return tokens
    finally:
        await stop_database()


async def grassroots(url: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        r = await client.post("/graphql", headers={"authorization": f"Bearer {token}"},
                              json={"query": "{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { id } } }"})
        return str(r.json()["data"]["orgUnits"]["nodes"][0]["id"])


async def drive(url: str, tokens: dict[str, str], units: dict[str, str], seconds: float) -> dict[str, Any]:
    """Closed-loop clients per province for ``seconds``: half read, half post an entry."""
    done = {"read": 0, "write": 0}
    deadline = time.perf_counter() + seconds

    async def client(code: str, writer: bool) -> None:
        headers = {"authorization": f"Bearer {tokens[code]}"}
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            while time.perf_counter() < deadline:
                if writer:
                    lines = [{"orgUnitId": units[code], "fund": "general", "code": "102", "side": "DEBIT", "amountFen": 100},
                             {"orgUnitId": units[code], "fund": "general", "code": "404", "side": "CREDIT", "amountFen": 100}]
                    body = {"query": WRITE, "variables": {"i": {"idempotencyKey": uuid.uuid4().hex, "postings": lines}}}
                else:
                    body = READ
                r = await c.post("/graphql", headers=headers, json=body)
                doc = r.json()
                if r.status_code != 200 or doc.get("errors") or (writer and doc["data"]["ledgerEntryCreate"]["errors"]):
                    raise RuntimeError(f"bad response {r.status_code}: {r.text[:300]}")
                done["write" if writer else "read"] += 1

    started = time.perf_counter()
    await asyncio.gather(*[client(code, i % 2 == 1) for code in tokens for i in range(CLIENTS)])
    elapsed = time.perf_counter() - started
    return {"rps": round((done["read"] + done["write"]) / elapsed, 1), **done}


async def layout(env: Any, workers: int) -> None:
    """Spread the shards over ``workers`` (1 or 2) workers, moving them with block_writes."""
    conn = await _superuser(env)
    try:
        second = ("127.0.0.1", PORT + 2)
        joined = await conn.fetchval("SELECT count(*) FROM pg_dist_node WHERE nodeport = $1", second[1])
        if workers == 2:
            if not joined:
                await conn.execute("SELECT citus_add_node($1, $2)", *second)
            await conn.execute("SELECT citus_set_node_property($1, $2, 'shouldhaveshards', true)", *second)
            await conn.execute("SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes')", timeout=None)
            if len(set((await placements(env)).values())) == 1:
                # The rebalancer balances shards, not these three provinces: it may leave them all on one
                # worker, and then two workers would measure the same as one. Put one on the other.
                from core.ops.citus import move
                from core.testing.env import _with_database

                where = (await placements(env))[PROVINCES[0]]
                other = PORT + 1 if int(where) == PORT + 2 else PORT + 2
                await move(PROVINCES[0], f"127.0.0.1:{other}", _with_database(env.admin_dsn, env.database))
        elif joined:
            await conn.execute("SELECT citus_drain_node($1, $2, shard_transfer_mode => 'block_writes')", *second,
                               timeout=None)
        await conn.execute("CALL citus_cleanup_orphaned_resources()")
    finally:
        await conn.close()


async def placements(env: Any) -> dict[str, str]:
    from core.ops.citus import tenant_placement

    conn = await _superuser(env)
    try:
        out = {}
        for code in PROVINCES:
            tid = await conn.fetchval("SELECT id FROM tenant WHERE code = $1", code)
            p = await tenant_placement(conn, tid)
            out[code] = f"{p['nodeport']}"
        return out
    finally:
        await conn.close()


async def router_share(env: Any) -> dict[str, Any]:
    conn = await _superuser(env)
    try:
        rows = await conn.fetch("SELECT query, executor, partition_key, calls FROM citus_stat_statements")
    finally:
        await conn.close()
    total = sum(r["calls"] for r in rows)
    routed = sum(r["calls"] for r in rows if r["partition_key"] is not None)
    # Without a partition key: statements Citus sent to every shard, and reads of reference tables
    # (tenant), which are served from one placement but carry no key either.
    multi: dict[str, int] = {}
    for r in rows:
        if r["partition_key"] is None:
            text = " ".join(r["query"].split())[:120]
            multi[text] = multi.get(text, 0) + r["calls"]
    top = sorted(multi.items(), key=lambda kv: -kv[1])[:5]
    return {"router_share": round(routed / total, 3) if total else None, "statements": total,
            "top_without_partition_key": [{"calls": n, "query": q} for q, n in top]}


async def main() -> None:
    from core.testing.env import configure_environment

    run = uuid.uuid4().hex[:8]
    env = _env(run)
    data = tempfile.mkdtemp(prefix="huijia-bench-citus.")
    cluster_env = {**os.environ, "CITUS_PORT": str(PORT), "CITUS_WORKERS": "2", "CITUS_STAT_STATEMENTS": "1"}
    subprocess.run([str(CLUSTER), "build"], check=True)
    subprocess.run([str(CLUSTER), "start", data], check=True, env=cluster_env, stdout=subprocess.DEVNULL)
    try:
        configure_environment(env)
        os.environ["HUIJIA_DB_QUERY_CAPTURE"] = "0"
        await create_database(env)
        tokens = await seed(env)
        server_env = {**os.environ}
        server_env.pop("REDIS_URL", None)  # jobs in-process: the load is the requests, not a queue
        port = free_port()
        rounds = Rounds()
        got: dict[str, list[dict[str, Any]]] = {"one": [], "two": []}
        with server([python(), "-m", "core.cli", "serve", "--port", str(port)], server_env, port) as url:
            units = {code: await grassroots(url, tokens[code]) for code in PROVINCES}
            await drive(url, tokens, units, 2)  # warm-up: pools, caches, Citus's connections to the worker
            conn = await _superuser(env)
            try:
                await conn.execute("SELECT citus_stat_statements_reset()")
            finally:
                await conn.close()
            spread: dict[str, str] = {}
            for i in range(ROUNDS):
                order = ("one", "two") if i % 2 == 0 else ("two", "one")
                this: dict[str, float] = {}
                for name in order:
                    await layout(env, 1 if name == "one" else 2)
                    if name == "two":
                        spread = await placements(env)
                    figures = await drive(url, tokens, units, SECONDS)
                    got[name].append(figures)
                    this[name] = figures["rps"]
                rounds.add(this["two"] / this["one"])
            share = await router_share(env)
        print(result_line("citus", rounds, "~1 on one machine (no speed-up expected; the shape of the cost)",
                          one_worker_rps=[g["rps"] for g in got["one"]], two_workers_rps=[g["rps"] for g in got["two"]],
                          provinces=len(PROVINCES), clients=CLIENTS * len(PROVINCES), seconds=SECONDS,
                          province_worker_ports_with_two=spread, **share))
    finally:
        subprocess.run([str(CLUSTER), "stop", data], check=False)


if __name__ == "__main__":
    asyncio.run(main())

"""bench-ledger: posting throughput of the ledger against raw asyncpg INSERTs of the same rows.

One throwaway PostgreSQL database per run (like tests/conftest.py). 8 concurrent clients in one
process post entries of 2–4 postings within ONE province tenant (the hash chain is per tenant, so
this is the contended case):

- ours: ``core.funds.posting.post`` — the function every ledger service goes through: idempotency key,
  shared period lock, accounts locked in id order with the no-negative and per-book balance checks,
  budget lookup for 5xx postings, balance updates, postings, the chain queue row, and the batch chain
  linker kicked after each commit. The clock stops only when every entry is linked into the chain.
- raw: per entry, one transaction with ``INSERT ledger_entry … RETURNING id`` and one multi-row
  ``INSERT ledger_posting`` of the same rows (same tables, indexes, triggers), no checks, no chain.

- floor (not a side of the ratio): ``core.funds.posting``'s own database call for each entry
  (``ledger_post_checked``, sent without BEGIN/COMMIT as ``post`` sends it), on a connection each
  client holds, with no pool checkout, no chain linking and no plugin notice: what the database
  alone charges for the checked posting (row locks on the accounts, balance updates, the
  chain queue row). ``ratio_ceiling`` = raw time / floor time is the best ratio any Python-side
  speed-up could reach; what separates it from 1 is the per-account serialisation and the extra rows.

Rounds alternate which side goes first; the ratio is the median of the rounds' ratios, with their
spread and the machine's load. Before the warm-up and before each round (not timed) the database is
VACUUM ANALYZEd, as production's autovacuum keeps it: this machine runs with autovacuum off, and
without it the accounts' dead row versions and the chain queue's deleted rows pile up from round to
round (on the sides that update accounts and queue entries, not on raw), so each round ran slower
than the one before. The last line of output is one JSON object.
Environment: BENCH_ENTRIES (per client per round, default 400), BENCH_ROUNDS (default 5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import statistics
import time
from typing import Any

from bench.common import Rounds, app_dsn, create_database, drop_database

CLIENTS = 8
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "400"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
UNITS = 24  # grassroots unions under 4 counties


def _shape(rng: random.Random, g: dict[str, int], c: dict[str, int], n: int) -> list[tuple[int, int]]:
    """(account id, signed fen) lines for entry ``n``: 2, 3 or 4 postings."""
    k = n % 3
    a = rng.randint(1, 500)
    if k == 0:  # payout: Dr 501 / Cr 102
        return [(g["501"], a), (g["102"], -a)]
    if k == 1:  # split spending: Dr 501, Dr 502 / Cr 102
        b = rng.randint(1, 500)
        return [(g["501"], a), (g["502"], b), (g["102"], -(a + b))]
    # grant down county -> union: county Dr 506 / Cr 102, union Dr 102 / Cr 403
    return [(c["506"], a), (c["102"], -a), (g["102"], a), (g["403"], -a)]


async def setup(db: str) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = app_dsn(db)
    os.environ.setdefault("HUIJIA_LOG_LEVEL", "WARNING")
    os.environ.setdefault("HUIJIA_DB_POOL_MAX", "20")
    os.environ.pop("REDIS_URL", None)
    from core.actor import Actor
    from core.bootstrap import migrate, start_database
    from core.context import tenant_scope
    from core.funds import services
    from core.tenancy.manifest import ensure_platform_tenant
    from core.tenancy.services import create_tenant, create_unit, root_unit

    await start_database()
    await migrate()
    await ensure_platform_tenant()
    actor = Actor(None, "bench")
    tenants = {}
    for code in ("benchours", "benchraw", "benchfloor"):
        tenant = await create_tenant(actor, code=code, name=f"{code} 总工会", province_code="33")
        units: list[tuple[dict[str, int], dict[str, int]]] = []
        with tenant_scope(tenant):
            root = await root_unit(tenant)
            for ci in range(4):
                county = await create_unit(tenant, actor, parent_id=root["id"], code=f"c{ci}", name=f"区{ci}",
                                           level="county")
                cids = await services.account_ids(tenant, [(county["id"], "general", x) for x in ("102", "506", "404")])
                c = dict(zip(("102", "506", "404"), cids, strict=True))
                for gi in range(UNITS // 4):
                    g = await create_unit(tenant, actor, parent_id=county["id"], code=f"c{ci}g{gi}", name=f"工会{ci}-{gi}",
                                          level="grassroots")
                    gids = await services.account_ids(tenant, [(g["id"], "general", x) for x in ("102", "501", "502", "403", "404")])
                    units.append((dict(zip(("102", "501", "502", "403", "404"), gids, strict=True)), c))
            # Opening money, through the ledger itself.
            from core.funds.posting import EntrySpec, Line, post

            seen = set()
            for g, c in units:
                for acc in (g, c):
                    if acc["102"] in seen:
                        continue
                    seen.add(acc["102"])
                    await post(tenant, EntrySpec(key=f"open-{acc['102']}", kind="manual", entry_date=services.today(),
                                                 lines=[Line(acc["102"], 10**12), Line(acc["404"], -10**12)]))
        tenants[code] = (tenant, units)
    return tenants


async def run_ours(tenant: Any, units: list[Any], round_no: int) -> tuple[float, list[float]]:
    from core.context import tenant_scope
    from core.funds import chain
    from core.funds.posting import EntrySpec, Line, post
    from core.funds.services import today

    day = today()
    latencies: list[float] = []

    async def client(i: int) -> None:
        rng = random.Random(round_no * 100 + i)
        with tenant_scope(tenant):
            for n in range(ENTRIES):
                g, c = units[rng.randrange(len(units))]
                lines = [Line(a, m) for a, m in _shape(rng, g, c, n)]
                t0 = time.perf_counter()
                await post(tenant, EntrySpec(key=f"r{round_no}-c{i}-{n}", kind="payout", entry_date=day, lines=lines,
                                             memo="bench", source_type="bench", source_id=str(n)))
                latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(CLIENTS)])
    await chain.wait_background(60)
    with tenant_scope(tenant):
        while await chain.link_all(tenant) != 0:  # the chain is part of the work: stop the clock when linked
            pass
    return time.perf_counter() - started, latencies


async def run_raw(db: str, tenant: Any, units: list[Any], round_no: int) -> tuple[float, list[float]]:
    import asyncpg

    from core.dbutil import utcnow
    from core.funds.services import today

    day = today()

    async def init(conn: Any) -> None:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.id))

    pool = await asyncpg.create_pool(app_dsn(db), min_size=CLIENTS, max_size=CLIENTS, setup=init)
    latencies: list[float] = []
    meta: dict[int, tuple[int, int, str]] = {}
    async with pool.acquire() as conn:
        for r in await conn.fetch("SELECT id, org_unit_id, fund_id, code FROM ledger_account WHERE tenant_id = $1",
                                  tenant.id):
            meta[r["id"]] = (r["org_unit_id"], r["fund_id"], r["code"])

    async def client(i: int) -> None:
        rng = random.Random(round_no * 100 + i)
        async with pool.acquire() as conn:
            for n in range(ENTRIES):
                g, c = units[rng.randrange(len(units))]
                lines = _shape(rng, g, c, n)
                t0 = time.perf_counter()
                async with conn.transaction():
                    eid = await conn.fetchval(
                        "INSERT INTO ledger_entry (tenant_id, idempotency_key, kind, memo, source_type, source_id, "
                        "entry_date, created_at) VALUES ($1, $2, 'payout', 'bench', 'bench', $3, $4, $5) RETURNING id",
                        tenant.id, f"raw-r{round_no}-c{i}-{n}", str(n), day, utcnow())
                    values, args = [], [tenant.id, eid, day]
                    for a, m in lines:
                        u, f, code = meta[a]
                        b = len(args)
                        values.append(f"($1, $2, ${b + 1}, ${b + 2}, ${b + 3}, ${b + 4}, $3, ${b + 5})")
                        args += [a, u, f, code, m]
                    await conn.execute(
                        "INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, "
                        f"entry_date, amount_fen) VALUES {', '.join(values)}", *args)
                latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(CLIENTS)])
    elapsed = time.perf_counter() - started
    await pool.close()
    return elapsed, latencies


async def run_floor(db: str, tenant: Any, units: list[Any], round_no: int) -> float:
    """The posting's one call per entry on held connections (see the module docstring)."""
    import datetime as dt_

    import asyncpg

    from core.context import tenant_scope
    from core.funds import chain
    from core.funds.posting import EntrySpec, Line, _post_fn, request_hash
    from core.funds.services import today
    from core.funds.sql import Sql, _Holder

    day = today()

    async def init(conn: Any) -> None:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.id))

    pool = await asyncpg.create_pool(app_dsn(db), min_size=CLIENTS, max_size=CLIENTS, setup=init)

    async def client(i: int) -> None:
        rng = random.Random(round_no * 100 + i)
        async with pool.acquire() as conn:
            db_ = None
            for n in range(ENTRIES):
                g, c = units[rng.randrange(len(units))]
                spec = EntrySpec(key=f"floor-r{round_no}-c{i}-{n}", kind="payout", entry_date=day,
                                 lines=[Line(a, m) for a, m in _shape(rng, g, c, n)], memo="bench",
                                 source_type="bench", source_id=str(n))
                rhash = request_hash(spec.kind, spec.memo, spec.source_type, spec.source_id, None, spec.lines)
                if db_ is None:
                    db_ = Sql(_Holder(conn))
                # The posting's own shape: one call of ledger_post_checked, no BEGIN/COMMIT around it.
                await _post_fn(db_, tenant, spec, rhash, rhash, dt_.datetime.now(dt_.UTC))

    started = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(CLIENTS)])
    elapsed = time.perf_counter() - started
    await pool.close()
    with tenant_scope(tenant):  # not timed: keep the floor tenant's queue from growing
        await chain.link_all(tenant)
    return elapsed


async def settle(db: str) -> None:
    """What autovacuum does between rounds in production: dead row versions reclaimed, statistics fresh."""
    import asyncpg

    conn = await asyncpg.connect(app_dsn(db))
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _p(lat: list[float], q: float) -> float:
    lat = sorted(lat)
    return round(lat[max(0, int(len(lat) * q) - 1)] * 1000, 2)


async def main() -> None:
    db = await create_database()
    result: dict[str, Any] = {}
    try:
        tenants = await setup(db)
        ours_t, ours_units = tenants["benchours"]
        raw_t, raw_units = tenants["benchraw"]
        floor_t, floor_units = tenants["benchfloor"]
        total = CLIENTS * ENTRIES
        # Warm-up (connections, prepared statements, caches), not measured.
        await settle(db)
        await run_raw(db, raw_t, raw_units, 99)
        await run_ours(ours_t, ours_units, 99)
        await run_floor(db, floor_t, floor_units, 99)
        raw_eps, ours_eps, raw_lat, ours_lat = [], [], [], []
        ceilings: list[float] = []
        rounds = Rounds()
        for r in range(ROUNDS):
            await settle(db)
            if rounds.first(r) == "raw":
                t_raw, l_raw = await run_raw(db, raw_t, raw_units, r)
                t_ours, l_ours = await run_ours(ours_t, ours_units, r)
            else:
                t_ours, l_ours = await run_ours(ours_t, ours_units, r)
                t_raw, l_raw = await run_raw(db, raw_t, raw_units, r)
            t_floor = await run_floor(db, floor_t, floor_units, r)
            ceilings.append(t_raw / t_floor)
            rounds.add(t_raw / t_ours)
            raw_eps.append(total / t_raw)
            ours_eps.append(total / t_ours)
            raw_lat += l_raw
            ours_lat += l_ours
            print(f"round {r + 1}: raw {total / t_raw:8.0f} entries/s   ours {total / t_ours:8.0f} entries/s   "
                  f"ratio {t_raw / t_ours:.3f}   floor {total / t_floor:8.0f} entries/s (ceiling {t_raw / t_floor:.3f})")
        from core.context import tenant_scope
        from core.funds.chain import verify
        from core.funds.integrity import check

        with tenant_scope(ours_t):
            chain_report = await verify(ours_t, link_first=False)
            check_report = await check(ours_t)
        r_med, o_med = statistics.median(raw_eps), statistics.median(ours_eps)
        spread = rounds.summary()
        result = {
            "bench": "ledger",
            "ratio": spread.pop("ratio"),
            "target": ">=0.5",
            **spread,
            "ratio_ceiling": round(statistics.median(ceilings), 3),
            "ours_entries_per_s": round(o_med, 1),
            "raw_entries_per_s": round(r_med, 1),
            "ours_p50_ms": _p(ours_lat, 0.5), "ours_p95_ms": _p(ours_lat, 0.95),
            "raw_p50_ms": _p(raw_lat, 0.5), "raw_p95_ms": _p(raw_lat, 0.95),
            "clients": CLIENTS, "entries_per_round": total, "postings_per_entry": "2-4",
            "tenants": 1, "chain_ok": chain_report.ok, "chain_linked": chain_report.checked,
            "chain_pending": chain_report.pending, "balances_ok": check_report.ok,
            "date": dt.date.today().isoformat(),
        }
    finally:
        from core.bootstrap import stop_database

        try:
            await stop_database()
        finally:
            await drop_database(db)
    print(f"ours {result['ours_entries_per_s']} entries/s vs raw {result['raw_entries_per_s']} entries/s "
          f"-> ratio {result['ratio']} (target >= 0.5); chain ok={result['chain_ok']}, balances ok={result['balances_ok']}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())

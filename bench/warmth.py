"""bench-warmth: distributing a warmth campaign to 100,000 beneficiaries against a raw insert of the
same number of ledger postings, in the same run.

One throwaway PostgreSQL database (like bench-ledger). A tenant enabling ``warmth``, 40 grassroots
unions under 4 counties, the root's general fund funded through the ledger. Each round has a fresh
campaign whose beneficiary list is inserted in one statement as setup (member ids are synthetic: the
list copies what it needs and joins no member row), then the clock runs over:

- ours: the approve step (``campaign_eligibility`` and ``campaign_amount`` for every row, the frozen
  amounts, the budget's ledger reservation) and the distribution job run to the end by core's job
  runner (in-process): per batch of 500 one ``ledger_post_reservation_many`` (each payment its own
  entry of two postings under its own idempotency key, posted set-based by core.funds.bulk with the
  single path's checks, balances, budget release, chain queue), the rows marked paid (the rows the
  receipts are confirmed on), progress, and the finish step. The clock stops when the hash chain has
  linked every entry.
- raw: the same number of payments as entries of two postings (Dr 502 / Cr 102), inserted in
  batches of 500 per transaction with multi-row INSERTs into the same tables, no checks, no chain.

Rounds alternate which side goes first (bench/common.py's Rounds); ``ratio`` is the median of the
rounds' raw time / our time, with the spread and the machine's load. After the rounds the chain and
the balances of our tenant are verified. ``ratio_vs_per_entry_raw`` compares with bench-ledger's raw
baseline (one transaction per payment: INSERT the entry, INSERT its two postings), timed once on up to
5,000 payments and scaled. The last line of output is one JSON object. Environment:
BENCH_BENEFICIARIES (default 100000), BENCH_ROUNDS (default 5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import resource
import statistics
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.common import ROUNDS, Rounds, app_dsn, create_database, drop_database, result_line

N = int(os.environ.get("BENCH_BENEFICIARIES", "100000"))
AMOUNT_FEN = 60_000
BATCH = 500

MANIFEST = """
code = "{code}"
name = "{code} 总工会"
province_code = "33"
plugins = []
capabilities = ["warmth"]

[[units]]
code = "{code}-root"
name = "{code} 总工会"
level = "province"
area_code = "330000"
{units}
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def setup(db: str) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = app_dsn(db)
    os.environ.setdefault("HUIJIA_LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    from core.bootstrap import migrate, start_database
    from core.context import tenant_scope
    from core.funds import services
    from core.funds.posting import EntrySpec, Line, post
    from core.tenancy.manifest import SyncReport, ensure_platform_tenant, parse_manifest, sync_manifest
    from core.tenancy.queries import get_tenant

    await start_database()
    await migrate()
    await ensure_platform_tenant()
    out: dict[str, Any] = {}
    for code in ("benchwarm", "benchrawwarm"):
        units = []
        for c in range(4):
            units.append(f'[[units]]\ncode = "{code}-c{c}"\nparent = "{code}-root"\nname = "区{c}"\nlevel = "county"\n'
                         f'area_code = "3301{c:02d}"\n')
            for g in range(10):
                units.append(f'[[units]]\ncode = "{code}-c{c}g{g}"\nparent = "{code}-c{c}"\nname = "工会{c}-{g}"\n'
                             f'level = "grassroots"\n')
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{code}.toml"
            path.write_text(textwrap.dedent(MANIFEST.format(code=code, units="\n".join(units))), encoding="utf-8")
            await sync_manifest(parse_manifest(path), SyncReport())
        tenant = await get_tenant(code=code)
        with tenant_scope(tenant):
            from core.dbutil import raw

            root = (await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND code = {}", tenant.id, f"{code}-root"))[0]
            grassroots = [r["id"] for r in await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND level = 'grassroots' "
                                                     "ORDER BY id", tenant.id)]
            cash, income, expense = await services.account_ids(tenant, [(root["id"], "general", c)
                                                                        for c in ("102", "404", "502")])
            await post(tenant, EntrySpec(key="open", kind="manual", entry_date=services.today(),
                                         lines=[Line(cash, 10**13), Line(income, -(10**13))]))
        out[code] = {"tenant": tenant, "root": root["id"], "grassroots": grassroots, "cash": cash, "expense": expense}
    return out


async def prepare_campaign(db: str, t: dict[str, Any], n: int = N) -> int:
    """A submitted campaign at the root with one cash group, its budget, and n beneficiaries (one INSERT)."""
    import asyncpg

    from core.actor import Actor
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.sdk import workflow_open, workflow_step
    from huijia_warmth.workflow import CAMPAIGN

    tenant = t["tenant"]
    with tenant_scope(tenant):
        cid = (await raw("INSERT INTO warmth_campaign (tenant_id, org_unit_id, name, kind, starts_on, ends_on, fund, "
                         "created_by, created_at) VALUES ({}, {}, '2025年元旦春节送温暖', 'spring_festival', {}, {}, "
                         "'general', 1, now()) RETURNING id", tenant.id, t["root"], dt.date(2024, 12, 22),
                         dt.date(2025, 2, 12)))[0]["id"]
        await raw("INSERT INTO warmth_campaign_group (tenant_id, campaign_id, group_code, form, amount_fen, per_household) "
                  "VALUES ({}, {}, 'hardship_household', 'cash', 0, true)", tenant.id, cid)
        await raw("INSERT INTO warmth_campaign_budget (tenant_id, campaign_id, org_unit_id, budget_fen) VALUES "
                  "({}, {}, {}, {})", tenant.id, cid, t["root"], n * AMOUNT_FEN)
        await workflow_open(tenant, CAMPAIGN, cid, t["root"], Actor(1, "clerk"))

    async def init(conn: Any) -> None:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.id))

    conn = await asyncpg.connect(app_dsn(db))
    try:
        await init(conn)
        g = t["grassroots"]
        # COPY is refused under row-level security: one INSERT ... SELECT over arrays instead.
        await conn.execute(
            "INSERT INTO warmth_beneficiary (tenant_id, campaign_id, member_id, household_id, org_unit_id, group_code, "
            "reason) SELECT $1, $2, m, m, u, 'hardship_household', '建档困难职工' FROM unnest($3::bigint[], $4::bigint[]) "
            "AS v(m, u)", tenant.id, cid, list(range(1, n + 1)), [g[i % len(g)] for i in range(n)])
    finally:
        await conn.close()
    with tenant_scope(tenant):
        await workflow_step(tenant, CAMPAIGN, cid, "submit", actor=Actor(1, "clerk"), principal=None)
    return cid


async def run_ours(t: dict[str, Any], cid: int) -> dict[str, Any]:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.funds import chain
    from core.jobs import runner
    from core.sdk import workflow_step
    from huijia_warmth.money import start_distribution
    from huijia_warmth.workflow import CAMPAIGN

    tenant = t["tenant"]
    started = time.perf_counter()
    with tenant_scope(tenant), runner.jobs_in_process():
        await workflow_step(tenant, CAMPAIGN, cid, "approve", actor=Actor(2, "approver"), principal=None)
        approved = time.perf_counter()
        await workflow_step(tenant, CAMPAIGN, cid, "distribute", actor=Actor(1, "clerk"), principal=None)
        await start_distribution(tenant, Actor(1, "clerk"), cid)
        while runner._local_tasks:
            await runner.drain_local(3600)
        await chain.wait_background(600)
        while await chain.link_all(tenant) != 0:
            pass
        elapsed = time.perf_counter() - started
        state = (await raw("SELECT state FROM workflow_case WHERE tenant_id = {} AND capability = 'warmth' AND "
                           "case_id = {}", tenant.id, cid))[0]["state"]
        paid = (await raw("SELECT COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS s FROM warmth_beneficiary WHERE "
                          "tenant_id = {} AND campaign_id = {} AND paid_at IS NOT NULL", tenant.id, cid))[0]
        entries = (await raw("SELECT COUNT(*) AS n FROM ledger_entry WHERE tenant_id = {} AND kind = 'payout' AND "
                             "source_type = 'warmth_campaign' AND source_id = {}", tenant.id, str(cid)))[0]["n"]
    return {"seconds": elapsed, "approve_seconds": approved - started, "state": state, "paid": int(paid["n"]),
            "paid_fen": int(paid["s"]), "entries": int(entries)}


async def run_raw(db: str, t: dict[str, Any], round_no: int, n_total: int = N) -> float:
    import asyncpg

    from core.funds.services import today

    tenant, day = t["tenant"], today()
    conn = await asyncpg.connect(app_dsn(db))
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.id))
        meta = {r["id"]: (r["org_unit_id"], r["fund_id"], r["code"]) for r in await conn.fetch(
            "SELECT id, org_unit_id, fund_id, code FROM ledger_account WHERE tenant_id = $1", tenant.id)}
        started = time.perf_counter()
        for start in range(0, n_total, BATCH):
            n = min(BATCH, n_total - start)
            async with conn.transaction():
                ids = [r["id"] for r in await conn.fetch(
                    "INSERT INTO ledger_entry (tenant_id, idempotency_key, kind, memo, source_type, source_id, entry_date, "
                    "created_at) SELECT $1, 'raw-' || k, 'payout', 'bench', 'bench', k, $2, now() FROM "
                    "unnest($3::text[]) AS k RETURNING id", tenant.id, day, [f"{round_no}-{start + i}" for i in range(n)])]
                rows = []
                for eid in ids:
                    for acc, amount in ((t["expense"], AMOUNT_FEN), (t["cash"], -AMOUNT_FEN)):
                        u, f, code = meta[acc]
                        rows.append((tenant.id, eid, acc, u, f, code, day, amount))
                await conn.executemany("INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, "
                                       "code, entry_date, amount_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", rows)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def run_raw_per_entry(db: str, t: dict[str, Any], n: int) -> float:
    """bench-ledger's raw baseline: per payment one transaction, INSERT the entry, INSERT its postings."""
    import asyncpg

    from core.funds.services import today

    tenant, day = t["tenant"], today()
    conn = await asyncpg.connect(app_dsn(db))
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant.id))
        meta = {r["id"]: (r["org_unit_id"], r["fund_id"], r["code"]) for r in await conn.fetch(
            "SELECT id, org_unit_id, fund_id, code FROM ledger_account WHERE tenant_id = $1", tenant.id)}
        (eu, ef, ec), (cu, cf, cc) = meta[t["expense"]], meta[t["cash"]]
        started = time.perf_counter()
        for i in range(n):
            async with conn.transaction():
                eid = await conn.fetchval(
                    "INSERT INTO ledger_entry (tenant_id, idempotency_key, kind, memo, source_type, source_id, entry_date, "
                    "created_at) VALUES ($1, $2, 'payout', 'bench', 'bench', $3, $4, now()) RETURNING id",
                    tenant.id, f"raw1-{i}", str(i), day)
                await conn.execute(
                    "INSERT INTO ledger_posting (tenant_id, entry_id, account_id, org_unit_id, fund_id, code, entry_date, "
                    "amount_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($1, $2, $9, $10, $11, $12, $7, $13)",
                    tenant.id, eid, t["expense"], eu, ef, ec, day, AMOUNT_FEN, t["cash"], cu, cf, cc, -AMOUNT_FEN)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def main() -> None:
    db = await create_database()
    result: dict[str, Any] = {}
    try:
        worlds = await setup(db)
        ours_t, raw_t = worlds["benchwarm"], worlds["benchrawwarm"]
        # Warm-up (connections, prepared statements, imports, caches), not measured.
        await run_raw(db, raw_t, 99, 2_000)
        await run_ours(ours_t, await prepare_campaign(db, ours_t, 2_000))
        sample = min(N, 5_000)  # the per-entry baseline is slow: timed once on a sample, scaled per payment
        raw1_s = await run_raw_per_entry(db, raw_t, sample) * N / sample
        rounds = Rounds()
        ours_s: list[float] = []
        raw_s: list[float] = []
        approve_s: list[float] = []
        for r in range(ROUNDS):
            cid = await prepare_campaign(db, ours_t)
            for side in (("raw", "ours") if rounds.first(r) == "raw" else ("ours", "raw")):
                if side == "raw":
                    raw_s.append(await run_raw(db, raw_t, r))
                    continue
                ours = await run_ours(ours_t, cid)
                assert ours["state"] == "distributed" and ours["paid"] == N and ours["entries"] == N, ours
                assert ours["paid_fen"] == N * AMOUNT_FEN, ours
                ours_s.append(ours["seconds"])
                approve_s.append(ours["approve_seconds"])
            rounds.add(raw_s[-1] / ours_s[-1])
            print(f"round {r + 1}: ours {N / ours_s[-1]:8.0f} payments/s   raw {N / raw_s[-1]:8.0f} payments/s   "
                  f"ratio {raw_s[-1] / ours_s[-1]:.3f}", flush=True)
        from core.context import tenant_scope
        from core.dbutil import raw
        from core.funds.chain import verify

        with tenant_scope(ours_t["tenant"]):
            chain_report = await verify(ours_t["tenant"])
            # Each account's balance is the sum of its postings (core's integrity check does more, but its
            # anti-joins over a million fresh rows without statistics take many minutes here).
            off = await raw("SELECT a.id FROM ledger_account a LEFT JOIN (SELECT account_id, SUM(amount_fen) AS s FROM "
                            "ledger_posting WHERE tenant_id = {} GROUP BY account_id) p ON p.account_id = a.id WHERE "
                            "a.tenant_id = {} AND a.balance_fen <> COALESCE(p.s, 0)", ours_t["tenant"].id,
                            ours_t["tenant"].id)
        o_med, r_med = statistics.median(ours_s), statistics.median(raw_s)
        result = json.loads(result_line(
            "warmth", rounds, ">=0.2", beneficiaries=N, ours_seconds=round(o_med, 2),
            ours_approve_seconds=round(statistics.median(approve_s), 2), raw_seconds=round(r_med, 2),
            ours_per_s=round(N / o_med, 1), raw_per_s=round(N / r_med, 1),
            ratio_vs_per_entry_raw=round(raw1_s / o_med, 3), raw_per_entry_per_s=round(N / raw1_s, 1),
            chain_ok=chain_report.ok, chain_linked=chain_report.checked, balances_ok=not off,
            peak_rss_mb=round(rss_mb(), 1), date=dt.date.today().isoformat()))
        assert chain_report.ok and not off, (chain_report.problems[:5], off[:5])
    finally:
        from core.bootstrap import stop_database

        try:
            await stop_database()
        finally:
            await drop_database(db)
    print(f"ours {result['ours_per_s']} payments/s vs raw {result['raw_per_s']} batched payments/s -> ratio "
          f"{result['ratio']} ({result['ratio_min']}..{result['ratio_max']} over {result['rounds']} rounds, target "
          f">= 0.2); vs {result['raw_per_entry_per_s']} per-entry -> {result['ratio_vs_per_entry_raw']}; chain ok="
          f"{result['chain_ok']}, balances ok={result['balances_ok']}; peak RSS {result['peak_rss_mb']} MB")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())

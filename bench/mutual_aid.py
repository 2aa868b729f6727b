"""Benchmark: automatic claims (免申即享) from a hospital-stay file, against a raw COPY of the same file.

Run with ``make bench-mutual-aid`` (or ``uv run python -m bench.mutual_aid [--members N] [--stays N] [--rounds N]``).
It creates its own PostgreSQL database (owned by a NOSUPERUSER NOBYPASSRLS role, as production runs),
migrates it and syncs the shipped tenants, then sets up Beijing's tenant with ``--members`` members
(default 1,000,000) all enrolled in the hospital allowance. The set-up loads them with COPY into a
staging table and one INSERT ... SELECT each (members, enrolments): it is not what is measured. The
members' ID numbers are blind-indexed as the members domain does; their encrypted copy is a
placeholder, since nothing here decrypts it.

Measured in interleaved rounds (``bench/common.py``'s ``Rounds``; ``--rounds``, default ``BENCH_ROUNDS`` or
5), each on a new file of ``--stays`` rows (default 100,000; about 5 % name nobody), since a file imported
again creates nothing:

- ``raw_copy_s``: ``COPY ... FROM STDIN (FORMAT csv)`` of the file into a table of typed columns with
  no index: the fastest the database takes these rows;
- ``import_s``: the automatic-claims job (``huijia_mutual_aid.stays.import_stays``) on the stored file:
  read and decrypt the file, parse and check every row, stage the stays by blind index and match them
  to members, enrolments and earlier claims in SQL, run the claim checks and the province's benefit
  hook (batched) within the caps, reserve each chunk's total on the plan's fund, write the claim rows
  and their cases (one row each, approved), all in one transaction under the plan's cap lock.

``ratio`` = raw COPY time / import time, the median of the rounds (higher is better; target >= 0.05).
``writes_floor_s`` is the time of the rows such an import must write (as many claims and cases as a
round made) by one INSERT ... SELECT with no Python, rolled back; ``ratio_floor`` = raw COPY time /
that: the best ratio any import of these stays could show on this machine. ``timing`` is the first
round's job time by phase. ``peak_rss_mb`` is this process's peak (``ru_maxrss``), set-up included;
``load`` the one-minute load average at the start and the end. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLAN = "beijing_hospital_allowance"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BATCH = 100_000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def id_number(i: int) -> str:
    """The ``i``-th member's ID number: one birth date per 1,000 members from 1975 on (all of an age
    Beijing's plan covers), a three-digit sequence, and the GB 11643 check character."""
    born = dt.date(1975, 1, 1) + dt.timedelta(days=i // 1000)
    body = f"110105{born:%Y%m%d}{i % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


async def load_members(conn, tenant_id: int, units: list[int], members: int, ix) -> None:
    """Members and their enrolments, staged with COPY (row-level security refuses COPY into the tables
    themselves) and inserted with one statement per batch."""
    await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant_id))
    await conn.execute("CREATE TEMP TABLE stage (org_unit_id bigint, gender text, birth_date date, bidx bytea)")
    for start in range(0, members, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, members)):
            idn = id_number(i)
            rows.append((units[i % len(units)], "M" if int(idn[16]) % 2 else "F",
                         dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14])), ix.id_bidx(idn)))
        await conn.execute("TRUNCATE stage")
        await conn.copy_records_to_table("stage", records=rows)
        await conn.execute(
            "INSERT INTO member (tenant_id, org_unit_id, name, name_search, gender, birth_date, id_number_enc, "
            "id_number_bidx, employer, work_status, tags, state, version, created_at, updated_at) SELECT $1, "
            "org_unit_id, '职工', '职工', gender, birth_date, 'bench-placeholder', bidx, '', 'on_duty', '{}', 'joined', "
            "1, now(), now() FROM stage", tenant_id)
    year = dt.date.today().year
    await conn.execute(
        "INSERT INTO mutual_aid_enrolment (tenant_id, org_unit_id, plan_code, member_id, term_start, shares, cover_from, "
        "cover_to, premium_fen, batch_key, created_at) SELECT $1, org_unit_id, $2, id, $3, 1, $4, $5, 6000, 'bench', "
        "now() FROM member WHERE tenant_id = $1", tenant_id, PLAN, dt.date(year, 1, 1), dt.date(year, 1, 2),
        dt.date(year, 12, 31))
    await conn.execute("ANALYZE member")
    await conn.execute("ANALYZE mutual_aid_enrolment")


BREAKDOWN = json.dumps([{"label_zh": "住院津贴", "amount_fen": 28000, "note_zh": "住院10天，自第4天起7天×40元"}],
                       ensure_ascii=False)


class _Rollback(Exception):
    pass


async def writes_floor(tenant, n: int) -> float:
    """The writing alone, as fast as SQL does it: ``n`` claim rows (with their indexes, foreign keys and
    row-level security) and their ``n`` case rows, each in one INSERT ... SELECT from rows already in the
    database, with no Python in between; rolled back. No import of ``n`` stays can be faster than this,
    so ``raw_copy_s / writes_floor_s`` is the highest ratio the import could reach on this machine."""
    from core.context import tenant_scope
    from core.sdk import raw, transaction

    took = 0.0
    with tenant_scope(tenant):
        try:
            async with transaction():
                t0 = time.perf_counter()
                await raw(
                    "WITH ins AS (INSERT INTO mutual_aid_claim (tenant_id, org_unit_id, member_id, enrolment_id, plan_code, "
                    "term_start, kind, event_date, admitted_on, discharged_on, hospital_enc, covered_cost_fen, "
                    "own_cost_fen, amount_fen, breakdown, source, stay_key, created_by_name, created_at) SELECT "
                    "e.tenant_id, e.org_unit_id, e.member_id, e.id, e.plan_code, e.term_start, 'hospital_stay', "
                    "e.cover_from, e.cover_from, e.cover_to, repeat('x', 90), 100000, 20000, 28000, {}::jsonb, "
                    "'automatic', md5('floor' || e.id) || md5(e.id::text), 'stays-import', now() "
                    "FROM mutual_aid_enrolment e WHERE e.tenant_id = {} ORDER BY e.id DESC LIMIT {} "
                    "RETURNING id, org_unit_id) "
                    "INSERT INTO workflow_case (tenant_id, capability, case_type, case_id, org_unit_id, state, "
                    "state_since, version, created_at, updated_at) SELECT {}, 'mutual_aid', 'claim', id, org_unit_id, "
                    "'approved', now(), 3, now(), now() FROM ins", BREAKDOWN, tenant.id, n, tenant.id)
                took = time.perf_counter() - t0
                raise _Rollback
        except _Rollback:
            pass
    return took


def stays_csv(members: int, stays: int, seed: int = 14) -> bytes:
    rnd = random.Random(seed)
    year = dt.date.today().year
    first, span = dt.date(year, 1, 10), max((dt.date.today() - dt.date(year, 1, 10)).days - 40, 30)
    out = io.StringIO()
    out.write("身份证号,入院日期,出院日期,医院,医保内费用,个人自付\n")
    for n in range(stays):
        who = id_number(members + n) if rnd.random() < 0.05 else id_number(rnd.randrange(members))
        admitted = first + dt.timedelta(days=rnd.randrange(span))
        nights = rnd.randint(1, 30)
        covered = rnd.randint(50_000, 5_000_000)
        out.write(f"{who},{admitted},{admitted + dt.timedelta(days=nights)},北京第{n % 40}医院,{covered / 100:.2f},"
                  f"{covered * rnd.randint(5, 40) // 100 / 100:.2f}\n")
    return out.getvalue().encode()


async def measure(members: int, stays: int, rounds_n: int) -> str:
    import asyncpg

    from bench.common import Rounds, result_line
    from core.accounts.services import create_user
    from core.actor import Actor
    from core.bootstrap import migrate, start_database, stop_database
    from core.context import tenant_scope
    from core.members import personal
    from core.sdk import JobContext, files, raw
    from core.tenancy import services as tenancy
    from core.tenancy.manifest import sync_all
    from huijia_mutual_aid.stays import import_stays
    from huijia_mutual_aid.testing import fund

    await start_database()
    try:
        await migrate()
        await sync_all()
        tenant = await tenancy.get_tenant(code="beijing")
        with tenant_scope(tenant):
            units = [int(r["id"]) for r in await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND level = "
                                                     "'grassroots' ORDER BY id", tenant.id)]
            ix = await personal.index_keys(tenant, for_write=True)
        t0 = time.perf_counter()
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            await load_members(conn, tenant.id, units, members, ix)
        finally:
            await conn.close()
        setup_s = time.perf_counter() - t0

        class Made:  # what the test helper needs of a tenant
            code = tenant.code

            async def context(self):
                return tenant

        await fund(Made(), PLAN, "职工住院津贴互助保障", 10**12)
        with tenant_scope(tenant):
            root = (await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND parent_id IS NULL", tenant.id))[0]["id"]
            user = await create_user(tenant, Actor(None, "bench"), username="bench_importer", password="bench-password-1",
                                     grants=[("approver", root)])
            user_id = int(user["id"])

        async def raw_copy(body: bytes, r: int) -> float:
            """The baseline: the same bytes into a plain typed table, with no index."""
            conn = await asyncpg.connect(os.environ["DATABASE_URL"])
            try:
                await conn.execute(f"CREATE TABLE raw_stays_{r} (id_number text, admitted_on date, discharged_on date, "
                                   "hospital text, covered_cost numeric(14, 2), own_cost numeric(14, 2))")
                t0 = time.perf_counter()
                await conn.copy_to_table(f"raw_stays_{r}", source=io.BytesIO(body), format="csv", header=True)
                took = time.perf_counter() - t0
                assert await conn.fetchval(f"SELECT count(*) FROM raw_stays_{r}") == stays
            finally:
                await conn.close()
            return took

        async def ours(body: bytes) -> tuple[float, dict]:
            with tenant_scope(tenant):
                before = int((await raw("SELECT count(*) AS n FROM mutual_aid_claim WHERE tenant_id = {}", tenant.id))[0]["n"])
                file_id = int((await raw("INSERT INTO mutual_aid_stay_file (tenant_id, plan_code, kind, filename, size, "
                                         "sha256, created_by, created_at) VALUES ({}, {}, 'hospital_stay', 'bench.csv', "
                                         "{}, '', {}, now()) RETURNING id", tenant.id, PLAN, len(body), user_id))[0]["id"])
                files.store("mutual_aid").store_stream(iter([body]), "stays", tenant.id, file_id)
                t0 = time.perf_counter()
                result = await import_stays(JobContext(tenant, 0, 1), file_id)
                took = time.perf_counter() - t0
                after = int((await raw("SELECT count(*) AS n FROM mutual_aid_claim WHERE tenant_id = {}", tenant.id))[0]["n"])
                cases = await raw("SELECT count(*) AS n FROM workflow_case WHERE tenant_id = {} AND capability = "
                                  "'mutual_aid' AND state = 'approved'", tenant.id)
            assert after - before == result["created"] and after == int(cases[0]["n"])
            return took, result

        rounds = Rounds()
        results, raw_s, ours_s = [], [], []
        for r in range(rounds_n):
            # each round a new file of the same size (a file imported again creates nothing)
            body = stays_csv(members, stays, seed=14 + r)
            got: dict[str, float] = {}
            for side in (("raw", "ours") if rounds.first(r) == "raw" else ("ours", "raw")):
                if side == "raw":
                    got["raw"] = await raw_copy(body, r)
                else:
                    got["ours"], result = await ours(body)
                    results.append(result)
            rounds.add(got["raw"] / got["ours"])
            raw_s.append(got["raw"])
            ours_s.append(got["ours"])
            print(f"round {r + 1}: raw {got['raw']:.3f} s  ours {got['ours']:.2f} s  ratio {rounds.ratios[-1]:.4f}  "
                  f"created {result['created']}  timing {result['timing']}", flush=True)
        floor_s = await writes_floor(tenant, int(statistics.median([r["created"] for r in results])))
        first = results[0]
        return result_line(
            "mutual_aid", rounds, ">= 0.05", peak_rss_mb=round(rss_mb(), 1), rss_target="< 400", members=members,
            stays=stays, raw_copy_s=round(statistics.median(raw_s), 3), import_s=round(statistics.median(ours_s), 2),
            stays_per_s=round(stays / statistics.median(ours_s)), claims=first["created"],
            unmatched=first["unmatched"], unmatched_by_reason=first["unmatched_by_reason"],
            amount_fen=first["amount_fen"], timing=first["timing"], writes_floor_s=round(floor_s, 2),
            ratio_floor=round(statistics.median(raw_s) / floor_s, 4), setup_members_s=round(setup_s, 1))
    finally:
        await stop_database()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--stays", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=None, help="default: BENCH_ROUNDS or 5")
    args = parser.parse_args()
    from bench.common import ROUNDS, app_dsn, create_database, drop_database

    db = asyncio.run(create_database())
    os.environ.update({"DATABASE_URL": app_dsn(db), "HUIJIA_LOG_LEVEL": "WARNING", "HUIJIA_ENV": "test"})
    os.environ.setdefault("HUIJIA_DATA_DIR", f"/tmp/{db}")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    try:
        line = asyncio.run(measure(args.members, args.stays, args.rounds or ROUNDS))
    finally:
        asyncio.run(drop_database(db))
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: automatic claims (免申即享) from a hospital-stay file, against a raw COPY of the same file.

Run with ``make bench-mutual-aid`` (or ``uv run python -m bench.mutual_aid [--members N] [--stays N]``).
It creates its own PostgreSQL database (owned by a NOSUPERUSER NOBYPASSRLS role, as production runs),
migrates it and syncs the shipped tenants, then sets up Beijing's tenant with ``--members`` members
(default 1,000,000) all enrolled in the hospital allowance. The set-up loads them with COPY into a
staging table and one INSERT ... SELECT each (members, enrolments): it is not what is measured. The
members' ID numbers are blind-indexed as the members domain does; their encrypted copy is a
placeholder, since nothing here decrypts it.

Measured in the same run, on the same ``--stays`` rows (default 100,000; about 5 % name nobody):

- ``raw_copy_s``: ``COPY ... FROM STDIN (FORMAT csv)`` of the file into a table of typed columns with
  no index: the fastest the database takes these rows;
- ``import_s``: the automatic-claims job (``huijia_mutual_aid.stays.import_stays``) on the stored file:
  read and decrypt the file, parse and check every row, match ID numbers through the blind index,
  find each member's enrolment, run the claim checks and the province's benefit hook with the caps
  (counting earlier stays of the file), reserve each chunk's total on the plan's fund, write the claim
  rows, and open their cases on the claim machine as checked and approved.

``ratio`` = raw COPY time / import time (higher is better; target >= 0.05). ``peak_rss_mb`` is this
process's peak (``ru_maxrss``), set-up included; ``load`` the one-minute load average at the start and
the end. The last line printed is one JSON object.
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


async def measure(members: int, stays: int) -> dict:
    import asyncpg

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

    load_start = round(os.getloadavg()[0], 2)
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
        body = stays_csv(members, stays)

        # the baseline: the same bytes into a plain typed table
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            await conn.execute("CREATE TABLE raw_stays (id_number text, admitted_on date, discharged_on date, "
                               "hospital text, covered_cost numeric(14, 2), own_cost numeric(14, 2))")
            t0 = time.perf_counter()
            await conn.copy_to_table("raw_stays", source=io.BytesIO(body), format="csv", header=True)
            raw_copy_s = time.perf_counter() - t0
            copied = await conn.fetchval("SELECT count(*) FROM raw_stays")
        finally:
            await conn.close()

        with tenant_scope(tenant):
            root = (await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND parent_id IS NULL", tenant.id))[0]["id"]
            user = await create_user(tenant, Actor(None, "bench"), username="bench_importer", password="bench-password-1",
                                     grants=[("approver", root)])
            user_id = int(user["id"])
            file_id = int((await raw("INSERT INTO mutual_aid_stay_file (tenant_id, plan_code, kind, filename, size, "
                                     "sha256, created_by, created_at) VALUES ({}, {}, 'hospital_stay', 'bench.csv', {}, "
                                     "'', {}, now()) RETURNING id", tenant.id, PLAN, len(body), user_id))[0]["id"])
            files.store("mutual_aid").store_stream(iter([body]), "stays", tenant.id, file_id)
            del body
            t0 = time.perf_counter()
            result = await import_stays(JobContext(tenant, 0, 1), file_id)
            import_s = time.perf_counter() - t0
            claims = await raw("SELECT count(*) AS n FROM mutual_aid_claim WHERE tenant_id = {}", tenant.id)
            cases = await raw("SELECT count(*) AS n FROM workflow_case WHERE tenant_id = {} AND capability = "
                              "'mutual_aid' AND state = 'approved'", tenant.id)
        assert copied == stays and int(claims[0]["n"]) == result["created"] == int(cases[0]["n"])
        return {"bench": "mutual_aid", "ratio": round(raw_copy_s / import_s, 4), "target": ">= 0.05",
                "peak_rss_mb": round(rss_mb(), 1), "rss_target": "< 400", "members": members, "stays": stays,
                "raw_copy_s": round(raw_copy_s, 3), "import_s": round(import_s, 2),
                "stays_per_s": round(stays / import_s), "claims": result["created"],
                "unmatched": result["unmatched"], "unmatched_by_reason": result["unmatched_by_reason"],
                "amount_fen": result["amount_fen"], "setup_members_s": round(setup_s, 1),
                # one round (the set-up takes minutes): on a busy machine the figures say more about the neighbours
                "load": {"start": load_start, "end": round(os.getloadavg()[0], 2)}}
    finally:
        await stop_database()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--stays", type=int, default=100_000)
    args = parser.parse_args()
    from bench.common import app_dsn, create_database, drop_database

    db = asyncio.run(create_database())
    os.environ.update({"DATABASE_URL": app_dsn(db), "HUIJIA_LOG_LEVEL": "WARNING", "HUIJIA_ENV": "test"})
    os.environ.setdefault("HUIJIA_DATA_DIR", f"/tmp/{db}")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    try:
        result = asyncio.run(measure(args.members, args.stays))
    finally:
        asyncio.run(drop_database(db))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

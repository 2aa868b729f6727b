"""bench-hardship: the yearly re-verification (复核) of 100,000 archived households against a raw
UPDATE of the same rows, in the same run and the same database.

- ours: the batch re-verification job's own code (``huijia_hardship.reverify.run``): per batch of
  1,000 archives in id order, decrypt each household's stored figures, ask the tenant's
  ``hardship_classify`` and ``hardship_exclusions`` hooks (the national formula with the tenant's
  低保 line), write each archive (one multi-row UPDATE per batch: category, classification, next due
  date), an encrypted history row for each classification that changed (5 % here, stale rules), and
  the run's resumable cursor, one transaction per batch, as the app role under row-level security.
- raw: one ``UPDATE hardship_archive SET classified_at, updated_at, reverify_due_on`` of the same
  due rows, as the server's superuser (no RLS, no decryption, no rules).

Both start from the seeded table, VACUUM ANALYZE'd, in interleaved rounds (BENCH_ROUNDS, default 5).
ratio = median over rounds of ours / raw throughput (archives per second); target >= 0.2. The last line of output is one JSON object. BENCH_ARCHIVES overrides 100,000.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time

import asyncpg

from bench.common import PG_ADMIN, ROUNDS, Rounds, app_dsn, create_database, drop_database, result_line

ARCHIVES = int(os.environ.get("BENCH_ARCHIVES", "100000"))
DIBAO = 100_000  # 1,000 元 a month in the bench region
SETTINGS = {"builtin": {"dibao": {"110105": {"2024": DIBAO}}}}


async def seed(db: str) -> tuple[int, dt.date]:
    os.environ["DATABASE_URL"] = app_dsn(db)
    os.environ.setdefault("HUIJIA_LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    from huijia_hardship import services
    from huijia_hardship.plugin import classify

    from core.actor import Actor
    from core.bootstrap import migrate, start_database
    from core.context import tenant_scope
    from core.tenancy.manifest import ensure_platform_tenant
    from core.tenancy.services import create_tenant, root_unit

    await start_database()
    await migrate()
    await ensure_platform_tenant()
    tenant = await create_tenant(Actor(None, "bench"), code="benchhs", name="基准测试省总工会", province_code="11",
                                 capabilities=["hardship"], settings=SETTINGS)
    with tenant_scope(tenant):
        root = await root_unit(tenant)
        # 200 kinds of household (income, size): each archive gets one, with its token encrypted
        # under the tenant's context as the service writes it.
        kinds = []
        year = dt.date.today().year
        for k in range(200):
            fin = services.Finances(monthly_income_fen=60_000 + k * 1_500, monthly_rigid_expense_fen=20_000 + k * 100)
            row = {"area_code": "110105", "household_size": 1 + k % 4, "migrant": False}
            c = classify(tenant, services.facts_of(tenant, row, fin, year))
            current = {"category": c.category, "reasons": list(c.reasons), "rule_version": c.rule_version,
                       "excluded": c.excluded}
            stale = {**current, "rule_version": "national-2019"}
            kinds.append((1 + k % 4, services._enc(tenant, "finances", fin.to_json()), c.category,
                          json.dumps(current, ensure_ascii=False), json.dumps(stale, ensure_ascii=False)))
    due = dt.date.today() - dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC)
    archives, cases = [], []
    for i in range(1, ARCHIVES + 1):
        size, fin, category, current, stale = kinds[i % len(kinds)]
        archives.append((i, tenant.id, root["id"], i, "regular", "grassroots", "110105", size, False, "on_duty", "",
                         "", False, False, "", [], "", fin, "", category, stale if i % 20 == 0 else current, now, due,
                         now, now))
        cases.append((tenant.id, "hardship", "archive", i, root["id"], "archived", now, 9, now, now))
    # COPY refuses tables under row-level security for the app role: load as the superuser.
    conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + db)
    try:
        await conn.copy_records_to_table("hardship_archive", records=archives, columns=[
            "id", "tenant_id", "org_unit_id", "household_id", "kind", "tier", "area_code", "household_size", "migrant",
            "work_status", "housing", "medical_insurance", "single_parent", "zero_employment", "main_cause",
            "secondary_causes", "health_enc", "finances_enc", "bank_card_enc", "category", "classification",
            "classified_at", "reverify_due_on", "created_at", "updated_at"])
        await conn.execute("SELECT setval(pg_get_serial_sequence('hardship_archive', 'id'), $1)", ARCHIVES)
        await conn.copy_records_to_table("workflow_case", records=cases, columns=[
            "tenant_id", "capability", "case_type", "case_id", "org_unit_id", "state", "state_since", "version",
            "created_at", "updated_at"])
        for table in ("hardship_archive", "workflow_case", "hardship_classification"):
            await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()
    return tenant.id, due


def _admin(db: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


async def snapshot(db: str) -> None:
    """Keep the seeded classifications, so every round re-verifies the same stale 5 %."""
    conn = await asyncpg.connect(_admin(db))
    try:
        await conn.execute("CREATE TABLE bench_archive_seed AS SELECT id, category, classification, classified_at, "
                           "reverify_due_on FROM hardship_archive")
    finally:
        await conn.close()


async def reset(db: str) -> None:
    """Put the archives back as seeded and drop the history rows a round wrote; then VACUUM ANALYZE,
    so each side starts from the same clean table."""
    conn = await asyncpg.connect(_admin(db))
    try:
        await conn.execute("UPDATE hardship_archive a SET category = s.category, classification = s.classification, "
                           "classified_at = s.classified_at, reverify_due_on = s.reverify_due_on "
                           "FROM bench_archive_seed s WHERE s.id = a.id")
        await conn.execute("DELETE FROM hardship_classification")
        await conn.execute("VACUUM ANALYZE hardship_archive")
        await conn.execute("VACUUM ANALYZE hardship_classification")
    finally:
        await conn.close()


async def raw_update(db: str, tenant_id: int, due: dt.date) -> tuple[float, int]:
    conn = await asyncpg.connect(_admin(db))
    try:
        start = time.perf_counter()
        status = await conn.execute(
            "UPDATE hardship_archive a SET classified_at = now(), updated_at = now(), reverify_due_on = "
            "a.reverify_due_on FROM workflow_case w WHERE w.tenant_id = a.tenant_id AND w.capability = 'hardship' "
            "AND w.case_type = 'archive' AND w.case_id = a.id AND w.state = 'archived' AND a.tenant_id = $1 "
            "AND a.reverify_due_on <= $2", tenant_id, due)
        return time.perf_counter() - start, int(status.split()[-1])
    finally:
        await conn.close()


async def ours(tenant_id: int, due: dt.date) -> tuple[float, dict]:
    from huijia_hardship import reverify

    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.queries import get_tenant

    tenant = await get_tenant(id=tenant_id)
    with tenant_scope(tenant):
        rows = await raw("INSERT INTO hardship_reverify_run (tenant_id, as_of, status, cursor, done, changed, "
                         "started_at) VALUES ({}, {}, 'running', 0, 0, 0, now()) RETURNING id", tenant.id, due)
        start = time.perf_counter()
        result = await reverify.run(tenant, int(rows[0]["id"]))
        return time.perf_counter() - start, result


async def main() -> None:
    db = await create_database()
    try:
        tenant_id, due = await seed(db)
        await snapshot(db)
        rounds = Rounds()
        for r in range(ROUNDS):
            got: dict[str, float] = {}
            for side in (("raw", "ours") if rounds.first(r) == "raw" else ("ours", "raw")):
                await reset(db)
                if side == "raw":
                    raw_s, raw_n = await raw_update(db, tenant_id, due)
                    if raw_n != ARCHIVES:
                        raise SystemExit(f"raw updated {raw_n} rows, not {ARCHIVES}")
                    got["raw"] = raw_n / raw_s
                else:
                    ours_s, result = await ours(tenant_id, due)
                    if result["done"] != ARCHIVES or result["changed"] != ARCHIVES // 20:
                        raise SystemExit(f"ours re-verified {result}, not {ARCHIVES} with {ARCHIVES // 20} changed")
                    got["ours"] = result["done"] / ours_s
            rounds.add(got["ours"] / got["raw"])
            print(f"round {r + 1}: raw {got['raw']:,.0f}/s  ours {got['ours']:,.0f}/s  ratio {rounds.ratios[-1]:.3f}")
        from core.bootstrap import stop_database

        await stop_database()
        print(result_line("hardship", rounds, ">=0.2", archives=ARCHIVES, changed_per_round=ARCHIVES // 20,
                          ours_per_s=round(got["ours"]), raw_per_s=round(got["raw"])))
    finally:
        await drop_database(db)


if __name__ == "__main__":
    asyncio.run(main())

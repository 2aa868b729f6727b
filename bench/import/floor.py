"""The database floor of the roster import: the commit's own write path on rows that cost nothing to prepare.

Run by ``bench/import/run.py`` in a subprocess (``python bench/import/floor.py --rows N``), in a
database of its own, so that its rows do not swell the indexes the real import is then timed against.

Each batch of rows is built beforehand with real AES-GCM tokens and blind indexes (so row and key sizes
are those of production) and only ``importer._commit_batch`` is timed: the tenant's import lock, the
``FOR UPDATE`` dedupe lookup, the COPY into staging, the ``INSERT ... SELECT`` into ``member`` with its
history and tag rows, the checkpoint, and the statistics refreshes the commit makes as the table
grows, all under row-level security as the app role. No validation,
no plugin rules, no encryption, no file reading is timed. If this alone takes longer than 10 times the
raw COPY, no speed-up of the Python side can reach a ratio of 0.10 with this schema on this machine.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import GIVEN, ROLE, SURNAMES, add_units, create_database, drop_database  # noqa: E402  (bench/import/run.py)


def fake_rows(start: int, count: int, unit_ids: list[int], tenant_id: int, rnd: random.Random, ix: Any) -> list:
    from core.members import personal
    from core.members.importer import Prepared
    from core.members.pii_keys import keyring

    ring = keyring()
    id_ctx = personal.context("member", "id_number", tenant_id)
    phone_ctx = personal.context("member", "phone", tenant_id)
    out = []
    for n in range(start, start + count):
        id_number = f"{n:018d}"  # unique; its shape does not matter, nothing validates it here
        phone = f"13{n:09d}"
        # Names drawn as the roster's are: the two pinyin (ICU) name indexes compare real names, and
        # one name for every row made them much cheaper than an import's.
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.7 else "")
        out.append(Prepared(
            row_no=n + 2, name=name, name_search=name, id_number=id_number, gender="M",
            birth_date=dt.date(1960 + n % 40, 1, 1), phone=phone, org_unit_id=unit_ids[n % len(unit_ids)],
            employer=f"上海某某公司{n % 997}", work_status="on_duty",
            tags=("model_worker",) if rnd.random() < 0.2 else (), joined_on=dt.date(2010, 1, 1),
            given=("phone", "employer", "work_status", "joined_on"), region_code="310101",
            id_bidx=ix.id_bidx(id_number), phone_bidx=ix.phone_bidx(phone),
            id_enc=ring.encrypt(id_number, context=id_ctx), phone_enc=ring.encrypt(phone, context=phone_ctx),
        ))
    return out


async def measure(rows: int, units: int) -> dict:
    from core.actor import Actor
    from core.bootstrap import migrate, start_database, stop_database
    from core.context import tenant_scope
    from core.members import importer
    from core.members.tables import MemberImport
    from core.tenancy import services as tenancy
    from core.tenancy.manifest import sync_all

    await start_database()
    try:
        await migrate()
        await sync_all()
        codes = await add_units(units)
        tenant = await tenancy.get_tenant(code="shanghai")
        with tenant_scope(tenant):
            unit_ids = [(await tenancy.get_unit_by_code(tenant, c))["id"] for c in codes]
            import_id = (await MemberImport.insert(MemberImport(
                tenant_id=tenant.id, filename="floor.csv", status="committing", total_rows=rows,
            )).returning(MemberImport.id))[0]["id"]
            actor = Actor(None, "bench")
            from core.members import personal

            ix = await personal.index_keys(tenant)
            rnd = random.Random(7)
            write_s = 0.0
            stats = await importer._Statistics.start()  # as run_commit keeps the planner's statistics
            for start in range(0, rows, importer.BATCH_ROWS):
                count = min(importer.BATCH_ROWS, rows - start)
                batch = fake_rows(start, count, unit_ids, tenant.id, rnd, ix)
                t0 = time.perf_counter()
                created = await importer._commit_batch(tenant, import_id, actor, batch, [], start + count + 1, count,
                                                       prepared_keys=ix)
                if stats.note(len(created)):
                    await stats.refresh()
                write_s += time.perf_counter() - t0
                assert len(created) == count
        return {"floor_write_s": round(write_s, 2), "floor_rows": rows}
    finally:
        await stop_database()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=200)
    args = parser.parse_args()
    db = f"huijia_importfloor_{uuid.uuid4().hex[:8]}"
    os.environ.update({
        "DATABASE_URL": f"postgresql://{ROLE}@127.0.0.1:5432/{db}", "HUIJIA_LOG_LEVEL": "WARNING", "HUIJIA_ENV": "test",
    })
    os.environ.setdefault("HUIJIA_DATA_DIR", "/tmp")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    asyncio.run(create_database(db))
    try:
        result = asyncio.run(measure(args.rows, args.units))
    finally:
        asyncio.run(drop_database(db))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

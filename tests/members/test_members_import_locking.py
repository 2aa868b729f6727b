"""A commit batch locks only the people it changes: an unchanged re-import writes nothing into the
member rows, and a change made by someone else between the batch's read and its lock is planned
against (recorded as the import's change), never silently overwritten."""

from __future__ import annotations

import os

import asyncpg
import pytest

from core.jobs import runner
from core.members import importer
from tests.members.members_helpers import MEMBERS, commit, import_state, make_id, roster_csv, upload

UNIT = "sh-pudong-zhangjiang"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


async def _app_conn(tenant_code: str) -> asyncpg.Connection:
    """A connection of its own, as the app role under row-level security: a genuinely concurrent writer."""
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    tenant_id = await conn.fetchval("SELECT id FROM tenant WHERE code = $1", tenant_code)
    await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant_id))
    return conn


async def test_unchanged_reimport_leaves_member_rows_untouched(sh_admin):
    rows = [[f"不动{i:02d}", make_id(), UNIT, f"137{i:08d}", "张江高科", "在岗", "", "2020-01-01"] for i in range(12)]
    content = roster_csv(rows)
    await commit(sh_admin, (await upload(sh_admin, content))["import"]["id"])
    conn = await _app_conn("shanghai")
    try:
        sql = "SELECT id, ctid::text AS ctid, xmax::text AS xmax FROM member WHERE name LIKE '不动%' ORDER BY id"
        before = [dict(r) for r in await conn.fetch(sql)]
        assert len(before) == 12
        again = await upload(sh_admin, content)
        await commit(sh_admin, again["import"]["id"])
        imp = await import_state(sh_admin, again["import"]["id"])
        assert (imp["created"], imp["updated"], imp["unchanged"]) == (0, 0, 12)
        after = [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()
    # Same tuple (no update) and no row lock left in it (no FOR UPDATE).
    assert after == before and all(r["xmax"] == "0" for r in after)


async def test_a_change_between_read_and_lock_is_planned_against(sh_admin, import_options):
    person = make_id()
    row = ["并发甲", person, UNIT, "13500000001", "旧单位", "在岗", "", "2020-01-01"]
    await commit(sh_admin, (await upload(sh_admin, roster_csv([row])))["import"]["id"])
    row[4] = "新单位"  # the roster changes the employer
    up = await upload(sh_admin, roster_csv([row]))

    conn = await _app_conn("shanghai")
    edited = []

    class EditedMeanwhile(importer.PgStore):
        async def lock_existing(self, bidxs):
            if not edited:
                # Another clerk renames the person after the batch read them, before it locks them.
                await conn.execute("UPDATE member SET name = '并发乙', version = version + 1 WHERE name = '并发甲'")
                edited.append(True)
            return await super().lock_existing(bidxs)

    import_options(pg_store=EditedMeanwhile)
    try:
        await commit(sh_admin, up["import"]["id"])
    finally:
        await conn.close()
    imp = await import_state(sh_admin, up["import"]["id"])
    assert (imp["created"], imp["updated"]) == (0, 1)
    found = (await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": person}}))["data"]["members"]["nodes"]
    assert len(found) == 1 and found[0]["name"] == "并发甲"
    hist = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { version history { nodes { action changes } } } }",
                                  {"id": found[0]["id"]})
    member = hist["data"]["member"]
    # The import's record names the rename it undid, because it planned from the locked row.
    last = member["history"]["nodes"][0]
    assert last["action"] == "import.update"
    assert last["changes"]["name"] == ["并发乙", "并发甲"] and last["changes"]["employer"] == ["旧单位", "新单位"]
    assert member["version"] == 3


async def test_bulk_lookups_are_planned_for_each_batch(sh_admin, import_options):
    """The preview's and the commit's look-ups by blind index never run on a generic plan: one made
    while a tenant's table was empty would scan every row of it in each later batch (see
    importer._CUSTOM_PLANS)."""
    from core.dbutil import engine

    import_options(batch_rows=5)
    rows = [[f"计划{i:02d}", make_id(), UNIT, "", "", "", "", ""] for i in range(60)]
    up = await upload(sh_admin, roster_csv(rows))
    await commit(sh_admin, up["import"]["id"])
    assert (await import_state(sh_admin, up["import"]["id"]))["created"] == 60
    pool = engine().pool
    held = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        seen = []
        for conn in held:
            seen += [dict(r) for r in await conn.fetch(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%FROM member WHERE tenant_id = $1 AND id_number_bidx = ANY%' "
                "AND statement NOT LIKE '%pg_prepared_statements%'")]
    finally:
        for conn in held:
            await pool.release(conn)
    assert sum(r["custom_plans"] for r in seen) >= 24, seen  # 12 preview + 12 commit batches
    assert all(r["generic_plans"] == 0 for r in seen), seen

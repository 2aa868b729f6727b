"""A crash mid-import leaves an exact record of which rows went in; resuming finishes the rest.
Concurrent imports of the same people do not duplicate them; worker processes give the same result."""

from __future__ import annotations

import asyncio

import pytest

from core.jobs import runner
from core.members import importer
from tests.members.members_helpers import MEMBERS, commit, import_state, make_id, roster_csv, upload

pytestmark = pytest.mark.slow  # minutes, not seconds: left out of make test-fast

UNIT = "sh-huangpu-bailian"


@pytest.fixture(autouse=True)
def small_batches(import_options):
    import_options(batch_rows=10)
    with runner.jobs_in_process():
        yield


def rows(prefix: str, n: int) -> list[list[str]]:
    return [[f"{prefix}{i:03d}", make_id(), UNIT, f"137{i:08d}", "", "", "", ""] for i in range(n)]


async def count(p, prefix: str) -> int:
    res = await p.api.gql(MEMBERS, {"f": {"namePrefix": prefix}, "first": 1})
    return res["data"]["members"]["totalCount"]


async def test_crash_between_batches_then_resume(sh_admin, import_options):
    data = rows("断点甲", 35)
    data.insert(12, ["", "bad", UNIT, "", "", "", "", ""])  # an error row inside batch 2 (file row 14)
    up = await upload(sh_admin, roster_csv(data))
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["validRows"] == 35 and imp["errorRows"] == 1

    def crash(batch_no: int) -> None:
        if batch_no == 2:
            raise RuntimeError("simulated crash")

    import_options(after_batch=crash)
    await commit(sh_admin, imp["id"], allow=True)
    imp = await import_state(sh_admin, imp["id"])
    assert imp["status"] == "INTERRUPTED" and imp["commitJob"]["status"] == "FAILED"
    # Exactly batches 1 and 2 (file rows 2..21: 19 members and the error row) went in.
    assert (imp["committedThroughRow"], imp["batchesCommitted"], imp["created"], imp["failed"]) == (21, 2, 19, 1)
    assert await count(sh_admin, "断点甲") == 19
    assert {e["row"] for e in imp["errors"]["nodes"]} == {14}
    import_options(after_batch=None)
    await commit(sh_admin, imp["id"])
    imp = await import_state(sh_admin, imp["id"])
    assert imp["status"] == "COMMITTED" and imp["committedThroughRow"] == 37
    assert (imp["created"], imp["updated"], imp["unchanged"], imp["failed"]) == (35, 0, 0, 1)
    assert await count(sh_admin, "断点甲") == 35
    assert {e["row"] for e in imp["errors"]["nodes"]} == {14}


async def test_failure_inside_a_batch_rolls_the_whole_batch_back(sh_admin, import_options):
    up = await upload(sh_admin, roster_csv(rows("断点乙", 30)))
    calls = {"n": 0}

    class Flaky(importer.PgStore):
        async def write(self, plan, import_id, actor):
            calls["n"] += 1
            created = await super().write(plan, import_id, actor)  # rows are written ...
            if calls["n"] == 3:
                raise ConnectionError("database went away mid-batch")  # ... and then the batch fails
            return created

    import_options(pg_store=Flaky)
    await commit(sh_admin, up["import"]["id"])
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["status"] == "INTERRUPTED" and imp["committedThroughRow"] == 21 and imp["created"] == 20
    assert await count(sh_admin, "断点乙") == 20  # batch 3's inserts were rolled back with its checkpoint
    import_options(pg_store=None)
    await commit(sh_admin, up["import"]["id"])
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["status"] == "COMMITTED" and imp["created"] == 30 and await count(sh_admin, "断点乙") == 30


async def test_a_running_commit_cannot_be_started_twice(sh_admin):
    up = await upload(sh_admin, roster_csv(rows("并行甲", 5)))
    first = await sh_admin.api.gql("mutation($id: ID!) { memberImportCommit(id: $id) { errors { code } } }", {"id": up["import"]["id"]})
    second = await sh_admin.api.gql("mutation($id: ID!) { memberImportCommit(id: $id) { errors { code } } }", {"id": up["import"]["id"]})
    await runner.drain_local()
    assert first["data"]["memberImportCommit"]["errors"] == []
    assert second["data"]["memberImportCommit"]["errors"][0]["code"] == "INVALID_STATE"
    assert (await import_state(sh_admin, up["import"]["id"]))["created"] == 5


async def test_concurrent_imports_of_the_same_people_make_no_duplicates(sh_admin):
    data = rows("并行乙", 25)
    a = await upload(sh_admin, roster_csv(data))
    data2 = [r[:] for r in data]
    for r in data2:
        r[4] = "第二份名册"
    b = await upload(sh_admin, roster_csv(data2))
    await asyncio.gather(
        sh_admin.api.gql("mutation($id: ID!) { memberImportCommit(id: $id) { errors { code } } }", {"id": a["import"]["id"]}),
        sh_admin.api.gql("mutation($id: ID!) { memberImportCommit(id: $id) { errors { code } } }", {"id": b["import"]["id"]}),
    )
    await runner.drain_local(60)
    ia, ib = await import_state(sh_admin, a["import"]["id"]), await import_state(sh_admin, b["import"]["id"])
    assert ia["status"] == ib["status"] == "COMMITTED"
    assert ia["created"] + ib["created"] == 25 and ia["failed"] == ib["failed"] == 0
    assert await count(sh_admin, "并行乙") == 25


async def test_worker_processes_give_the_same_result(sh_admin, import_options):
    import_options(workers=2)
    data = rows("多进程", 42)
    data.append(["多进程坏", "123", UNIT, "", "", "", "", ""])
    up = await upload(sh_admin, roster_csv(data))
    imp = await import_state(sh_admin, up["import"]["id"])
    assert (imp["validRows"], imp["errorRows"]) == (42, 1)
    await commit(sh_admin, imp["id"], allow=True)
    imp = await import_state(sh_admin, imp["id"])
    assert imp["status"] == "COMMITTED" and imp["created"] == 42
    assert await count(sh_admin, "多进程") == 42

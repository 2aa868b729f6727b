"""The import's statement-at-a-time write path (the one Citus takes: ``INSERT ... VALUES`` and
single-row ``UPDATE``s) on plain PostgreSQL, so it is checked by every run, not only on a cluster:
the same creates, updates, tags, history rows and row errors as the staged ``COPY`` path."""

from __future__ import annotations

import pytest

from core.jobs import runner
from core.members import importer
from tests.members.members_helpers import MEMBERS, commit, import_state, make_id, roster_csv, upload

UNIT = "sh-huangpu-bailian"
HISTORY = "query($id: ID!) { member(id: $id) { employer history { nodes { action changes } } } }"


WRITES: list[int] = []


class ValuesPath(importer.PgStore):
    async def write(self, plan, import_id, actor):
        WRITES.append(import_id)
        return await self._write_citus(plan, import_id, actor)

    async def add_errors(self, import_id, phase, errors):
        if errors:
            await self._add_errors_citus(import_id, phase, errors)


@pytest.fixture(autouse=True)
def values_path(import_options):
    import_options(batch_rows=4, pg_store=ValuesPath)
    with runner.jobs_in_process():
        yield


def rows(n: int) -> list[list[str]]:
    return [[f"逐行{i:03d}", make_id(), UNIT, f"137{i:08d}", "张江高科", "在岗", "劳模" if i % 2 == 0 else "", "2021-05-01"]
            for i in range(n)]


async def member(p, id_number: str) -> dict:
    return (await p.api.gql(MEMBERS, {"f": {"idNumber": id_number}}))["data"]["members"]["nodes"][0]


async def test_creates_updates_tags_history_and_errors_statement_at_a_time(sh_admin):
    data = rows(9)
    await commit(sh_admin, (await upload(sh_admin, roster_csv(data)))["import"]["id"])
    found = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "逐行", "tags": ["model_worker"]}, "first": 1})
    assert found["data"]["members"]["totalCount"] == 5
    m = await member(sh_admin, data[1][1])
    hist = await sh_admin.api.gql(HISTORY, {"id": m["id"]})
    assert [n["action"] for n in hist["data"]["member"]["history"]["nodes"]] == ["import.create"]
    assert hist["data"]["member"]["history"]["nodes"][0]["changes"] == {"row": 3}

    data[1][4] = "新单位"        # employer
    data[2][6] = "户外"          # tags: 劳模 -> 户外劳动者
    data[3][3] = "13600000000"   # phone
    bad = ["坏行", "bad", UNIT, "", "", "", "", ""]
    up = await upload(sh_admin, roster_csv([*data, bad]))
    await commit(sh_admin, up["import"]["id"], allow=True)
    imp = await import_state(sh_admin, up["import"]["id"])
    assert (imp["status"], imp["created"], imp["updated"], imp["unchanged"], imp["failed"]) == ("COMMITTED", 0, 3, 6, 1)
    assert {e["row"] for e in imp["errors"]["nodes"]} == {11}
    hist = await sh_admin.api.gql(HISTORY, {"id": m["id"]})
    assert hist["data"]["member"]["employer"] == "新单位"
    assert [n["action"] for n in hist["data"]["member"]["history"]["nodes"]] == ["import.update", "import.create"]
    assert hist["data"]["member"]["history"]["nodes"][0]["changes"] == {"row": 3, "employer": ["张江高科", "新单位"]}
    for tag, expected in (("outdoor_worker", 1), ("model_worker", 0)):
        found = await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": data[2][1], "tags": [tag]}})
        assert found["data"]["members"]["totalCount"] == expected, tag
    assert (await member(sh_admin, data[3][1]))["phoneMasked"] == "136****0000"
    assert len(WRITES) >= 6  # both commits went through the statement-at-a-time path, in batches of 4

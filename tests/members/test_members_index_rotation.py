"""Blind-index key rotation (`huijia keys rotate-index`): every blind index is recomputed under the
new key, tenant by tenant, in committed batches; while a tenant is mid-rotation, search, create and
import dedupe, households and transfers still find people under either key; an interrupted run
resumes; a second tenant is untouched until its turn; re-running is a no-op; start-up refuses a
configuration that lacks a key some tenant's indexes are under.

Runs on tenants of its own (created here), so the index keys of the shared ones never change."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from typing import Any

import pytest

from core.jobs import runner
from core.members import keys
from core.pii import Keyring
from tests.fixtures.api import persona
from tests.members.members_helpers import (
    CREATE,
    MEMBERS,
    commit,
    create_member,
    import_state,
    make_id,
    roster_csv,
    upload,
)
from tests.members.members_helpers import (
    make_tenant as _make_tenant,
)

pytestmark = pytest.mark.slow  # minutes, not seconds: left out of make test-fast

DEV_KEY = b"huijia-dev-pii-key-32-bytes-long"
I1 = b"huijia-dev-blind-index-key-32byt"  # the development HUIJIA_PII_INDEX_KEY, id "i1"
I2 = os.urandom(32)
ID_PURPOSE, PHONE_PURPOSE = "person.id_number", "person.phone"


class Interrupted(Exception):
    pass


def ring(*index_ids: str) -> Keyring:
    material = {"i1": I1, "i2": I2}
    return Keyring({"dev1": DEV_KEY}, "dev1", {k: material[k] for k in index_ids})


def digest(value: str, tenant_id: int, key_id: str, purpose: str = ID_PURPOSE) -> bytes:
    return bytes.fromhex(ring("i1", "i2").blind_index(value, purpose=purpose, tenant_id=tenant_id, key_id=key_id))


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


def use(pii_keyring, *index_ids: str) -> Keyring:
    """This process now runs with HUIJIA_PII_INDEX_KEYS = the given ids (first = active)."""
    r = ring(*index_ids)
    pii_keyring(r)
    return r


async def make_tenant(prefix: str) -> tuple[Any, str]:
    return await _make_tenant(prefix, "索引轮换")


async def rows(tenant: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(tenant):
        return await raw(sql, *args)


async def state(tenant: Any) -> dict[str, Any]:
    found = await rows(tenant, "SELECT key_id, next_key_id, checkpoint FROM member_index_key WHERE tenant_id = {}", tenant.id)
    return found[0]


async def stored_ids(tenant: Any, key_id: str) -> dict[int, bool]:
    """member id -> whether its ID number blind index is the one under ``key_id`` (decrypting to check)."""
    from core.members import personal

    out = {}
    for r in await rows(tenant, "SELECT id, id_number_enc, id_number_bidx FROM member WHERE tenant_id = {} ORDER BY id", tenant.id):
        plain = personal.decrypt(r["id_number_enc"], "member", "id_number", tenant.id)
        out[r["id"]] = bytes(r["id_number_bidx"]) == digest(plain, tenant.id, key_id)
    return out


async def count_by_id(p: Any, idn: str) -> int:
    res = await p.api.gql(MEMBERS, {"f": {"idNumber": idn}})
    assert "errors" not in res, res
    return res["data"]["members"]["totalCount"]


async def count_by_phone(p: Any, phone: str) -> int:
    res = await p.api.gql(MEMBERS, {"f": {"phone": phone}})
    assert "errors" not in res, res
    return res["data"]["members"]["totalCount"]


async def create(p: Any, unit_code: str, name: str, idn: str, **extra: Any) -> dict[str, Any]:
    from tests.members.members_helpers import unit_gid

    res = await p.api.gql(CREATE, {"input": {"name": name, "idNumber": idn, "orgUnitId": await unit_gid(p, unit_code), **extra}})
    return res["data"]["memberCreate"]


ADD_PERSON = """mutation($h: ID!, $i: HouseholdPersonInput!) { householdAddPerson(householdId: $h, input: $i) {
  household { people { name relation member { id } } } errors { code field } } }"""
EXPORT_START = """mutation($f: MemberFilter) { memberExportStart(filter: $f, format: CSV) { memberExport { id } errors { code } } }"""
EXPORT = "query($id: ID!) { memberExport(id: $id) { status rowCount downloadUrl } }"


async def test_rotation_end_to_end(api, pii_keyring):
    a, unit_a = await make_tenant("rota")
    b, unit_b = await make_tenant("rotb")
    pa = await persona(api, a.code, "tenant_admin")
    pb = await persona(api, b.code, "tenant_admin")

    # Before: five members, one with a household holding a non-member, an export filtered by ID.
    people = [(f"轮换{i}", make_id(area="350102"), f"1370000{i:04d}") for i in range(5)]
    made = [await create_member(pa, unit_a, name=n, idNumber=i, phone=ph) for n, i, ph in people]
    hh = await pa.api.gql("mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code } } }",
                          {"m": made[0]["id"]})
    household = hh["data"]["householdCreate"]["household"]["id"]
    relative = make_id(area="350102", birth="20100101")
    out = await pa.api.gql(ADD_PERSON, {"h": household, "i": {"relation": "CHILD", "name": "亲属", "idNumber": relative}})
    assert out["data"]["householdAddPerson"]["errors"] == []
    early_export = (await pa.api.gql(EXPORT_START, {"f": {"idNumber": people[4][1]}}))["data"]["memberExportStart"]
    await runner.drain_local()
    b_id = make_id(area="350102")
    await create_member(pb, unit_b, name="乙方", idNumber=b_id, phone="13612345678")
    assert (await state(a))["key_id"] == "i1" and (await state(b))["key_id"] == "i1"
    assert all((await stored_ids(a, "i1")).values())

    # The operator puts i2 first and restarts: nothing is rotated yet, writes stay under the
    # tenant's recorded key (a process still on the old settings must keep finding them).
    use(pii_keyring, "i2", "i1")
    late = make_id(area="350102")
    await create_member(pa, unit_a, name="轮换前新增", idNumber=late)
    assert all((await stored_ids(a, "i1")).values())
    assert await count_by_id(pa, people[3][1]) == 1 and await count_by_phone(pa, people[3][2]) == 1

    # Rotate tenant A, interrupted after the first committed batch of member ID numbers.
    def stop(label: str, batch_no: int) -> None:
        if label == "member.id_number_bidx" and batch_no == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        await keys.rotate_index(a.code, batch=2, after_batch=stop)
    mid = await state(a)
    assert (mid["key_id"], mid["next_key_id"]) == ("i1", "i2")
    under_new = await stored_ids(a, "i2")
    assert sum(under_new.values()) == 2 and len(under_new) == 6  # two recomputed, four still under i1
    rotated = [p for p, m in zip(people, made, strict=True) if under_new[_pk(m["id"])]]
    waiting = [p for p, m in zip(people, made, strict=True) if not under_new[_pk(m["id"])]]
    assert rotated and waiting

    # Mid-rotation: search by ID and phone finds people on both sides of the checkpoint.
    for _, idn, phone in rotated + waiting:
        assert await count_by_id(pa, idn) == 1 and await count_by_phone(pa, phone) == 1
    # Creating a person who exists (under either key) is refused; a new person is stored under i2.
    for _, idn, _ in (rotated[0], waiting[0]):
        res = await create(pa, unit_a, "重复", idn)
        assert res["errors"][0]["code"] == "DUPLICATE" and res["errors"][0]["field"] == "idNumber"
    fresh = make_id(area="350102")
    assert (await create(pa, unit_a, "轮换中新增", fresh))["errors"] == []
    row = (await rows(a, "SELECT id_number_bidx FROM member WHERE tenant_id = {} AND name = {}", a.id, "轮换中新增"))[0]
    assert bytes(row["id_number_bidx"]) == digest(fresh, a.id, "i2")
    # A household person whose ID number is an unrotated member's is linked to that member.
    other = (await pa.api.gql("mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code } } }",
                              {"m": made[1]["id"]}))["data"]["householdCreate"]["household"]["id"]
    linked = await pa.api.gql(ADD_PERSON, {"h": other, "i": {"relation": "SPOUSE", "name": "配偶", "idNumber": waiting[-1][1]}})
    assert linked["data"]["householdAddPerson"]["errors"] == [], linked
    spouse = [p for p in linked["data"]["householdAddPerson"]["household"]["people"] if p["relation"] == "SPOUSE"]
    assert spouse[0]["member"] is not None
    # The household person added before the rotation (still under i1) is found too: adding them
    # again is refused as already in a household.
    again = await pa.api.gql(ADD_PERSON, {"h": other, "i": {"relation": "CHILD", "name": "亲属", "idNumber": relative}})
    assert again["data"]["householdAddPerson"]["errors"][0]["code"] == "CONFLICT"

    # An import during the rotation: one row per side of the checkpoint (changed employer), the
    # person created during the rotation (unchanged), a new person. Nobody becomes two rows.
    newcomer = make_id(area="350102")
    content = roster_csv([
        [rotated[0][0], rotated[0][1], unit_a, rotated[0][2], "新单位甲", "在岗", "", "2021-05-01"],
        [waiting[0][0], waiting[0][1], unit_a, waiting[0][2], "新单位乙", "在岗", "", "2021-05-01"],
        ["轮换中新增", fresh, unit_a, "", "", "", "", ""],
        ["导入新人", newcomer, unit_a, "13900001111", "新单位丙", "在岗", "", "2021-05-01"],
    ])
    up = await upload(pa, content)
    imp = await import_state(pa, up["import"]["id"])
    assert (imp["wouldCreate"], imp["wouldUpdate"], imp["errorRows"]) == (1, 2, 0), imp
    assert (await commit(pa, imp["id"]))["errors"] == []
    imp = await import_state(pa, imp["id"])
    assert imp["status"] == "COMMITTED" and (imp["created"], imp["updated"], imp["failed"]) == (1, 2, 0), imp
    for idn in (rotated[0][1], waiting[0][1], fresh, newcomer):
        assert await count_by_id(pa, idn) == 1
    total = await rows(a, "SELECT count(*) AS n FROM member WHERE tenant_id = {}", a.id)
    assert total[0]["n"] == 8  # 5 + the one before + the one during + the imported newcomer
    # An export started during the rotation, filtered by an unrotated person's ID, finds them.
    exp = (await pa.api.gql(EXPORT_START, {"f": {"idNumber": waiting[-1][1]}}))["data"]["memberExportStart"]
    await runner.drain_local()
    assert (await pa.api.gql(EXPORT, {"id": exp["memberExport"]["id"]}))["data"]["memberExport"]["rowCount"] == 1

    # Tenant B is not touched until its turn: still i1, rows under i1, found.
    assert ((await state(b))["key_id"], (await state(b))["next_key_id"]) == ("i1", None)
    assert all((await stored_ids(b, "i1")).values()) and await count_by_id(pb, b_id) == 1

    # Resume: the rotation continues from its checkpoint and finishes.
    report = await keys.rotate_index(a.code, batch=2)
    assert report.ok and report.tenants[a.code].startswith("under i2") and not report.failed and not report.conflicts
    # (The import's two updates wrote their phones under i2 already.)
    assert report.recomputed["member.id_number_bidx"] >= 3 and report.recomputed["member.phone_bidx"] >= 3
    assert report.recomputed["household_person.id_number_bidx"] == 1
    assert report.recomputed["member_export.filter"] >= 1
    done = await state(a)
    assert (done["key_id"], done["next_key_id"]) == ("i2", None)
    assert all((await stored_ids(a, "i2")).values())
    for r in await rows(a, "SELECT phone_enc, phone_bidx FROM member WHERE tenant_id = {} AND phone_enc IS NOT NULL", a.id):
        from core.members import personal

        assert bytes(r["phone_bidx"]) == digest(personal.decrypt(r["phone_enc"], "member", "phone", a.id), a.id, "i2",
                                                PHONE_PURPOSE)
    person = (await rows(a, "SELECT id_number_bidx FROM household_person WHERE tenant_id = {} AND id_number_enc IS NOT NULL",
                         a.id))[0]
    assert bytes(person["id_number_bidx"]) == digest(relative, a.id, "i2")
    flt = (await rows(a, "SELECT filter FROM member_export WHERE tenant_id = {} AND id = {}", a.id,
                      _pk(early_export["memberExport"]["id"])))[0]["filter"]
    flt = __import__("json").loads(flt) if isinstance(flt, str) else flt
    assert flt["id_bidx"] == [digest(people[4][1], a.id, "i2").hex()] and "id_enc" in flt
    assert people[4][1] not in str(flt)

    # With i1 gone from the settings, tenant A still works; re-running is a no-op.
    use(pii_keyring, "i2")
    for _, idn, phone in people:
        assert await count_by_id(pa, idn) == 1 and await count_by_phone(pa, phone) == 1
    assert (await create(pa, unit_a, "重复", people[0][1]))["errors"][0]["code"] == "DUPLICATE"
    use(pii_keyring, "i2", "i1")
    again = await keys.rotate_index(a.code, batch=2)
    assert again.total == 0 and again.tenants[a.code] == "under i2 (nothing to do)"
    audit = await rows(a, "SELECT action, changes FROM audit_record WHERE tenant_id = {} AND action = {}", a.id,
                       "member.index_key.rotate")
    assert len(audit) == 1

    # B's turn (through the CLI, a separate process with its own settings).
    env = {**os.environ, "HUIJIA_PII_INDEX_KEYS": f"i2:{base64.b64encode(I2).decode()},i1:{base64.b64encode(I1).decode()}",
           "HUIJIA_LOG_LEVEL": "ERROR"}
    env.pop("HUIJIA_PII_INDEX_KEY", None)
    run = subprocess.run([sys.executable, "-m", "core.cli", "keys", "rotate-index", "--tenant", b.code], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert f"{b.code}: under i2 (moved i1 -> i2)" in run.stdout and "recomputed member.id_number_bidx: 1" in run.stdout
    assert b_id not in run.stdout + run.stderr
    assert all((await stored_ids(b, "i2")).values()) and await count_by_id(pb, b_id) == 1

    # Back to i1 for both, so the session's default settings (i1 only) can start again.
    use(pii_keyring, "i1", "i2")
    for t in (a, b):
        assert (await keys.rotate_index(t.code)).ok
        assert (await state(t))["key_id"] == "i1" and all((await stored_ids(t, "i1")).values())


def _pk(gid: str) -> int:
    from core.graphql.base import from_global_id

    return from_global_id(gid)[1]


async def test_rotation_waits_for_writers_that_read_the_old_key(api, pii_keyring):
    """The start of a rotation is a barrier: a writer that read the tenant's key before it (and so
    writes under the old key) commits first, and the rotation then recomputes its row too."""
    from core.context import tenant_scope
    from core.dbutil import transaction
    from core.members import personal, services
    from core.members.tables import Member

    t, unit = await make_tenant("rotw")
    p = await persona(api, t.code, "tenant_admin")
    await create_member(p, unit, name="已有", idNumber=make_id(area="350102"))
    use(pii_keyring, "i2", "i1")
    written = asyncio.Event()
    release = asyncio.Event()
    idn = make_id(area="350102")

    async def slow_writer() -> None:
        with tenant_scope(t):
            async with transaction():
                ix = await personal.index_keys(t, for_write=True)
                assert ix.write == "i1"
                await rows(t, "SELECT 1")  # keep the transaction busy on its connection
                info = await services.unit_info(t, (await rows(t, "SELECT id FROM org_unit WHERE code = {}", unit))[0]["id"])
                clean = services.clean_for_api(t, {"name": "并发写入", "id_number": idn}, info, None)
                await Member.insert(Member(tenant_id=t.id, org_unit_id=info.id, state="joined",
                                           **{c._meta.name: v for c, v in services._member_values(t, clean, ix).items()}))
                written.set()
                await release.wait()

    writer = asyncio.create_task(slow_writer())
    await written.wait()
    rotation = asyncio.create_task(keys.rotate_index(t.code, batch=10))
    await asyncio.sleep(0.5)
    assert not rotation.done()  # blocked on the writer's shared lock
    assert (await state(t))["next_key_id"] is None
    release.set()
    await writer
    report = await rotation
    assert report.ok and (await state(t))["key_id"] == "i2"
    assert all((await stored_ids(t, "i2")).values())  # the late write was recomputed too
    assert await count_by_id(p, idn) == 1
    use(pii_keyring, "i1", "i2")
    assert (await keys.rotate_index(t.code)).ok


async def test_two_rows_of_one_person_are_reported_not_merged(api, pii_keyring):
    """If one person somehow has a row under each key, recomputing would collide with the unique
    index: the rotation reports the conflict, stays open (lookups keep matching both keys), and
    finishes once the duplicate is resolved."""
    from core.context import tenant_scope
    from core.dbutil import raw

    t, unit = await make_tenant("rotc")
    p = await persona(api, t.code, "tenant_admin")
    idn = make_id(area="350102")
    m = await create_member(p, unit, name="原记录", idNumber=idn)
    use(pii_keyring, "i2", "i1")
    with tenant_scope(t):  # the corruption: a second row for the same person, under i2
        await raw("INSERT INTO member (tenant_id, org_unit_id, name, name_search, gender, birth_date, id_number_enc, "
                  "id_number_bidx, employer, work_status, tags, state, version, created_at, updated_at) "
                  "SELECT tenant_id, org_unit_id, '重复记录', '重复记录', gender, birth_date, id_number_enc, {}, employer, "
                  "work_status, tags, state, 1, created_at, updated_at FROM member WHERE tenant_id = {} AND id = {}",
                  digest(idn, t.id, "i2"), t.id, _pk(m["id"]))
    report = await keys.rotate_index(t.code)
    assert not report.ok and report.conflicts == {"member.id_number_bidx": 1}
    assert "NOT finished" in report.tenants[t.code] and idn not in str(report)
    st = await state(t)
    assert (st["key_id"], st["next_key_id"]) == ("i1", "i2")
    assert await count_by_id(p, idn) == 2  # both rows stay findable while it is resolved
    with tenant_scope(t):
        await raw("DELETE FROM member WHERE tenant_id = {} AND name = {}", t.id, "重复记录")
    report = await keys.rotate_index(t.code)
    assert report.ok and (await state(t))["key_id"] == "i2" and await count_by_id(p, idn) == 1
    use(pii_keyring, "i1", "i2")
    assert (await keys.rotate_index(t.code)).ok


async def test_unknown_index_keys_are_refused_at_startup(api, pii_keyring):
    from core.bootstrap import startup_checks
    from core.members import personal
    from core.settings import SettingsError, load_settings

    # Malformed settings are refused with the others, naming the variable, never the key.
    secret = base64.b64encode(I2).decode()
    for env, message in (({"HUIJIA_PII_INDEX_KEYS": f"bad id:{secret}"}, "invalid key id"),
                         ({"HUIJIA_PII_INDEX_KEYS": f"i2:{secret},i2:{secret}"}, "more than once"),
                         ({"HUIJIA_PII_INDEX_KEYS": f"i2:{secret}", "HUIJIA_PII_INDEX_KEY": secret}, "not both")):
        with pytest.raises(SettingsError) as exc:
            load_settings(env)
        assert message in str(exc.value) and "HUIJIA_PII_INDEX_KEY" in str(exc.value) and secret not in str(exc.value)

    # A tenant whose indexes are under i2, and a process started without i2: refused, by name.
    t, unit = await make_tenant("rotk")
    p = await persona(api, t.code, "tenant_admin")
    await create_member(p, unit, name="启动检查", idNumber=make_id(area="350102"))
    use(pii_keyring, "i2", "i1")
    assert (await keys.rotate_index(t.code)).ok
    await startup_checks()
    use(pii_keyring, "i1")
    with pytest.raises(SettingsError) as exc:
        await startup_checks()
    text = str(exc.value)
    assert t.code in text and "'i2'" in text and "HUIJIA_PII_INDEX_KEYS" in text
    assert base64.b64encode(I1).decode() not in text and secret not in text
    # A process without the key (one started before the rotation) refuses to write there rather
    # than store an index nobody would find.
    from core.context import tenant_scope
    from tests.members.members_helpers import unit_gid

    lost = make_id(area="350102")
    res = await p.api.gql(CREATE, {"input": {"name": "无钥写入", "idNumber": lost, "orgUnitId": await unit_gid(p, unit)}})
    assert res["data"] is None or res["data"]["memberCreate"] is None
    assert lost not in str(res)
    assert not await rows(t, "SELECT id FROM member WHERE tenant_id = {} AND name = {}", t.id, "无钥写入")
    with pytest.raises(personal.IndexKeyUnavailable) as missing, tenant_scope(t):
        await personal.index_keys(t)
    assert "'i2'" in str(missing.value)
    use(pii_keyring, "i1", "i2")
    assert (await keys.rotate_index(t.code)).ok
    use(pii_keyring, "i1")
    await startup_checks()


async def test_import_batch_prepared_before_a_rotation_started(api, pii_keyring):
    """A commit job blind-indexes its rows (in worker processes) before each batch's transaction; if
    a rotation starts in between, the batch re-reads the tenant's keys under the shared lock,
    re-indexes its rows under the new write key and matches existing people under both keys: the
    person still under the old key and the person already under the new one are updated, not
    created a second time, and the new person is stored under the new key."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members import importer, personal, services
    from core.members.tables import MemberImport

    t, unit = await make_tenant("roti")
    p = await persona(api, t.code, "tenant_admin")
    old_id, new_id, fresh = make_id(area="350102"), make_id(area="350102"), make_id(area="350102")
    await create_member(p, unit, name="旧键", idNumber=old_id, phone="13711112222")
    await create_member(p, unit, name="新键", idNumber=new_id)
    use(pii_keyring, "i2", "i1")
    with tenant_scope(t):
        before = await personal.index_keys(t)  # what the job saw when it started: write under i1
        assert before.write == "i1"
    # Then the rotation starts, and stops after one batch: the first member is under i2, the
    # second still under i1.
    def stop(label: str, batch_no: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await keys.rotate_index(t.code, batch=1, after_batch=stop)
    assert list((await stored_ids(t, "i2")).values()) == [True, False]

    with tenant_scope(t):
        import_id = (await MemberImport.insert(MemberImport(tenant_id=t.id, status="committing", total_rows=3))
                     .returning(MemberImport.id))[0]["id"]
        ctx = importer._context(t, await services.unit_directory(t), None)
        preparer = importer.Preparer(ctx, encrypt=True, workers=0, ix=before)
        try:
            prepared, errors = await preparer.submit([
                (2, {"name": "旧键", "id_number": old_id, "org_unit": unit, "employer": "改甲", "phone": "13711112222"}),
                (3, {"name": "新键", "id_number": new_id, "org_unit": unit, "employer": "改乙"}),
                (4, {"name": "新人", "id_number": fresh, "org_unit": unit}),
            ])
        finally:
            preparer.close()
        assert errors == [] and all(r.id_alt == (digest(r.id_number, t.id, "i2"),) for r in prepared)
        created = await importer._commit_batch(t, import_id, Actor(None, "test"), prepared, errors, 4, 3, None, before)
    assert [r.row_no for _, r in created] == [4]
    for idn in (old_id, new_id, fresh):
        assert await count_by_id(p, idn) == 1
    assert len(await rows(t, "SELECT id FROM member WHERE tenant_id = {}", t.id)) == 3
    made = (await rows(t, "SELECT id_number_bidx FROM member WHERE tenant_id = {} AND name = {}", t.id, "新人"))[0]
    assert bytes(made["id_number_bidx"]) == digest(fresh, t.id, "i2")
    history = await rows(t, "SELECT action, changes FROM member_history WHERE tenant_id = {} AND import_id = {} ORDER BY id",
                         t.id, import_id)
    assert sorted(h["action"] for h in history) == ["import.create", "import.update", "import.update"]
    assert all("phone" not in str(h["changes"]) for h in history)  # same phone under another key: unchanged
    assert (await keys.rotate_index(t.code)).ok
    use(pii_keyring, "i1", "i2")
    assert (await keys.rotate_index(t.code)).ok

"""会籍转移 into a tenant that already holds a record of the person.

A worker who was a member in Fujian, left (退会), worked in Shanghai and now moves back: the
transfer completes into Fujian's old record (it keeps its id, history and household) instead of
being refused. An active member there is a conflict and a deceased record a refusal, told to the
destination when it approves; the requesting province learns nothing of the destination's records
(a final approval by the source that finds them changed gets one uniform CONFLICT); concurrent
completions and imports leave one row."""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager

import asyncpg
import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.members.members_helpers import (
    MEMBERS,
    REVEAL,
    create_member,
    import_state,
    make_id,
    roster_csv,
    upload,
)

FJ_OLD = "fj-fuzhou-dianli"  # the union the worker left years ago
FJ_DEST = "fj-xiamen-siming-hangkong"  # where they transfer to now
SH_UNIT = "sh-huangpu-nanjinglu"

REQUEST = """mutation($input: MemberTransferInput!) { memberTransferRequest(input: $input) {
  transfer { id status direction memberId idNumberMasked } errors { field code message } } }"""
APPROVE = """mutation($id: ID!) { memberTransferApprove(id: $id) { transfer { id status memberId }
  errors { field code message } } }"""
CANCEL = """mutation($id: ID!) { memberTransferCancel(id: $id) { transfer { status } errors { code } } }"""
TRANSFER = "query($id: ID!) { memberTransfer(id: $id) { status direction memberId personName idNumberMasked } }"
INCOMING = """{ memberTransfers(direction: INCOMING, first: 100) { nodes { id status personName memberId } } }"""
MEMBER = """query($id: ID!) { member(id: $id) { id name state joinedOn leftOn employer workStatus idNumberMasked phoneMasked
  version orgUnit { code } tags { code } household { id } history(first: 50) { nodes { action changes transferId } } } }"""
LEAVE = """mutation($id: ID!, $on: Date) { memberLeave(id: $id, leftOn: $on, reason: "外出务工") {
  member { state } errors { code } } }"""
REJOIN = "mutation($id: ID!) { memberRejoin(id: $id) { member { state } errors { code } } }"
DECEASED = "mutation($id: ID!) { memberMarkDeceased(id: $id) { member { state } errors { code } } }"
HOUSEHOLD = "mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code } } }"
COMMIT = "mutation($id: ID!) { memberImportCommit(id: $id) { errors { code } } }"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


@pytest.fixture(scope="module")
async def people(api):
    return {
        "fj_admin": await persona(api, "fujian", "tenant_admin"),
        "fj_approver": await persona(api, "fujian", "approver"),
        "fj_approver2": await persona(api, "fujian", "approver"),
        "sh_clerk": await persona(api, "shanghai", "clerk", "sh-huangpu"),
        "sh_approver": await persona(api, "shanghai", "approver", "sh-huangpu"),
        "bj_admin": await persona(api, "beijing", "tenant_admin"),
        "bj_approver": await persona(api, "beijing", "approver"),
    }


async def former_member(fj_admin, idn: str, name: str, **fields) -> dict:
    """A Fujian member who left in 2018."""
    m = await create_member(fj_admin, FJ_OLD, name=name, idNumber=idn, joinedOn="2012-05-01", **fields)
    res = await fj_admin.api.gql(LEAVE, {"id": m["id"], "on": "2018-06-30"})
    assert res["data"]["memberLeave"]["errors"] == []
    return m


async def request_to_fujian(p, member_gid: str, unit: str = FJ_DEST) -> dict:
    res = await p.api.gql(REQUEST, {"input": {"memberId": member_gid, "toTenantCode": "fujian", "toOrgUnitCode": unit,
                                              "reason": "回原籍工作"}})
    return res["data"]["memberTransferRequest"]


async def incoming_id(fj, name: str) -> str:
    nodes = (await fj.api.gql(INCOMING))["data"]["memberTransfers"]["nodes"]
    mine = [t for t in nodes if t["personName"] == name and t["status"] == "PENDING"]
    assert len(mine) == 1, nodes
    return mine[0]["id"]


async def by_id_number(p, idn: str) -> list[dict]:
    res = await p.api.gql(MEMBERS, {"f": {"idNumber": idn}})
    return res["data"]["members"]["nodes"]


def pk(gid: str) -> int:
    from core.graphql.base import from_global_id

    return from_global_id(gid)[1]


async def tenant(code: str):
    from core.tenancy.services import get_tenant

    return await get_tenant(code=code)


def masked(idn: str) -> str:
    return idn[:6] + "********" + idn[-4:]


async def test_transfer_into_a_former_members_record_merges_it(api, people, sh_admin, sh_auditor):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.members import queries

    fj, sh = people["fj_admin"], sh_admin
    idn = make_id(area="350102", birth="19800315")
    old = await former_member(fj, idn, "林归乡", phone="13800001111", employer="福州电力", tags=["model_worker"])
    fj_household = (await fj.api.gql(HOUSEHOLD, {"m": old["id"]}))["data"]["householdCreate"]["household"]["id"]
    moving = await create_member(sh, SH_UNIT, name="林归乡", idNumber=idn, phone="13900002222", employer="上海某厂",
                                 workStatus="MIGRANT_WORKER", tags=["outdoor_worker"], joinedOn="2020-03-01")
    sh_household = (await sh.api.gql(HOUSEHOLD, {"m": moving["id"]}))["data"]["householdCreate"]["household"]["id"]

    # A former member's record does not block the request any more.
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    assert out["errors"] == [] and out["transfer"]["status"] == "PENDING"
    assert out["transfer"]["memberId"] == moving["id"]
    dest_tid = await incoming_id(fj, "林归乡")
    res = await people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]})
    assert res["data"]["memberTransferApprove"]["errors"] == []
    res = await people["fj_approver"].api.gql(APPROVE, {"id": dest_tid})
    done = res["data"]["memberTransferApprove"]
    assert done["errors"] == [] and done["transfer"]["status"] == "COMPLETED"
    # Fujian's copy of the transfer points at Fujian's own record; Shanghai's at the member it had.
    assert done["transfer"]["memberId"] == old["id"]
    sh_copy = (await sh.api.gql(TRANSFER, {"id": out["transfer"]["id"]}))["data"]["memberTransfer"]
    assert sh_copy["status"] == "COMPLETED" and sh_copy["memberId"] == moving["id"]

    # Fujian keeps its record (same id), a member again in the destination union, refreshed from
    # the moving record; its household link stays.
    member = (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"]
    assert member["state"] == "JOINED" and member["orgUnit"]["code"] == FJ_DEST
    assert member["joinedOn"] == "2020-03-01" and member["leftOn"] is None  # membership is continuous
    assert member["idNumberMasked"] == masked(idn) and member["phoneMasked"] == "139****2222"
    assert member["employer"] == "上海某厂" and member["workStatus"] == "MIGRANT_WORKER"
    assert [t["code"] for t in member["tags"]] == ["model_worker", "outdoor_worker"]
    assert member["household"]["id"] == fj_household and member["version"] == old["version"] + 2
    history = member["history"]["nodes"]
    assert [h["action"] for h in history] == ["transfer.in.merged", "household.join", "leave", "create"]
    merged = history[0]["changes"]
    assert merged["state"] == ["left", "joined"] and merged["from_tenant"] == "shanghai"
    assert merged["from_member_id"] == pk(moving["id"]) and merged["phone"] == "changed"
    assert merged["tags"] == [["model_worker"], ["model_worker", "outdoor_worker"]]
    assert history[0]["transferId"] == dest_tid
    # No personal values in the history (the ID number, either phone).
    text = json.dumps(history, ensure_ascii=False)
    assert idn not in text and "13900002222" not in text and "13800001111" not in text
    # There is no second row: the source's id does not exist in Fujian.
    assert (await fj.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"] is None
    found = await by_id_number(fj, idn)
    assert [m["id"] for m in found] == [old["id"]]
    assert (await fj.api.gql(MEMBERS, {"f": {"phone": "13900002222"}}))["data"]["members"]["totalCount"] == 1
    assert (await fj.api.gql(MEMBERS, {"f": {"phone": "13800001111"}}))["data"]["members"]["totalCount"] == 0
    res = await fj.api.gql(MEMBERS, {"f": {"idNumber": idn, "tags": ["outdoor_worker"]}})
    assert res["data"]["members"]["totalCount"] == 1
    # Re-encrypted for Fujian: reveal shows the right values.
    res = await fj.api.gql(REVEAL, {"id": old["id"], "f": "ID_NUMBER", "r": "接收核对"})
    assert res["data"]["memberReveal"]["value"] == idn
    res = await fj.api.gql(REVEAL, {"id": old["id"], "f": "PHONE", "r": "接收核对"})
    assert res["data"]["memberReveal"]["value"] == "13900002222"

    # Shanghai: moved out exactly as before — no member row, no household link, history kept.
    assert (await sh.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"] is None
    assert await by_id_number(sh, idn) == []
    hh = (await sh.api.gql("query($id: ID!) { household(id: $id) { size } }", {"id": sh_household}))["data"]["household"]
    assert hh["size"] == 0
    shanghai, fujian = await tenant("shanghai"), await tenant("fujian")
    with tenant_scope(shanghai):
        rows, _ = await queries.history(shanghai, pk(moving["id"]), 0, 10)
    assert rows[0]["action"] == "transfer.out" and rows[0]["changes"]["merged_into"] == pk(old["id"])
    assert idn not in json.dumps(rows[0]["changes"])

    # Row-level security is intact: neither tenant sees the other's rows of this person.
    with tenant_scope(shanghai):
        assert await raw("SELECT id FROM member WHERE id = {}", pk(old["id"])) == []
        assert await raw("SELECT id FROM member_history WHERE member_id = {}", pk(old["id"])) == []
        assert await raw("SELECT id FROM member_tag WHERE member_id = {}", pk(old["id"])) == []
    with tenant_scope(fujian):
        assert await raw("SELECT id FROM member_history WHERE member_id = {}", pk(moving["id"])) == []
        assert len(await raw("SELECT id FROM member WHERE id = {}", pk(old["id"]))) == 1
    assert (await sh.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"] is None
    # Both audit chains still verify.
    for p in (sh_auditor, await persona(api, "fujian", "auditor")):
        assert (await p.api.gql("{ auditVerify { ok } }"))["data"]["auditVerify"]["ok"] is True


async def test_moving_record_without_phone_or_employer_keeps_the_destinations(people, sh_admin):
    fj = people["fj_admin"]
    idn = make_id(area="350102", birth="19790101")
    old = await former_member(fj, idn, "陈旧档", phone="13800003333", employer="福州港务")
    moving = await create_member(sh_admin, SH_UNIT, name="陈新名", idNumber=idn, joinedOn="2021-01-01")
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    await people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]})
    res = await people["fj_approver"].api.gql(APPROVE, {"id": await incoming_id(fj, "陈新名")})
    assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "COMPLETED"
    member = (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"]
    assert member["name"] == "陈新名" and member["phoneMasked"] == "138****3333" and member["employer"] == "福州港务"
    changes = member["history"]["nodes"][0]["changes"]
    assert changes["name"] == "changed" and "phone" not in changes and "employer" not in changes
    assert "陈旧档" not in json.dumps(changes, ensure_ascii=False)


async def test_request_is_accepted_alike_and_the_destination_is_told_of_its_active_or_deceased_record_on_approval(people, sh_admin):
    """The request says nothing about Fujian's records (see test_members_transfer_oracle.py); Fujian,
    approving, is told precisely, since the records are its own, and nothing changes."""
    fj = people["fj_admin"]
    cases = []
    # Transferring within Fujian counts as active.
    idn = make_id(area="350102")
    busy = await create_member(fj, FJ_OLD, name="在转会员", idNumber=idn)
    res = await fj.api.gql(REQUEST, {"input": {"memberId": busy["id"], "toOrgUnitCode": FJ_DEST}})
    assert res["data"]["memberTransferRequest"]["errors"] == []
    cases.append((idn, "CONFLICT", "active member"))
    idn = make_id(area="350102")
    await create_member(fj, FJ_OLD, name="在会会员", idNumber=idn)
    cases.append((idn, "CONFLICT", "active member"))
    idn = make_id(area="350102")
    dead = await create_member(fj, FJ_OLD, name="已故会员", idNumber=idn)
    assert (await fj.api.gql(DECEASED, {"id": dead["id"]}))["data"]["memberMarkDeceased"]["errors"] == []
    cases.append((idn, "INVALID_STATE", "deceased"))
    for i, (idn, code, words) in enumerate(cases):
        name = f"被拒转移{i}"
        m = await create_member(sh_admin, SH_UNIT, name=name, idNumber=idn)
        res = await request_to_fujian(people["sh_clerk"], m["id"])
        assert res["errors"] == [] and res["transfer"]["status"] == "PENDING"
        fj_tid = await incoming_id(fj, name)
        res = await people["fj_approver"].api.gql(APPROVE, {"id": fj_tid})
        err = res["data"]["memberTransferApprove"]["errors"][0]
        assert err["code"] == code and words in err["message"] and idn not in err["message"]
        assert (await fj.api.gql(TRANSFER, {"id": fj_tid}))["data"]["memberTransfer"]["status"] == "PENDING"
        assert (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"]["state"] == "TRANSFERRING"
        # Fujian rejects; Shanghai's member is back, and Shanghai saw only the decision.
        rej = await people["fj_approver"].api.gql(
            'mutation($id: ID!) { memberTransferReject(id: $id, note: "") { transfer { status } errors { code } } }', {"id": fj_tid})
        assert rej["data"]["memberTransferReject"]["errors"] == []
        assert (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"]["state"] == "JOINED"


async def test_final_approval_refused_when_the_destination_record_changed(people, sh_admin):
    fj = people["fj_admin"]
    # (a) Rejoined in Fujian after the request: an active member now; the final approval (Fujian's)
    # is refused and changes nothing.
    idn = make_id(area="350102")
    old = await former_member(fj, idn, "重新入会")
    moving = await create_member(sh_admin, SH_UNIT, name="重新入会", idNumber=idn)
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    dest_tid = await incoming_id(fj, "重新入会")
    await people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]})
    assert (await fj.api.gql(REJOIN, {"id": old["id"]}))["data"]["memberRejoin"]["errors"] == []
    before = (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"]
    res = await people["fj_approver"].api.gql(APPROVE, {"id": dest_tid})
    err = res["data"]["memberTransferApprove"]["errors"][0]
    assert err["code"] == "CONFLICT" and "active member" in err["message"]
    assert (await fj.api.gql(TRANSFER, {"id": dest_tid}))["data"]["memberTransfer"]["status"] == "PENDING"
    assert (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"] == before
    assert (await sh_admin.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"]["state"] == "TRANSFERRING"
    # The transfer can still be withdrawn.
    res = await people["sh_clerk"].api.gql(CANCEL, {"id": out["transfer"]["id"]})
    assert res["data"]["memberTransferCancel"]["errors"] == []
    assert (await sh_admin.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"]["state"] == "JOINED"

    # (b) Recorded deceased in Fujian after the request; this time Shanghai approves last.
    idn = make_id(area="350102")
    old = await former_member(fj, idn, "去世记录")
    moving = await create_member(sh_admin, SH_UNIT, name="去世记录", idNumber=idn)
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    res = await people["fj_approver"].api.gql(APPROVE, {"id": await incoming_id(fj, "去世记录")})
    assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "PENDING"
    assert (await fj.api.gql(DECEASED, {"id": old["id"]}))["data"]["memberMarkDeceased"]["errors"] == []
    res = await people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]})
    err = res["data"]["memberTransferApprove"]["errors"][0]
    # Shanghai is not told what Fujian's record says: one uniform refusal.
    assert err["code"] == "CONFLICT" and "deceased" not in err["message"] and idn not in err["message"]
    assert "active" not in err["message"]
    assert (await sh_admin.api.gql(TRANSFER, {"id": out["transfer"]["id"]}))["data"]["memberTransfer"]["status"] == "PENDING"
    assert (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"]["state"] == "DECEASED"

    # (c) No record at the request; an import creates the person in Fujian before the final approval.
    idn = make_id(area="350102")
    moving = await create_member(sh_admin, SH_UNIT, name="导入抢先", idNumber=idn)
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    await people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]})
    up = await upload(fj, roster_csv([["导入抢先", idn, FJ_OLD, "", "", "", "", ""]]))
    assert (await fj.api.gql(COMMIT, {"id": up["import"]["id"]}))["data"]["memberImportCommit"]["errors"] == []
    await runner.drain_local(60)
    res = await people["fj_approver"].api.gql(APPROVE, {"id": await incoming_id(fj, "导入抢先")})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "CONFLICT"
    assert len(await by_id_number(fj, idn)) == 1
    assert (await sh_admin.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"]["state"] == "TRANSFERRING"


async def test_wrong_tenant_and_wrong_role_cannot_approve_a_merge(api, people, sh_admin):
    fj = people["fj_admin"]
    idn = make_id(area="350102")
    old = await former_member(fj, idn, "权限检查")
    moving = await create_member(sh_admin, SH_UNIT, name="权限检查", idNumber=idn)
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    sh_tid, fj_tid = out["transfer"]["id"], await incoming_id(fj, "权限检查")
    # Shanghai's copy names Shanghai's member only: Fujian's record id is not disclosed before completion.
    assert out["transfer"]["memberId"] == moving["id"]
    fj_clerk = await persona(api, "fujian", "clerk")
    fj_other = await persona(api, "fujian", "approver", "fj-quanzhou")
    attempts = [
        (people["bj_approver"], sh_tid, "NOT_FOUND"), (people["bj_approver"], fj_tid, "NOT_FOUND"),
        (people["sh_approver"], fj_tid, "NOT_FOUND"), (people["fj_approver"], sh_tid, "NOT_FOUND"),
        (people["sh_clerk"], sh_tid, "FORBIDDEN"), (fj_clerk, fj_tid, "FORBIDDEN"), (fj_other, fj_tid, "FORBIDDEN"),
    ]
    for who, tid, code in attempts:
        res = await who.api.gql(APPROVE, {"id": tid})
        assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == code, (who.username, tid)
    assert (await fj.api.gql(TRANSFER, {"id": fj_tid}))["data"]["memberTransfer"]["status"] == "PENDING"
    assert (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"]["state"] == "LEFT"
    # The right people complete it.
    await people["sh_approver"].api.gql(APPROVE, {"id": sh_tid})
    res = await people["fj_approver"].api.gql(APPROVE, {"id": fj_tid})
    assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "COMPLETED"
    assert (await fj.api.gql(MEMBER, {"id": old["id"]}))["data"]["member"]["state"] == "JOINED"
    # Beijing sees neither the record nor the transfer.
    assert (await people["bj_admin"].api.gql(MEMBER, {"id": old["id"]}))["data"]["member"] is None
    assert (await people["bj_admin"].api.gql(TRANSFER, {"id": fj_tid}))["data"]["memberTransfer"] is None


# -- Concurrency ----------------------------------------------------------------------------------
#
# A race proves something only if both sides are really inside their transactions at once. The tests
# below make sure of it: a connection of their own (the app's role, so row-level security applies)
# holds a lock the racers must pass, the test waits until PostgreSQL shows each racer blocked where
# expected, then lets go. The gate for "the transfer writes first" is Fujian's audit-chain lock,
# which a completion takes only after writing the destination row; for "the import writes first",
# the import record's row, which a batch updates (its checkpoint) only after writing its members.


@asynccontextmanager
async def own_connection(tenant_id: int | None = None):
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        if tenant_id is not None:
            await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant_id))
        yield conn
    finally:
        await conn.close()  # releases whatever it still holds


async def wait_for_waiters(observer, *, advisory: int = 0, row: int = 0, total: int = 0, timeout: float = 30.0) -> None:
    """Until at least ``advisory`` sessions wait for an advisory lock, ``row`` sessions for a row or
    for another transaction (a row lock, or a unique-index check against an uncommitted insert), and
    ``total`` sessions for either."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        events = [r["wait_event"] for r in await observer.fetch(
            "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()")]
        n_advisory = events.count("advisory")
        if n_advisory >= advisory and len(events) - n_advisory >= row and len(events) >= total:
            return
        assert loop.time() < deadline, f"expected {advisory} advisory, {row} row, {total} waiters; saw {events}"
        await asyncio.sleep(0.02)


async def _two_transfers_of_one_person(people, sh_admin, name: str, idn: str) -> tuple[list[dict], list[str]]:
    """The same person is a member in Shanghai and in Beijing (one record per tenant); both unions
    send them to Fujian, and Fujian approves both. Returns the two source members and the two
    source-side transfer ids, whose approvals are the final ones."""
    sh_m = await create_member(sh_admin, SH_UNIT, name=name, idNumber=idn)
    bj_unit = (await people["bj_admin"].api.gql('{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { code } } }'))
    bj_m = await create_member(people["bj_admin"], bj_unit["data"]["orgUnits"]["nodes"][0]["code"], name=name, idNumber=idn)
    sh_out = await request_to_fujian(people["sh_clerk"], sh_m["id"])
    bj_out = await request_to_fujian(people["bj_admin"], bj_m["id"])
    assert sh_out["errors"] == [] and bj_out["errors"] == []
    nodes = (await people["fj_admin"].api.gql(INCOMING))["data"]["memberTransfers"]["nodes"]
    for t in nodes:
        if t["personName"] == name:  # Fujian's copies still carry the source members' ids
            res = await people["fj_approver"].api.gql(APPROVE, {"id": t["id"]})
            assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "PENDING"
    return [sh_m, bj_m], [sh_out["transfer"]["id"], bj_out["transfer"]["id"]]


@pytest.mark.parametrize("former", [True, False], ids=["into-former-record", "no-record"])
async def test_concurrent_transfers_of_one_person_leave_one_destination_row(people, sh_admin, former):
    from core.audit.services import AUDIT_LOCK_NAMESPACE

    fj = people["fj_admin"]
    name = "双源合并" if former else "双源新建"
    idn = make_id(area="350102")
    old = await former_member(fj, idn, name) if former else None
    sources, final_tids = await _two_transfers_of_one_person(people, sh_admin, name, idn)
    approvers = [people["sh_approver"], people["bj_approver"]]
    owners = [sh_admin, people["bj_admin"]]
    fujian = await tenant("fujian")
    async with own_connection() as gate, own_connection() as observer:
        await gate.execute("SELECT pg_advisory_lock($1, $2)", AUDIT_LOCK_NAMESPACE, fujian.id)
        racers = asyncio.gather(*[a.api.gql(APPROVE, {"id": t}) for a, t in zip(approvers, final_tids, strict=True)])
        try:
            # One completion has written Fujian's row (merged into the old record, or inserted the
            # person) and waits to write Fujian's audit record; the other waits behind it, for the
            # record's locks or on the unique index.
            await wait_for_waiters(observer, advisory=1, total=2)
        finally:
            await gate.execute("SELECT pg_advisory_unlock($1, $2)", AUDIT_LOCK_NAMESPACE, fujian.id)
        results = await asyncio.wait_for(racers, 60)
    payloads = [r["data"]["memberTransferApprove"] for r in results]
    won = [i for i, p in enumerate(payloads) if p["errors"] == []]
    lost = [i for i, p in enumerate(payloads) if p["errors"]]
    assert len(won) == 1 and len(lost) == 1, payloads
    assert payloads[won[0]]["transfer"]["status"] == "COMPLETED"
    assert payloads[lost[0]]["errors"][0]["code"] == "CONFLICT"
    rows = await by_id_number(fj, idn)
    assert len(rows) == 1 and rows[0]["state"] == "JOINED" and rows[0]["orgUnit"]["code"] == FJ_DEST
    assert rows[0]["id"] == (old["id"] if former else sources[won[0]]["id"])
    # The loser changed nothing: still pending, its member still waiting in its own tenant.
    loser = lost[0]
    assert (await owners[loser].api.gql(MEMBER, {"id": sources[loser]["id"]}))["data"]["member"]["state"] == "TRANSFERRING"
    res = await owners[loser].api.gql(TRANSFER, {"id": final_tids[loser]})
    assert res["data"]["memberTransfer"]["status"] == "PENDING"
    # Approving it again is refused the same way: the person is an active member in Fujian now.
    res = await approvers[loser].api.gql(APPROVE, {"id": final_tids[loser]})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "CONFLICT"
    assert len(await by_id_number(fj, idn)) == 1


@pytest.mark.parametrize("first", ["transfer", "import"])
@pytest.mark.parametrize("former", [True, False], ids=["into-former-record", "no-record"])
async def test_import_racing_the_completion_leaves_one_destination_row(people, sh_admin, former, first):
    from core.audit.services import AUDIT_LOCK_NAMESPACE
    from core.members.importer import IMPORT_LOCK_NAMESPACE

    fj = people["fj_admin"]
    name = f"导入并发{'合并' if former else '新建'}{'转' if first == 'transfer' else '导'}"
    idn = make_id(area="350102")
    old = await former_member(fj, idn, name) if former else None
    moving = await create_member(sh_admin, SH_UNIT, name=name, idNumber=idn)
    out = await request_to_fujian(people["sh_clerk"], moving["id"])
    await people["fj_approver"].api.gql(APPROVE, {"id": await incoming_id(fj, name)})
    # The roster puts the person in another Fujian union than the transfer does.
    up = await upload(fj, roster_csv([[name, idn, FJ_OLD, "", "", "", "", ""]]))
    import_pk = pk(up["import"]["id"])
    fujian = await tenant("fujian")
    async with own_connection() as gate, own_connection(fujian.id) as row_gate, own_connection() as observer:
        # Hold the import's batch at its start (the tenant's import lock) while we set the scene.
        await gate.execute("SELECT pg_advisory_lock($1, $2)", IMPORT_LOCK_NAMESPACE, fujian.id)
        assert (await fj.api.gql(COMMIT, {"id": up["import"]["id"]}))["data"]["memberImportCommit"]["errors"] == []
        await wait_for_waiters(observer, advisory=1)
        if first == "transfer":
            await gate.execute("SELECT pg_advisory_lock($1, $2)", AUDIT_LOCK_NAMESPACE, fujian.id)
            approve = asyncio.ensure_future(people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]}))
            await wait_for_waiters(observer, advisory=2)  # the completion wrote Fujian's row
            await gate.execute("SELECT pg_advisory_unlock($1, $2)", IMPORT_LOCK_NAMESPACE, fujian.id)
            await wait_for_waiters(observer, advisory=1, row=1)  # the batch waits for that row
            await gate.execute("SELECT pg_advisory_unlock($1, $2)", AUDIT_LOCK_NAMESPACE, fujian.id)
        else:
            await row_gate.execute("BEGIN")
            await row_gate.execute("SELECT id FROM member_import WHERE id = $1 FOR UPDATE", import_pk)
            await gate.execute("SELECT pg_advisory_unlock($1, $2)", IMPORT_LOCK_NAMESPACE, fujian.id)
            await wait_for_waiters(observer, row=1)  # the batch wrote the member, waits to checkpoint
            approve = asyncio.ensure_future(people["sh_approver"].api.gql(APPROVE, {"id": out["transfer"]["id"]}))
            await wait_for_waiters(observer, row=2)  # the completion waits for the batch's row
            await row_gate.execute("ROLLBACK")
        approved = await asyncio.wait_for(approve, 60)
        await runner.drain_local(60)
    imp = await import_state(fj, up["import"]["id"])
    assert imp["status"] == "COMMITTED"
    rows = await by_id_number(fj, idn)
    assert len(rows) == 1 and rows[0]["state"] == "JOINED"
    if former:
        assert rows[0]["id"] == old["id"]
    payload = approved["data"]["memberTransferApprove"]
    if first == "transfer":
        # The member is in the transfer's union; the import's row, which would move them to
        # another union, is refused.
        assert payload["errors"] == [] and payload["transfer"]["status"] == "COMPLETED"
        assert rows[0]["orgUnit"]["code"] == FJ_DEST and imp["failed"] == 1 and imp["created"] + imp["updated"] == 0
        assert (await sh_admin.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"] is None
    else:
        # An active member now: the completion is refused and changed nothing.
        assert payload["errors"][0]["code"] == "CONFLICT" and rows[0]["orgUnit"]["code"] == FJ_OLD
        assert imp["created"] + imp["updated"] == 1 and imp["failed"] == 0
        assert (await sh_admin.api.gql(MEMBER, {"id": moving["id"]}))["data"]["member"]["state"] == "TRANSFERRING"
        res = await sh_admin.api.gql(TRANSFER, {"id": out["transfer"]["id"]})
        assert res["data"]["memberTransfer"]["status"] == "PENDING"

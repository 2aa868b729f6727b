"""Members through GraphQL: create, masking, validation, dedup, update, history, reveal, lifecycle,
permissions and tenant isolation."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.fixtures.api import persona
from tests.members.members_helpers import (
    CREATE,
    MEMBERS,
    REVEAL,
    UPDATE,
    bad_checksum,
    create_member,
    make_id,
    unit_gid,
)

UNIT = "sh-huangpu-nanjinglu"


@pytest.fixture(scope="module")
async def clerk(api):
    return await persona(api, "shanghai", "clerk", "sh-huangpu")


async def test_create_masks_personal_data_and_derives_gender_and_birth(sh_admin):
    idn = make_id(birth="19850612", male=False)
    m = await create_member(sh_admin, UNIT, name="李四", idNumber=idn, phone="13812345678", employer="南京东路商场",
                            workStatus="RETIRED", tags=["model_worker"])
    assert m["idNumberMasked"] == idn[:6] + "********" + idn[-4:]
    assert m["phoneMasked"] == "138****5678"
    assert m["gender"] == "FEMALE" and m["birthYear"] == 1985
    assert m["workStatus"] == "RETIRED" and m["workStatusLabel"] == "退休"
    assert m["state"] == "JOINED" and m["orgUnit"]["code"] == UNIT
    assert m["tags"] == [{"code": "model_worker", "label": "劳动模范"}]
    # Nothing in the response carries the full values.
    body = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { idNumberMasked phoneMasked } }", {"id": m["id"]})
    assert idn not in str(body) and "13812345678" not in str(body)


async def test_legacy_15_digit_number_is_converted(sh_admin):
    # 15-digit: area + YYMMDD + seq. 310101 500612 123 -> 310101 19500612 123 + check. (Born 1950:
    # make_id() counts up from 1985, so no other test's member can already hold this number.)
    m = await create_member(sh_admin, UNIT, idNumber="310101500612123")
    assert m["idNumberMasked"].startswith("310101") and len(m["idNumberMasked"]) == 18
    assert m["birthYear"] == 1950 and m["gender"] == "MALE"


@pytest.mark.parametrize("id_number,code", [
    ("bad-checksum", "INVALID_INPUT"),
    ("31010119850612123", "INVALID_INPUT"),       # 17 digits
    ("310101198502301235", "INVALID_INPUT"),      # 30 February (checksum made valid below)
])
async def test_bad_id_numbers_are_refused_with_the_field_named(sh_admin, id_number, code):
    from core.pii.idcard import check_char

    if id_number == "bad-checksum":
        id_number = bad_checksum(make_id())
    if id_number.startswith("3101011985023"):
        id_number = id_number[:17] + check_char(id_number[:17])
    unit = await unit_gid(sh_admin, UNIT)
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "王五", "idNumber": id_number, "orgUnitId": unit}})
    payload = res["data"]["memberCreate"]
    assert payload["member"] is None
    assert payload["errors"][0]["field"] == "idNumber" and payload["errors"][0]["code"] == code
    assert id_number not in str(payload)  # the message never quotes the value


async def test_all_field_problems_come_back_together(sh_admin):
    unit = await unit_gid(sh_admin, UNIT)
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "", "idNumber": "123", "orgUnitId": unit,
                                                    "phone": "138abc45678", "tags": ["no_such_tag"]}})
    fields = {e["field"] for e in res["data"]["memberCreate"]["errors"]}
    assert fields == {"name", "idNumber", "phone", "tags"}
    phone_error = [e for e in res["data"]["memberCreate"]["errors"] if e["field"] == "phone"][0]
    assert "数字" in phone_error["message"]


async def test_unit_must_be_grassroots_and_in_this_tenant(sh_admin, bj_admin):
    county = await unit_gid(sh_admin, "sh-huangpu")
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "赵六", "idNumber": make_id(), "orgUnitId": county}})
    assert res["data"]["memberCreate"]["errors"][0]["field"] == "orgUnitId"
    bj_unit = await unit_gid(bj_admin, "bj")
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "赵六", "idNumber": make_id(), "orgUnitId": bj_unit}})
    err = res["data"]["memberCreate"]["errors"][0]
    assert err["code"] == "NOT_FOUND" and err["field"] == "orgUnitId"


async def test_one_person_per_tenant_per_id_number(sh_admin, bj_admin):
    idn = make_id()
    await create_member(sh_admin, UNIT, idNumber=idn)
    unit = await unit_gid(sh_admin, "sh-xuhui-zhongshan")
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "另一个", "idNumber": idn, "orgUnitId": unit}})
    assert res["data"]["memberCreate"]["errors"][0]["code"] == "DUPLICATE"
    # Another tenant may hold the same person (blind indexes are per tenant).
    bj_units = await bj_admin.api.gql('{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { code } } }')
    await create_member(bj_admin, bj_units["data"]["orgUnits"]["nodes"][0]["code"], idNumber=idn)


async def test_concurrent_creates_of_one_person_make_one_member(sh_admin):
    idn = make_id()
    unit = await unit_gid(sh_admin, UNIT)
    results = await asyncio.gather(*[sh_admin.api.gql(CREATE, {"input": {"name": "并发", "idNumber": idn, "orgUnitId": unit}})
                                     for _ in range(6)])
    ok = [r for r in results if r["data"]["memberCreate"]["errors"] == []]
    dup = [r for r in results if r["data"]["memberCreate"]["errors"] and r["data"]["memberCreate"]["errors"][0]["code"] == "DUPLICATE"]
    assert len(ok) == 1 and len(dup) == 5
    found = await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": idn}})
    assert found["data"]["members"]["totalCount"] == 1


async def test_update_history_and_version(sh_admin):
    m = await create_member(sh_admin, UNIT, phone="13900001111")
    res = await sh_admin.api.gql(UPDATE, {"id": m["id"], "input": {"phone": "13900002222", "employer": "新单位",
                                                                   "expectedVersion": m["version"]}})
    updated = res["data"]["memberUpdate"]["member"]
    assert updated["phoneMasked"] == "139****2222" and updated["employer"] == "新单位"
    assert updated["version"] == m["version"] + 1
    stale = await sh_admin.api.gql(UPDATE, {"id": m["id"], "input": {"employer": "x", "expectedVersion": m["version"]}})
    assert stale["data"]["memberUpdate"]["errors"][0]["code"] == "CONFLICT"
    cleared = await sh_admin.api.gql(UPDATE, {"id": m["id"], "input": {"phone": None}})
    assert cleared["data"]["memberUpdate"]["member"]["phoneMasked"] is None
    hist = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { history { totalCount nodes { action changes } } } }",
                                  {"id": m["id"]})
    entries = hist["data"]["member"]["history"]["nodes"]
    assert [e["action"] for e in entries] == ["update", "update", "create"]
    assert entries[1]["changes"]["phone"] == "changed" and entries[1]["changes"]["employer"] == ["", "新单位"]
    assert "13900002222" not in str(hist)


async def test_update_cannot_move_union_and_validates(sh_admin):
    m = await create_member(sh_admin, UNIT)
    res = await sh_admin.api.gql(UPDATE, {"id": m["id"], "input": {"idNumber": "12345"}})
    assert res["data"]["memberUpdate"]["errors"][0]["field"] == "idNumber"
    other = await create_member(sh_admin, UNIT)
    res = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { id } }", {"id": other["id"]})
    assert res["data"]["member"]["id"] == other["id"]


async def test_reveal_needs_permission_and_reason_and_is_audited(api, sh_admin, sh_auditor, clerk):
    idn = make_id()
    m = await create_member(sh_admin, UNIT, idNumber=idn, phone="13700001234")
    res = await clerk.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "核对身份"})
    assert res["data"]["memberReveal"]["errors"][0]["code"] == "FORBIDDEN" and res["data"]["memberReveal"]["value"] is None
    res = await sh_admin.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": " "})
    assert res["data"]["memberReveal"]["errors"][0]["field"] == "reason"
    res = await sh_admin.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "困难职工建档核对"})
    assert res["data"]["memberReveal"] == {"value": idn, "errors": []}
    res = await sh_admin.api.gql(REVEAL, {"id": m["id"], "f": "PHONE", "r": "电话回访"})
    assert res["data"]["memberReveal"]["value"] == "13700001234"
    res = await sh_admin.api.gql(REVEAL, {"id": m["id"], "f": "BIRTH_DATE", "r": "年龄核对"})
    assert res["data"]["memberReveal"]["value"] == f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}"
    approver = await persona(api, "shanghai", "approver", "sh-huangpu")
    res = await approver.api.gql(REVEAL, {"id": m["id"], "f": "PHONE", "r": "电话回访"})
    assert res["data"]["memberReveal"]["value"] == "13700001234"
    audit = await sh_auditor.api.gql('{ auditRecords(filter: {actionPrefix: "member.reveal"}, first: 10) { nodes { changes targetType } } }')
    records = audit["data"]["auditRecords"]["nodes"]
    assert {"field": "id_number", "reason": "困难职工建档核对"} in [r["changes"] for r in records]
    assert idn not in str(audit) and "13700001234" not in str(audit)


async def test_roles_and_scopes(api, sh_admin, sh_auditor):
    m = await create_member(sh_admin, "sh-xuhui-zhongshan")
    # An auditor reads (masked) but cannot write.
    res = await sh_auditor.api.gql("query($id: ID!) { member(id: $id) { name } }", {"id": m["id"]})
    assert res["data"]["member"]["name"] == m["name"]
    res = await sh_auditor.api.gql(UPDATE, {"id": m["id"], "input": {"employer": "x"}})
    assert res["data"]["memberUpdate"]["errors"][0]["code"] == "FORBIDDEN"
    # A clerk of 黄浦 cannot see or touch a 徐汇 member, nor create one there.
    huangpu = await persona(api, "shanghai", "clerk", "sh-huangpu")
    res = await huangpu.api.gql("query($id: ID!) { member(id: $id) { name } }", {"id": m["id"]})
    assert res["data"]["member"] is None
    res = await huangpu.api.gql(UPDATE, {"id": m["id"], "input": {"employer": "x"}})
    assert res["data"]["memberUpdate"]["errors"][0]["code"] == "NOT_FOUND"
    xuhui_unit = await unit_gid(sh_admin, "sh-xuhui-zhongshan")
    res = await huangpu.api.gql(CREATE, {"input": {"name": "越权", "idNumber": make_id(), "orgUnitId": xuhui_unit}})
    assert res["data"]["memberCreate"]["errors"][0]["code"] == "FORBIDDEN"
    listing = await huangpu.api.gql(MEMBERS, {"f": {"namePrefix": m["name"]}})
    assert all(n["orgUnit"]["code"].startswith("sh-huangpu") for n in listing["data"]["members"]["nodes"])
    # A worker (no staff role) reads nothing.
    worker = await persona(api, "shanghai", "worker")
    res = await worker.api.gql(MEMBERS)
    assert res["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_other_tenant_sees_nothing(sh_admin, bj_admin):
    m = await create_member(sh_admin, UNIT, name="隔离测试")
    res = await bj_admin.api.gql("query($id: ID!) { member(id: $id) { name } node(id: $id) { id } }", {"id": m["id"]})
    assert res["data"] == {"member": None, "node": None}
    res = await bj_admin.api.gql(MEMBERS, {"f": {"namePrefix": "隔离测试"}})
    assert res["data"]["members"]["totalCount"] == 0
    res = await bj_admin.api.gql(UPDATE, {"id": m["id"], "input": {"employer": "x"}})
    assert res["data"]["memberUpdate"]["errors"][0]["code"] == "NOT_FOUND"
    res = await bj_admin.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "越权查看"})
    assert res["data"]["memberReveal"]["errors"][0]["code"] == "NOT_FOUND"


async def test_lifecycle_leave_rejoin_decease(sh_admin):
    m = await create_member(sh_admin, UNIT, joinedOn="2020-01-01")
    leave = "mutation($id: ID!) { memberLeave(id: $id, leftOn: \"2024-01-01\", reason: \"调离\") { member { state leftOn } errors { code } } }"
    res = await sh_admin.api.gql(leave, {"id": m["id"]})
    assert res["data"]["memberLeave"]["member"] == {"state": "LEFT", "leftOn": "2024-01-01"}
    res = await sh_admin.api.gql(leave, {"id": m["id"]})
    assert res["data"]["memberLeave"]["errors"][0]["code"] == "INVALID_STATE"
    rejoin = "mutation($id: ID!, $u: ID) { memberRejoin(id: $id, orgUnitId: $u) { member { state orgUnit { code } } errors { code } } }"
    res = await sh_admin.api.gql(rejoin, {"id": m["id"], "u": await unit_gid(sh_admin, "sh-huangpu-bailian")})
    assert res["data"]["memberRejoin"]["member"] == {"state": "JOINED", "orgUnit": {"code": "sh-huangpu-bailian"}}
    dead = "mutation($id: ID!) { memberMarkDeceased(id: $id) { member { state } errors { code } } }"
    assert (await sh_admin.api.gql(dead, {"id": m["id"]}))["data"]["memberMarkDeceased"]["member"]["state"] == "DECEASED"
    res = await sh_admin.api.gql(UPDATE, {"id": m["id"], "input": {"employer": "x"}})
    assert res["data"]["memberUpdate"]["errors"][0]["code"] == "INVALID_STATE"
    hist = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { history { nodes { action } } } }", {"id": m["id"]})
    assert [e["action"] for e in hist["data"]["member"]["history"]["nodes"]] == ["decease", "rejoin", "leave", "create"]


async def test_personal_data_never_logged(sh_admin, caplog):
    caplog.set_level(logging.DEBUG)
    idn = make_id()
    unit = await unit_gid(sh_admin, UNIT)
    await sh_admin.api.gql(CREATE, {"input": {"name": "日志", "idNumber": idn, "orgUnitId": unit, "phone": "13655556666"}})
    await sh_admin.api.gql(CREATE, {"input": {"name": "日志", "idNumber": bad_checksum(idn), "orgUnitId": unit}})
    await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": idn}})
    from core.logging import JsonFormatter

    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert idn not in text and "13655556666" not in text and idn[:17] not in text

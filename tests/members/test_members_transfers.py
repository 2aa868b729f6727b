"""Households and 会籍转移: approval by both unions, within a tenant and between tenants (the row
moves, it is not copied), rejection, cancellation, and the rules around them."""

from __future__ import annotations

import pytest

from tests.fixtures.api import persona
from tests.members.members_helpers import MEMBERS, REVEAL, create_member, make_id, unit_gid

REQUEST = """mutation($input: MemberTransferInput!) { memberTransferRequest(input: $input) {
  transfer { id status direction personName idNumberMasked sourceUnitName destUnitName destTenantCode }
  errors { field code message } } }"""
APPROVE = """mutation($id: ID!) { memberTransferApprove(id: $id) { transfer { id status sourceApprovedByName destApprovedByName }
  errors { field code message } } }"""
REJECT = """mutation($id: ID!) { memberTransferReject(id: $id, note: "不符合条件") { transfer { status } errors { code } } }"""
CANCEL = """mutation($id: ID!) { memberTransferCancel(id: $id) { transfer { status } errors { code } } }"""
TRANSFERS = """query($d: MemberTransferDirection) { memberTransfers(direction: $d) { nodes { id status direction personName idNumberMasked } } }"""
MEMBER = "query($id: ID!) { member(id: $id) { state orgUnit { code } history { nodes { action } } } }"


@pytest.fixture(scope="module")
async def sh_people(api):
    return {
        "clerk": await persona(api, "shanghai", "clerk", "sh-huangpu"),
        "src_approver": await persona(api, "shanghai", "approver", "sh-huangpu"),
        "dst_approver": await persona(api, "shanghai", "approver", "sh-xuhui"),
    }


async def test_household_with_member_and_non_member(sh_admin):
    worker = await create_member(sh_admin, "sh-huangpu-bailian", name="户主")
    spouse = await create_member(sh_admin, "sh-huangpu-bailian", name="配偶会员")
    res = await sh_admin.api.gql("mutation($m: ID!) { householdCreate(memberId: $m, note: \"一户一档\") { household { id size } errors { code } } }",
                                 {"m": worker["id"]})
    hh = res["data"]["householdCreate"]["household"]
    add = """mutation($h: ID!, $i: HouseholdPersonInput!) { householdAddPerson(householdId: $h, input: $i) {
      household { size people { id relation relationLabel name idNumberMasked birthYear member { id } } } errors { field code } } }"""
    child_id = make_id(birth="20100301", male=False)
    res = await sh_admin.api.gql(add, {"h": hh["id"], "i": {"relation": "CHILD", "name": "孩子", "idNumber": child_id}})
    assert res["data"]["householdAddPerson"]["errors"] == []
    res = await sh_admin.api.gql(add, {"h": hh["id"], "i": {"relation": "SPOUSE", "memberId": spouse["id"]}})
    people = res["data"]["householdAddPerson"]["household"]["people"]
    assert [p["relation"] for p in people] == ["SELF", "CHILD", "SPOUSE"]
    child = people[1]
    assert child["idNumberMasked"] == child_id[:6] + "********" + child_id[-4:] and child["birthYear"] == 2010
    assert child["member"] is None and people[2]["member"]["id"] == spouse["id"]
    # One household per person: the child cannot be added twice, the spouse neither.
    res = await sh_admin.api.gql(add, {"h": hh["id"], "i": {"relation": "OTHER", "name": "孩子", "idNumber": child_id}})
    assert res["data"]["householdAddPerson"]["errors"][0]["code"] == "CONFLICT"
    res = await sh_admin.api.gql(add, {"h": hh["id"], "i": {"relation": "OTHER", "name": "配偶", "idNumber": "123"}})
    assert res["data"]["householdAddPerson"]["errors"][0]["field"] == "idNumber"
    # A non-member's ID is revealable like a member's, and audited.
    res = await sh_admin.api.gql(REVEAL, {"id": child["id"], "f": "ID_NUMBER", "r": "困难建档"})
    assert res["data"]["memberReveal"]["value"] == child_id
    # When the child later becomes a member, the household person turns into a link (no second copy).
    kid = await create_member(sh_admin, "sh-huangpu-bailian", name="孩子", idNumber=child_id)
    res = await sh_admin.api.gql("query($id: ID!) { household(id: $id) { people { relation member { id } } } }", {"id": hh["id"]})
    assert res["data"]["household"]["people"][1]["member"]["id"] == kid["id"]


async def test_transfer_within_tenant_needs_both_unions(sh_admin, sh_people):
    m = await create_member(sh_admin, "sh-huangpu-nanjinglu", name="转移甲")
    dest = await unit_gid(sh_admin, "sh-xuhui-zhongshan")
    res = await sh_people["clerk"].api.gql(REQUEST, {"input": {"memberId": m["id"], "toOrgUnitId": dest, "reason": "调动"}})
    t = res["data"]["memberTransferRequest"]["transfer"]
    assert t["status"] == "PENDING" and t["direction"] == "WITHIN" and t["idNumberMasked"] == m["idNumberMasked"]
    assert (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"]["state"] == "TRANSFERRING"
    # The member cannot transfer twice or leave meanwhile.
    again = await sh_people["clerk"].api.gql(REQUEST, {"input": {"memberId": m["id"], "toOrgUnitId": dest}})
    assert again["data"]["memberTransferRequest"]["errors"][0]["code"] == "INVALID_STATE"
    # The clerk cannot approve; each approver approves only their own union's side.
    res = await sh_people["clerk"].api.gql(APPROVE, {"id": t["id"]})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "FORBIDDEN"
    res = await sh_people["src_approver"].api.gql(APPROVE, {"id": t["id"]})
    assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "PENDING"
    res = await sh_people["src_approver"].api.gql(APPROVE, {"id": t["id"]})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "FORBIDDEN"
    res = await sh_people["dst_approver"].api.gql(APPROVE, {"id": t["id"]})
    done = res["data"]["memberTransferApprove"]["transfer"]
    assert done["status"] == "COMPLETED" and done["sourceApprovedByName"] and done["destApprovedByName"]
    member = (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"]
    assert member["state"] == "JOINED" and member["orgUnit"]["code"] == "sh-xuhui-zhongshan"
    assert [h["action"] for h in member["history"]["nodes"]][:2] == ["transfer.complete", "transfer.request"]


async def test_one_person_cannot_approve_both_sides(api, sh_admin):
    m = await create_member(sh_admin, "sh-huangpu-nanjinglu", name="转移乙")
    clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    root_approver = await persona(api, "shanghai", "approver")
    res = await clerk.api.gql(REQUEST, {"input": {"memberId": m["id"], "toOrgUnitId": await unit_gid(sh_admin, "sh-xuhui-kuaidi")}})
    tid = res["data"]["memberTransferRequest"]["transfer"]["id"]
    assert (await root_approver.api.gql(APPROVE, {"id": tid}))["data"]["memberTransferApprove"]["errors"] == []
    res = await root_approver.api.gql(APPROVE, {"id": tid})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "SELF_APPROVAL"
    # A requester cannot approve their own request either.
    res = await sh_admin.api.gql(REQUEST, {"input": {"memberId": (await create_member(sh_admin, "sh-huangpu-nanjinglu"))["id"],
                                                     "toOrgUnitCode": "sh-xuhui-kuaidi"}})
    tid2 = res["data"]["memberTransferRequest"]["transfer"]["id"]
    res = await sh_admin.api.gql(APPROVE, {"id": tid2})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "SELF_APPROVAL"


async def test_reject_and_cancel_restore_the_member(sh_admin, sh_people):
    for action, who in ((REJECT, "dst_approver"), (CANCEL, "clerk")):
        m = await create_member(sh_admin, "sh-huangpu-nanjinglu")
        res = await sh_people["clerk"].api.gql(REQUEST, {"input": {"memberId": m["id"], "toOrgUnitId": await unit_gid(sh_admin, "sh-xuhui-zhongshan")}})
        tid = res["data"]["memberTransferRequest"]["transfer"]["id"]
        res = await sh_people[who].api.gql(action, {"id": tid})
        payload = next(iter(res["data"].values()))
        assert payload["errors"] == [] and payload["transfer"]["status"] in ("REJECTED", "CANCELLED")
        member = (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"]
        assert member["state"] == "JOINED" and member["orgUnit"]["code"] == "sh-huangpu-nanjinglu"
        res = await sh_people["src_approver"].api.gql(APPROVE, {"id": tid})
        assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "INVALID_STATE"


async def test_transfer_between_tenants_moves_the_row(api, sh_admin, bj_admin, sh_auditor):
    idn = make_id(area="310104")
    m = await create_member(sh_admin, "sh-huangpu-nanjinglu", name="跨省转移", idNumber=idn, phone="13512340000",
                            tags=["model_worker"])
    bj_units = await bj_admin.api.gql('{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { id code } } }')
    bj_unit = bj_units["data"]["orgUnits"]["nodes"][0]
    res = await sh_admin.api.gql(REQUEST, {"input": {"memberId": m["id"], "toTenantCode": "beijing", "toOrgUnitCode": "nope"}})
    assert res["data"]["memberTransferRequest"]["errors"][0]["code"] == "NOT_FOUND"
    clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    res = await clerk.api.gql(REQUEST, {"input": {"memberId": m["id"], "toTenantCode": "beijing", "toOrgUnitCode": bj_unit["code"],
                                                  "reason": "工作调动到北京"}})
    out = res["data"]["memberTransferRequest"]["transfer"]
    assert out["direction"] == "OUTGOING" and out["destTenantCode"] == "beijing"
    # Beijing sees its own copy of the transfer (incoming), with the masked ID only.
    incoming = (await bj_admin.api.gql(TRANSFERS, {"d": "INCOMING"}))["data"]["memberTransfers"]["nodes"]
    mine = [t for t in incoming if t["personName"] == "跨省转移"]
    assert len(mine) == 1 and mine[0]["idNumberMasked"] == m["idNumberMasked"] and idn not in str(incoming)
    # Beijing cannot see the member itself yet.
    assert (await bj_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"] is None
    sh_approver = await persona(api, "shanghai", "approver", "sh-huangpu")
    bj_approver = await persona(api, "beijing", "approver")
    # Shanghai's approver cannot approve Beijing's side through Beijing's row, and vice versa.
    res = await bj_approver.api.gql(APPROVE, {"id": mine[0]["id"]})
    assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "PENDING"
    res = await sh_approver.api.gql(APPROVE, {"id": out["id"]})
    assert res["data"]["memberTransferApprove"]["transfer"]["status"] == "COMPLETED"
    # The member now lives in Beijing, same id, still masked, same facts; Shanghai has no row.
    bj_member = await bj_admin.api.gql("query($id: ID!) { member(id: $id) { name idNumberMasked phoneMasked state orgUnit { code } tags { code } history { nodes { action } } } }",
                                       {"id": m["id"]})
    moved = bj_member["data"]["member"]
    assert moved["idNumberMasked"] == m["idNumberMasked"] and moved["phoneMasked"] == "135****0000"
    assert moved["orgUnit"]["code"] == bj_unit["code"] and moved["tags"] == [{"code": "model_worker"}]
    assert [h["action"] for h in moved["history"]["nodes"]] == ["transfer.in"]
    assert (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"] is None
    assert (await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": idn}}))["data"]["members"]["totalCount"] == 0
    assert (await bj_admin.api.gql(MEMBERS, {"f": {"idNumber": idn}}))["data"]["members"]["totalCount"] == 1
    assert (await bj_admin.api.gql(MEMBERS, {"f": {"idNumber": idn, "tags": ["model_worker"]}}))["data"]["members"]["totalCount"] == 1
    assert (await sh_admin.api.gql(MEMBERS, {"f": {"tags": ["model_worker"], "namePrefix": "跨省转移"}}))["data"]["members"]["totalCount"] == 0
    # Re-encrypted for Beijing: Beijing can reveal it.
    res = await bj_admin.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "接收核对"})
    assert res["data"]["memberReveal"]["value"] == idn
    # Both tenants' rows say completed.
    sh_rows = (await sh_admin.api.gql(TRANSFERS, {"d": "OUTGOING"}))["data"]["memberTransfers"]["nodes"]
    assert [t["status"] for t in sh_rows if t["personName"] == "跨省转移"] == ["COMPLETED"]
    # Both audit chains still verify.
    for p in (sh_auditor, await persona(api, "beijing", "auditor")):
        v = await p.api.gql("{ auditVerify { ok } }")
        assert v["data"]["auditVerify"]["ok"] is True


async def test_cross_tenant_transfer_to_a_province_holding_the_person_is_refused_by_that_province_not_at_the_request(sh_admin, bj_admin):
    idn = make_id(area="110105")
    m = await create_member(sh_admin, "sh-huangpu-nanjinglu", name="北京已在会", idNumber=idn)
    bj_units = await bj_admin.api.gql('{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { code } } }')
    code = bj_units["data"]["orgUnits"]["nodes"][0]["code"]
    await create_member(bj_admin, code, idNumber=idn)
    res = await sh_admin.api.gql(REQUEST, {"input": {"memberId": m["id"], "toTenantCode": "beijing", "toOrgUnitCode": code}})
    # The request tells Shanghai nothing about Beijing's records.
    assert res["data"]["memberTransferRequest"]["errors"] == []
    incoming = (await bj_admin.api.gql(TRANSFERS, {"d": "INCOMING"}))["data"]["memberTransfers"]["nodes"]
    bj_tid = next(t["id"] for t in incoming if t["personName"] == "北京已在会")
    res = await bj_admin.api.gql(APPROVE, {"id": bj_tid})
    assert res["data"]["memberTransferApprove"]["errors"][0]["code"] == "CONFLICT"
    assert (await sh_admin.api.gql(MEMBER, {"id": m["id"]}))["data"]["member"]["state"] == "TRANSFERRING"

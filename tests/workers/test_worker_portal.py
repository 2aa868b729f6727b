"""The worker portal through GraphQL against PostgreSQL: online joining (网上入会) with its deadline,
the union's decision, the worker's own transfer request, their own data behind the password (audited),
the PIPL copy of it, and a worker reaching for another worker's objects."""

from __future__ import annotations

import datetime as dt
import json

from tests.fixtures.api import persona
from tests.members.members_helpers import create_member, make_id
from tests.workers.test_worker_accounts import ME, PASSWORD, audit_actions, phone, pk, register

UNITS = """query($n: String, $r: ID, $a: String) { portalUnits(name: $n, regionId: $r, areaCode: $a, first: 50) {
  totalCount nodes { id name parentName areaCode } } }"""
APPLY = """mutation($i: JoinApplyInput!) { workerJoinApply(input: $i) {
  application { id unionName employer status dueOn overdue reason } errors { field code message messageZh } } }"""
MY_APPS = "{ myWorker { status joinApplications { id status unionName dueOn reason } } }"
STAFF_APPS = """query($s: JoinStatus) { joinApplications(status: $s, first: 100) { totalCount
  nodes { id applicantName idNumberMasked phoneMasked unionName employer status dueOn } } }"""
DECIDE = """mutation($id: ID!, $a: Boolean!, $r: String!) { joinApplicationDecide(id: $id, approve: $a, reason: $r) {
  application { id status reason } errors { field code message } } }"""
WITHDRAW = """mutation($id: ID!) { workerJoinWithdraw(id: $id) { application { status } errors { code } } }"""
REVEAL = """mutation($p: String!) { workerRevealMyData(password: $p) {
  data { name idNumber phone memberNumber unionName } errors { field code message } } }"""
TRANSFER = """mutation($to: ID!, $r: String!) { workerTransferRequest(toOrgUnitId: $to, reason: $r) {
  transferId status errors { field code message } } }"""


async def unit_id(api, name_part: str) -> str:
    nodes = (await api.data(UNITS, {"n": name_part}))["portalUnits"]["nodes"]
    assert nodes, name_part
    return nodes[0]["id"]


def working_days_after(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


async def test_non_member_applies_and_the_union_approves(from_address, sh_clerk, xuhui_clerk, api):
    id_number, ph = make_id(), phone()
    out = await register(await from_address(), name="刘洋", id_number=id_number, phone_=ph)
    me = api.as_(out["token"])
    # Searching unions: by name, by region (a district's subtree), by area code; grassroots only.
    found = (await me.data(UNITS, {"n": "南京东路"}))["portalUnits"]
    assert found["totalCount"] >= 1 and all("南京东路" in n["name"] for n in found["nodes"])
    assert found["nodes"][0]["parentName"] == "黄浦区总工会"
    everything = (await me.data(UNITS, {}))["portalUnits"]["nodes"]
    assert all(not n["name"].endswith("区总工会") for n in everything)
    by_area = (await me.data(UNITS, {"a": "310104"}))["portalUnits"]["nodes"]
    assert all(n["areaCode"].startswith("310104") for n in by_area)
    bad_area = await me.gql(UNITS, {"a": "31%"})
    assert bad_area["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    # Applying to a district union (not grassroots) is refused.
    district = (await sh_clerk.api.data('{ orgUnits(first: 100) { nodes { id code } } }'))["orgUnits"]["nodes"]
    huangpu = next(n["id"] for n in district if n["code"] == "sh-huangpu")
    wrong = (await me.gql(APPLY, {"i": {"orgUnitId": huangpu, "employer": "某公司"}}))["data"]["workerJoinApply"]
    assert wrong["errors"][0]["field"] == "orgUnitId"
    target = await unit_id(me, "南京东路")
    applied = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "南京路商店"}}))["data"]["workerJoinApply"]
    assert applied["errors"] == [], applied
    app = applied["application"]
    assert app["status"] == "PENDING" and not app["overdue"]
    from core.members.services import today  # the union's calendar day (China time), not the test machine's

    assert dt.date.fromisoformat(app["dueOn"]) == working_days_after(today(), 3)
    twice = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "南京路商店"}}))["data"]["workerJoinApply"]
    assert twice["errors"][0]["code"] == "DUPLICATE"
    # The union sees it, masked; a clerk of another district does not, and cannot decide it.
    listed = (await sh_clerk.api.data(STAFF_APPS, {"s": "PENDING"}))["joinApplications"]["nodes"]
    mine = next(n for n in listed if n["id"] == app["id"])
    assert mine["applicantName"] == "刘洋" and id_number not in json.dumps(mine) and ph not in json.dumps(mine)
    assert "*" in mine["idNumberMasked"] and "*" in mine["phoneMasked"]
    other = (await xuhui_clerk.api.data(STAFF_APPS, {"s": "PENDING"}))["joinApplications"]["nodes"]
    assert app["id"] not in [n["id"] for n in other]
    refused = (await xuhui_clerk.api.gql(DECIDE, {"id": app["id"], "a": True, "r": ""}))["data"]["joinApplicationDecide"]
    assert refused["errors"][0]["code"] == "NOT_FOUND"
    # The worker cannot decide their own application.
    self_ok = (await me.gql(DECIDE, {"id": app["id"], "a": True, "r": ""}))["data"]["joinApplicationDecide"]
    assert self_ok["errors"][0]["code"] == "FORBIDDEN"
    approved = (await sh_clerk.api.gql(DECIDE, {"id": app["id"], "a": True, "r": ""}))["data"]["joinApplicationDecide"]
    assert approved["errors"] == [] and approved["application"]["status"] == "APPROVED"
    again = (await sh_clerk.api.gql(DECIDE, {"id": app["id"], "a": False, "r": "重复"}))["data"]["joinApplicationDecide"]
    assert again["errors"][0]["code"] == "INVALID_STATE"
    # The member exists, created with history like a clerk's create, and the account is bound.
    now = (await me.data(ME))["myWorker"]
    assert now["status"] == "MEMBER" and now["card"]["unionName"] == "南京东路街道联合工会"
    member = (await sh_clerk.api.data("query($id: ID!) { member(id: $id) { name employer state history(first: 5) { nodes { action } } } }",
                                      {"id": now["memberId"]}))["member"]
    assert member["name"] == "刘洋" and member["employer"] == "南京路商店" and member["state"] == "JOINED"
    assert [n["action"] for n in member["history"]["nodes"]] == ["create"]
    actions = await audit_actions("shanghai", "JoinApplication", pk(app["id"]))
    assert actions == ["worker.join.apply", "join.approve"]
    # A member cannot apply again.
    member_apply = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "x"}}))["data"]["workerJoinApply"]
    assert member_apply["errors"][0]["code"] == "INVALID_STATE"


async def test_rejection_needs_a_reason_and_is_shown_to_the_worker(from_address, sh_clerk, api):
    out = await register(await from_address(), name="黄蓉")
    me = api.as_(out["token"])
    target = await unit_id(me, "百联")
    app = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "百联集团"}}))["data"]["workerJoinApply"]["application"]
    no_reason = (await sh_clerk.api.gql(DECIDE, {"id": app["id"], "a": False, "r": " "}))["data"]["joinApplicationDecide"]
    assert no_reason["errors"][0]["field"] == "reason"
    rejected = (await sh_clerk.api.gql(DECIDE, {"id": app["id"], "a": False, "r": "工作单位不在本工会范围"}))["data"]["joinApplicationDecide"]
    assert rejected["errors"] == [] and rejected["application"]["status"] == "REJECTED"
    mine = (await me.data(MY_APPS))["myWorker"]
    assert mine["status"] == "NOT_MEMBER"
    assert mine["joinApplications"][0]["reason"] == "工作单位不在本工会范围"
    # After a rejection the worker may apply elsewhere, and withdraw that.
    again = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "百联集团"}}))["data"]["workerJoinApply"]
    assert again["errors"] == []
    withdrawn = (await me.gql(WITHDRAW, {"id": again["application"]["id"]}))["data"]["workerJoinWithdraw"]
    assert withdrawn["application"]["status"] == "WITHDRAWN"


async def test_a_worker_cannot_reach_another_workers_objects(from_address, sh_clerk, api):
    a = await register(await from_address(), name="甲")
    b = await register(await from_address(), name="乙")
    me_a, me_b = api.as_(a["token"]), api.as_(b["token"])
    target = await unit_id(me_b, "南京东路")
    app_b = (await me_b.gql(APPLY, {"i": {"orgUnitId": target, "employer": "x"}}))["data"]["workerJoinApply"]["application"]
    stolen = (await me_a.gql(WITHDRAW, {"id": app_b["id"]}))["data"]["workerJoinWithdraw"]
    assert stolen["errors"][0]["code"] == "NOT_FOUND"
    assert (await me_a.data(MY_APPS))["myWorker"]["joinApplications"] == []
    # Another member's record by id: not visible to a worker.
    ph, id_number = phone(), make_id()
    member = await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="丙", idNumber=id_number, phone=ph)
    node = await me_a.gql("query($id: ID!) { node(id: $id) { id } }", {"id": member["id"]})
    assert node["data"]["node"] is None and node["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    read = await me_a.gql("query($id: ID!) { member(id: $id) { name } }", {"id": member["id"]})
    assert read["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    # A staff user is not a worker.
    staff_me = await sh_clerk.api.gql(ME)
    assert staff_me["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anon = await api.gql(ME, expect_status=None)
    assert anon["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_worker_requests_a_transfer_of_their_membership(from_address, sh_clerk, api):
    ph, id_number = phone(), make_id()
    await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="钱进", idNumber=id_number, phone=ph)
    member_out = await register(await from_address(), name="钱进", id_number=id_number, phone_=ph)
    me = api.as_(member_out["token"])
    dest = await unit_id(me, "百联")
    same = await unit_id(me, "南京东路")
    assert (await me.gql(TRANSFER, {"to": same, "r": "x"}))["data"]["workerTransferRequest"]["errors"][0]["code"] == "INVALID_INPUT"
    done = (await me.gql(TRANSFER, {"to": dest, "r": "换了工作"}))["data"]["workerTransferRequest"]
    assert done["errors"] == [] and done["status"] == "pending"
    transfer = (await sh_clerk.api.data("query($id: ID!) { node(id: $id) { ... on MemberTransfer { status personName } } }",
                                        {"id": done["transferId"]}))["node"]
    assert transfer["personName"] == "钱进"
    # A worker who is not a member has nothing to transfer.
    outsider = api.as_((await register(await from_address()))["token"])
    refused = (await outsider.gql(TRANSFER, {"to": dest, "r": ""}))["data"]["workerTransferRequest"]
    assert refused["errors"][0]["code"] == "INVALID_STATE"


async def test_own_data_unmasked_only_with_the_password_and_audited(from_address, sh_clerk, api):
    ph, id_number = phone(), make_id()
    await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="冯梅", idNumber=id_number, phone=ph)
    out = await register(await from_address(), name="冯梅", id_number=id_number, phone_=ph)
    me = api.as_(out["token"])
    wrong = (await me.gql(REVEAL, {"p": "not-my-password"}))["data"]["workerRevealMyData"]
    assert wrong["data"] is None and wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    shown = (await me.gql(REVEAL, {"p": PASSWORD}))["data"]["workerRevealMyData"]
    assert shown["errors"] == [] and shown["data"]["idNumber"] == id_number and shown["data"]["phone"] == ph
    assert shown["data"]["unionName"]
    assert "worker.reveal" in await audit_actions("shanghai", "WorkerAccount", pk(out["worker"]["id"]))
    # The PIPL copy: a JSON file, behind the password, audited; not for staff or strangers.
    r = await api.client.post("/portal/my-data", json={"password": PASSWORD}, headers={"authorization": f"Bearer {out['token']}"})
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    doc = r.json()
    assert doc["member"]["idNumber"] == id_number and doc["account"]["phone"] == ph
    assert "worker.data_export" in await audit_actions("shanghai", "WorkerAccount", pk(out["worker"]["id"]))
    bad = await api.client.post("/portal/my-data", json={"password": "nope-nope"}, headers={"authorization": f"Bearer {out['token']}"})
    assert bad.status_code == 403 and bad.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert (await api.client.post("/portal/my-data", json={"password": PASSWORD})).status_code == 401
    staff = await api.client.post("/portal/my-data", json={"password": PASSWORD}, headers={"authorization": f"Bearer {sh_clerk.token}"})
    assert staff.status_code == 403


async def test_join_deadline_counts_working_days():
    from core.context import TenantContext
    from core.workdays import add_working_days, is_working_day
    from core.workers.joining import deadline_days

    plain = TenantContext(1, "t", "t", "31")
    friday = dt.date(2026, 12, 4)
    assert add_working_days(plain, friday, 3) == dt.date(2026, 12, 9)
    assert add_working_days(plain, dt.date(2026, 12, 5), 1) == dt.date(2026, 12, 7)  # Saturday -> Monday
    assert add_working_days(plain, friday, 0) == friday
    assert deadline_days(plain) == 3
    # A holiday week with a 调休 Saturday: from Wednesday 30 Sep, Thursday 1 Oct to Wednesday 7 Oct are
    # off, and Saturday 10 Oct is worked. Three working days are Thu 8, Fri 9 and Sat 10 Oct.
    holidays = [(dt.date(2026, 10, 1) + dt.timedelta(days=i)).isoformat() for i in range(7)]
    national_day = TenantContext(2, "u", "u", "32", settings={"builtin": {
        "public_holidays": holidays, "extra_working_days": ["2026-10-10"], "join_deadline_working_days": 5}})
    assert add_working_days(national_day, dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert not is_working_day(national_day, dt.date(2026, 10, 5)) and is_working_day(national_day, dt.date(2026, 10, 10))
    assert deadline_days(national_day) == 5


async def test_the_tenant_sets_the_join_deadline(from_address, api, tmp_path):
    """A province's own deadline (and holidays) reach what the worker is shown and the application's due day."""
    from tests.integration.test_plugin_settings import province, settings_of, update

    code, admin, _ = await province(tmp_path, api)
    current = await settings_of(admin, "builtin")
    bad = await update(admin, "builtin", {**current["settings"], "join_deadline_working_days": 0}, current["version"])
    assert bad["errors"][0]["code"] == "PLUGIN_CONFIG" and bad["errors"][0]["field"] == "settings.join_deadline_working_days"
    from core.members.services import today

    start = today()
    holiday = working_days_after(start, 1)
    changed = await update(admin, "builtin", {**current["settings"], "join_deadline_working_days": 5,
                                               "public_holidays": [holiday.isoformat()]}, current["version"])
    assert changed["errors"] == [], changed
    out = await register(await from_address(), name="周敏", tenant=code)
    me = api.as_(out["token"])
    assert (await me.data(ME))["myWorker"]["joinDeadlineWorkingDays"] == 5
    target = (await me.data(UNITS, {"n": "基层工会"}))["portalUnits"]["nodes"][0]["id"]
    app = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "某公司"}}))["data"]["workerJoinApply"]
    assert app["errors"] == [], app
    # The holiday does not count: five working days after it, not after today.
    assert dt.date.fromisoformat(app["application"]["dueOn"]) == working_days_after(holiday, 5)


async def test_persona_of_other_tenant_sees_no_applications(api, from_address):
    bj = await persona(api, "beijing", "clerk")
    out = await register(await from_address(), name="卫东")
    me = api.as_(out["token"])
    target = await unit_id(me, "南京东路")
    app = (await me.gql(APPLY, {"i": {"orgUnitId": target, "employer": "x"}}))["data"]["workerJoinApply"]["application"]
    listed = (await bj.api.data(STAFF_APPS, {}))["joinApplications"]["nodes"]
    assert app["id"] not in [n["id"] for n in listed]
    decide = (await bj.api.gql(DECIDE, {"id": app["id"], "a": True, "r": ""}))["data"]["joinApplicationDecide"]
    assert decide["errors"][0]["code"] == "NOT_FOUND"


async def test_the_portal_page_is_served_under_m(api):
    for path in ("/m", "/m/", "/m/card", "/m/join/x"):
        r = await api.client.get(path)
        assert r.status_code == 200, path
        assert "职工之家" in r.text
    staff = await api.client.get("/members")
    assert staff.status_code == 200 and "职工之家</title>" not in staff.text

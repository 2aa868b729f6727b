"""Rating a mutual-aid claim (满意度评价) through the service_network capability's worker field, on
PostgreSQL (Shanghai's plans): mutual aid answers service_network's ``rating_subjects`` hook (optional
there), so a worker rates their own paid claim, a later rating replaces theirs with the history kept,
and the rating lands on the claim's union; a claim not yet paid, a colleague's, or another province's
is NOT_ELIGIBLE, and a staff account is not a worker."""

from __future__ import annotations

from typing import Any

import pytest

from core.testing import create_plugin_tenant, from_new_address, persona
from huijia_mutual_aid.testing import PDF_B64, add_members, backdate, days_ago, enrol, fund, sql

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUBJECT = "mutual_aid_claim"
SUBMIT = """mutation($i: MutualAidClaimInput!) { mutualAidClaimSubmit(input: $i) { claim { id state }
  errors { field code message } } }"""
STEP = """mutation($id: ID!, $a: MutualAidClaimAction!) { mutualAidClaimStep(id: $id, action: $a) { claim { id state }
  errors { field code message } } }"""
RATE = """mutation($t: String!, $id: BigInt!, $s: Int!) { workerRatingSubmit(subjectType: $t, subjectId: $id, stars: $s) {
  rating { id stars version subjectType orgUnitId history { version stars } } errors { field code message } } }"""
MINE = """query($t: String) { myRatings(subjectType: $t) { subjectType subjectId stars version } }"""
STAFF_RATINGS = """query($t: String) { ratings(subjectType: $t) { subjectId stars orgUnitId } }"""


def pk(gid: str) -> int:
    from core.sdk import from_global_id

    return from_global_id(gid)[1]


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def _worker(api: Any, t: Any, member: str, idn: str) -> Any:
    from core.sdk import pii_decrypt

    rows = await sql(t, "SELECT phone_enc FROM member WHERE tenant_id = {} AND id = {}", pk(member))
    phone = pii_decrypt(rows[0]["phone_enc"], "member", "phone", (await t.context()).id)
    web = from_new_address(api)
    reg = (await web.data("""mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token errors { code } } }""",
                          {"i": {"tenantCode": t.code, "name": "参保人", "idNumber": idn, "phone": phone,
                                 "password": "Worker-pass-123"}}))["workerRegister"]
    assert reg["errors"] == [], reg
    return web.as_(reg["token"])


async def _province(api: Any, tmp_path: Any, n: int) -> dict[str, Any]:
    t = await create_plugin_tenant(["shanghai", "mutual_aid", "service_network"], tmp_path, "")
    clerk = (await persona(api, t.code, "clerk", t.grassroots_unit)).api
    unit = t.unit_ids[t.grassroots_unit]
    staff = await add_members(clerk, unit, n, phone=True)
    await enrol(clerk, unit, "shanghai_class_b", [m for m, _ in staff], "b1")
    await backdate(t, "shanghai_class_b", 60)
    await fund(t, "shanghai_class_b", "会员专享基本保障（B类·重大病）", 50_000_000)
    return {"t": t, "clerk": clerk, "staff": staff, "approver": (await persona(api, t.code, "approver", t.district_unit)).api,
            "finance": (await persona(api, t.code, "finance")).api}


async def _claim(w: dict[str, Any], member: str, *, paid: bool) -> int:
    i = {"plan": "shanghai_class_b", "memberId": member, "kind": "serious_illness", "eventDate": days_ago(5),
         "hospital": "瑞金医院", "documents": [{"kind": "DIAGNOSIS", "filename": "诊断.pdf", "contentBase64": PDF_B64}]}
    made = (await w["clerk"].data(SUBMIT, {"i": i}))["mutualAidClaimSubmit"]
    assert made["errors"] == [], made
    gid = made["claim"]["id"]
    steps = (("clerk", "CHECK"), ("approver", "APPROVE"), ("finance", "PAY")) if paid else (("clerk", "CHECK"),)
    for who, action in steps:
        stepped = (await w[who].data(STEP, {"id": gid, "a": action}))["mutualAidClaimStep"]
        assert stepped["errors"] == [], stepped
    return pk(gid)


async def test_hook_rating_subjects_a_worker_rates_their_own_paid_claim(api, tmp_path) -> None:
    w = await _province(api, tmp_path, 3)
    t = w["t"]
    (mine_member, mine_idn), (colleague, _), (third, _) = w["staff"]
    paid = await _claim(w, mine_member, paid=True)
    checked_only = await _claim(w, third, paid=False)
    colleagues = await _claim(w, colleague, paid=True)
    me = await _worker(api, t, mine_member, mine_idn)

    first = (await me.data(RATE, {"t": SUBJECT, "id": paid, "s": 3}))["workerRatingSubmit"]
    assert first["errors"] == [], first
    r = first["rating"]
    assert (r["subjectType"], r["stars"], r["version"], r["orgUnitId"]) == (SUBJECT, 3, 1, t.unit_ids[t.grassroots_unit])
    again = (await me.data(RATE, {"t": SUBJECT, "id": paid, "s": 1}))["workerRatingSubmit"]["rating"]
    assert again["id"] == r["id"] and again["version"] == 2
    assert [(h["version"], h["stars"]) for h in again["history"]] == [(1, 3), (2, 1)]
    assert (await me.data(MINE, {"t": SUBJECT}))["myRatings"] == [
        {"subjectType": SUBJECT, "subjectId": paid, "stars": 1, "version": 2}]
    district = (await persona(api, t.code, "clerk", t.district_unit)).api
    assert (await district.data(STAFF_RATINGS, {"t": SUBJECT}))["ratings"] == [
        {"subjectId": paid, "stars": 1, "orgUnitId": t.unit_ids[t.grassroots_unit]}]

    for subject in (colleagues, 999_999_999):
        out = (await me.data(RATE, {"t": SUBJECT, "id": subject, "s": 4}))["workerRatingSubmit"]
        assert codes(out) == [("subjectId", "NOT_ELIGIBLE")], (subject, out)
    # a claim still being handled is not yet received, even by its own member
    third_worker = await _worker(api, t, third, w["staff"][2][1])
    out = (await third_worker.data(RATE, {"t": SUBJECT, "id": checked_only, "s": 4}))["workerRatingSubmit"]
    assert codes(out) == [("subjectId", "NOT_ELIGIBLE")]
    staff = (await w["clerk"].data(RATE, {"t": SUBJECT, "id": paid, "s": 4}))["workerRatingSubmit"]
    assert [e["code"] for e in staff["errors"]] == ["FORBIDDEN"]

    # another province's worker, whose own claim is paid, cannot rate this one by its id
    w2 = await _province(api, tmp_path, 1)
    (member2, idn2), = w2["staff"]
    await _claim(w2, member2, paid=True)
    stranger = await _worker(api, w2["t"], member2, idn2)
    out = (await stranger.data(RATE, {"t": SUBJECT, "id": paid, "s": 2}))["workerRatingSubmit"]
    assert codes(out) == [("subjectId", "NOT_ELIGIBLE")]

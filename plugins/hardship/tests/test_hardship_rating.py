"""Rating a hardship grant (满意度评价) through the service_network capability's worker field, on
PostgreSQL: hardship answers service_network's ``rating_subjects`` hook (optional there), so a worker
rates an aid grant paid to their household, a later rating replaces theirs with the history kept, and
the rating lands on the grant's union; a grant not paid, another household's, or another province's
is NOT_ELIGIBLE, and a staff account is not a worker."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from huijia_hardship.testing import HOUSEHOLD

from core.testing import Api, create_plugin_tenant, from_new_address, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")
_seq = itertools.count(random.randrange(1000, 9000) * 10)

SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }
"""
REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token errors { field code message } } }"""
PROPOSE = """mutation($i: HardshipGrantInput!) { hardshipGrantPropose(input: $i) { grant { id state }
  errors { field code message } } }"""
STEP = """mutation($id: ID!, $a: HardshipGrantAction!) { hardshipGrantStep(id: $id, action: $a) { grant { id state }
  errors { field code message } } }"""
RATE = """mutation($t: String!, $id: BigInt!, $s: Int!, $c: String! = "") { workerRatingSubmit(subjectType: $t,
  subjectId: $id, stars: $s, comment: $c) { rating { id stars version subjectType orgUnitId history { version stars } }
  errors { field code message messageZh } } }"""
MINE = """query($t: String) { myRatings(subjectType: $t) { subjectType subjectId stars version } }"""
STAFF_RATINGS = """query($t: String) { ratings(subjectType: $t) { subjectId stars orgUnitId } }"""
SUBJECT = "hardship_grant"


def pk(gid: str) -> int:
    from core.sdk import from_global_id

    return from_global_id(gid)[1]


async def _fund(t: Any) -> None:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.tenancy import services as tenancy

    tenant = await t.context()
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 1_000_000_000)
        root = await tenancy.root_unit(tenant)
        await create_manual_entry(tenant, Actor(None, "test"),
                                  refs=[AccountRef(org_unit_id=root["id"], fund="hardship", code="102"),
                                        AccountRef(org_unit_id=root["id"], fund="hardship", code="403")],
                                  amounts=[5_000_000, -5_000_000], key=f"rating-test-{t.code}", memo="帮扶资金")


async def _member_household(api: Any, t: Any, clerk: Any, phone: str) -> tuple[str, str, str]:
    """A member of the grassroots union with a phone and a household of their own: (ID number, household,
    its first person)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.sdk import to_global_id
    from core.tenancy import services as tenancy

    id_number = synthetic_id_number(next(_seq))
    tenant = await t.context()
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                  values={"name": "困难职工", "id_number": id_number, "phone": phone})
    hh = (await clerk.data(HOUSEHOLD, {"m": to_global_id("Member", row["id"])}))["householdCreate"]
    assert hh["errors"] == [], hh
    household = hh["household"]["id"]
    body = await clerk.data("query($id: ID!) { node(id: $id) { ... on Household { people { id } } } }", {"id": household})
    return id_number, household, body["node"]["people"][0]["id"]


async def _worker(api: Api, t: Any, id_number: str, phone: str) -> Api:
    web = from_new_address(api)
    out = (await web.data(REGISTER, {"i": {"tenantCode": t.code, "name": "困难职工", "idNumber": id_number,
                                           "phone": phone, "password": "worker-pass-123"}}))["workerRegister"]
    assert out["errors"] == [], out
    return web.as_(out["token"])


async def _grant(people: dict[str, Any], household: str, person: str, fen: int, *, paid: bool) -> int:
    made = (await people["clerk"].data(PROPOSE, {"i": {"aidType": "TEMPORARY", "householdId": household,
                                                       "personId": person, "requestedFen": fen, "areaCode": "110105",
                                                       "payingUnitId": people["root"]}}))["hardshipGrantPropose"]
    assert made["errors"] == [], made
    gid = made["grant"]["id"]
    if paid:
        for who, action in (("approver", "APPROVE"), ("finance", "PAY")):
            stepped = (await people[who].data(STEP, {"id": gid, "a": action}))["hardshipGrantStep"]
            assert stepped["errors"] == [], stepped
    return pk(gid)


async def _province(api: Any, tmp_path: Any) -> tuple[Any, dict[str, Any]]:
    t = await create_plugin_tenant(["service_network", "hardship"], tmp_path, settings=SETTINGS)
    await _fund(t)
    people = {"clerk": (await persona(api, t.code, "clerk")).api, "approver": (await persona(api, t.code, "approver")).api,
              "finance": (await persona(api, t.code, "finance")).api, "root": t.unit_ids[t.root_unit]}
    return t, people


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_hook_rating_subjects_a_worker_rates_the_grant_paid_to_their_household(api, tmp_path) -> None:
    t, people = await _province(api, tmp_path)
    idn, household, person = await _member_household(api, t, people["clerk"], "13712340001")
    other_idn, other_household, other_person = await _member_household(api, t, people["clerk"], "13712340002")
    paid = await _grant(people, household, person, 50_000, paid=True)
    unpaid = await _grant(people, household, person, 20_000, paid=False)
    theirs = await _grant(people, other_household, other_person, 30_000, paid=True)
    me = await _worker(api, t, idn, "13712340001")

    first = (await me.data(RATE, {"t": SUBJECT, "id": paid, "s": 2, "c": "到账慢"}))["workerRatingSubmit"]
    assert first["errors"] == [], first
    r = first["rating"]
    # on the grant's union (the household's grassroots union), so its aggregates and subtree see it
    assert (r["subjectType"], r["stars"], r["version"], r["orgUnitId"]) == (SUBJECT, 2, 1, t.unit_ids[t.grassroots_unit])
    again = (await me.data(RATE, {"t": SUBJECT, "id": paid, "s": 5}))["workerRatingSubmit"]["rating"]
    assert again["id"] == r["id"] and again["version"] == 2
    assert [(h["version"], h["stars"]) for h in again["history"]] == [(1, 2), (2, 5)]
    assert (await me.data(MINE, {"t": SUBJECT}))["myRatings"] == [
        {"subjectType": SUBJECT, "subjectId": paid, "stars": 5, "version": 2}]
    assert (await me.data(MINE, {"t": "station"}))["myRatings"] == []
    district = (await persona(api, t.code, "clerk", t.district_unit)).api
    assert (await district.data(STAFF_RATINGS, {"t": SUBJECT}))["ratings"] == [
        {"subjectId": paid, "stars": 5, "orgUnitId": t.unit_ids[t.grassroots_unit]}]

    # not yet paid, or paid to another household: the worker never received it
    for subject in (unpaid, theirs, 999_999_999):
        out = (await me.data(RATE, {"t": SUBJECT, "id": subject, "s": 4}))["workerRatingSubmit"]
        assert codes(out) == [("subjectId", "NOT_ELIGIBLE")], (subject, out)
    # a staff account is not a worker
    staff = (await people["clerk"].data(RATE, {"t": SUBJECT, "id": paid, "s": 4}))["workerRatingSubmit"]
    assert [e["code"] for e in staff["errors"]] == ["FORBIDDEN"]

    # another province's worker cannot rate this province's grant by its id
    t2, people2 = await _province(api, tmp_path)
    idn2, household2, person2 = await _member_household(api, t2, people2["clerk"], "13712340003")
    await _grant(people2, household2, person2, 10_000, paid=True)
    stranger = await _worker(api, t2, idn2, "13712340003")
    out = (await stranger.data(RATE, {"t": SUBJECT, "id": paid, "s": 1}))["workerRatingSubmit"]
    assert codes(out) == [("subjectId", "NOT_ELIGIBLE")]


async def test_a_grant_is_rateable_only_where_the_province_enables_both_capabilities(api, tmp_path) -> None:
    # service_network without hardship: no one offers hardship_grant, so the type itself is unknown
    t = await create_plugin_tenant(["service_network"], tmp_path, settings=SETTINGS)
    clerk = (await persona(api, t.code, "clerk")).api
    idn, _, _ = await _member_household(api, t, clerk, "13712340004")
    me = await _worker(api, t, idn, "13712340004")
    out = (await me.data(RATE, {"t": SUBJECT, "id": 1, "s": 4}))["workerRatingSubmit"]
    assert codes(out) == [("subjectType", "INVALID_INPUT")]
    # hardship without service_network: there is no rating to give
    t2 = await create_plugin_tenant(["hardship"], tmp_path, settings=SETTINGS)
    clerk2 = (await persona(api, t2.code, "clerk")).api
    idn2, _, _ = await _member_household(api, t2, clerk2, "13712340005")
    me2 = await _worker(api, t2, idn2, "13712340005")
    out = (await me2.data(RATE, {"t": SUBJECT, "id": 1, "s": 4}))["workerRatingSubmit"]
    assert [e["code"] for e in out["errors"]] == ["CAPABILITY_NOT_ENABLED"]

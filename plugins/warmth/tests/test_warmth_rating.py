"""Rating a campaign benefit (满意度评价) through the service_network capability's worker field, on
PostgreSQL: warmth answers service_network's ``rating_subjects`` hook (optional there), so a worker
rates a benefit the distribution gave them, a later rating replaces theirs with the history kept, and
the rating lands on the beneficiary's union; a benefit not yet given, another member's, or another
province's is NOT_ELIGIBLE, and a staff account is not a worker."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

import pytest

from core.testing import create_plugin_tenant, from_new_address, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")
_seq = itertools.count(random.randrange(1000, 9000) * 10)

SUBJECT = "warmth_benefit"
CREATE = """mutation($i: WarmthCampaignInput!) { warmthCampaignCreate(input: $i) { campaign { id }
  errors { field code message } } }"""
STEP = """mutation($id: ID!, $t: String!) { warmthCampaignStep(id: $id, transition: $t) { campaign { id state }
  errors { field code message } } }"""
ADD = """mutation($c: ID!, $m: ID!) { warmthBeneficiaryAdd(campaignId: $c, memberId: $m, group: "holiday_frontline",
  reason: "名单") { beneficiary { id } errors { field code message } } }"""
REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token errors { field code message } } }"""
BENEFITS = "{ myWarmthBenefits { beneficiary { id paid } } }"
RATE = """mutation($t: String!, $id: BigInt!, $s: Int!) { workerRatingSubmit(subjectType: $t, subjectId: $id, stars: $s) {
  rating { id stars version subjectType orgUnitId history { version stars } } errors { field code message } } }"""
MINE = """query($t: String) { myRatings(subjectType: $t) { subjectType subjectId stars version } }"""
STAFF_RATINGS = """query($t: String) { ratings(subjectType: $t) { subjectId stars orgUnitId } }"""


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def _fund(t: Any) -> None:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.tenancy import queries as tenancy

    tenant = await t.context()
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 1_000_000_000_000)
        unit = await tenancy.get_unit_by_code(tenant, t.root_unit)
        refs = [AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                AccountRef(org_unit_id=unit["id"], fund="general", code="404")]
        await create_manual_entry(tenant, Actor(None, "test"), refs=refs, amounts=[10_000_000, -10_000_000],
                                  key=f"warmth-rating-{uuid.uuid4().hex}", memo="test funding")


async def _members(t: Any, n: int) -> list[dict[str, Any]]:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.tenancy import queries as tenancy

    tenant = await t.context()
    out = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        for _ in range(n):
            values = {"name": "一线职工", "id_number": synthetic_id_number(next(_seq)),
                      "phone": f"137{uuid.uuid4().int % 100_000_000:08d}", "employer": "测试企业"}
            out.append(await create_member(tenant, Actor(None, "test"), values=values, unit_id=unit["id"],
                                           scope_paths=None) | {"values": values})
    return out


async def _worker(api: Any, t: Any, m: dict[str, Any]) -> Any:
    web = from_new_address(api)
    out = (await web.data(REGISTER, {"i": {"tenantCode": t.code, "name": "一线职工", "password": "worker-pass-123",
                                           "idNumber": m["values"]["id_number"], "phone": m["values"]["phone"]}}))
    assert out["workerRegister"]["errors"] == [], out
    return web.as_(out["workerRegister"]["token"])


async def _campaign(api: Any, t: Any, people: list[dict[str, Any]], *, distribute: bool) -> None:
    from core.jobs import runner
    from core.sdk import to_global_id

    clerk = (await persona(api, t.code, "clerk")).api
    approver = (await persona(api, t.code, "approver")).api
    i = {"orgUnitId": t.unit_ids[t.root_unit], "name": "元旦春节送温暖", "kind": "spring_festival",
         "startsOn": "2024-12-22", "endsOn": "2025-02-12", "fund": "general",
         "benefits": [{"group": "holiday_frontline", "form": "cash", "amountFen": 10_000}],
         "budgets": [{"orgUnitId": t.unit_ids[t.root_unit], "budgetFen": 1_000_000}]}
    made = (await clerk.data(CREATE, {"i": i}))["warmthCampaignCreate"]
    assert made["errors"] == [], made
    cid = made["campaign"]["id"]
    for m in people:
        added = (await clerk.data(ADD, {"c": cid, "m": to_global_id("Member", m["id"])}))["warmthBeneficiaryAdd"]
        assert added["errors"] == [], added
    steps = [(clerk, "submit"), (approver, "approve")] + ([(clerk, "distribute")] if distribute else [])
    for who, transition in steps:
        stepped = (await who.data(STEP, {"id": cid, "t": transition}))["warmthCampaignStep"]
        assert stepped["errors"] == [], stepped
    await runner.drain_local(60)


async def _province(api: Any, tmp_path: Any) -> Any:
    t = await create_plugin_tenant(["warmth", "service_network"], tmp_path)
    await _fund(t)
    return t


async def _beneficiary_ids(t: Any, member_id: int) -> list[tuple[int, bool]]:
    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(await t.context()):
        rows = await raw("SELECT id, paid_at FROM warmth_beneficiary WHERE tenant_id = {} AND member_id = {} ORDER BY id",
                         (await t.context()).id, member_id)
    return [(int(r["id"]), r["paid_at"] is not None) for r in rows]


async def test_hook_rating_subjects_a_worker_rates_the_benefit_given_to_them(api, tmp_path, in_process_jobs) -> None:
    t = await _province(api, tmp_path)
    me_m, colleague_m = await _members(t, 2)
    await _campaign(api, t, [me_m, colleague_m], distribute=True)
    await _campaign(api, t, [me_m], distribute=False)  # approved, not yet given
    rows = await _beneficiary_ids(t, me_m["id"])
    assert [paid for _, paid in rows] == [True, False]
    (given, _), (pending, _) = rows
    ((theirs, _),) = await _beneficiary_ids(t, colleague_m["id"])
    me = await _worker(api, t, me_m)
    assert [b["beneficiary"]["id"] for b in (await me.data(BENEFITS))["myWarmthBenefits"]] == [str(given)]

    first = (await me.data(RATE, {"t": SUBJECT, "id": given, "s": 4}))["workerRatingSubmit"]
    assert first["errors"] == [], first
    r = first["rating"]
    assert (r["subjectType"], r["stars"], r["version"], r["orgUnitId"]) == (SUBJECT, 4, 1, t.unit_ids[t.grassroots_unit])
    again = (await me.data(RATE, {"t": SUBJECT, "id": given, "s": 5}))["workerRatingSubmit"]["rating"]
    assert again["id"] == r["id"] and again["version"] == 2
    assert [(h["version"], h["stars"]) for h in again["history"]] == [(1, 4), (2, 5)]
    assert (await me.data(MINE, {"t": SUBJECT}))["myRatings"] == [
        {"subjectType": SUBJECT, "subjectId": given, "stars": 5, "version": 2}]
    district = (await persona(api, t.code, "clerk", t.district_unit)).api
    assert (await district.data(STAFF_RATINGS, {"t": SUBJECT}))["ratings"] == [
        {"subjectId": given, "stars": 5, "orgUnitId": t.unit_ids[t.grassroots_unit]}]

    for subject in (pending, theirs, 999_999_999):
        out = (await me.data(RATE, {"t": SUBJECT, "id": subject, "s": 3}))["workerRatingSubmit"]
        assert codes(out) == [("subjectId", "NOT_ELIGIBLE")], (subject, out)
    clerk = (await persona(api, t.code, "clerk")).api
    staff = (await clerk.data(RATE, {"t": SUBJECT, "id": given, "s": 3}))["workerRatingSubmit"]
    assert [e["code"] for e in staff["errors"]] == ["FORBIDDEN"]

    # another province's worker, given a benefit there, cannot rate this one by its id
    t2 = await _province(api, tmp_path)
    (stranger_m,) = await _members(t2, 1)
    await _campaign(api, t2, [stranger_m], distribute=True)
    stranger = await _worker(api, t2, stranger_m)
    out = (await stranger.data(RATE, {"t": SUBJECT, "id": given, "s": 1}))["workerRatingSubmit"]
    assert codes(out) == [("subjectId", "NOT_ELIGIBLE")]

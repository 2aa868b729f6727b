"""The worker portal's own fields through GraphQL against PostgreSQL (Shanghai's plans): a worker lists
the plans with their claim kinds and only their own claims (not a colleague's the union entered), follows
a claim's state as staff move it; staff tokens are refused; another province's worker sees none of it."""

from __future__ import annotations

from typing import Any

import pytest

from core.testing import create_plugin_tenant, from_new_address, persona
from huijia_mutual_aid.testing import PDF_B64, add_members, backdate, days_ago, enrol, sql

pytestmark = pytest.mark.asyncio(loop_scope="session")

MY_PLANS = "{ mutualAidMyPlans { code nameZh claimKinds { code label } } }"
MY_CLAIMS = "{ mutualAidMyClaims { id planCode kind state stateLabel memberId documents { filename } } }"
CLAIM = "claim { id state } errors { field code message }"
MY_SUBMIT = f"mutation($i: MutualAidClaimInput!) {{ mutualAidMyClaimSubmit(input: $i) {{ {CLAIM} }} }}"
SUBMIT = f"mutation($i: MutualAidClaimInput!) {{ mutualAidClaimSubmit(input: $i) {{ {CLAIM} }} }}"
STEP = f"mutation($id: ID!, $a: MutualAidClaimAction!) {{ mutualAidClaimStep(id: $id, action: $a) {{ {CLAIM} }} }}"


def claim_input(member: str | None) -> dict[str, Any]:
    return {"i": {"plan": "shanghai_class_b", "memberId": member, "kind": "serious_illness", "eventDate": days_ago(0),
                  "hospital": "瑞金医院", "documents": [{"kind": "DIAGNOSIS", "filename": "诊断.pdf", "contentBase64": PDF_B64}]}}


async def _worker(api: Any, t: Any, member: str, idn: str) -> Any:
    from core.sdk import from_global_id, pii_decrypt

    rows = await sql(t, "SELECT phone_enc FROM member WHERE tenant_id = {} AND id = {}", from_global_id(member)[1])
    phone = pii_decrypt(rows[0]["phone_enc"], "member", "phone", (await t.context()).id)
    web = from_new_address(api)  # registrations are throttled per address
    reg = await web.gql("""mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token errors { code } } }""",
                        {"i": {"tenantCode": t.code, "name": "参保人", "idNumber": idn, "phone": phone,
                               "password": "Worker-pass-123"}})
    assert reg["data"]["workerRegister"]["errors"] == [], reg
    return web.as_(reg["data"]["workerRegister"]["token"])


@pytest.fixture(name="w", scope="module")
async def fx_world(api, tmp_path_factory) -> dict[str, Any]:
    t = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_worker"), "")
    clerk = (await persona(api, t.code, "clerk", t.grassroots_unit)).api
    unit = t.unit_ids[t.grassroots_unit]
    staff = await add_members(clerk, unit, 2, phone=True)
    await enrol(clerk, unit, "shanghai_class_b", [m for m, _ in staff], "b1")
    await backdate(t, "shanghai_class_b", 1)
    me = await _worker(api, t, *staff[0])
    return {"t": t, "clerk": clerk, "unit": unit, "staff": staff, "me": me}


async def test_a_worker_lists_the_plans_with_their_claim_kinds(w) -> None:
    plans = (await w["me"].data(MY_PLANS))["mutualAidMyPlans"]
    b = next(p for p in plans if p["code"] == "shanghai_class_b")
    assert "serious_illness" in {k["code"] for k in b["claimKinds"]}
    assert all(k["label"] for k in b["claimKinds"])


async def test_a_worker_sees_only_their_own_claims_and_follows_the_state(w, api) -> None:
    me, clerk = w["me"], w["clerk"]
    mine = (await me.data(MY_SUBMIT, claim_input(None)))["mutualAidMyClaimSubmit"]
    assert mine["errors"] == [], mine
    colleague = (await clerk.data(SUBMIT, claim_input(w["staff"][1][0])))["mutualAidClaimSubmit"]
    assert colleague["errors"] == [], colleague
    listed = (await me.data(MY_CLAIMS))["mutualAidMyClaims"]
    assert [c["id"] for c in listed] == [mine["claim"]["id"]]
    assert listed[0]["memberId"] == w["staff"][0][0] and listed[0]["state"] == "entered"
    assert listed[0]["documents"] == [{"filename": "诊断.pdf"}]
    checked = (await clerk.data(STEP, {"id": mine["claim"]["id"], "a": "CHECK"}))["mutualAidClaimStep"]
    assert checked["errors"] == [], checked
    after = (await me.data(MY_CLAIMS))["mutualAidMyClaims"]
    assert [(c["state"], c["stateLabel"]) for c in after] == [("checked", "已核查")]


async def test_staff_tokens_are_refused(w) -> None:
    body = await w["clerk"].gql(MY_CLAIMS)
    assert body.get("data") is None and body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}, body


async def test_another_provinces_worker_sees_none_of_it(w, api, tmp_path_factory) -> None:
    other = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_worker_b"), "")
    clerk = (await persona(api, other.code, "clerk", other.grassroots_unit)).api
    (member, idn), = await add_members(clerk, other.unit_ids[other.grassroots_unit], 1, phone=True)
    stranger = await _worker(api, other, member, idn)
    assert (await stranger.data(MY_CLAIMS))["mutualAidMyClaims"] == []
    assert (await w["me"].data(MY_CLAIMS))["mutualAidMyClaims"] != []

"""维权帮扶一体化 through the API on PostgreSQL: a rights request opens a temporary relief or a
hardship archive application in one step when the province enables hardship (through the
service_network_open_aid hook hardship implements), the link shows both ways, and it is refused
cleanly without hardship, for other categories, twice, or outside the caller's subtree."""

from __future__ import annotations

import asyncio

import pytest
from huijia_hardship.testing import household_at

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

HARDSHIP = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }
"""
SUBMIT = """mutation($i: ServiceRequestInput!) { serviceRequestSubmit(input: $i) { request { id orgUnitId } errors { code } } }"""
OPEN = """mutation($id: ID!, $i: AidOpenInput!) { serviceRequestOpenAid(id: $id, input: $i) {
  request { id state aidCase { capability caseType caseId labelZh state } } errors { field code message messageZh } } }"""
BACK = """query($c: String!, $t: String!, $id: BigInt!) { serviceRequestForAidCase(capability: $c, caseType: $t, caseId: $id) {
  id category aidCase { caseId } } }"""
ONE = "query($id: ID!) { serviceRequest(id: $id) { aidCase { caseType state } } }"


async def _request(clerk, t, category: str = "wage_arrears") -> str:
    out = (await clerk.api.data(SUBMIT, {"i": {"orgUnitId": t.unit_ids[t.grassroots_unit], "category": category,
                                               "channel": "hotline", "summary": "工地欠薪，家中困难"}}))["serviceRequestSubmit"]
    assert out["errors"] == [], out
    return out["request"]["id"]


async def _person(clerk, household: str) -> str:
    body = await clerk.api.data("query($id: ID!) { node(id: $id) { ... on Household { people { id } } } }", {"id": household})
    return body["node"]["people"][0]["id"]


def codes(payload):
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_wage_arrears_case_opens_a_temporary_relief_and_an_archive_application(api, tmp_path) -> None:
    from core.sdk import from_global_id, raw, tenant_scope

    t = await create_plugin_tenant(["service_network", "hardship"], tmp_path, settings=HARDSHIP)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    _, household = await household_at(clerk.api, t.unit_ids[t.grassroots_unit])
    person = await _person(clerk, household)
    rid = await _request(clerk, t)
    relief = {"kind": "temporary_relief", "householdId": household, "personId": person, "requestedFen": 200_000,
              "areaCode": "110105"}
    out = (await clerk.api.data(OPEN, {"id": rid, "i": relief}))["serviceRequestOpenAid"]
    assert out["errors"] == [], out
    link = out["request"]["aidCase"]
    assert (link["capability"], link["caseType"], link["labelZh"], link["state"]) == ("hardship", "grant", "临时救助", "proposed")
    # the grant is hardship's own, proposed for approval (no money moves until someone else approves it)
    grants = (await clerk.api.data("query($h: ID!) { hardshipGrants(householdId: $h) { id state amountFen aidType } }",
                                   {"h": household}))["hardshipGrants"]
    assert [(from_global_id(g["id"])[1], g["state"], g["amountFen"]) for g in grants] == [(link["caseId"], "proposed", 200_000)]
    # the other way: the case finds its request, and its audit trail names it
    back = (await clerk.api.data(BACK, {"c": "hardship", "t": "grant", "id": link["caseId"]}))["serviceRequestForAidCase"]
    assert back["id"] == rid and back["category"] == "wage_arrears"
    with tenant_scope(await t.context()):
        audit = await raw("SELECT action FROM audit_record WHERE target_type = 'HardshipGrant' AND target_id = {}",
                          str(link["caseId"]))
    assert "hardship.opened_from_service_request" in [a["action"] for a in audit]
    # once only
    again = (await clerk.api.data(OPEN, {"id": rid, "i": relief}))["serviceRequestOpenAid"]
    assert codes(again) == [("id", "INVALID_STATE")]

    # hardship's own rules refuse over the cap; nothing is linked
    rid2 = await _request(clerk, t)
    over = (await clerk.api.data(OPEN, {"id": rid2, "i": {**relief, "requestedFen": 200_000}}))["serviceRequestOpenAid"]
    assert [e["code"] for e in over["errors"]] == ["CAP_EXCEEDED"]
    assert (await clerk.api.data(ONE, {"id": rid2}))["serviceRequest"]["aidCase"] is None
    # an archive application from the same kind of case
    archive = {"kind": "archive", "householdId": household, "tier": "grassroots", "areaCode": "110105",
               "monthlyIncomeFen": 200_000, "monthlyRigidExpenseFen": 50_000}
    out = (await clerk.api.data(OPEN, {"id": rid2, "i": archive}))["serviceRequestOpenAid"]
    assert out["errors"] == [], out
    assert (out["request"]["aidCase"]["caseType"], out["request"]["aidCase"]["state"]) == ("archive", "applied")
    assert from_global_id(rid2)[1] != from_global_id(rid)[1]


async def test_opening_aid_is_refused_cleanly(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network", "hardship"], tmp_path, settings=HARDSHIP)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    below = await persona(api, t.code, "clerk", t.grassroots_unit)  # under the handling (district) unit
    _, household = await household_at(clerk.api, t.unit_ids[t.grassroots_unit])
    person = await _person(clerk, household)
    relief = {"kind": "temporary_relief", "householdId": household, "personId": person, "requestedFen": 10_000,
              "areaCode": "110105"}
    counselling = await _request(clerk, t, "counselling")
    out = (await clerk.api.data(OPEN, {"id": counselling, "i": relief}))["serviceRequestOpenAid"]
    assert codes(out) == [("id", "NOT_ELIGIBLE")] and "维权" in out["errors"][0]["messageZh"]
    rid = await _request(clerk, t)
    assert codes((await clerk.api.data(OPEN, {"id": rid, "i": {**relief, "kind": "loan"}}))["serviceRequestOpenAid"]) == [
        ("kind", "INVALID_INPUT")]
    assert codes((await below.api.data(OPEN, {"id": rid, "i": relief}))["serviceRequestOpenAid"]) == [("id", "NOT_FOUND")]
    # two clicks at once open one case
    results = await asyncio.gather(*(clerk.api.data(OPEN, {"id": rid, "i": relief}) for _ in range(2)))
    outcomes = sorted(tuple(e["code"] for e in r["serviceRequestOpenAid"]["errors"]) for r in results)
    assert outcomes == [(), ("INVALID_STATE",)], outcomes
    # another province sees neither the request nor the link
    other = await create_plugin_tenant(["service_network", "hardship"], tmp_path, settings=HARDSHIP)
    stranger = await persona(api, other.code, "clerk", other.root_unit)
    assert codes((await stranger.api.data(OPEN, {"id": rid, "i": relief}))["serviceRequestOpenAid"]) == [("id", "NOT_FOUND")]
    assert (await clerk.api.data(ONE, {"id": rid}))["serviceRequest"]["aidCase"] == {"caseType": "grant", "state": "proposed"}


async def test_without_hardship_a_rights_case_cannot_open_aid(api, tmp_path) -> None:
    t = await create_plugin_tenant(["service_network"], tmp_path)
    clerk = await persona(api, t.code, "clerk", t.root_unit)
    rid = await _request(clerk, t)
    out = (await clerk.api.data(OPEN, {"id": rid, "i": {"kind": "temporary_relief", "householdId": "SG91c2Vob2xkOjE=",
                                                        "requestedFen": 100}}))["serviceRequestOpenAid"]
    assert codes(out) == [("kind", "CAPABILITY_NOT_ENABLED")] and "未启用困难帮扶" in out["errors"][0]["messageZh"]
    assert (await clerk.api.data(ONE, {"id": rid}))["serviceRequest"]["aidCase"] is None

"""Part 1: the social-organisation registry, through GraphQL on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import pytest

from core.testing import create_plugin_tenant, persona
from huijia_procurement import credit_code

from .helpers import APPLY, DECIDE, application, new_org

pytestmark = pytest.mark.asyncio(loop_scope="session")

MY = "{ procurementMyOrg { id name status documents { kind contentType size } blacklisted } }"
ONE = "query($id: ID!) { procurementOrg(id: $id) { id name } node(id: $id) { id } }"
LIST = "query($s: String) { procurementOrgs(status: $s) { id name status } }"
DOC = """mutation($id: ID!, $k: String!, $f: String!, $c: String!) {
  procurementOrgDocumentAdd(orgId: $id, kind: $k, filename: $f, contentBase64: $c) {
    document { id kind contentType size sha256 } errors { field code message } }
}"""
BLACKLIST = """mutation($id: ID!, $r: String!, $s: Date!, $e: Date!) {
  procurementOrgBlacklist(orgId: $id, reason: $r, startsOn: $s, endsOn: $e) {
    entry { id reason inForce } errors { field code message } }
}"""
LIFT = """mutation($id: ID!) { procurementOrgBlacklistLift(entryId: $id) { entry { id inForce liftedAt }
  errors { field code message } } }"""
PDF = base64.b64encode(b"%PDF-1.4\n% registration certificate\n").decode()

# Codes published by their holders (the GB 32100 example, Huawei, Tencent, Alibaba, Baidu and the
# China Red Cross Foundation): each passes the check; one character changed, none does.
PUBLISHED = ["91350100M000100Y43", "914403001922038216", "9144030071526726XG", "91330100716105852F",
             "91110000802100433B", "53100000500021676K"]


def test_published_credit_codes_pass_the_check_and_altered_ones_do_not() -> None:
    for code in PUBLISHED:
        assert credit_code.problem(code) is None, code
        altered = code[:17] + ("0" if code[17] != "0" else "1")
        assert credit_code.problem(altered) == "the check character does not match", altered
    assert credit_code.problem("91350100M000100Y4") == "must have 18 characters"
    assert "outside" in (credit_code.problem("91350100M000100YI3") or "")  # I is not in the alphabet
    assert credit_code.check_char("53100000500021676") == "K"


async def test_an_org_applies_through_its_own_login_and_an_approver_admits_it(api, plugin_tenant, approver, clerk) -> None:
    who = await persona(api, plugin_tenant.code, "social_org", plugin_tenant.root_unit)
    assert (await who.api.data(MY))["procurementMyOrg"] is None
    app = application(code="53100000500021676K", hasOwnUnion=True, serviceAreas=["4407", "440703"])
    made = (await who.api.data(APPLY, {"i": app}))["procurementOrgApply"]
    assert made["errors"] == [] and made["org"]["status"] == "pending" and made["org"]["hasOwnUnion"] is True
    org_id = made["org"]["id"]
    assert made["org"]["serviceAreas"] == ["4407", "440703"]
    # the clerk reads it but may not decide; the approver admits it, which opens the score history
    assert org_id in [o["id"] for o in (await clerk.data(LIST, {"s": "pending"}))["procurementOrgs"]]
    refused = (await clerk.data(DECIDE, {"id": org_id, "a": True}))["procurementOrgDecide"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    done = (await approver.data(DECIDE, {"id": org_id, "a": True}))["procurementOrgDecide"]
    assert done["errors"] == [] and done["org"]["status"] == "approved"
    assert done["org"]["scoreHistory"] == [{"scoreBp": 7000, "source": "registered"}]
    again = (await approver.data(DECIDE, {"id": org_id, "a": False, "r": ["重复"]}))["procurementOrgDecide"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]
    # the same code cannot register twice; the same login cannot apply twice
    other = await persona(api, plugin_tenant.code, "social_org", plugin_tenant.root_unit)
    dup = (await other.api.data(APPLY, {"i": application(code="53100000500021676K")}))["procurementOrgApply"]
    assert [(e["field"], e["code"]) for e in dup["errors"]] == [("creditCode", "DUPLICATE")]
    twice = (await who.api.data(APPLY, {"i": application()}))["procurementOrgApply"]
    assert [e["code"] for e in twice["errors"]] == ["DUPLICATE"]


async def test_bad_applications_get_typed_errors(api, plugin_tenant, approver) -> None:
    who = await persona(api, plugin_tenant.code, "social_org", plugin_tenant.root_unit)

    async def codes(**over):
        body = (await who.api.data(APPLY, {"i": application(**over)}))["procurementOrgApply"]
        assert body["org"] is None
        return [(e["field"], e["code"]) for e in body["errors"]]

    assert await codes(code="53100000500021676A") == [("creditCode", "INVALID_INPUT")]  # wrong check character
    assert await codes(code="5310000050002167") == [("creditCode", "INVALID_INPUT")]
    # a company's code is valid but not one 民政 registered
    assert await codes(code="914403001922038216") == [("creditCode", "NOT_ELIGIBLE")]
    assert await codes(name=" ") == [("name", "INVALID_INPUT")]
    assert await codes(serviceAreas=[]) == [("serviceAreas", "INVALID_INPUT")]
    assert await codes(serviceAreas=["江门"]) == [("serviceAreas", "INVALID_INPUT")]
    # staff cannot apply in an organisation's name; an organisation cannot decide
    staff = (await approver.data(APPLY, {"i": application()}))["procurementOrgApply"]
    assert [e["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    _, org = await new_org(api, plugin_tenant)
    assert [e["code"] for e in (await who.api.data(DECIDE, {"id": org["id"], "a": True}))["procurementOrgDecide"]["errors"]] \
        == ["FORBIDDEN"]
    no_reason = (await approver.data(DECIDE, {"id": org["id"], "a": False}))["procurementOrgDecide"]
    assert [(e["field"], e["code"]) for e in no_reason["errors"]] == [("reasons", "INVALID_INPUT")]


async def test_a_rejected_org_applies_again(api, plugin_tenant, approver) -> None:
    org_api, org = await new_org(api, plugin_tenant)
    rejected = (await approver.data(DECIDE, {"id": org["id"], "a": False, "r": ["登记证书不清晰"]}))["procurementOrgDecide"]
    assert rejected["org"]["status"] == "rejected" and rejected["org"]["decisionReasons"] == ["登记证书不清晰"]
    again = (await org_api.data(APPLY, {"i": application()}))["procurementOrgApply"]
    assert again["errors"] == [] and again["org"]["id"] == org["id"] and again["org"]["status"] == "pending"


async def test_documents_are_checked_by_content(api, plugin_tenant, approver) -> None:
    org_api, org = await new_org(api, plugin_tenant)
    ok = (await org_api.data(DOC, {"id": org["id"], "k": "registration_certificate", "f": "证书.pdf", "c": PDF}))
    doc = ok["procurementOrgDocumentAdd"]
    assert doc["errors"] == [] and doc["document"]["contentType"] == "application/pdf"
    # a text file named .pdf, an empty file, bad base64 and an unknown kind are refused
    fake = base64.b64encode(b"just text").decode()
    for variables, field in (({"k": "charter", "f": "x.pdf", "c": fake}, "content"),
                             ({"k": "charter", "f": "x.pdf", "c": ""}, "content"),
                             ({"k": "charter", "f": "x.pdf", "c": "%%%"}, "contentBase64"),
                             ({"k": "selfie", "f": "x.pdf", "c": PDF}, "kind")):
        body = (await org_api.data(DOC, {"id": org["id"], **variables}))["procurementOrgDocumentAdd"]
        assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "INVALID_INPUT")], variables
    mine = (await org_api.data(MY))["procurementMyOrg"]
    assert mine["documents"] == [{"kind": "registration_certificate", "contentType": "application/pdf",
                                  "size": len(base64.b64decode(PDF))}]
    # another organisation cannot add to it, nor see it
    other_api, _ = await new_org(api, plugin_tenant)
    body = (await other_api.data(DOC, {"id": org["id"], "k": "charter", "f": "x.pdf", "c": PDF}))
    assert [e["code"] for e in body["procurementOrgDocumentAdd"]["errors"]] == ["NOT_FOUND"]
    seen = await other_api.data(ONE, {"id": org["id"]})
    assert seen == {"procurementOrg": None, "node": None}


async def test_blacklist_has_a_reason_and_a_period_and_can_be_lifted(api, plugin_tenant, approver, clerk) -> None:
    org_api, org = await new_org(api, plugin_tenant, approver)
    today = dt.date.today()
    start, end = (today - dt.timedelta(days=30)).isoformat(), (today + dt.timedelta(days=365)).isoformat()
    bad = (await approver.data(BLACKLIST, {"id": org["id"], "r": "x", "s": "2026-12-01", "e": "2026-11-01"}))
    assert [(e["field"], e["code"]) for e in bad["procurementOrgBlacklist"]["errors"]] == [("endsOn", "INVALID_INPUT")]
    no_reason = (await approver.data(BLACKLIST, {"id": org["id"], "r": " ", "s": start, "e": end}))
    assert [(e["field"], e["code"]) for e in no_reason["procurementOrgBlacklist"]["errors"]] == [("reason", "INVALID_INPUT")]
    by_clerk = (await clerk.data(BLACKLIST, {"id": org["id"], "r": "虚报服务人数", "s": start, "e": end}))
    assert [e["code"] for e in by_clerk["procurementOrgBlacklist"]["errors"]] == ["FORBIDDEN"]
    made = (await approver.data(BLACKLIST, {"id": org["id"], "r": "虚报服务人数", "s": start, "e": end}))
    assert made["procurementOrgBlacklist"]["errors"] == [], made
    entry = made["procurementOrgBlacklist"]["entry"]
    assert entry["inForce"] is True and entry["reason"] == "虚报服务人数"
    assert (await org_api.data(MY))["procurementMyOrg"]["blacklisted"] is True
    lifted = (await approver.data(LIFT, {"id": entry["id"]}))["procurementOrgBlacklistLift"]
    assert lifted["errors"] == [] and lifted["entry"]["inForce"] is False
    assert (await org_api.data(MY))["procurementMyOrg"]["blacklisted"] is False
    twice = (await approver.data(LIFT, {"id": entry["id"]}))["procurementOrgBlacklistLift"]
    assert [e["code"] for e in twice["errors"]] == ["INVALID_STATE"]


async def test_the_subtree_rule_and_orgs_seeing_only_themselves(api, plugin_tenant, roles) -> None:
    district_approver = (await roles.at("approver", district=True)).api
    root_approver = (await roles.at("approver")).api
    _, at_root = await new_org(api, plugin_tenant)
    _, at_district = await new_org(api, plugin_tenant, unit=plugin_tenant.district_unit)
    # a district approver sees and decides the district's applications only
    seen = {o["id"] for o in (await district_approver.data(LIST))["procurementOrgs"]}
    assert at_district["id"] in seen and at_root["id"] not in seen
    outside = (await district_approver.data(DECIDE, {"id": at_root["id"], "a": True}))["procurementOrgDecide"]
    assert [e["code"] for e in outside["errors"]] == ["NOT_FOUND"]
    inside = (await root_approver.data(DECIDE, {"id": at_district["id"], "a": True}))["procurementOrgDecide"]
    assert inside["errors"] == []
    # an organisation's login cannot list the registry
    org_api, _ = await new_org(api, plugin_tenant)
    body = await org_api.gql(LIST)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_two_approvers_racing_decide_once(api, plugin_tenant, roles) -> None:
    first = (await roles.at("approver")).api
    second = (await persona(api, plugin_tenant.code, "approver", plugin_tenant.root_unit)).api
    _, org = await new_org(api, plugin_tenant)
    results = await asyncio.gather(first.data(DECIDE, {"id": org["id"], "a": True}),
                                   second.data(DECIDE, {"id": org["id"], "a": False, "r": ["资料不全"]}))
    outcomes = sorted(tuple(e["code"] for e in r["procurementOrgDecide"]["errors"]) for r in results)
    assert outcomes == [(), ("INVALID_STATE",)]


async def test_another_tenant_sees_nothing(api, plugin_tenant, approver, tmp_path) -> None:
    _, org = await new_org(api, plugin_tenant, approver)
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert (await outsider.data(ONE, {"id": org["id"]})) == {"procurementOrg": None, "node": None}
    assert org["id"] not in [o["id"] for o in (await outsider.data(LIST))["procurementOrgs"]]
    decided = (await outsider.data(DECIDE, {"id": org["id"], "a": False, "r": ["x"]}))["procurementOrgDecide"]
    assert [e["code"] for e in decided["errors"]] == ["NOT_FOUND"]
    # without the capability the fields answer CAPABILITY_NOT_ENABLED
    bare = await create_plugin_tenant([], tmp_path)
    stranger = (await persona(api, bare.code, "approver", bare.root_unit)).api
    assert (await stranger.gql(LIST))["errors"][0]["extensions"]["code"] == "CAPABILITY_NOT_ENABLED"


async def test_row_level_security_fences_the_registry_even_without_the_app_filter(api, plugin_tenant, approver,
                                                                                 tmp_path) -> None:
    from core.sdk import raw, tenant_scope

    _, org = await new_org(api, plugin_tenant, approver)
    other = await create_plugin_tenant(["procurement"], tmp_path)
    with tenant_scope(await other.context()):
        # no tenant_id condition at all: only the policy stands between the tenants
        rows = await raw("SELECT id FROM procurement_org")
        scores = await raw("SELECT id FROM procurement_org_score")
    assert rows == [] and scores == []
    with tenant_scope(await plugin_tenant.context()):
        assert await raw("SELECT id FROM procurement_org")


async def test_a_qualification_documents_link_downloads_it_for_its_union_and_its_own_login(api, client, plugin_tenant,
                                                                                          approver) -> None:
    org_api, org = await new_org(api, plugin_tenant)
    assert (await org_api.data(DOC, {"id": org["id"], "k": "charter", "f": "章程.pdf", "c": PDF}))[
        "procurementOrgDocumentAdd"]["errors"] == []
    link = (await approver.data("query($id: ID!) { procurementOrg(id: $id) { documents { filename downloadUrl } } }",
                                {"id": org["id"]}))["procurementOrg"]["documents"][0]
    assert link["filename"] == "章程.pdf" and link["downloadUrl"].startswith("/procurement/org-documents/")
    for who in (approver, org_api):
        r = await client.get(link["downloadUrl"], headers={"authorization": f"Bearer {who.token}"})
        assert r.status_code == 200 and r.content == base64.b64decode(PDF)
    other_api, _ = await new_org(api, plugin_tenant)
    assert (await client.get(link["downloadUrl"], headers={"authorization": f"Bearer {other_api.token}"})).status_code == 404
    assert (await client.get(link["downloadUrl"])).status_code == 401

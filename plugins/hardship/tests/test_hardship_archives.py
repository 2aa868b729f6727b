"""Hardship archives (一户一档) through GraphQL against PostgreSQL: creation, classification, the
workflow from application to archive and beyond, and every refusal the issue lists."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, household_at

from core.testing import PASSWORD, create_plugin_tenant, login, persona, unique

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CARD = "6222020200112233445"

FIELDS = """id state version tier areaCode householdSize bankCardMasked allowedActions
  classification { category categoryLabel reasons ruleVersion excluded }"""
STEP = f"""mutation($id: ID!, $a: HardshipAction!, $r: [String!], $v: Int, $c: HardshipCancelReason) {{
  hardshipArchiveStep(id: $id, action: $a, reasons: $r, expectedVersion: $v, cancelReason: $c) {{
    archive {{ {FIELDS} }} errors {{ field code message messageZh }} }} }}"""
CHECK = f"""mutation($id: ID!, $p: Boolean!) {{ hardshipCivilCheck(id: $id, passed: $p) {{
  archive {{ {FIELDS} }} errors {{ field code message messageZh }} }} }}"""
ATTACH = """mutation($id: ID!, $k: HardshipAttachmentKind!, $f: String!, $b: String!, $t: String) {
  hardshipAttachmentAdd(archiveId: $id, kind: $k, filename: $f, contentBase64: $b, contentType: $t) {
    attachment { id kind contentType size } errors { field code message } } }"""
CREATE = ARCHIVE.replace("archive { id }", f"archive {{ {FIELDS} }}")
GET = f"""query($id: ID!) {{ hardshipArchive(id: $id) {{ {FIELDS}
  timeline {{ seq action fromState toState actorName reasons }}
  classificationHistory {{ category ruleVersion }} attachments {{ kind contentType }} }} }}"""
RECHECK = """mutation($id: ID!, $f: HardshipFinancesInput!) { hardshipArchiveRecheck(id: $id, finances: $f) {
  previous { category } current { category reasons } archive { state version } errors { code message } } }"""

# 低保 1,000 元 a month in the test region (the builtin plugin's settings: no province plugin here).
SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }

[settings.hardship]
notice_days = 5
"""


@dataclass
class World:
    code: str
    grassroots: str  # the grassroots union's global id
    other_grassroots: str  # a grassroots union outside the district
    clerk: Any
    approver: Any
    district_clerk: Any
    district_approver: Any
    auditor: Any


@pytest.fixture(scope="module")
async def world(api, app, tmp_path_factory) -> World:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy import services as tenancy

    made = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hardship"), SETTINGS)
    code = made.code
    tenant = await made.context()
    with tenant_scope(tenant):  # a grassroots union directly under the root, outside the district
        root = await tenancy.root_unit(tenant)
        outside = await tenancy.create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=f"{code}-g2",
                                            name=f"{code} 直属企业工会", level="grassroots")
    return World(code, made.unit_ids[made.grassroots_unit], to_global_id("OrgUnit", outside["id"]),
                 (await persona(api, code, "clerk")).api, (await persona(api, code, "approver")).api,
                 (await persona(api, code, "clerk", made.district_unit)).api,
                 (await persona(api, code, "approver", made.district_unit)).api,
                 (await persona(api, code, "auditor")).api)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


def refused(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"], payload
    return payload["errors"][0]


async def new_archive(w: World, *, income: int = 120_000, rigid: int = 50_000, **over: Any) -> tuple[str, dict]:
    _, household = await household_at(w.clerk, w.grassroots)
    over.setdefault("finances", {"monthlyIncomeFen": income, "monthlyRigidExpenseFen": rigid})
    body = await w.clerk.gql(CREATE, {"i": archive_input(household, bankCard=CARD, **over)})
    return household, ok(body, "hardshipArchiveCreate")["archive"]


async def attach_consent(w: World, archive_id: str) -> None:
    for kind in ("APPLICATION_LETTER", "CONSENT_AUTHORISATION"):
        ok(await w.clerk.gql(ATTACH, {"id": archive_id, "k": kind, "f": f"{kind}.pdf",
                                      "b": base64.b64encode(PDF).decode()}), "hardshipAttachmentAdd")


async def step(api: Any, archive_id: str, action: str, reasons: list[str] | None = None, **kw: Any) -> dict:
    return await api.gql(STEP, {"id": archive_id, "a": action, "r": reasons, **kw})


async def run_timers(w: World, days: int) -> None:
    from huijia_hardship.workflow import ARCHIVE as MACHINE

    from core.context import tenant_scope
    from core.sdk import utcnow, workflow_run_timers
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code=w.code)
    with tenant_scope(tenant):
        await workflow_run_timers(tenant, [MACHINE], now=utcnow() + dt.timedelta(days=days))


async def to_notice(w: World, archive_id: str) -> None:
    await attach_consent(w, archive_id)
    ok(await step(w.approver, archive_id, "REVIEW"), "hardshipArchiveStep")
    ok(await step(w.clerk, archive_id, "VISIT"), "hardshipArchiveStep")
    ok(await w.clerk.gql(CHECK, {"id": archive_id, "p": True}), "hardshipCivilCheck")
    ok(await step(w.clerk, archive_id, "PUBLISH"), "hardshipArchiveStep")


async def test_an_archive_goes_from_application_through_notice_to_approval(world):
    w = world
    _, archive = await new_archive(w)
    # (1,200 − 500) ÷ 1 person = 700 元 < 低保 1,000 元: 深度困难, with the rule that decided it.
    assert archive["state"] == "applied" and archive["version"] == 1
    assert archive["classification"]["category"] == "deep"
    assert archive["classification"]["ruleVersion"] == "national-2026.1"
    assert archive["bankCardMasked"] == "**** 3445"
    await to_notice(w, archive["id"])
    ok(await step(w.clerk, archive["id"], "OBJECT", ["群众反映其有经营收入"]), "hardshipArchiveStep")
    await run_timers(w, 6)  # the notice period is over, but an objection is open
    got = (await w.clerk.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]
    assert got["state"] == "notice"
    ok(await step(w.approver, archive["id"], "RESOLVE", ["经核实为亲属临时帮工"]), "hardshipArchiveStep")
    await run_timers(w, 4)  # not yet five days
    assert (await w.clerk.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]["state"] == "notice"
    await run_timers(w, 6)
    got = (await w.approver.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]
    assert got["state"] == "ready" and got["allowedActions"] == ["approve", "reject"]
    approved = ok(await step(w.approver, archive["id"], "APPROVE"), "hardshipArchiveStep")["archive"]
    assert approved["state"] == "archived"
    got = (await w.clerk.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]
    assert [s["action"] for s in got["timeline"]] == [
        "open", "review", "visit", "civil_check", "publish", "object", "resolve", "notice_ended", "approve"]
    assert got["timeline"][7]["actorName"] == "system"
    assert {a["kind"] for a in got["attachments"]} == {"APPLICATION_LETTER", "CONSENT_AUTHORISATION"}
    # Nothing sensitive leaves: no card number, no income figures.
    text = json.dumps(got, ensure_ascii=False)
    assert CARD not in text and "120000" not in text and "1200" not in text


async def test_a_household_has_one_open_archive(world):
    w = world
    household, _ = await new_archive(w)
    err = refused(await w.clerk.gql(CREATE, {"i": archive_input(household)}), "hardshipArchiveCreate")
    assert err["code"] == "DUPLICATE" and err["field"] == "householdId"


async def test_two_clerks_racing_on_one_household_open_one_archive(world):
    w = world
    _, household = await household_at(w.clerk, w.grassroots)
    bodies = await asyncio.gather(*[w.clerk.gql(CREATE, {"i": archive_input(household)}) for _ in range(3)])
    codes = sorted(b["data"]["hardshipArchiveCreate"]["errors"][0]["code"] if b["data"]["hardshipArchiveCreate"]["errors"]
                   else "ok" for b in bodies)
    assert codes == ["DUPLICATE", "DUPLICATE", "ok"], bodies


async def test_steps_out_of_order_and_a_check_without_consent_are_refused(world):
    w = world
    _, archive = await new_archive(w)
    err = refused(await step(w.clerk, archive["id"], "PUBLISH"), "hardshipArchiveStep")
    assert err["code"] == "INVALID_TRANSITION" and err["message"] == "cannot publish from applied"
    ok(await step(w.approver, archive["id"], "REVIEW"), "hardshipArchiveStep")
    err = refused(await step(w.clerk, archive["id"], "VISIT"), "hardshipArchiveStep")
    assert err["code"] == "NOT_ELIGIBLE" and err["field"] == "attachments"
    assert "家庭经济状况核对授权委托书" in err["messageZh"]
    err = refused(await w.clerk.gql(CHECK, {"id": archive["id"], "p": True}), "hardshipCivilCheck")
    assert err["code"] == "INVALID_TRANSITION"  # still before the home visit
    got = (await w.clerk.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]
    assert got["state"] == "reviewed" and len(got["timeline"]) == 2


async def test_a_failed_civil_affairs_check_excludes_the_household(world):
    w = world
    _, archive = await new_archive(w)
    await attach_consent(w, archive["id"])
    ok(await step(w.approver, archive["id"], "REVIEW"), "hardshipArchiveStep")
    ok(await step(w.clerk, archive["id"], "VISIT"), "hardshipArchiveStep")
    checked = ok(await w.clerk.gql(CHECK, {"id": archive["id"], "p": False}), "hardshipCivilCheck")["archive"]
    assert checked["classification"]["category"] == "none" and checked["classification"]["excluded"]
    assert "民政家庭经济状况核对未通过" in checked["classification"]["reasons"]
    err = refused(await step(w.clerk, archive["id"], "PUBLISH"), "hardshipArchiveStep")
    assert err["code"] == "NOT_ELIGIBLE"
    err = refused(await step(w.approver, archive["id"], "REJECT", []), "hardshipArchiveStep")
    assert err["code"] == "INVALID_INPUT" and err["field"] == "reasons"
    rejected = ok(await step(w.approver, archive["id"], "REJECT", ["民政核对发现名下有车辆"]), "hardshipArchiveStep")
    assert rejected["archive"]["state"] == "rejected"


async def test_exclusions_and_classification_by_the_national_formula(world):
    w = world
    _, relative = await new_archive(w, income=200_000, rigid=50_000)  # 1,500 < 2 × 1,000
    assert relative["classification"]["category"] == "relative"
    _, none = await new_archive(w, income=400_000, rigid=50_000)
    assert none["classification"]["category"] == "none"
    _, homes = await new_archive(w, finances={"monthlyIncomeFen": 50_000, "monthlyRigidExpenseFen": 0, "homes": 2})
    assert homes["classification"]["category"] == "none" and homes["classification"]["excluded"]
    assert "家庭拥有两套及以上住房" in homes["classification"]["reasons"]
    _, accident = await new_archive(w, finances={"monthlyIncomeFen": 400_000, "monthlyRigidExpenseFen": 0,
                                                 "accident": True})
    assert accident["classification"]["category"] == "accident"


async def test_approval_is_refused_to_the_applicant_and_below_the_archives_tier(world, api):
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    w = world
    # One person holding both roles at the root: the clerk who applied cannot approve.
    tenant = await tenancy.get_tenant(code=w.code)
    name = unique("both_")
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        await accounts.create_user(tenant, Actor(None, "test"), username=name, password=PASSWORD,
                                   grants=[("clerk", root["id"]), ("approver", root["id"])])
    both = api.as_(await login(api, w.code, name))
    _, household = await household_at(both, w.grassroots)
    archive = ok(await both.gql(CREATE, {"i": archive_input(household)}), "hardshipArchiveCreate")["archive"]
    await to_notice(w, archive["id"])
    await run_timers(w, 6)
    err = refused(await step(both, archive["id"], "APPROVE"), "hardshipArchiveStep")
    assert err["code"] == "SELF_APPROVAL"
    # A city-tier archive is approved at a city union or above: the county's approver may not.
    _, city = await new_archive(w, tier="CITY")
    await to_notice(w, city["id"])
    await run_timers(w, 6)
    err = refused(await step(w.district_approver, city["id"], "APPROVE"), "hardshipArchiveStep")
    assert err["code"] == "FORBIDDEN"
    assert ok(await step(w.approver, city["id"], "APPROVE"), "hardshipArchiveStep")["archive"]["state"] == "archived"


async def test_two_approvers_racing_exactly_one_wins(world, api):
    w = world
    _, archive = await new_archive(w)
    await to_notice(w, archive["id"])
    await run_timers(w, 6)
    other = (await persona(api, w.code, "approver")).api
    bodies = await asyncio.gather(step(w.approver, archive["id"], "APPROVE"),
                                  step(other, archive["id"], "REJECT", ["重复"]), step(other, archive["id"], "APPROVE"))
    codes = sorted((b["data"]["hardshipArchiveStep"]["errors"] or [{"code": "ok"}])[0]["code"] for b in bodies)
    assert codes == ["INVALID_TRANSITION", "INVALID_TRANSITION", "ok"], bodies


async def test_roles_and_subtrees_are_checked_on_the_archive(world):
    w = world
    _, archive = await new_archive(w)
    # A clerk may not review; an auditor reads but may not act.
    assert refused(await step(w.clerk, archive["id"], "REVIEW"), "hardshipArchiveStep")["code"] == "FORBIDDEN"
    assert refused(await step(w.auditor, archive["id"], "REVIEW"), "hardshipArchiveStep")["code"] == "FORBIDDEN"
    assert (await w.auditor.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]["id"] == archive["id"]
    # The grassroots union lies in the district: its staff see and act.
    assert ok(await step(w.district_approver, archive["id"], "REVIEW"), "hardshipArchiveStep")
    # A household at the root union is outside the district: it does not exist for district staff.
    _, household = await household_at(w.clerk, w.other_grassroots)
    root_archive = ok(await w.clerk.gql(CREATE, {"i": archive_input(household)}), "hardshipArchiveCreate")["archive"]
    assert (await w.district_clerk.gql(GET, {"id": root_archive["id"]}))["data"]["hardshipArchive"] is None
    err = refused(await step(w.district_approver, root_archive["id"], "REVIEW"), "hardshipArchiveStep")
    assert err["code"] == "NOT_FOUND"
    _, household2 = await household_at(w.clerk, w.other_grassroots)
    err = refused(await w.district_clerk.gql(CREATE, {"i": archive_input(household2)}), "hardshipArchiveCreate")
    assert err["code"] == "NOT_FOUND" and err["field"] == "householdId"
    listed = (await w.district_clerk.gql("{ hardshipArchives(first: 100) { nodes { id } } }"))["data"]
    assert root_archive["id"] not in {n["id"] for n in listed["hardshipArchives"]["nodes"]}


async def test_another_tenants_household_and_archive_do_not_exist(world, api, tmp_path_factory):
    w = world
    other = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hardship2"), SETTINGS)
    stranger = (await persona(api, other.code, "tenant_admin")).api
    _, archive = await new_archive(w)
    assert (await stranger.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"] is None
    assert refused(await step(stranger, archive["id"], "REVIEW"), "hardshipArchiveStep")["code"] == "NOT_FOUND"
    household, _ = await new_archive(w)
    err = refused(await stranger.gql(CREATE, {"i": archive_input(household)}), "hardshipArchiveCreate")
    assert err["code"] == "NOT_FOUND"


async def test_an_attachment_that_is_not_what_it_claims_is_refused(world):
    w = world
    _, archive = await new_archive(w)
    fake = base64.b64encode(b"MZ\x90\x00 not a pdf").decode()
    err = refused(await w.clerk.gql(ATTACH, {"id": archive["id"], "k": "CONSENT_AUTHORISATION", "f": "授权书.pdf",
                                             "b": fake}), "hardshipAttachmentAdd")
    assert err["code"] == "INVALID_INPUT" and err["field"] == "content"
    err = refused(await w.clerk.gql(ATTACH, {"id": archive["id"], "k": "OTHER", "f": "照片.pdf",
                                             "b": base64.b64encode(PNG).decode(), "t": "application/pdf"}),
                  "hardshipAttachmentAdd")
    assert err["code"] == "INVALID_INPUT"
    png = ok(await w.clerk.gql(ATTACH, {"id": archive["id"], "k": "OTHER", "f": "照片",
                                        "b": base64.b64encode(PNG).decode()}), "hardshipAttachmentAdd")
    assert png["attachment"]["contentType"] == "image/png"
    assert refused(await w.auditor.gql(ATTACH, {"id": archive["id"], "k": "OTHER", "f": "x",
                                                "b": base64.b64encode(PNG).decode()}),
                   "hardshipAttachmentAdd")["code"] == "FORBIDDEN"


async def test_exit_cancel_return_and_recheck(world):
    w = world
    household, archive = await new_archive(w)
    await to_notice(w, archive["id"])
    await run_timers(w, 6)
    ok(await step(w.approver, archive["id"], "APPROVE"), "hardshipArchiveStep")
    # 复核 with better figures: old and new side by side, both kept.
    rechecked = ok(await w.clerk.gql(RECHECK, {"id": archive["id"], "f": {"monthlyIncomeFen": 500_000,
                                                                          "monthlyRigidExpenseFen": 0}}),
                   "hardshipArchiveRecheck")
    assert (rechecked["previous"]["category"], rechecked["current"]["category"]) == ("deep", "none")
    got = (await w.clerk.gql(GET, {"id": archive["id"]}))["data"]["hardshipArchive"]
    assert [c["category"] for c in got["classificationHistory"]][:2] == ["none", "deep"]
    assert refused(await step(w.approver, archive["id"], "EXIT"), "hardshipArchiveStep")["field"] == "reasons"
    ok(await step(w.approver, archive["id"], "EXIT", ["家庭收入稳定超过认定标准"]), "hardshipArchiveStep")
    # The household's archive is closed: a new one may be opened, and then a return (返困) of the old is refused.
    second = ok(await w.clerk.gql(CREATE, {"i": archive_input(household)}), "hardshipArchiveCreate")["archive"]
    err = refused(await step(w.clerk, archive["id"], "RETURN", ["再次因病致困"]), "hardshipArchiveStep")
    assert err["code"] == "DUPLICATE"
    ok(await step(w.approver, second["id"], "REJECT", ["重复申请"]), "hardshipArchiveStep")
    returned = ok(await step(w.clerk, archive["id"], "RETURN", ["再次因病致困"]), "hardshipArchiveStep")
    assert returned["archive"]["state"] == "applied"
    # Cancellation needs its reason.
    _, archived = await new_archive(w)
    await to_notice(w, archived["id"])
    await run_timers(w, 6)
    ok(await step(w.approver, archived["id"], "APPROVE"), "hardshipArchiveStep")
    err = refused(await step(w.approver, archived["id"], "CANCEL", ["退休"]), "hardshipArchiveStep")
    assert err["field"] == "cancelReason"
    cancelled = ok(await step(w.approver, archived["id"], "CANCEL", ["已办理退休"], c="RETIRED"),
                   "hardshipArchiveStep")
    assert cancelled["archive"]["state"] == "cancelled"


async def test_bad_input_is_typed_and_writes_nothing(world):
    w = world
    _, household = await household_at(w.clerk, w.grassroots)
    bad = archive_input(household, areaCode="12", bankCard="12ab", finances={"monthlyIncomeFen": -1,
                                                                             "monthlyRigidExpenseFen": 0})
    payload = (await w.clerk.gql(CREATE, {"i": bad}))["data"]["hardshipArchiveCreate"]
    assert {e["field"] for e in payload["errors"]} >= {"areaCode", "bankCard", "monthlyIncomeFen"}
    assert payload["archive"] is None
    ok(await w.clerk.gql(CREATE, {"i": archive_input(household)}), "hardshipArchiveCreate")  # nothing was left behind

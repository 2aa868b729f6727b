"""Automatic targeting through GraphQL against PostgreSQL: the preview's counts by group and org unit
against the budget, building a draft's list from archived hardship households (through the hardship
capability's implementation of warmth_hardship_households) and member tags, the duplicate guard and
the tenant's no-repeat window across campaigns, removals with a reason, and the frozen list."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, archived, household_at

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATE = """mutation($i: WarmthCampaignInput!) { warmthCampaignCreate(input: $i) { campaign { id }
  errors { field code message } } }"""
STEP = """mutation($id: ID!, $t: String!) { warmthCampaignStep(id: $id, transition: $t) { campaign { state }
  errors { field code message } } }"""
PREVIEW = """query($c: ID!) { warmthPreview(campaignId: $c) { totalFen budgetFen withinBudget
  rows { group orgUnitId eligible alreadyCovered duplicate recent notEligible amountFen } } }"""
BUILD = "mutation($c: ID!) { warmthTargetingBuild(campaignId: $c) { added errors { field code message messageZh } } }"
REMOVE = """mutation($c: ID!, $b: ID!, $r: String!) { warmthBeneficiaryRemove(campaignId: $c, beneficiaryId: $b, reason: $r) {
  removed errors { field code message } } }"""
STATS = """query($c: ID!) { warmthStats(campaignId: $c) { budgetFen spentFen
  coverage { group orgUnitId eligible covered paidFen } budgets { orgUnitId budgetFen spentFen reservationStatus }
  figures { total hardship keyGroups modelWorkers } } }"""
NATIONAL = "query($y: Int!) { warmthNationalFigures(year: $y) { total hardship keyGroups modelWorkers } }"
LISTED = "query($id: ID!) { warmthCampaign(id: $id) { beneficiaries { id memberId group reason } } }"
ADD_BY_HAND = """mutation($c: ID!, $m: ID!, $g: String!) { warmthBeneficiaryAdd(campaignId: $c, memberId: $m, group: $g,
  reason: "手工补录") { beneficiary { id memberId } errors { field code message messageZh } } }"""

# 低保 1,000 元 a month, so the household below (1,200 元 income, 500 元 rigid costs) is 深度困难.
SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }

[settings.warmth]
no_repeat_days = 365
"""


@dataclass
class World:
    pt: Any
    clerk: Any
    approver: Any
    hardship_member: str
    model_workers: list[str]
    new_form: list[str]


async def raw_sql(pt: Any, query: str, *args: Any) -> list[dict[str, Any]]:
    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(await pt.context()):
        return await raw(query, *args)


async def tagged(pt: Any, tags: list[list[str]], numbers: list[str] | None = None) -> list[str]:
    """Members of the grassroots union with the given tags (global ids); their ID numbers go to ``numbers``."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.member_common import set_tags
    from core.members.services import create_member
    from core.sdk import to_global_id
    from core.tenancy import queries as tenancy
    from core.testing.tenant import synthetic_id_number

    tenant = await pt.context()
    out = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, pt.grassroots_unit)
        for t in tags:
            k = uuid.uuid4().int
            values = {"name": "职工", "id_number": synthetic_id_number(k % 1000, born=f"19{60 + k % 30}0{1 + k % 9}1{k % 9}"),
                      "phone": f"136{k % 100_000_000:08d}", "employer": "测试企业"}
            m = await create_member(tenant, Actor(None, "test"), values=values, unit_id=unit["id"], scope_paths=None)
            await set_tags(tenant, m["id"], t)
            if numbers is not None:
                numbers.append(values["id_number"])
            out.append(to_global_id("Member", m["id"]))
    return out


async def fund(pt: Any, fen: int) -> None:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.tenancy import queries as tenancy

    tenant = await pt.context()
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 1_000_000_000_000)
        unit = await tenancy.get_unit_by_code(tenant, pt.root_unit)
        await create_manual_entry(tenant, Actor(None, "test"), refs=[
            AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
            AccountRef(org_unit_id=unit["id"], fund="general", code="404")], amounts=[fen, -fen],
            key=f"warmth-test-{uuid.uuid4().hex}", memo="test funding")


@pytest.fixture(scope="module")
async def world(api, app, tmp_path_factory) -> World:
    pt = await create_plugin_tenant(["warmth", "hardship"], tmp_path_factory.mktemp("targeting"), SETTINGS)
    assert set(pt.capabilities) == {"warmth", "hardship"}
    clerk = (await persona(api, pt.code, "clerk")).api
    approver = (await persona(api, pt.code, "approver")).api
    member, household = await household_at(clerk, pt.unit_ids[pt.grassroots_unit])
    body = await clerk.gql(ARCHIVE, {"i": archive_input(household, finances={"monthlyIncomeFen": 120_000,
                                                                             "monthlyRigidExpenseFen": 50_000})})
    await archived(clerk, approver, pt.code, body["data"]["hardshipArchiveCreate"]["archive"]["id"])
    # a second, unarchived household is not a candidate
    await household_at(clerk, pt.unit_ids[pt.grassroots_unit])
    models = await tagged(pt, [["model_worker"], ["model_worker", "outdoor_worker"]])
    new_form = await tagged(pt, [["new_employment"], ["outdoor_worker"]])
    await tagged(pt, [[]])  # untagged: no group
    await fund(pt, 10_000_000)
    return World(pt, clerk, approver, member, models, new_form)


def campaign(pt: Any, groups: list[dict[str, Any]], budget: int = 1_000_000) -> dict[str, Any]:
    return {"orgUnitId": pt.unit_ids[pt.root_unit], "name": "2025年元旦春节送温暖", "kind": "spring_festival",
            "startsOn": "2024-12-22", "endsOn": "2025-02-12", "fund": "general", "benefits": groups,
            "budgets": [{"orgUnitId": pt.unit_ids[pt.root_unit], "budgetFen": budget}]}


ALL_GROUPS = [{"group": "hardship_household", "form": "cash"},
              {"group": "model_worker", "form": "cash", "amountFen": 50_000},
              {"group": "new_form", "form": "in_kind", "amountFen": 8_000, "item": "防暑降温用品"}]


async def test_the_preview_counts_each_group_by_unit_and_the_build_adds_exactly_those(world, in_process_jobs) -> None:
    from core.jobs import runner

    pt, clerk = world.pt, world.clerk
    cid = (await clerk.data(CREATE, {"i": campaign(pt, ALL_GROUPS, budget=150_000)}))["warmthCampaignCreate"]["campaign"]["id"]
    preview = (await clerk.data(PREVIEW, {"c": cid}))["warmthPreview"]
    g1 = pt.unit_ids[pt.grassroots_unit]
    rows = {r["group"]: r for r in preview["rows"]}
    assert {r["orgUnitId"] for r in preview["rows"]} == {g1}
    # the archived household (600 元 by default), two model workers (500 元 each), two new-form workers (goods);
    # the model worker who is also an outdoor worker is on the list once
    assert [(g, rows[g]["eligible"], rows[g]["duplicate"], rows[g]["amountFen"]) for g in sorted(rows)] == [
        ("hardship_household", 1, 0, 60_000), ("model_worker", 2, 0, 100_000), ("new_form", 2, 1, 0)]
    assert (preview["totalFen"], preview["budgetFen"], preview["withinBudget"]) == (160_000, 150_000, False)

    built = (await clerk.data(BUILD, {"c": cid}))["warmthTargetingBuild"]
    assert built == {"added": 5, "errors": []}
    listed = (await clerk.data(LISTED, {"id": cid}))["warmthCampaign"]["beneficiaries"]
    assert sorted((b["group"], b["memberId"]) for b in listed) == sorted(
        [("hardship_household", world.hardship_member)] + [("model_worker", m) for m in world.model_workers]
        + [("new_form", m) for m in world.new_form])
    again = (await clerk.data(PREVIEW, {"c": cid}))["warmthPreview"]
    assert sum(r["alreadyCovered"] for r in again["rows"]) == 5 and sum(r["eligible"] for r in again["rows"]) == 0
    assert (await clerk.data(BUILD, {"c": cid}))["warmthTargetingBuild"] == {"added": 0, "errors": []}

    # removals need a reason and only while a draft
    # (which also brings the list within its budget: 1,100 元 of 1,500)
    leaving = next(b for b in listed if b["memberId"] == world.model_workers[0])
    no_reason = (await clerk.data(REMOVE, {"c": cid, "b": leaving["id"], "r": " "}))["warmthBeneficiaryRemove"]
    assert [(e["field"], e["code"]) for e in no_reason["errors"]] == [("reason", "INVALID_INPUT")]
    assert (await clerk.data(REMOVE, {"c": cid, "b": leaving["id"], "r": "已调离"}))["warmthBeneficiaryRemove"] == {
        "removed": True, "errors": []}
    back = {r["group"]: r for r in (await clerk.data(PREVIEW, {"c": cid}))["warmthPreview"]["rows"]}
    assert (back["model_worker"]["eligible"], back["model_worker"]["alreadyCovered"]) == (1, 1)
    assert (await clerk.data(STEP, {"id": cid, "t": "submit"}))["warmthCampaignStep"]["errors"] == []
    frozen = (await clerk.data(BUILD, {"c": cid}))["warmthTargetingBuild"]
    assert [(e["field"], e["code"]) for e in frozen["errors"]] == [("campaignId", "INVALID_STATE")]
    assert frozen["errors"][0]["messageZh"]
    still = (await clerk.data(REMOVE, {"c": cid, "b": listed[0]["id"], "r": "x"}))["warmthBeneficiaryRemove"]
    assert [e["code"] for e in still["errors"]] == ["INVALID_STATE"]

    # once paid, the tenant's 365-day window keeps them out of the next campaign's list (in each group
    # they would be found in); the one removed is eligible
    stock = """mutation($c: ID!) { warmthStockSet(campaignId: $c, item: "防暑降温用品", quantity: 10) { errors { code } } }"""
    assert (await clerk.data(stock, {"c": cid}))["warmthStockSet"]["errors"] == []
    assert (await world.approver.data(STEP, {"id": cid, "t": "approve"}))["warmthCampaignStep"]["errors"] == []
    assert (await clerk.data(STEP, {"id": cid, "t": "distribute"}))["warmthCampaignStep"]["errors"] == []
    await runner.drain_local(60)
    stats = (await clerk.data(STATS, {"c": cid}))["warmthStats"]
    g1 = pt.unit_ids[pt.grassroots_unit]
    assert [(c["group"], c["orgUnitId"], c["eligible"], c["covered"], c["paidFen"]) for c in stats["coverage"]] == [
        ("hardship_household", g1, 1, 1, 60_000), ("model_worker", g1, 1, 1, 50_000), ("new_form", g1, 2, 2, 0)]
    assert (stats["budgetFen"], stats["spentFen"]) == (150_000, 110_000)
    assert stats["budgets"] == [{"orgUnitId": pt.unit_ids[pt.root_unit], "budgetFen": 150_000, "spentFen": 110_000,
                                 "reservationStatus": "open"}]
    assert stats["figures"] == {"total": 4, "hardship": 1, "keyGroups": 2, "modelWorkers": 1}
    assert (await clerk.data(NATIONAL, {"y": 2024}))["warmthNationalFigures"] == stats["figures"]
    assert (await clerk.data(NATIONAL, {"y": 2025}))["warmthNationalFigures"]["total"] == 0
    nxt = (await clerk.data(CREATE, {"i": campaign(pt, ALL_GROUPS)}))["warmthCampaignCreate"]["campaign"]["id"]
    rows = {r["group"]: r for r in (await clerk.data(PREVIEW, {"c": nxt}))["warmthPreview"]["rows"]}
    assert [(g, rows[g]["eligible"], rows[g]["recent"]) for g in sorted(rows)] == [
        ("hardship_household", 0, 1), ("model_worker", 1, 1), ("new_form", 0, 3)]
    # by hand too: a person served within the window is refused with a typed error; the one removed is added
    refused = (await clerk.data(ADD_BY_HAND, {"c": nxt, "m": world.model_workers[1], "g": "model_worker"}))["warmthBeneficiaryAdd"]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("memberId", "NOT_ELIGIBLE")]
    assert "365" in refused["errors"][0]["messageZh"] and refused["beneficiary"] is None
    added = (await clerk.data(ADD_BY_HAND, {"c": nxt, "m": world.model_workers[0], "g": "model_worker"}))["warmthBeneficiaryAdd"]
    assert added["errors"] == [] and added["beneficiary"]["memberId"] == world.model_workers[0]


async def test_without_hardship_the_household_group_is_empty_and_another_tenant_sees_nothing(
        api, world, tmp_path) -> None:
    other = await create_plugin_tenant(["warmth"], tmp_path)
    clerk = (await persona(api, other.code, "clerk")).api
    cid = (await clerk.data(CREATE, {"i": campaign(other, ALL_GROUPS)}))["warmthCampaignCreate"]["campaign"]["id"]
    preview = (await clerk.data(PREVIEW, {"c": cid}))["warmthPreview"]
    assert preview["rows"] == [] and preview["totalFen"] == 0  # none of the other tenant's members or archives
    assert (await clerk.data(BUILD, {"c": cid}))["warmthTargetingBuild"] == {"added": 0, "errors": []}
    ours = (await world.clerk.data(CREATE, {"i": campaign(world.pt, ALL_GROUPS)}))["warmthCampaignCreate"]["campaign"]["id"]
    theirs = await clerk.gql(PREVIEW, {"c": ours})
    assert theirs["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await clerk.gql(STATS, {"c": ours}))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await clerk.data(NATIONAL, {"y": 2024}))["warmthNationalFigures"]["total"] == 0
    built = (await clerk.data(BUILD, {"c": (await world.clerk.data(CREATE, {"i": campaign(world.pt, ALL_GROUPS)}))[
        "warmthCampaignCreate"]["campaign"]["id"]}))["warmthTargetingBuild"]
    assert [e["code"] for e in built["errors"]] == ["NOT_FOUND"]


MATCH = """mutation($c: ID!, $l: String!, $f: String!) { warmthCrossMatch(campaignId: $c, line: $l, contentBase64: $f) {
  result { line rows matched new unmatched invalid errors { row code messageZh } members { memberId onList }
           missedHouseholds { memberId } }
  errors { field code message } } }"""
MATCH_JOB = """mutation($c: ID!, $l: String!, $f: String!) { warmthCrossMatchStart(campaignId: $c, line: $l,
  contentBase64: $f) { jobId errors { field code message } } }"""
JOB_Q = "query($id: ID!) { job(id: $id) { status result errors } }"
ADD = """mutation($c: ID!, $m: ID!) { warmthBeneficiaryAdd(campaignId: $c, memberId: $m, group: "model_worker",
  reason: "民政低收入名单比对") { errors { code } } }"""


def xlsx_b64(rows: list[list[str]]) -> str:
    import io

    from core.sdk import XlsxStreamWriter

    out = io.BytesIO()
    with XlsxStreamWriter(out, "名单") as book:
        book.header(rows[0])
        for r in rows[1:]:
            book.row(r)
    return base64.b64encode(out.getvalue()).decode()


def csv_b64(rows: list[list[str]]) -> str:
    import base64

    text = "\n".join(",".join(r) for r in rows)
    return base64.b64encode(text.encode("utf-8-sig")).decode()


async def test_cross_matching_a_line_reports_bad_rows_matches_by_blind_index_and_the_missed_households(
        api, world, tmp_path, in_process_jobs) -> None:
    from core.jobs import runner
    from core.testing.tenant import synthetic_id_number
    from huijia_warmth.crossmatch import store

    pt, clerk = world.pt, world.clerk
    numbers: list[str] = []
    [mine] = await tagged(pt, [["model_worker"]], numbers)
    other = await create_plugin_tenant(["warmth"], tmp_path)
    theirs: list[str] = []
    await tagged(other, [["model_worker"]], theirs)
    good = numbers[0]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    stranger = synthetic_id_number(7, born="19880808")
    cid = (await clerk.data(CREATE, {"i": campaign(pt, ALL_GROUPS)}))["warmthCampaignCreate"]["campaign"]["id"]
    f = csv_b64([["姓名", "身份证号"], ["甲", good.lower()], ["乙", bad], [",", ""], ["丙", stranger], ["丁", theirs[0]]])
    out = (await clerk.data(MATCH, {"c": cid, "l": "civil_affairs_low_income", "f": f}))["warmthCrossMatch"]
    assert out["errors"] == [], out
    r = out["result"]
    assert (r["rows"], r["matched"], r["new"], r["unmatched"], r["invalid"]) == (4, 1, 1, 2, 1)
    assert [(e["row"], e["code"]) for e in r["errors"]] == [(3, "ID_CHECKSUM")] and r["errors"][0]["messageZh"]
    assert r["members"] == [{"memberId": mine, "onList": False}]
    # the archived household is not on this campaign's list yet
    assert r["missedHouseholds"] == [{"memberId": world.hardship_member}]
    # nothing of the file is kept: the audit log has the counts only
    audit = await raw_sql(pt, "SELECT changes::text AS d FROM audit_record WHERE action = 'warmth.crossmatch'")
    assert audit and not any(n in a["d"] for a in audit for n in (good, bad, stranger, theirs[0]))

    assert (await clerk.data(ADD, {"c": cid, "m": mine}))["warmthBeneficiaryAdd"]["errors"] == []
    again = (await clerk.data(MATCH, {"c": cid, "l": "work_injury", "f": f}))["warmthCrossMatch"]["result"]
    assert (again["matched"], again["new"], again["members"]) == (1, 0, [{"memberId": mine, "onList": True}])

    def refused(body: dict[str, Any]) -> list[tuple[str, str]]:
        return [(e["field"], e["code"]) for e in body["warmthCrossMatch"]["errors"]]

    # the same list as XLSX (told apart by its bytes): the same answer
    # (the CSV's row of commas is a row of empty cells)
    table = [["姓名", "身份证号"], ["甲", good.lower()], ["乙", bad], ["", ""], ["丙", stranger], ["丁", theirs[0]]]
    as_xlsx = (await clerk.data(MATCH, {"c": cid, "l": "work_injury", "f": xlsx_b64(table)}))["warmthCrossMatch"]
    assert as_xlsx["errors"] == [] and {k: v for k, v in as_xlsx["result"].items() if k != "line"} == {
        k: v for k, v in again.items() if k != "line"}
    # as a job (large files): the same answer in the job's result, and the file is not kept afterwards
    started = (await clerk.data(MATCH_JOB, {"c": cid, "l": "work_injury", "f": xlsx_b64(table)}))["warmthCrossMatchStart"]
    assert started["errors"] == [] and started["jobId"]
    await runner.drain_local(60)
    done = (await clerk.data(JOB_Q, {"id": started["jobId"]}))["job"]
    assert done["status"] == "SUCCEEDED", done
    assert {k: done["result"][k] for k in ("rows", "matched", "new", "unmatched", "invalid")} == {
        k: again[k] for k in ("rows", "matched", "new", "unmatched", "invalid")}
    assert [m["memberId"] for m in done["result"]["members"]] == [mine]
    assert not any(n in str(done["result"]) for n in (good, bad, stranger, theirs[0]))
    assert store().stored_ids("crossmatch", (await pt.context()).id) == []
    bad_job = (await clerk.data(MATCH_JOB, {"c": cid, "l": "other", "f": csv_b64([["姓名"], ["甲"]])}))[
        "warmthCrossMatchStart"]
    await runner.drain_local(60)
    failed = (await clerk.data(JOB_Q, {"id": bad_job["jobId"]}))["job"]
    assert failed["status"] == "FAILED" and [e["code"] for e in failed["errors"]] == ["INVALID_INPUT"]
    assert failed["errors"][0]["messageZh"] and store().stored_ids("crossmatch", (await pt.context()).id) == []
    broken = base64.b64encode(b"PK\x03\x04 not really a workbook").decode()
    assert refused(await clerk.data(MATCH, {"c": cid, "l": "other", "f": broken})) == [("content", "INVALID_INPUT")]
    assert refused(await clerk.data(MATCH, {"c": cid, "l": "tax", "f": f})) == [("line", "INVALID_INPUT")]
    assert refused(await clerk.data(MATCH, {"c": cid, "l": "other", "f": csv_b64([["姓名"], ["甲"]])})) == [
        ("content", "INVALID_INPUT")]
    assert refused(await clerk.data(MATCH, {"c": cid, "l": "other", "f": "not base64!"})) == [
        ("contentBase64", "INVALID_INPUT")]
    outsider = (await persona(api, other.code, "clerk")).api
    assert [e["code"] for e in (await outsider.data(MATCH, {"c": cid, "l": "other", "f": f}))["warmthCrossMatch"][
        "errors"]] == ["NOT_FOUND"]
    assert [e["code"] for e in (await outsider.data(MATCH_JOB, {"c": cid, "l": "other", "f": f}))[
        "warmthCrossMatchStart"]["errors"]] == ["NOT_FOUND"]

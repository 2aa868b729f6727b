"""Warmth campaigns through the real app (huijia.testing: a fresh database, a tenant enabling it)."""

from __future__ import annotations

from typing import Any

import pytest

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATE = """mutation($i: WarmthCampaignInput!) {
  warmthCampaignCreate(input: $i) {
    campaign { id name kind kindZh startsOn endsOn fund orgUnitId state stateZh version
               benefits { group form amountFen item perHousehold } budgets { orgUnitId budgetFen } }
    errors { field code message messageZh }
  }
}"""
LIST = "{ warmthCampaigns { id name } }"
ONE = "query($id: ID!) { warmthCampaign(id: $id) { id name } node(id: $id) { id } }"
GROUPS = "{ warmthTargetGroups { code labelZh perHousehold } }"


def campaign(pt: Any, unit: str | None = None, **over: Any) -> dict[str, Any]:
    unit = unit or pt.root_unit
    return {"orgUnitId": pt.unit_ids[unit], "name": "2025年元旦春节送温暖", "kind": "spring_festival",
            "startsOn": "2024-12-22", "endsOn": "2025-02-12", "fund": "general",
            "benefits": [{"group": "hardship_household", "form": "cash", "amountFen": 0},
                         {"group": "holiday_frontline", "form": "in_kind", "amountFen": 15_000, "item": "米面油礼包"}],
            "budgets": [{"orgUnitId": pt.unit_ids[unit], "budgetFen": 50_000},
                        {"orgUnitId": pt.unit_ids[pt.district_unit if unit == pt.root_unit else pt.grassroots_unit],
                         "budgetFen": 100_000}]} | over


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_clerk_creates_a_campaign_and_reads_it_back(plugin_tenant, clerk) -> None:
    assert plugin_tenant.capabilities == ("warmth",)
    made = (await clerk.data(CREATE, {"i": campaign(plugin_tenant)}))["warmthCampaignCreate"]
    assert made["errors"] == [], made
    c = made["campaign"]
    assert (c["kind"], c["kindZh"], c["startsOn"], c["fund"]) == ("spring_festival", "元旦春节", "2024-12-22", "general")
    assert c["benefits"] == [
        {"group": "hardship_household", "form": "cash", "amountFen": 0, "item": None, "perHousehold": True},
        {"group": "holiday_frontline", "form": "in_kind", "amountFen": 15_000, "item": "米面油礼包", "perHousehold": False}]
    assert [b["budgetFen"] for b in c["budgets"]] == [50_000, 100_000]
    assert c["id"] in [r["id"] for r in (await clerk.data(LIST))["warmthCampaigns"]]
    one = await clerk.data(ONE, {"id": c["id"]})
    assert one["warmthCampaign"]["name"] == "2025年元旦春节送温暖" and one["node"]["id"] == c["id"]


async def test_the_target_groups_are_the_built_in_ones(plugin_tenant, clerk) -> None:
    groups = {g["code"]: g for g in (await clerk.data(GROUPS))["warmthTargetGroups"]}
    assert {"hardship_household", "holiday_frontline", "new_form", "work_injured", "model_worker",
            "unpaid_6m", "off_work_6m"} <= set(groups)
    assert groups["hardship_household"]["perHousehold"] is True and groups["model_worker"]["labelZh"] == "劳动模范"


async def test_bad_input_gets_typed_errors_on_its_fields_and_writes_nothing(plugin_tenant, clerk) -> None:
    before = len((await clerk.data(LIST))["warmthCampaigns"])
    bad = campaign(plugin_tenant, name=" ", kind="easter", endsOn="2024-12-01", fund="",
                   benefits=[{"group": "nobody", "form": "cash"}, {"group": "model_worker", "form": "in_kind"}])
    payload = (await clerk.data(CREATE, {"i": bad}))["warmthCampaignCreate"]
    assert payload["campaign"] is None
    assert sorted(codes(payload)) == sorted([("name", "INVALID_INPUT"), ("kind", "INVALID_INPUT"),
                                             ("endsOn", "INVALID_INPUT"), ("groups", "INVALID_INPUT"),
                                             ("fund", "INVALID_INPUT"), ("groups", "INVALID_INPUT")])
    assert all(e["messageZh"] for e in payload["errors"])
    neg = (await clerk.data(CREATE, {"i": campaign(plugin_tenant, budgets=[
        {"orgUnitId": plugin_tenant.unit_ids[plugin_tenant.root_unit], "budgetFen": -1}])}))["warmthCampaignCreate"]
    assert codes(neg) == [("budgets", "INVALID_INPUT")]
    assert len((await clerk.data(LIST))["warmthCampaigns"]) == before


async def test_the_no_cash_festival_rule_is_a_tenant_setting(api, tmp_path) -> None:
    anhui_like = await create_plugin_tenant(["warmth"], tmp_path, "\n[settings.warmth]\nfestival_gifts_in_kind_only = true\n")
    clerk = await persona(api, anhui_like.code, "clerk", anhui_like.root_unit)
    cash = (await clerk.api.data(CREATE, {"i": campaign(anhui_like)}))["warmthCampaignCreate"]
    assert codes(cash) == [("groups", "INVALID_INPUT")] and "现金" in cash["errors"][0]["messageZh"]
    goods = campaign(anhui_like, benefits=[{"group": "hardship_household", "form": "in_kind", "amountFen": 60_000,
                                            "item": "慰问品"}])
    assert (await clerk.api.data(CREATE, {"i": goods}))["warmthCampaignCreate"]["errors"] == []
    summer = campaign(anhui_like, kind="summer_cool")  # cash outside the festival is allowed
    assert (await clerk.api.data(CREATE, {"i": summer}))["warmthCampaignCreate"]["errors"] == []


async def test_the_subtree_rule_applies_to_the_target_unit_and_to_budgets(api, plugin_tenant, clerk) -> None:
    pt = plugin_tenant
    district = await persona(api, pt.code, "clerk", pt.district_unit)
    above = (await district.api.data(CREATE, {"i": campaign(pt)}))["warmthCampaignCreate"]
    assert [e["code"] for e in above["errors"]] in (["FORBIDDEN"], ["NOT_FOUND"]) and above["campaign"] is None
    root_made = (await clerk.data(CREATE, {"i": campaign(pt)}))["warmthCampaignCreate"]["campaign"]["id"]
    # a district clerk neither lists nor opens the province's campaign
    assert root_made not in [r["id"] for r in (await district.api.data(LIST))["warmthCampaigns"]]
    one = await district.api.data(ONE, {"id": root_made})
    assert one == {"warmthCampaign": None, "node": None}
    # a district campaign may not give budget to its parent
    upward = campaign(pt, pt.district_unit, budgets=[{"orgUnitId": pt.unit_ids[pt.root_unit], "budgetFen": 1}])
    assert codes((await district.api.data(CREATE, {"i": upward}))["warmthCampaignCreate"]) == [("budgets", "NOT_FOUND")]
    mine = (await district.api.data(CREATE, {"i": campaign(pt, pt.district_unit)}))["warmthCampaignCreate"]
    assert mine["errors"] == [] and mine["campaign"]["id"] in [r["id"] for r in (await district.api.data(LIST))["warmthCampaigns"]]


async def test_roles_auditor_reads_only_and_finance_not_at_all(plugin_tenant, auditor, finance) -> None:
    assert isinstance((await auditor.data(LIST))["warmthCampaigns"], list)
    refused = (await auditor.data(CREATE, {"i": campaign(plugin_tenant)}))["warmthCampaignCreate"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    body = await finance.gql(LIST)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_another_tenant_sees_nothing_and_cannot_budget_our_units(api, plugin_tenant, clerk, tmp_path) -> None:
    mine = (await clerk.data(CREATE, {"i": campaign(plugin_tenant)}))["warmthCampaignCreate"]["campaign"]["id"]
    other = await create_plugin_tenant(["warmth"], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    assert (await outsider.api.data(ONE, {"id": mine})) == {"warmthCampaign": None, "node": None}
    assert mine not in [r["id"] for r in (await outsider.api.data(LIST))["warmthCampaigns"]]
    theirs = campaign(other, budgets=[{"orgUnitId": plugin_tenant.unit_ids[plugin_tenant.grassroots_unit],
                                       "budgetFen": 100}])
    assert codes((await outsider.api.data(CREATE, {"i": theirs}))["warmthCampaignCreate"]) == [("budgets", "NOT_FOUND")]
    at_ours = campaign(other, budgets=[])
    at_ours["orgUnitId"] = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    assert codes((await outsider.api.data(CREATE, {"i": at_ours}))["warmthCampaignCreate"]) == [("orgUnitId", "NOT_FOUND")]


async def test_a_tenant_without_the_capability_gets_capability_not_enabled(api, tmp_path) -> None:
    other = await create_plugin_tenant([], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    body = await outsider.api.gql(LIST)
    assert body["errors"][0]["extensions"]["code"] == "CAPABILITY_NOT_ENABLED", body
    payload = (await outsider.api.data(CREATE, {"i": campaign(other)}))["warmthCampaignCreate"]
    assert [e["code"] for e in payload["errors"]] == ["CAPABILITY_NOT_ENABLED"]


async def test_the_tables_are_fenced_by_forced_row_level_security(plugin_tenant) -> None:
    from core.sdk import raw

    rows = await raw("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname LIKE {} "
                     "AND relkind = 'r' ORDER BY relname", "warmth_campaign%")
    assert rows == [{"relname": n, "relrowsecurity": True, "relforcerowsecurity": True}
                    for n in ("warmth_campaign", "warmth_campaign_budget", "warmth_campaign_group")]


STEP = """mutation($id: ID!, $t: String!, $r: [String!], $v: Int) {
  warmthCampaignStep(id: $id, transition: $t, reasons: $r, expectedVersion: $v) {
    campaign { id state stateZh version } errors { field code message messageZh }
  }
}"""


async def step(who: Any, cid: str, transition: str, reasons: list[str] | None = None,
               version: int | None = None) -> dict[str, Any]:
    return (await who.data(STEP, {"id": cid, "t": transition, "r": reasons, "v": version}))["warmthCampaignStep"]


async def test_the_lifecycle_runs_on_the_shared_case_machine_with_each_step_for_its_role(
        plugin_tenant, clerk, approver, funded_accounts) -> None:
    made = (await clerk.data(CREATE, {"i": campaign(plugin_tenant)}))["warmthCampaignCreate"]["campaign"]
    assert (made["state"], made["stateZh"], made["version"]) == ("draft", "草稿", 1)
    cid = made["id"]
    # approving a draft is refused by state; a clerk may not approve at all
    assert codes(await step(approver, cid, "approve")) == [("transition", "INVALID_TRANSITION")]
    submitted = await step(clerk, cid, "submit")
    assert submitted["errors"] == [] and submitted["campaign"]["state"] == "submitted"
    assert [e["code"] for e in (await step(clerk, cid, "approve"))["errors"]] == ["FORBIDDEN"]
    # returning needs a reason; a stale version is a conflict
    assert codes(await step(approver, cid, "return")) == [("reasons", "INVALID_INPUT")]
    assert codes(await step(approver, cid, "approve", version=1)) == [("expectedVersion", "CONFLICT")]
    approved = await step(approver, cid, "approve", version=submitted["campaign"]["version"])
    assert approved["errors"] == [] and (approved["campaign"]["state"], approved["campaign"]["stateZh"]) == ("approved", "已审批")
    distributing = await step(clerk, cid, "distribute")
    assert distributing["campaign"]["state"] == "distributing"
    # finishing belongs to the distribution job, never to a person
    assert codes(await step(approver, cid, "finish")) == [("transition", "INVALID_INPUT")]
    assert codes(await step(approver, cid, "cancel", ["误建"])) == [("transition", "INVALID_TRANSITION")]


async def test_approving_without_budget_is_refused_and_cancel_needs_a_reason(plugin_tenant, clerk, approver) -> None:
    cid = (await clerk.data(CREATE, {"i": campaign(plugin_tenant, budgets=[])}))["warmthCampaignCreate"]["campaign"]["id"]
    await step(clerk, cid, "submit")
    refused = await step(approver, cid, "approve")
    assert codes(refused) == [("budgets", "NOT_ELIGIBLE")] and refused["errors"][0]["messageZh"] == "活动没有预算，不能审批"
    assert (await clerk.data(ONE, {"id": cid}))["warmthCampaign"]["id"] == cid
    assert codes(await step(approver, cid, "cancel")) == [("reasons", "INVALID_INPUT")]
    cancelled = await step(approver, cid, "cancel", ["预算未落实"])
    assert cancelled["errors"] == [] and cancelled["campaign"]["state"] == "cancelled"
    assert codes(await step(clerk, cid, "submit")) == [("transition", "INVALID_TRANSITION")]


async def test_steps_follow_the_campaigns_unit_and_tenant(api, plugin_tenant, clerk, tmp_path) -> None:
    pt = plugin_tenant
    cid = (await clerk.data(CREATE, {"i": campaign(pt)}))["warmthCampaignCreate"]["campaign"]["id"]
    district_approver = await persona(api, pt.code, "approver", pt.district_unit)
    district_clerk = await persona(api, pt.code, "clerk", pt.district_unit)
    # a district clerk cannot submit the province's campaign: for them it does not exist
    assert [e["code"] for e in (await step(district_clerk.api, cid, "submit"))["errors"]] == ["NOT_FOUND"]
    await step(clerk, cid, "submit")
    assert [e["code"] for e in (await step(district_approver.api, cid, "approve"))["errors"]] == ["NOT_FOUND"]
    other = await create_plugin_tenant(["warmth"], tmp_path)
    outsider = await persona(api, other.code, "approver", other.root_unit)
    assert [e["code"] for e in (await step(outsider.api, cid, "approve"))["errors"]] == ["NOT_FOUND"]
    assert (await clerk.data(ONE, {"id": cid}))["warmthCampaign"]["id"] == cid


ADD = """mutation($c: ID!, $m: ID!, $g: String!, $r: String!) {
  warmthBeneficiaryAdd(campaignId: $c, memberId: $m, group: $g, reason: $r) {
    beneficiary { id memberId group reason amountFen frozen } errors { field code message messageZh }
  }
}"""
LISTED = "query($id: ID!) { warmthCampaign(id: $id) { beneficiaries { memberId group amountFen frozen } } }"


def member_gid(row: dict[str, Any]) -> str:
    from core.sdk import to_global_id

    return to_global_id("Member", row["id"])


async def add(who: Any, cid: str, member: str, group: str = "hardship_household", reason: str = "建档困难职工") -> dict[str, Any]:
    return (await who.data(ADD, {"c": cid, "m": member, "g": group, "r": reason}))["warmthBeneficiaryAdd"]


async def test_the_list_takes_additions_with_reasons_once_per_person_and_freezes_at_approval(
        plugin_tenant, members, clerk, approver, funded_accounts) -> None:
    cid = (await clerk.data(CREATE, {"i": campaign(plugin_tenant)}))["warmthCampaignCreate"]["campaign"]["id"]
    zhang, li, wang = (member_gid(m) for m in members)
    first = await add(clerk, cid, zhang)
    assert first["errors"] == [] and first["beneficiary"]["amountFen"] is None and not first["beneficiary"]["frozen"]
    assert codes(await add(clerk, cid, zhang, "holiday_frontline")) == [("memberId", "DUPLICATE")]
    assert codes(await add(clerk, cid, li, reason=" ")) == [("reason", "INVALID_INPUT")]
    assert codes(await add(clerk, cid, li, "model_worker")) == [("group", "INVALID_INPUT")]
    assert (await add(clerk, cid, li, "holiday_frontline", "春节值守"))["errors"] == []
    await step(clerk, cid, "submit")
    frozen_list = await add(clerk, cid, wang)
    assert codes(frozen_list) == [("campaignId", "INVALID_STATE")] and frozen_list["errors"][0]["messageZh"]
    assert (await step(approver, cid, "approve"))["errors"] == []
    listed = (await clerk.data(LISTED, {"id": cid}))["warmthCampaign"]["beneficiaries"]
    # the capability's default for an archived household (600 元) and the in-kind item's unit value
    assert listed == [{"memberId": zhang, "group": "hardship_household", "amountFen": 60_000, "frozen": True},
                      {"memberId": li, "group": "holiday_frontline", "amountFen": 15_000, "frozen": True}]


async def test_a_member_of_another_tenant_or_outside_the_tree_cannot_be_added(api, plugin_tenant, members, clerk,
                                                                              tmp_path) -> None:
    other = await create_plugin_tenant(["warmth"], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    theirs = (await outsider.api.data(CREATE, {"i": campaign(other)}))["warmthCampaignCreate"]["campaign"]["id"]
    assert codes(await add(outsider.api, theirs, member_gid(members[0]))) == [("memberId", "NOT_FOUND")]
    ours = (await clerk.data(CREATE, {"i": campaign(plugin_tenant)}))["warmthCampaignCreate"]["campaign"]["id"]
    assert codes(await add(outsider.api, ours, member_gid(members[0]))) == [("campaignId", "NOT_FOUND")]
    auditor_like = await persona(api, plugin_tenant.code, "auditor", plugin_tenant.root_unit)
    assert [e["code"] for e in (await add(auditor_like.api, ours, member_gid(members[0])))["errors"]] == ["FORBIDDEN"]

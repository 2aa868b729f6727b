"""Part 5: the evaluation panel (no-conflict declaration first), weighted criteria from the hook,
aggregation with outliers, the 淮安 tie-break, and the award to the first-ranked bid."""

from __future__ import annotations

from typing import Any

import pytest

from core.testing import create_plugin_tenant, persona

from .helpers import (
    APPOINT,
    AWARD,
    BIDS,
    CREATE_CALL,
    DECLARE,
    SCORE,
    bidding_closed,
    call_input,
    evaluator,
    new_org,
    points,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

RESULTS = """query($c: ID!) { procurementCallResults(callId: $c) { complete criteria { code label weightBp }
  bids { bidId orgName hasOwnUnion priceFen panelBp performanceBp totalBp rank wonTieByUnion
    evaluatorTotals { evaluatorId totalBp outlier } } } }"""


def _codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_evaluators_declare_no_conflict_before_seeing_or_scoring_bids(api, fast, staff) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    call, _ = await bidding_closed(api, clerk, approver, fast, [1_500_000])
    bid_id = (await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"][0]["id"]
    undeclared = await evaluator(api, fast, approver, call["id"], declare=None)
    for query, variables in ((BIDS, {"id": call["id"]}), (RESULTS, {"c": call["id"]})):
        body = await undeclared.gql(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "NOT_ELIGIBLE", body
    early = (await undeclared.data(SCORE, {"c": call["id"], "b": bid_id, "s": points(80)}))["procurementScoreSubmit"]
    assert _codes(early) == [("noConflict", "NOT_ELIGIBLE")]
    # a declared conflict recuses; the declaration is made once
    recused = await evaluator(api, fast, approver, call["id"], declare=False)
    assert _codes((await recused.data(SCORE, {"c": call["id"], "b": bid_id, "s": points(80)}))[
        "procurementScoreSubmit"]) == [("noConflict", "NOT_ELIGIBLE")]
    again = (await recused.data(DECLARE, {"c": call["id"], "n": True}))["procurementPanelDeclare"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]
    assert (await undeclared.data(DECLARE, {"c": call["id"], "n": True}))["procurementPanelDeclare"]["errors"] == []
    assert len((await undeclared.data(BIDS, {"id": call["id"]}))["procurementCallBids"]) == 1
    # every criterion, each 0 to 100; no one off the panel scores
    for scores, expected in ((points(80)[:4], ("scores", "INVALID_INPUT")),
                             ([*points(80)[:4], {"criterion": "professionalism", "points": 101}],
                              ("scores", "INVALID_INPUT")),
                             ([*points(80), {"criterion": "beauty", "points": 1}], ("scores", "INVALID_INPUT"))):
        body = (await undeclared.data(SCORE, {"c": call["id"], "b": bid_id, "s": scores}))["procurementScoreSubmit"]
        assert _codes(body) == [expected], scores
    outsider = (await approver.data(SCORE, {"c": call["id"], "b": bid_id, "s": points(80)}))["procurementScoreSubmit"]
    assert [e["code"] for e in outsider["errors"]] == ["FORBIDDEN"]
    assert (await undeclared.data(SCORE, {"c": call["id"], "b": bid_id, "s": points(80)}))[
        "procurementScoreSubmit"] == {"scored": True, "errors": []}
    # the panel is staff only, once each, appointed by an approver
    org_api, _ = await new_org(api, fast)
    org_user = (await org_api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    assert [e["code"] for e in (await approver.data(APPOINT, {"c": call["id"], "u": org_user}))[
        "procurementPanelAppoint"]["errors"]] == ["NOT_FOUND"]
    assert [e["code"] for e in (await approver.data(APPOINT, {"c": call["id"], "u": undeclared.user_id}))[
        "procurementPanelAppoint"]["errors"]] == ["DUPLICATE"]
    assert [e["code"] for e in (await clerk.data(APPOINT, {"c": call["id"], "u": undeclared.user_id}))[
        "procurementPanelAppoint"]["errors"]] == ["FORBIDDEN"]


async def test_weighted_totals_blend_the_performance_score_and_show_outliers(api, fast, staff) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    call, _ = await bidding_closed(api, clerk, approver, fast, [1_800_000])
    judges = [await evaluator(api, fast, approver, call["id"]) for _ in range(3)]
    bid_id = (await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"][0]["id"]
    # 定位精准性 counts 20 %: 100 there and 75 elsewhere is 80.00
    mixed = [{"criterion": "targeting", "points": 100}, *points(75)[1:]]
    for judge, scores in zip(judges, (mixed, points(82), points(20)), strict=True):
        assert (await judge.data(SCORE, {"c": call["id"], "b": bid_id, "s": scores}))["procurementScoreSubmit"]["errors"] == []
    r = (await approver.data(RESULTS, {"c": call["id"]}))["procurementCallResults"]
    assert r["complete"] is True
    assert [(c["code"], c["label"], c["weightBp"]) for c in r["criteria"]][0] == ("targeting", "定位精准性", 2000)
    bid = r["bids"][0]
    totals = {t["evaluatorId"]: (t["totalBp"], t["outlier"]) for t in bid["evaluatorTotals"]}
    assert totals == {judges[0].user_id: (8000, False), judges[1].user_id: (8200, False),
                      judges[2].user_id: (2000, True)}
    # panel mean 6066.67 -> 6067; 90 % panel + 10 % the organisation's starting score of 70.00
    assert (bid["panelBp"], bid["performanceBp"], bid["totalBp"]) == (6067, 7000, (6067 * 9000 + 7000 * 1000) // 10000)


async def test_ties_prefer_an_org_with_its_own_union_and_the_award_goes_to_the_first(api, fast, staff, tmp_path) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    # the organisation with a union bids higher and later, and still wins the tie
    call, orgs = await bidding_closed(api, clerk, approver, fast, [1_000_000, 1_200_000], unions=[False, True])
    judge = await evaluator(api, fast, approver, call["id"])
    bids = (await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"]
    first = (await approver.data(AWARD, {"id": call["id"], "b": bids[0]["id"], "r": ["x"]}))["procurementCallAward"]
    assert _codes(first) == [("callId", "INVALID_STATE")]  # nobody has scored yet
    for bid in bids:
        await judge.data(SCORE, {"c": call["id"], "b": bid["id"], "s": points(80)})
    ranked = (await approver.data(RESULTS, {"c": call["id"]}))["procurementCallResults"]["bids"]
    assert [(b["hasOwnUnion"], b["rank"], b["wonTieByUnion"]) for b in ranked] == [(True, 1, True), (False, 2, False)]
    assert ranked[0]["totalBp"] == ranked[1]["totalBp"]
    wrong = (await approver.data(AWARD, {"id": call["id"], "b": ranked[1]["bidId"], "r": ["低价"]}))["procurementCallAward"]
    assert _codes(wrong) == [("bidId", "INVALID_INPUT")]
    no_reason = (await approver.data(AWARD, {"id": call["id"], "b": ranked[0]["bidId"], "r": []}))["procurementCallAward"]
    assert _codes(no_reason) == [("reasons", "INVALID_INPUT")]
    by_clerk = (await clerk.data(AWARD, {"id": call["id"], "b": ranked[0]["bidId"], "r": ["x"]}))["procurementCallAward"]
    assert [e["code"] for e in by_clerk["errors"]] == ["FORBIDDEN"]
    done = (await approver.data(AWARD, {"id": call["id"], "b": ranked[0]["bidId"],
                                        "r": ["同分，优先有工会组织的社会组织"]}))["procurementCallAward"]
    assert done["errors"] == [] and done["call"]["state"] == "standstill"
    # a bidder and staff of another province learn nothing of the ranking
    assert (await orgs[0][0].gql(RESULTS, {"c": call["id"]}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert (await outsider.gql(RESULTS, {"c": call["id"]}))["errors"][0]["extensions"]["code"] == "NOT_FOUND"


ELIGIBLE = """query($c: ID!, $s: String) { procurementEligibleEvaluators(callId: $c, search: $s) {
  userId username displayName } }"""


async def _me(who: Any) -> dict[str, str]:
    return (await who.data("{ me { user { id username } } }"))["me"]["user"]


async def test_the_evaluator_picker_lists_the_evaluator_role_at_the_calls_union_or_above(api, fast, staff,
                                                                                       tmp_path) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    district, grassroots = fast.district_unit, fast.grassroots_unit
    made = (await clerk.data(CREATE_CALL, {"i": call_input(fast, orgUnitId=fast.unit_ids[district])}))[
        "procurementCallCreate"]
    assert made["errors"] == [], made
    call_id = made["call"]["id"]
    people = {name: (await persona(api, fast.code, role, unit)).api for name, role, unit in (
        ("root_auditor", "auditor", fast.root_unit), ("district_clerk", "clerk", district),
        ("grassroots_clerk", "clerk", grassroots), ("root_finance", "finance", fast.root_unit),
        ("district_approver", "approver", district), ("grassroots_approver", "approver", grassroots))}
    ids = {name: await _me(who) for name, who in people.items()}
    org_api, _ = await new_org(api, fast)
    ids["org"] = await _me(org_api)
    listed = (await approver.data(ELIGIBLE, {"c": call_id}))["procurementEligibleEvaluators"]
    listed_ids = {e["userId"] for e in listed}
    # a grant at the call's union or above reaches the call; below it, or without the role, it does not
    for name in ("root_auditor", "district_clerk", "district_approver"):
        assert ids[name]["id"] in listed_ids, name
    for name in ("grassroots_clerk", "grassroots_approver", "root_finance", "org"):
        assert ids[name]["id"] not in listed_ids, name
    found = (await approver.data(ELIGIBLE, {"c": call_id, "s": ids["district_clerk"]["username"].upper()}))[
        "procurementEligibleEvaluators"]
    assert [e["userId"] for e in found] == [ids["district_clerk"]["id"]]
    assert (await approver.data(ELIGIBLE, {"c": call_id, "s": "%"}))["procurementEligibleEvaluators"] == []
    # appointing follows the same rule, and the appointed leave the picker
    for name in ("grassroots_clerk", "root_finance", "org"):
        body = (await approver.data(APPOINT, {"c": call_id, "u": ids[name]["id"]}))["procurementPanelAppoint"]
        assert _codes(body) == [("userId", "NOT_FOUND")], name
    done = (await people["district_approver"].data(APPOINT, {"c": call_id, "u": ids["district_clerk"]["id"]}))[
        "procurementPanelAppoint"]
    assert done["errors"] == [], done
    after = {e["userId"] for e in (await approver.data(ELIGIBLE, {"c": call_id}))["procurementEligibleEvaluators"]}
    assert ids["district_clerk"]["id"] not in after and ids["root_auditor"]["id"] in after
    # wrong role, outside the subtree, another province
    assert (await clerk.gql(ELIGIBLE, {"c": call_id}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    below = await people["grassroots_approver"].gql(ELIGIBLE, {"c": call_id})
    assert below["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert _codes((await people["grassroots_approver"].data(APPOINT, {"c": call_id, "u": ids["root_auditor"]["id"]}))[
        "procurementPanelAppoint"]) == [("callId", "NOT_FOUND")]
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert (await outsider.gql(ELIGIBLE, {"c": call_id}))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    stranger = await _me((await persona(api, other.code, "clerk", other.root_unit)).api)
    assert _codes((await approver.data(APPOINT, {"c": call_id, "u": stranger["id"]}))["procurementPanelAppoint"]) == [
        ("userId", "NOT_FOUND")]

"""Part 6: contracts with milestones (percentages add up to 100), the value reserved at signing,
deliveries, acceptance and idempotent payments, and evaluations feeding the performance score."""

from __future__ import annotations

import pytest

from core.testing import create_plugin_tenant, persona

from .helpers import awarded_call, evaluator, points

pytestmark = pytest.mark.asyncio(loop_scope="session")

SIGN = """mutation($c: ID!, $m: [MilestoneInput!]!) { procurementContractSign(callId: $c, milestones: $m) {
  call { id state } errors { field code message } } }"""
CONTRACTS = """{ procurementContracts { id valueFen reservationId milestones { id seq percent amountFen status entryId }
  evaluations { kind score } } }"""
DELIVER = """mutation($m: ID!, $n: String!) { procurementMilestoneDeliver(milestoneId: $m, note: $n) {
  milestone { status } errors { field code message } } }"""
ACCEPT = """mutation($m: ID!) { procurementMilestoneAccept(milestoneId: $m) { milestone { status }
  errors { field code message } } }"""
PAY = """mutation($m: ID!) { procurementMilestonePay(milestoneId: $m) { milestone { status entryId amountFen }
  errors { field code message } } }"""
EVALUATE = """mutation($k: ID!, $kind: String!, $s: Int!) { procurementContractEvaluate(contractId: $k, kind: $kind,
  score: $s, comments: "按期完成") { evaluation { kind score } scoreBp errors { field code message } } }"""
MILESTONES = [{"title": "首期", "deliverable": "签约后启动", "percent": 30},
              {"title": "中期", "deliverable": "完成6场法律讲座", "percent": 40},
              {"title": "终期", "deliverable": "完成12场讲座，覆盖1500名职工", "percent": 30}]


def _codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def _reservation(tenant, contract_gid) -> dict:
    from core.sdk import from_global_id, raw, tenant_scope

    ctx = await tenant.context()
    with tenant_scope(ctx):
        rows = await raw("SELECT r.amount_fen, r.posted_fen, r.status FROM ledger_reservation r JOIN procurement_contract k "
                         "ON k.tenant_id = r.tenant_id AND k.reservation_id = r.id WHERE k.tenant_id = {} AND k.id = {}",
                         ctx.id, from_global_id(contract_gid)[1])
    return rows[0]


async def test_signing_checks_the_milestones_and_reserves_the_whole_value(api, fast, staff, fast_funds) -> None:
    approver = staff["approver"]
    call, orgs, winner = await awarded_call(api, staff, fast, [3_000_000, 2_900_000])
    ninety = [dict(m, percent=20) if m["title"] == "首期" else m for m in MILESTONES]
    bad = (await approver.data(SIGN, {"c": call["id"], "m": ninety}))["procurementContractSign"]
    assert _codes(bad) == [("milestones", "INVALID_INPUT")] and "90" in bad["errors"][0]["message"]
    assert _codes((await approver.data(SIGN, {"c": call["id"], "m": []}))["procurementContractSign"]) == \
        [("milestones", "INVALID_INPUT")]
    assert [e["code"] for e in (await staff["clerk"].data(SIGN, {"c": call["id"], "m": MILESTONES}))[
        "procurementContractSign"]["errors"]] == ["FORBIDDEN"]
    signed = (await approver.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]
    assert signed["errors"] == [] and signed["call"]["state"] == "contracted"
    contract = next(k for k in (await approver.data(CONTRACTS))["procurementContracts"] if k["valueFen"] == 2_900_000)
    assert [(m["percent"], m["amountFen"]) for m in contract["milestones"]] == [(30, 870_000), (40, 1_160_000),
                                                                                 (30, 870_000)]
    assert await _reservation(fast, contract["id"]) == {"amount_fen": 2_900_000, "posted_fen": 0, "status": "open"}
    # signing twice is out of order
    again = (await approver.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_TRANSITION"]
    # the winner sees its contract; the loser sees none
    winner_api = next(o for o, org in orgs if org["id"] == winner["orgId"])
    loser_api = next(o for o, org in orgs if org["id"] != winner["orgId"])
    assert [k["id"] for k in (await winner_api.data(CONTRACTS))["procurementContracts"]] == [contract["id"]]
    assert (await loser_api.data(CONTRACTS))["procurementContracts"] == []


async def test_the_drafter_cannot_sign_the_contract(api, fast, staff, fast_funds) -> None:
    admin = staff["tenant_admin"]  # may draft and sign, but not both for one call
    call, _, _ = await awarded_call(api, staff, fast, [1_000_000], clerk=admin)
    own = (await admin.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]
    assert [e["code"] for e in own["errors"]] == ["SELF_APPROVAL"]


async def test_milestones_are_paid_only_once_accepted_and_only_once(api, fast, staff, fast_funds) -> None:
    approver, clerk, finance = staff["approver"], staff["clerk"], staff["finance"]
    call, orgs, winner = await awarded_call(api, staff, fast, [2_000_000])
    assert (await approver.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]["errors"] == []
    contract = next(k for k in (await approver.data(CONTRACTS))["procurementContracts"] if k["valueFen"] == 2_000_000)
    first, *rest = contract["milestones"]
    org_api = orgs[0][0]
    unpaid = (await finance.data(PAY, {"m": first["id"]}))["procurementMilestonePay"]
    assert _codes(unpaid) == [("milestoneId", "INVALID_STATE")]
    assert _codes((await clerk.data(ACCEPT, {"m": first["id"]}))["procurementMilestoneAccept"]) == \
        [("milestoneId", "INVALID_STATE")]  # nothing delivered yet
    stranger, _ = await new_stranger(api, fast, approver)
    assert [e["code"] for e in (await stranger.data(DELIVER, {"m": first["id"], "n": "x"}))[
        "procurementMilestoneDeliver"]["errors"]] == ["NOT_FOUND"]
    assert (await org_api.data(DELIVER, {"m": first["id"], "n": "项目已启动"}))["procurementMilestoneDeliver"]["errors"] == []
    assert _codes((await finance.data(PAY, {"m": first["id"]}))["procurementMilestonePay"]) == \
        [("milestoneId", "INVALID_STATE")]  # delivered is not accepted
    assert [e["code"] for e in (await finance.data(ACCEPT, {"m": first["id"]}))["procurementMilestoneAccept"][
        "errors"]] == ["FORBIDDEN"]
    assert (await clerk.data(ACCEPT, {"m": first["id"]}))["procurementMilestoneAccept"]["milestone"]["status"] == "accepted"
    assert [e["code"] for e in (await approver.data(PAY, {"m": first["id"]}))["procurementMilestonePay"]["errors"]] == \
        ["FORBIDDEN"]
    paid = (await finance.data(PAY, {"m": first["id"]}))["procurementMilestonePay"]
    assert paid["errors"] == [] and paid["milestone"]["status"] == "paid" and paid["milestone"]["entryId"]
    repeat = (await finance.data(PAY, {"m": first["id"]}))["procurementMilestonePay"]
    assert repeat["milestone"]["entryId"] == paid["milestone"]["entryId"]
    assert await _reservation(fast, contract["id"]) == {"amount_fen": 2_000_000, "posted_fen": 600_000, "status": "open"}
    # the rest, concurrently paid twice each, post once each and close the reservation
    import asyncio

    for m in rest:
        await org_api.data(DELIVER, {"m": m["id"], "n": "已交付"})
        await clerk.data(ACCEPT, {"m": m["id"]})
        twice = await asyncio.gather(finance.data(PAY, {"m": m["id"]}), finance.data(PAY, {"m": m["id"]}))
        assert {t["procurementMilestonePay"]["milestone"]["entryId"] for t in twice} != {None}
        assert len({t["procurementMilestonePay"]["milestone"]["entryId"] for t in twice}) == 1
    closed = await _reservation(fast, contract["id"])
    assert (closed["amount_fen"], closed["posted_fen"]) == (2_000_000, 2_000_000) and closed["status"] != "open"
    # a fully paid contract is fulfilled: there is nothing to terminate
    fulfilled = (await approver.data(TERMINATE, {"k": contract["id"], "r": ["x"]}))["procurementContractTerminate"]
    assert _codes(fulfilled) == [("contractId", "INVALID_STATE")]
    assert await _reservation(fast, contract["id"]) == closed


async def new_stranger(api, tenant, approver):
    from .helpers import new_org

    return await new_org(api, tenant, approver)


async def test_evaluations_move_the_score_that_later_rankings_use(api, fast, staff, fast_funds, tmp_path) -> None:
    approver, clerk = staff["approver"], staff["clerk"]
    call, orgs, winner = await awarded_call(api, staff, fast, [1_500_000])
    assert (await approver.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]["errors"] == []
    contract = next(k for k in (await approver.data(CONTRACTS))["procurementContracts"] if k["valueFen"] == 1_500_000)
    early = (await clerk.data(EVALUATE, {"k": contract["id"], "kind": "final", "s": 90}))["procurementContractEvaluate"]
    assert _codes(early) == [("kind", "INVALID_STATE")]
    for kind, score in (("bogus", 90), ("midterm", 101)):
        body = (await clerk.data(EVALUATE, {"k": contract["id"], "kind": kind, "s": score}))["procurementContractEvaluate"]
        assert [e["code"] for e in body["errors"]] == ["INVALID_INPUT"]
    mid = (await clerk.data(EVALUATE, {"k": contract["id"], "kind": "midterm", "s": 90}))["procurementContractEvaluate"]
    assert mid["errors"] == [] and mid["scoreBp"] == 8000  # mean of 70.00 (start) and 90
    final = (await clerk.data(EVALUATE, {"k": contract["id"], "kind": "final", "s": 60}))["procurementContractEvaluate"]
    assert final["scoreBp"] == 7333  # mean of 70, 90 and 60
    twice = (await clerk.data(EVALUATE, {"k": contract["id"], "kind": "final", "s": 60}))["procurementContractEvaluate"]
    assert [e["code"] for e in twice["errors"]] == ["DUPLICATE"]
    org_api = orgs[0][0]
    mine = (await org_api.data(CONTRACTS))["procurementContracts"]
    assert [(e["kind"], e["score"]) for e in mine[0]["evaluations"]] == [("midterm", 90), ("final", 60)]
    history = (await org_api.data("{ procurementMyOrg { scoreBp scoreHistory { scoreBp source } } }"))["procurementMyOrg"]
    assert history["scoreBp"] == 7333 and [h["source"] for h in history["scoreHistory"]] == \
        ["registered", "evaluation", "evaluation"]
    # the next call's ranking blends in the new score: same panel marks, the evaluated organisation's total moves
    results = """query($c: ID!) { procurementCallResults(callId: $c) { bids { orgId performanceBp totalBp } } }"""
    nxt, nxt_orgs = await bidding_closed_with(api, staff, fast, org_api)
    judge = await evaluator(api, fast, approver, nxt["id"])
    bids = (await approver.data("query($id: ID!) { procurementCallBids(callId: $id) { id orgId } }", {"id": nxt["id"]}))
    for bid in bids["procurementCallBids"]:
        await judge.data("""mutation($c: ID!, $b: ID!, $s: [CriterionScoreInput!]!) { procurementScoreSubmit(callId: $c,
          bidId: $b, scores: $s) { scored } }""", {"c": nxt["id"], "b": bid["id"], "s": points(80)})
    ranked = {b["orgId"]: b for b in (await approver.data(results, {"c": nxt["id"]}))["procurementCallResults"]["bids"]}
    assert ranked[winner["orgId"]]["performanceBp"] == 7333
    assert ranked[winner["orgId"]]["totalBp"] == (8000 * 9000 + 7333 * 1000) // 10000
    # a district's staff do not see the root union's contract (the subtree rule)
    district = (await persona(api, fast.code, "approver", fast.district_unit)).api
    assert (await district.data("query($id: ID!) { node(id: $id) { id } }", {"id": contract["id"]}))["node"] is None
    assert contract["id"] not in [k["id"] for k in (await district.data(CONTRACTS))["procurementContracts"]]
    assert _codes((await district.data(EVALUATE, {"k": contract["id"], "kind": "midterm", "s": 1}))[
        "procurementContractEvaluate"]) == [("contractId", "NOT_FOUND")]
    # another province sees neither the contract nor the organisation
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert (await outsider.data("query($id: ID!) { node(id: $id) { id } }", {"id": contract["id"]}))["node"] is None
    assert _codes((await outsider.data(EVALUATE, {"k": contract["id"], "kind": "midterm", "s": 1}))[
        "procurementContractEvaluate"]) == [("contractId", "NOT_FOUND")]


async def bidding_closed_with(api, staff, tenant, org_api):
    """A new call bid on by ``org_api``'s organisation and one new organisation, closed for evaluation."""
    import base64

    from .helpers import BID, CALL_ONE, new_org, published_call, run_timers, wait_until

    other_api, _ = await new_org(api, tenant, staff["approver"])
    call = await published_call(staff["clerk"], staff["approver"], tenant)
    docs = [{"filename": "方案.pdf", "contentBase64": base64.b64encode(b"%PDF-1.4 plan").decode()}]
    for who in (org_api, other_api):
        assert (await who.data(BID, {"id": call["id"], "p": 1_000_000, "d": docs}))["procurementBidSubmit"]["errors"] == []
    await wait_until(call["tenderEnd"])
    await run_timers(tenant)
    call = (await staff["clerk"].data(CALL_ONE, {"id": call["id"]}))["procurementCall"]
    assert call["state"] == "evaluation"
    return call, [org_api, other_api]


TERMINATE = """mutation($k: ID!, $r: [String!]!) { procurementContractTerminate(contractId: $k, reasons: $r) {
  contract { id status terminationReasons terminatedAt releasedFen milestones { status amountFen } }
  errors { field code message } } }"""


async def _money_of(tenant, contract_gid) -> dict:
    """The reservation, its account's reserved total and the contract's ledger entries (what termination touches)."""
    from core.sdk import from_global_id, raw, tenant_scope

    ctx = await tenant.context()
    with tenant_scope(ctx):
        res = (await raw("SELECT r.id, r.amount_fen, r.posted_fen, r.status, a.reserved_fen FROM ledger_reservation r "
                         "JOIN procurement_contract k ON k.tenant_id = r.tenant_id AND k.reservation_id = r.id "
                         "JOIN ledger_account a ON a.tenant_id = r.tenant_id AND a.id = r.account_id "
                         "WHERE k.tenant_id = {} AND k.id = {}", ctx.id, from_global_id(contract_gid)[1]))[0]
        entries = await raw("SELECT e.id, p.amount_fen FROM ledger_entry e JOIN ledger_posting p ON p.tenant_id = "
                            "e.tenant_id AND p.entry_id = e.id AND p.amount_fen > 0 WHERE e.tenant_id = {} AND "
                            "e.idempotency_key LIKE {} ORDER BY e.id", ctx.id, f"%reservation:{int(res['id'])}:%")
    return {**res, "entries": [(int(e["id"]), int(e["amount_fen"])) for e in entries]}


async def test_termination_closes_unpaid_milestones_and_releases_the_rest_of_the_reservation(
        api, client, fast, staff, fast_funds, tmp_path) -> None:
    from core.sdk import from_global_id

    approver, clerk, finance = staff["approver"], staff["clerk"], staff["finance"]
    call, orgs, _ = await awarded_call(api, staff, fast, [2_400_000])
    assert (await approver.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]["errors"] == []
    contract = next(k for k in (await approver.data(CONTRACTS))["procurementContracts"] if k["valueFen"] == 2_400_000)
    first, second, third = contract["milestones"]
    assert [m["amountFen"] for m in contract["milestones"]] == [720_000, 960_000, 720_000]
    org_api = orgs[0][0]
    for m in (first, second):
        assert (await org_api.data(DELIVER, {"m": m["id"], "n": "已交付"}))["procurementMilestoneDeliver"]["errors"] == []
        assert (await clerk.data(ACCEPT, {"m": m["id"]}))["procurementMilestoneAccept"]["errors"] == []
    assert (await finance.data(PAY, {"m": first["id"]}))["procurementMilestonePay"]["errors"] == []
    before = await _money_of(fast, contract["id"])
    assert (before["amount_fen"], before["posted_fen"], before["status"]) == (2_400_000, 720_000, "open")
    assert [amount for _, amount in before["entries"]] == [720_000]
    # reasons are required; clerks, finance and the organisation may not; outside the subtree or province: not found
    assert _codes((await approver.data(TERMINATE, {"k": contract["id"], "r": [" "]}))[
        "procurementContractTerminate"]) == [("reasons", "INVALID_INPUT")]
    for who in (clerk, finance, org_api):
        body = (await who.data(TERMINATE, {"k": contract["id"], "r": ["x"]}))["procurementContractTerminate"]
        assert [e["code"] for e in body["errors"]] == ["FORBIDDEN"]
    district = (await persona(api, fast.code, "approver", fast.district_unit)).api
    assert _codes((await district.data(TERMINATE, {"k": contract["id"], "r": ["x"]}))[
        "procurementContractTerminate"]) == [("contractId", "NOT_FOUND")]
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert _codes((await outsider.data(TERMINATE, {"k": contract["id"], "r": ["x"]}))[
        "procurementContractTerminate"]) == [("contractId", "NOT_FOUND")]
    assert (await _money_of(fast, contract["id"])) == before  # refusals move no money
    done = (await approver.data(TERMINATE, {"k": contract["id"], "r": ["服务机构擅自更换讲师", "经协商一致解除"]}))[
        "procurementContractTerminate"]
    assert done["errors"] == [], done
    k = done["contract"]
    assert (k["status"], k["terminationReasons"], k["releasedFen"]) == (
        "terminated", ["服务机构擅自更换讲师", "经协商一致解除"], 2_400_000 - 720_000)
    assert k["terminatedAt"] is not None
    assert [m["status"] for m in k["milestones"]] == ["paid", "closed", "closed"]
    after = await _money_of(fast, contract["id"])
    # the reservation is voided, not deleted; the payment made stands; the rest is no longer held
    assert (after["amount_fen"], after["posted_fen"], after["status"]) == (2_400_000, 720_000, "voided")
    assert after["entries"] == before["entries"]
    assert before["reserved_fen"] - after["reserved_fen"] == 1_680_000
    # nothing more happens on it: the accepted milestone is not paid, the pending one not delivered, once only
    assert _codes((await finance.data(PAY, {"m": second["id"]}))["procurementMilestonePay"]) == [
        ("milestoneId", "INVALID_STATE")]
    assert _codes((await org_api.data(DELIVER, {"m": third["id"], "n": "已交付"}))["procurementMilestoneDeliver"]) == [
        ("milestoneId", "INVALID_STATE")]
    assert _codes((await approver.data(TERMINATE, {"k": contract["id"], "r": ["again"]}))[
        "procurementContractTerminate"]) == [("contractId", "INVALID_STATE")]
    assert (await _money_of(fast, contract["id"])) == after
    # the organisation sees it terminated; the open data says so too
    mine = (await org_api.data("{ procurementContracts { status releasedFen } }"))["procurementContracts"]
    assert mine == [{"status": "terminated", "releasedFen": 1_680_000}]
    release = (await client.get(f"/public/procurement/{fast.code}/ocds/{from_global_id(call['id'])[1]}")).json()[
        "releases"][0]
    assert release["contracts"][0]["status"] == "terminated"
    assert [m["status"] for m in release["contracts"][0]["milestones"]] == ["met", "notMet", "notMet"]
    listing = (await client.get(f"/public/procurement/{fast.code}/awards")).json()["contracts"]
    assert [c["status"] for c in listing if c["valueFen"] == 2_400_000] == ["terminated"]

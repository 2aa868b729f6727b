"""Parts 3 and 4: calls on the shared workflow (periods ended by timers, sandbox acceleration, questions,
complaints pausing the standstill) and sealed bids, through GraphQL and the file route on PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from core.testing import create_plugin_tenant, persona

from .helpers import (
    AWARD,
    BID,
    BIDS,
    CALL_ONE,
    CREATE_CALL,
    SCORE,
    STEP,
    bidding_closed,
    call_input,
    evaluator,
    new_org,
    parse,
    points,
    published_call,
    run_timers,
    wait_until,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

PDF = b"%PDF-1.4\n% proposal: 12 legal talks\n"
DOCS = [{"filename": "方案.pdf", "contentBase64": base64.b64encode(PDF).decode()}]
ASK = """mutation($id: ID!, $q: String!) { procurementQuestionAsk(callId: $id, question: $q) { question { id question }
  errors { field code message } } }"""
ANSWER = """mutation($id: ID!, $a: String!) { procurementQuestionAnswer(questionId: $id, answer: $a) {
  question { answer } errors { field code message } } }"""
COMPLAIN = """mutation($id: ID!, $t: String!) { procurementComplaintFile(callId: $id, text: $t) { call { state standstillEnd }
  errors { field code message } } }"""
LIST = "{ procurementCalls { id state } }"
MY_BIDS = "{ procurementMyBids { id callId priceFen } }"
MY_DOCS = "{ procurementMyBids { id documents { filename downloadUrl } } }"
BID_DOCS = "query($id: ID!) { procurementCallBids(callId: $id) { priceFen documents { filename size downloadUrl } } }"
BLACKLIST = """mutation($id: ID!, $s: Date!, $e: Date!) { procurementOrgBlacklist(orgId: $id, reason: "虚报服务",
  startsOn: $s, endsOn: $e) { errors { code } } }"""


def auth(who) -> dict[str, str]:
    return {"authorization": f"Bearer {who.token}"}


def _codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_call_runs_from_draft_to_bidding_with_questions_seen_by_every_bidder(api, fast, staff) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    asker, _ = await new_org(api, fast, approver)
    reader, _ = await new_org(api, fast, approver)
    made = (await clerk.data(CREATE_CALL, {"i": call_input(fast)}))["procurementCallCreate"]
    call_id = made["call"]["id"]
    assert made["errors"] == [] and made["call"]["state"] == "draft"
    # organisations do not see drafts; a clerk cannot publish
    assert call_id not in [c["id"] for c in (await asker.data(LIST))["procurementCalls"]]
    assert (await asker.data(CALL_ONE, {"id": call_id}))["procurementCall"] is None
    refused = (await clerk.data(STEP, {"id": call_id, "s": "PUBLISH"}))["procurementCallStep"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    pub = (await approver.data(STEP, {"id": call_id, "s": "PUBLISH"}))["procurementCallStep"]["call"]
    assert pub["state"] == "enquiries"
    # the sandbox runs a day of the calendar in a second: 1 enquiry day, then 6 tender days
    gap = parse(pub["tenderEnd"]) - parse(pub["enquiryEnd"])
    assert dt.timedelta(seconds=5.9) < gap < dt.timedelta(seconds=6.1)
    q = (await asker.data(ASK, {"id": call_id, "q": "是否接受联合体投标？"}))["procurementQuestionAsk"]
    assert q["errors"] == []
    a = (await clerk.data(ANSWER, {"id": q["question"]["id"], "a": "不接受。"}))["procurementQuestionAnswer"]
    assert a["errors"] == [] and a["question"]["answer"] == "不接受。"
    seen = (await reader.data(CALL_ONE, {"id": call_id}))["procurementCall"]
    assert seen["questions"] == [{"question": "是否接受联合体投标？", "answer": "不接受。"}]
    # the enquiry period's end moves the call (the timer), after which questions are closed
    await run_timers(fast, parse(pub["enquiryEnd"]))
    assert (await clerk.data(CALL_ONE, {"id": call_id}))["procurementCall"]["state"] == "bidding"
    late = (await asker.data(ASK, {"id": call_id, "q": "还能提问吗？"}))["procurementQuestionAsk"]
    assert _codes(late) == [("callId", "INVALID_STATE")]
    # the system's own steps are not for people
    sys_step = (await approver.data(STEP, {"id": call_id, "s": "FAIL", "r": ["x"]}))["procurementCallStep"]
    assert [e["code"] for e in sys_step["errors"]] == ["INVALID_TRANSITION"]


async def test_bad_calls_get_typed_errors(fast, staff) -> None:
    clerk = staff["clerk"]
    for over, expected in (({"budgetFen": 20_000_001}, ("budgetFen", "CAP_EXCEEDED")),
                           ({"title": "为机构提供融资担保"}, ("title", "NOT_ELIGIBLE")),
                           ({"category": "yachts"}, ("category", "INVALID_INPUT")),
                           ({"tenderDays": 0}, ("tenderDays", "INVALID_INPUT")),
                           ({"enquiryDays": 31}, ("enquiryDays", "INVALID_INPUT"))):
        body = (await clerk.data(CREATE_CALL, {"i": call_input(fast, **over)}))["procurementCallCreate"]
        assert body["call"] is None and _codes(body) == [expected], over
    made = (await clerk.data(CREATE_CALL, {"i": call_input(fast)}))["procurementCallCreate"]["call"]
    no_reason = (await staff["approver"].data(STEP, {"id": made["id"], "s": "CANCEL"}))["procurementCallStep"]
    assert _codes(no_reason) == [("reasons", "INVALID_INPUT")]
    cancelled = (await staff["approver"].data(STEP, {"id": made["id"], "s": "CANCEL", "r": ["需求变更"]}))
    assert cancelled["procurementCallStep"]["call"]["state"] == "cancelled"


async def test_a_call_without_bids_ends_unsuccessful(fast, staff) -> None:
    call = await published_call(staff["clerk"], staff["approver"], fast, tenderDays=1)
    await run_timers(fast, parse(call["tenderEnd"]) + dt.timedelta(seconds=1))
    assert (await staff["clerk"].data(CALL_ONE, {"id": call["id"]}))["procurementCall"]["state"] == "unsuccessful"


async def test_only_registered_eligible_orgs_bid_within_the_budget_and_the_period(api, fast, staff) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    made = (await clerk.data(CREATE_CALL, {"i": call_input(fast)}))["procurementCallCreate"]["call"]
    good, _ = await new_org(api, fast, approver)
    pending, _ = await new_org(api, fast)
    banned, banned_org = await new_org(api, fast, approver)
    today = dt.date.today()
    await approver.data(BLACKLIST, {"id": banned_org["id"], "s": today.isoformat(),
                                    "e": (today + dt.timedelta(days=90)).isoformat()})
    # before publication the call does not exist for an organisation; in enquiries it takes no bids
    early = (await good.data(BID, {"id": made["id"], "p": 100, "d": DOCS}))["procurementBidSubmit"]
    assert [e["code"] for e in early["errors"]] == ["NOT_FOUND"]
    await approver.data(STEP, {"id": made["id"], "s": "PUBLISH"})
    enquiring = (await good.data(BID, {"id": made["id"], "p": 100, "d": DOCS}))["procurementBidSubmit"]
    assert _codes(enquiring) == [("callId", "INVALID_STATE")]
    call = (await clerk.data(CALL_ONE, {"id": made["id"]}))["procurementCall"]
    await run_timers(fast, parse(call["enquiryEnd"]))
    for who, price, docs, expected in ((pending, 100, DOCS, (None, "NOT_ELIGIBLE")),
                                       (banned, 100, DOCS, (None, "NOT_ELIGIBLE")),
                                       (good, 3_000_001, DOCS, ("priceFen", "CAP_EXCEEDED")),
                                       (good, 0, DOCS, ("priceFen", "INVALID_INPUT")),
                                       (good, 100, [], ("documents", "INVALID_INPUT")),
                                       (good, 100, [{"filename": "a.pdf", "contentBase64": base64.b64encode(b"hi").decode()}],
                                        ("content", "INVALID_INPUT"))):
        body = (await who.data(BID, {"id": made["id"], "p": price, "d": docs}))["procurementBidSubmit"]
        assert body["bid"] is None and _codes(body) == [expected], (price, expected)
    # staff cannot bid at all
    assert [e["code"] for e in (await approver.data(BID, {"id": made["id"], "p": 1, "d": DOCS}))[
        "procurementBidSubmit"]["errors"]] == ["FORBIDDEN"]
    ok = (await good.data(BID, {"id": made["id"], "p": 2_500_000, "d": DOCS}))["procurementBidSubmit"]
    assert ok["errors"] == [] and ok["bid"]["priceFen"] is None
    # Two submissions at the same moment: the later replaces the earlier; one bid, no server error.
    import asyncio

    racing = await asyncio.gather(*(good.data(BID, {"id": made["id"], "p": p, "d": DOCS}) for p in (2_300_000, 2_200_000)))
    assert [r["procurementBidSubmit"]["errors"] for r in racing] == [[], []]
    assert len({r["procurementBidSubmit"]["bid"]["id"] for r in racing} | {ok["bid"]["id"]}) == 1
    await wait_until(call["tenderEnd"])
    late = (await good.data(BID, {"id": made["id"], "p": 2_400_000, "d": DOCS}))["procurementBidSubmit"]
    assert _codes(late) == [("callId", "INVALID_STATE")]


async def test_bids_stay_sealed_for_everyone_until_the_deadline(api, client, fast, staff, tmp_path) -> None:
    from core.sdk import raw, tenant_scope

    clerk, approver = staff["clerk"], staff["approver"]
    bidder, org = await new_org(api, fast, approver, hasOwnUnion=True)
    rival, _ = await new_org(api, fast, approver)
    call = await published_call(clerk, approver, fast)
    assert (await bidder.data(BID, {"id": call["id"], "p": 2_800_000, "d": DOCS}))["procurementBidSubmit"]["errors"] == []
    # a replacement before the deadline wins over the first bid
    assert (await bidder.data(BID, {"id": call["id"], "p": 2_750_000, "d": DOCS}))["procurementBidSubmit"]["errors"] == []
    assert (await rival.data(BID, {"id": call["id"], "p": 2_900_000, "d": DOCS}))["procurementBidSubmit"]["errors"] == []
    ctx = await fast.context()
    with tenant_scope(ctx):
        stored = await raw("SELECT b.price_enc, d.id AS doc_id FROM procurement_bid b JOIN procurement_bid_document d "
                           "ON d.tenant_id = b.tenant_id AND d.bid_id = b.id JOIN procurement_org g ON g.id = b.org_id "
                           "AND g.tenant_id = b.tenant_id WHERE b.tenant_id = {} AND g.name = {}", ctx.id, org["name"])
    assert len(stored) == 1 and "2750000" not in stored[0]["price_enc"]
    doc_id = stored[0]["doc_id"]
    for role, who in staff.items():  # every staff role, the tenant's admin included
        body = await who.gql(BIDS, {"id": call["id"]})
        assert body["errors"][0]["extensions"]["code"] == "INVALID_STATE", (role, body)
        assert parse(body["errors"][0]["extensions"]["sealedUntil"]) == parse(call["tenderEnd"])
    # the bidder has no overview of the call's bids at all (its own: procurementMyBids, price hidden)
    assert (await bidder.gql(BIDS, {"id": call["id"]}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for token_of in (staff["tenant_admin"], staff["approver"], bidder):
        r = await client.get(f"/procurement/bid-documents/{doc_id}", headers=auth(token_of))
        assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE", r.text
    assert [b["priceFen"] for b in (await bidder.data(MY_BIDS))["procurementMyBids"]] == [None]
    assert [b["documents"] for b in (await bidder.data(MY_DOCS))["procurementMyBids"]] == [[]]  # no link yet
    # past the deadline, and once the timer has closed bidding, the bids open
    await wait_until(call["tenderEnd"])
    sealed_still = await approver.gql(BIDS, {"id": call["id"]})
    assert sealed_still["errors"][0]["extensions"]["code"] == "INVALID_STATE"  # the timer has not run yet
    await run_timers(fast)
    opened = (await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"]
    assert sorted(b["priceFen"] for b in opened) == [2_750_000, 2_900_000]
    assert [b["hasOwnUnion"] for b in opened if b["priceFen"] == 2_750_000] == [True]
    r = await client.get(f"/procurement/bid-documents/{doc_id}", headers=auth(approver))
    assert r.status_code == 200 and r.content == PDF
    # the links the UI shows: each bid's documents by name, for staff and for the bidder's own bid
    links = {b["priceFen"]: b["documents"] for b in (await approver.data(BID_DOCS, {"id": call["id"]}))[
        "procurementCallBids"]}
    assert [(d["filename"], d["downloadUrl"]) for d in links[2_750_000]] == [("方案.pdf", f"/procurement/bid-documents/{doc_id}")]
    for link in (d["downloadUrl"] for docs in links.values() for d in docs):
        assert (await client.get(link, headers=auth(approver))).content == PDF
    mine = (await bidder.data(MY_DOCS))["procurementMyBids"][0]["documents"]
    assert [d["downloadUrl"] for d in mine] == [f"/procurement/bid-documents/{doc_id}"]
    assert (await client.get(f"/procurement/bid-documents/{doc_id}", headers=auth(bidder))).status_code == 200
    assert (await client.get(f"/procurement/bid-documents/{doc_id}", headers=auth(rival))).status_code == 404
    assert (await client.get(f"/procurement/bid-documents/{doc_id}")).status_code == 401
    assert [b["priceFen"] for b in (await bidder.data(MY_BIDS))["procurementMyBids"]] == [2_750_000]
    # another tenant sees neither the bids nor the document
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert (await outsider.gql(BIDS, {"id": call["id"]}))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await client.get(f"/procurement/bid-documents/{doc_id}", headers=auth(outsider))).status_code == 404


async def test_award_standstill_and_a_complaint_that_pauses_the_call(api, fast, staff) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    call, orgs = await bidding_closed(api, clerk, approver, fast, [2_000_000, 2_200_000])
    (winner, _), (loser, _) = orgs
    outsider_org, _ = await new_org(api, fast, approver)
    judge = await evaluator(api, fast, approver, call["id"])
    bids = sorted((await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"], key=lambda b: b["priceFen"])
    for bid, p in zip(bids, (90, 70), strict=True):
        assert (await judge.data(SCORE, {"c": call["id"], "b": bid["id"], "s": points(p)}))[
            "procurementScoreSubmit"]["errors"] == []
    best = bids[0]
    done = (await approver.data(AWARD, {"id": call["id"], "b": best["id"], "r": ["综合得分最高"]}))["procurementCallAward"]
    assert done["errors"] == [] and done["call"]["state"] == "standstill"
    assert done["call"]["awardBidId"] == best["id"] and done["call"]["awardReasons"] == ["综合得分最高"]
    # only a bidder complains; the complaint pauses the standstill (the timer leaves the call alone)
    assert _codes((await outsider_org.data(COMPLAIN, {"id": call["id"], "t": "不公"}))["procurementComplaintFile"]) == \
        [("callId", "NOT_ELIGIBLE")]
    paused = (await loser.data(COMPLAIN, {"id": call["id"], "t": "中标人资质存疑"}))["procurementComplaintFile"]
    assert paused["errors"] == [] and paused["call"]["state"] == "complaint"
    await run_timers(fast, parse(done["call"]["standstillEnd"]) + dt.timedelta(days=30))
    assert (await clerk.data(CALL_ONE, {"id": call["id"]}))["procurementCall"]["state"] == "complaint"
    dismissed = (await approver.data(STEP, {"id": call["id"], "s": "DISMISS", "r": ["资质经核实无误"]}))["procurementCallStep"]
    assert dismissed["errors"] == [] and dismissed["call"]["state"] == "standstill"
    await run_timers(fast, parse(dismissed["call"]["standstillEnd"]))
    assert (await clerk.data(CALL_ONE, {"id": call["id"]}))["procurementCall"]["state"] == "awarded"


async def test_an_upheld_complaint_sends_the_call_back_to_evaluation(api, fast, staff) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    call, orgs = await bidding_closed(api, clerk, approver, fast, [1_000_000, 1_100_000])
    judge = await evaluator(api, fast, approver, call["id"])
    bids = sorted((await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"], key=lambda b: b["priceFen"])
    for bid in bids:
        await judge.data(SCORE, {"c": call["id"], "b": bid["id"], "s": points(80)})
    # equal scores, no union on either side: the lower price ranks first
    done = (await approver.data(AWARD, {"id": call["id"], "b": bids[0]["id"], "r": ["同分取低价"]}))["procurementCallAward"]
    assert done["errors"] == [], done
    assert (await orgs[1][0].data(COMPLAIN, {"id": call["id"], "t": "评分有误"}))["procurementComplaintFile"]["errors"] == []
    upheld = (await approver.data(STEP, {"id": call["id"], "s": "UPHOLD", "r": ["评分须复核"]}))["procurementCallStep"]
    assert upheld["call"]["state"] == "evaluation" and upheld["call"]["awardBidId"] is None


COMPLAINTS = "query($id: ID!) { procurementCall(id: $id) { state complaints { id orgName text outcome resolution } } }"
RESOLVE = """mutation($id: ID!, $u: Boolean!, $r: String!) { procurementComplaintResolve(complaintId: $id, uphold: $u,
  resolution: $r) { complaint { outcome resolution decidedAt } call { state } errors { field code message } } }"""


async def test_a_complaints_text_reaches_the_approver_and_its_resolution_the_bidder(api, fast, staff, tmp_path) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    call, orgs = await bidding_closed(api, clerk, approver, fast, [1_300_000, 1_400_000])
    judge = await evaluator(api, fast, approver, call["id"])
    bids = sorted((await approver.data(BIDS, {"id": call["id"]}))["procurementCallBids"], key=lambda b: b["priceFen"])
    for bid in bids:
        await judge.data(SCORE, {"c": call["id"], "b": bid["id"], "s": points(80)})
    done = (await approver.data(AWARD, {"id": call["id"], "b": bids[0]["id"], "r": ["同分取低价"]}))["procurementCallAward"]
    assert done["errors"] == [], done
    (cheap, cheap_org), (dear, dear_org) = orgs  # one per price, in order
    assert bids[0]["orgId"] == cheap_org["id"]
    filed = (await dear.data(COMPLAIN, {"id": call["id"], "t": "中标人的讲师资质证书已过期"}))["procurementComplaintFile"]
    assert filed["errors"] == [], filed
    seen = (await approver.data(COMPLAINTS, {"id": call["id"]}))["procurementCall"]
    assert [(c["orgName"], c["text"], c["outcome"]) for c in seen["complaints"]] == [
        (dear_org["name"], "中标人的讲师资质证书已过期", "")]
    complaint_id = seen["complaints"][0]["id"]
    # the complainant sees its own complaint, another bidder none
    assert [c["text"] for c in (await dear.data(COMPLAINTS, {"id": call["id"]}))["procurementCall"]["complaints"]] == [
        "中标人的讲师资质证书已过期"]
    assert (await cheap.data(COMPLAINTS, {"id": call["id"]}))["procurementCall"]["complaints"] == []
    # a resolution is required, from an approver of the call, once
    assert _codes((await approver.data(RESOLVE, {"id": complaint_id, "u": False, "r": "  "}))[
        "procurementComplaintResolve"]) == [("resolution", "INVALID_INPUT")]
    assert [e["code"] for e in (await clerk.data(RESOLVE, {"id": complaint_id, "u": False, "r": "x"}))[
        "procurementComplaintResolve"]["errors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in (await dear.data(RESOLVE, {"id": complaint_id, "u": True, "r": "x"}))[
        "procurementComplaintResolve"]["errors"]] == ["FORBIDDEN"]
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "approver", other.root_unit)).api
    assert _codes((await outsider.data(RESOLVE, {"id": complaint_id, "u": True, "r": "x"}))[
        "procurementComplaintResolve"]) == [("complaintId", "NOT_FOUND")]
    resolved = (await approver.data(RESOLVE, {"id": complaint_id, "u": False, "r": "经核实，证书在有效期内"}))[
        "procurementComplaintResolve"]
    assert resolved["errors"] == [] and resolved["call"]["state"] == "standstill"
    assert (resolved["complaint"]["outcome"], resolved["complaint"]["resolution"]) == ("dismissed", "经核实，证书在有效期内")
    assert resolved["complaint"]["decidedAt"] is not None
    assert _codes((await approver.data(RESOLVE, {"id": complaint_id, "u": True, "r": "再议"}))[
        "procurementComplaintResolve"]) == [("complaintId", "INVALID_STATE")]
    mine = (await dear.data(COMPLAINTS, {"id": call["id"]}))["procurementCall"]["complaints"]
    assert [(c["outcome"], c["resolution"]) for c in mine] == [("dismissed", "经核实，证书在有效期内")]
    # the dismiss step's reasons are a resolution too
    again = (await dear.data(COMPLAIN, {"id": call["id"], "t": "仍有异议"}))["procurementComplaintFile"]
    assert again["errors"] == [], again
    upheld = (await approver.data(STEP, {"id": call["id"], "s": "UPHOLD", "r": ["评分须复核"]}))["procurementCallStep"]
    assert upheld["call"]["state"] == "evaluation"
    mine = (await dear.data(COMPLAINTS, {"id": call["id"]}))["procurementCall"]["complaints"]
    assert [(c["outcome"], c["resolution"]) for c in mine] == [("dismissed", "经核实，证书在有效期内"),
                                                               ("upheld", "评分须复核")]


NEED = """mutation($u: ID!, $t: String!, $b: BigInt!) { procurementNeedCreate(orgUnitId: $u, category: "legal_aid", title: $t,
  budgetFen: $b) { need { id } errors { field code } } }"""
CALL_NEED = "query($id: ID!) { procurementCall(id: $id) { needId need { id title budgetFen } } }"


async def test_a_call_drafted_from_a_need_shows_it_to_staff_only(api, fast, staff, tmp_path) -> None:
    clerk, approver = staff["clerk"], staff["approver"]
    need = (await clerk.data(NEED, {"u": fast.unit_ids[fast.root_unit], "t": "法律知识进企业", "b": 2_000_000}))[
        "procurementNeedCreate"]["need"]
    over = (await clerk.data(CREATE_CALL, {"i": call_input(fast, needId=need["id"], budgetFen=2_000_001)}))[
        "procurementCallCreate"]
    assert _codes(over) == [("budgetFen", "CAP_EXCEEDED")]
    other = await create_plugin_tenant(["procurement"], tmp_path)
    foreign_clerk = (await persona(api, other.code, "clerk", other.root_unit)).api
    foreign = (await foreign_clerk.data(NEED, {"u": other.unit_ids[other.root_unit], "t": "别省需求", "b": 100}))[
        "procurementNeedCreate"]["need"]
    assert _codes((await clerk.data(CREATE_CALL, {"i": call_input(fast, needId=foreign["id"])}))[
        "procurementCallCreate"]) == [("needId", "NOT_FOUND")]
    call = await published_call(clerk, approver, fast, needId=need["id"], budgetFen=2_000_000)
    seen = (await approver.data(CALL_NEED, {"id": call["id"]}))["procurementCall"]
    assert seen == {"needId": need["id"], "need": {"id": need["id"], "title": "法律知识进企业", "budgetFen": 2_000_000}}
    bidder, _ = await new_org(api, fast, approver)
    assert (await bidder.data(CALL_NEED, {"id": call["id"]}))["procurementCall"]["need"] is None

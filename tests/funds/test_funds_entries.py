"""Manual entries through GraphQL: balances, idempotency, bad input (typed code, nothing written),
roles, tenants, maker-checker and reversals."""

from __future__ import annotations

import datetime as dt

from tests.funds.helpers import (
    ACCOUNTS,
    ENTRY_CREATE,
    REVERSE,
    balance,
    codes,
    counts,
    entry,
    fund_cash,
    integrity,
    key,
    line,
    make_tree,
    user_with,
)


async def test_manual_entry_posts_balanced_postings_and_updates_balances(api, sh_finance):
    t = await make_tree()
    r = await fund_cash(sh_finance, t.g1, 120_000, memo="区财政补助", sourceType="grant_letter", sourceId="2026-7")
    e = r["entry"]
    assert e["kind"] == "MANUAL" and e["totalFen"] == 120_000 and e["sourceType"] == "grant_letter"
    assert sorted((p["code"], p["side"], p["amountFen"]) for p in e["postings"]) == [
        ("102", "DEBIT", 120_000), ("404", "CREDIT", 120_000)]
    assert await balance(sh_finance, t.g1, "102") == 120_000
    assert await balance(sh_finance, t.g1, "404") == 120_000  # credit-normal, shown on its normal side
    cash = (await sh_finance.api.gql(ACCOUNTS, {"f": {"orgUnitId": t.id("g1"), "code": "102"}}))["data"]["ledgerAccounts"]["nodes"][0]
    assert cash["normalBalance"] == "DEBIT" and cash["noNegative"] and cash["availableFen"] == 120_000
    spend = await entry(sh_finance, [line(t.g1, "501", "DEBIT", 20_000), line(t.g1, "102", "CREDIT", 20_000)])
    assert spend["errors"] == []
    assert await balance(sh_finance, t.g1, "102") == 100_000
    # Entries are listed by account, fund, date and source.
    q = """query($f: LedgerEntryFilter) { ledgerEntries(filter: $f) { totalCount nodes { id } } }"""
    by_source = (await sh_finance.api.gql(q, {"f": {"sourceType": "grant_letter", "sourceId": "2026-7"}}))["data"]
    assert by_source["ledgerEntries"]["nodes"] == [{"id": e["id"]}]
    by_account = (await sh_finance.api.gql(q, {"f": {"accountId": cash["id"], "fund": "general",
                                                     "dateFrom": "2000-01-01", "dateTo": "2100-01-01"}}))["data"]
    assert by_account["ledgerEntries"]["totalCount"] == 2
    node = (await sh_finance.api.gql("query($id: ID!) { node(id: $id) { ... on LedgerEntry { id memo } } }",
                                     {"id": e["id"]}))["data"]["node"]
    assert node == {"id": e["id"], "memo": "区财政补助"}
    await integrity(t.tenant)


async def test_same_idempotency_key_returns_the_first_entry_and_posts_once(api, sh_finance):
    t = await make_tree()
    k = key("idem")
    first = await fund_cash(sh_finance, t.g1, 5_000, k=k)
    again = await fund_cash(sh_finance, t.g1, 5_000, k=k)
    assert again["entry"]["id"] == first["entry"]["id"]
    assert await balance(sh_finance, t.g1, "102") == 5_000
    different = await entry(sh_finance, [line(t.g1, "102", "DEBIT", 7_000), line(t.g1, "404", "CREDIT", 7_000)], k=k)
    assert codes(different) == ["DUPLICATE"] and different["entry"] is None


async def _refused(p, t, postings, expected: str, **extra):
    before = await counts(t.tenant)
    body = await p.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key("bad"), "postings": postings, **extra}})
    assert "errors" not in body, body
    payload = body["data"]["ledgerEntryCreate"]
    assert codes(payload) == [expected], payload
    assert payload["entry"] is None and payload["draft"] is None
    assert await counts(t.tenant) == before
    return payload


async def test_bad_input_gets_a_typed_code_and_writes_nothing(api, sh_finance, bj_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 10_000)
    g1 = t.g1
    # Unbalanced.
    await _refused(sh_finance, t, [line(g1, "501", "DEBIT", 300), line(g1, "102", "CREDIT", 200)], "UNBALANCED")
    # Balanced overall, but across two units' books.
    await _refused(sh_finance, t, [line(g1, "102", "DEBIT", 300), line(t.g2, "404", "CREDIT", 300)], "UNBALANCED")
    # Zero and negative amounts.
    await _refused(sh_finance, t, [line(g1, "501", "DEBIT", 0), line(g1, "102", "CREDIT", 0)], "INVALID_INPUT")
    await _refused(sh_finance, t, [line(g1, "501", "DEBIT", -5), line(g1, "102", "CREDIT", -5)], "INVALID_INPUT")
    # One posting; an account twice; an unknown account code; an over-long key.
    await _refused(sh_finance, t, [line(g1, "501", "DEBIT", 5)], "INVALID_INPUT")
    await _refused(sh_finance, t, [line(g1, "102", "DEBIT", 5), line(g1, "102", "CREDIT", 5)], "INVALID_INPUT")
    await _refused(sh_finance, t, [line(g1, "999", "DEBIT", 5), line(g1, "102", "CREDIT", 5)], "INVALID_INPUT")
    body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": "x" * 201, "postings": [
        line(g1, "501", "DEBIT", 5), line(g1, "102", "CREDIT", 5)]}})
    assert codes(body["data"]["ledgerEntryCreate"]) == ["INVALID_INPUT"]
    # Unknown fund.
    await _refused(sh_finance, t, [line(g1, "501", "DEBIT", 5, fund="nope"), line(g1, "102", "CREDIT", 5, fund="nope")],
                   "NOT_FOUND")
    # More than the cash there is.
    await _refused(sh_finance, t, [line(g1, "501", "DEBIT", 10_001), line(g1, "102", "CREDIT", 10_001)],
                   "INSUFFICIENT_FUNDS")
    # An account of another tenant: not found (no hint that it exists).
    bt = await make_tree("beijing")
    bj = await fund_cash(bj_finance, bt.g1, 100)
    bj_cash = [p["account"]["id"] for p in bj["entry"]["postings"] if p["code"] == "102"][0]
    await _refused(sh_finance, t, [{"accountId": bj_cash, "side": "CREDIT", "amountFen": 5},
                                   line(g1, "501", "DEBIT", 5)], "NOT_FOUND")
    await _refused(sh_finance, t, [line(bt.g1, "501", "DEBIT", 5), line(bt.g1, "102", "CREDIT", 5)], "NOT_FOUND")
    # An account of another subtree: a finance officer of county A cannot touch county B.
    other = await make_tree()
    county_finance = await user_with(api, "shanghai", [("finance", t.county)])
    await fund_cash(sh_finance, other.g1, 1_000)
    await _refused(county_finance, t, [line(other.g1, "501", "DEBIT", 5), line(other.g1, "102", "CREDIT", 5)],
                   "FORBIDDEN")
    await _refused(county_finance, t, [line(g1, "501", "DEBIT", 5), line(g1, "102", "CREDIT", 5),
                                       line(other.g1, "501", "DEBIT", 5), line(other.g1, "102", "CREDIT", 5)],
                   "FORBIDDEN")
    # ...but can post inside its own subtree.
    ok = await entry(county_finance, [line(g1, "501", "DEBIT", 5), line(g1, "102", "CREDIT", 5)])
    assert ok["errors"] == []
    # Amounts beyond the 64-bit range never reach the database.
    body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": [
        line(g1, "501", "DEBIT", 2**70), line(g1, "102", "CREDIT", 2**70)]}}, expect_status=None)
    assert body.get("errors") and "data" not in body or body["data"] is None
    await integrity(t.tenant)


async def test_closed_period_refuses_postings(api, sh_finance, sh_admin):
    t = await make_tree()
    close = """mutation($p: String!) { ledgerPeriodClose(period: $p) { period { period closedAt } errors { code field } } }"""
    # Only finance at the root may close; a tenant admin may not.
    assert codes((await sh_admin.api.gql(close, {"p": "2024-02"}))["data"]["ledgerPeriodClose"]) == ["FORBIDDEN"]
    closed = (await sh_finance.api.gql(close, {"p": "2024-02"}))["data"]["ledgerPeriodClose"]
    assert closed["errors"] == [] and closed["period"]["period"] == "2024-02"
    again = (await sh_finance.api.gql(close, {"p": "2024-02"}))["data"]["ledgerPeriodClose"]
    assert again["errors"] == [] and again["period"]["closedAt"] == closed["period"]["closedAt"]
    future = (dt.date.today() + dt.timedelta(days=40)).strftime("%Y-%m")
    assert codes((await sh_finance.api.gql(close, {"p": future}))["data"]["ledgerPeriodClose"]) == ["INVALID_INPUT"]
    assert codes((await sh_finance.api.gql(close, {"p": "2024-13"}))["data"]["ledgerPeriodClose"]) == ["INVALID_INPUT"]
    await _refused(sh_finance, t, [line(t.g1, "102", "DEBIT", 5), line(t.g1, "404", "CREDIT", 5)], "PERIOD_CLOSED",
                   entryDate="2024-02-15")
    ok = await entry(sh_finance, [line(t.g1, "102", "DEBIT", 5), line(t.g1, "404", "CREDIT", 5)],
                     entryDate="2024-03-01")
    assert ok["errors"] == []
    periods = (await sh_finance.api.gql("{ ledgerPeriods { period } }"))["data"]["ledgerPeriods"]
    assert {"period": "2024-02"} in periods


async def test_roles_and_tenants(api, sh_finance, sh_approver, sh_auditor, sh_clerk_root, bj_finance):
    t = await make_tree()
    posted = await fund_cash(sh_finance, t.g1, 1_000)
    postings = [line(t.g1, "501", "DEBIT", 5), line(t.g1, "102", "CREDIT", 5)]
    for who in (sh_approver, sh_auditor, sh_clerk_root):
        body = await who.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": postings}})
        assert codes(body["data"]["ledgerEntryCreate"]) == ["FORBIDDEN"]
    anon = await api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": postings}})
    assert codes(anon["data"]["ledgerEntryCreate"]) == ["UNAUTHENTICATED"]
    # Auditors and clerks read; a clerk only their own subtree.
    eid = posted["entry"]["id"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await sh_auditor.api.gql(node, {"id": eid}))["data"]["node"] == {"id": eid}
    other = await make_tree()
    clerk_here = await user_with(api, "shanghai", [("clerk", t.county)])
    clerk_there = await user_with(api, "shanghai", [("clerk", other.county)])
    assert (await clerk_here.api.gql(node, {"id": eid}))["data"]["node"] == {"id": eid}
    assert (await clerk_there.api.gql(node, {"id": eid}))["data"]["node"] is None
    listed = (await clerk_there.api.gql(ACCOUNTS, {"f": {"orgUnitId": t.id("g1")}}))["data"]["ledgerAccounts"]
    assert listed["totalCount"] == 0
    q = "{ ledgerEntries(first: 100) { totalCount nodes { id } } }"
    assert eid not in [n["id"] for n in (await clerk_there.api.gql(q))["data"]["ledgerEntries"]["nodes"]]
    # Another tenant sees nothing and cannot address the units.
    assert (await bj_finance.api.gql(node, {"id": eid}))["data"]["node"] is None
    assert eid not in [n["id"] for n in (await bj_finance.api.gql(q))["data"]["ledgerEntries"]["nodes"]]
    # A worker-level role has no ledger access at all.
    worker = await user_with(api, "shanghai", [("worker", None)])
    body = await worker.api.gql("{ ledgerAccounts { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


DRAFT_APPROVE = """mutation($id: ID!) { ledgerDraftApprove(id: $id) { entry { id totalFen approvedById createdById }
  draft { id status decidedById } errors { code field message } } }"""
DRAFT_REJECT = """mutation($id: ID!, $r: String!) { ledgerDraftReject(id: $id, reason: $r) { draft { id status reason }
  errors { code } } }"""


async def test_maker_checker_above_the_threshold(api, sh_finance, sh_approver, sh_admin):
    t = await make_tree()
    cfg = """mutation($v: BigInt) { ledgerConfigUpdate(manualEntryThresholdFen: $v) { config { manualEntryThresholdFen } errors { code } } }"""
    # Only a tenant admin configures; a finance officer may not.
    assert codes((await sh_finance.api.gql(cfg, {"v": 1}))["data"]["ledgerConfigUpdate"]) == ["FORBIDDEN"]
    default = (await sh_admin.api.gql("{ ledgerConfig { manualEntryThresholdFen } }"))["data"]["ledgerConfig"]
    assert default["manualEntryThresholdFen"] == 5_000_000
    big = 6_000_000
    before = await counts(t.tenant)
    made = await entry(sh_finance, [line(t.g1, "102", "DEBIT", big), line(t.g1, "404", "CREDIT", big)])
    assert made["errors"] == [] and made["entry"] is None and made["draft"]["status"] == "PENDING_APPROVAL"
    after = await counts(t.tenant)
    assert after["ledger_entry"] == before["ledger_entry"] and after["ledger_draft"] == before["ledger_draft"] + 1
    assert await balance(sh_finance, t.g1, "102") == 0
    draft_id = made["draft"]["id"]
    # The maker cannot approve, even holding the approver role too.
    both = await user_with(api, "shanghai", [("finance", None), ("approver", None)])
    own = await entry(both, [line(t.g1, "102", "DEBIT", big), line(t.g1, "404", "CREDIT", big)])
    own_result = (await both.api.gql(DRAFT_APPROVE, {"id": own["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert codes(own_result) == ["SELF_APPROVAL"] and own_result["entry"] is None
    own_reject = (await both.api.gql(DRAFT_REJECT, {"id": own["draft"]["id"], "r": "x"}))["data"]["ledgerDraftReject"]
    assert codes(own_reject) == ["SELF_APPROVAL"]
    # A finance officer without the approver role cannot approve.
    assert codes((await sh_finance.api.gql(DRAFT_APPROVE, {"id": own["draft"]["id"]}))["data"]["ledgerDraftApprove"]) == ["FORBIDDEN"]
    # A second person approves: the entry is posted with maker and checker.
    ok = (await sh_approver.api.gql(DRAFT_APPROVE, {"id": draft_id}))["data"]["ledgerDraftApprove"]
    assert ok["errors"] == [] and ok["draft"]["status"] == "APPROVED" and ok["entry"]["totalFen"] == big
    assert ok["entry"]["approvedById"] and ok["entry"]["approvedById"] != ok["entry"]["createdById"]
    assert await balance(sh_finance, t.g1, "102") == big
    twice = (await sh_approver.api.gql(DRAFT_APPROVE, {"id": draft_id}))["data"]["ledgerDraftApprove"]
    assert codes(twice) == ["INVALID_STATE"]
    # Repeating the maker's request returns the same draft (now approved), never a second one.
    repeat = await entry(sh_finance, [line(t.g1, "102", "DEBIT", big), line(t.g1, "404", "CREDIT", big)])
    assert repeat["draft"]["id"] != draft_id  # a new key is a new request
    # Rejection needs a reason and posts nothing.
    rej = (await sh_approver.api.gql(DRAFT_REJECT, {"id": own["draft"]["id"], "r": "金额有误"}))["data"]["ledgerDraftReject"]
    assert rej["errors"] == [] and rej["draft"]["status"] == "REJECTED" and rej["draft"]["reason"] == "金额有误"
    pending = (await sh_approver.api.gql("{ ledgerDrafts(status: PENDING_APPROVAL, first: 100) { nodes { id } } }"))
    assert repeat["draft"]["id"] in [n["id"] for n in pending["data"]["ledgerDrafts"]["nodes"]]
    # A lower threshold for the tenant, then back to the default.
    set_low = (await sh_admin.api.gql(cfg, {"v": 100}))["data"]["ledgerConfigUpdate"]
    assert set_low["config"]["manualEntryThresholdFen"] == 100
    low = await entry(sh_finance, [line(t.g2, "102", "DEBIT", 101), line(t.g2, "404", "CREDIT", 101)])
    assert low["draft"] is not None
    reset = (await sh_admin.api.gql(cfg, {"v": None}))["data"]["ledgerConfigUpdate"]
    assert reset["config"]["manualEntryThresholdFen"] == 5_000_000
    await integrity(t.tenant)


async def test_draft_repeat_with_same_key_returns_the_same_draft(api, sh_finance):
    t = await make_tree()
    k = key("draft")
    postings = [line(t.g1, "102", "DEBIT", 7_000_000), line(t.g1, "404", "CREDIT", 7_000_000)]
    a = await entry(sh_finance, postings, k=k)
    b = await entry(sh_finance, postings, k=k)
    assert a["draft"]["id"] == b["draft"]["id"]


async def test_reversal_restores_balances_and_cannot_be_reversed(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 10_000)
    spend = await entry(sh_finance, [line(t.g1, "503", "DEBIT", 4_000), line(t.g1, "102", "CREDIT", 4_000)])
    eid = spend["entry"]["id"]
    rk = key("rev")
    rev = (await sh_finance.api.gql(REVERSE, {"i": {"id": eid, "idempotencyKey": rk, "memo": "录入错误"}}))["data"]["ledgerEntryReverse"]
    assert rev["errors"] == [] and rev["entry"]["kind"] == "REVERSAL" and rev["entry"]["reverses"]["id"] == eid
    assert sorted((p["code"], p["signedAmountFen"]) for p in rev["entry"]["postings"]) == [("102", 4_000), ("503", -4_000)]
    assert await balance(sh_finance, t.g1, "102") == 10_000
    assert await balance(sh_finance, t.g1, "503") == 0
    same = (await sh_finance.api.gql(REVERSE, {"i": {"id": eid, "idempotencyKey": rk, "memo": "录入错误"}}))["data"]["ledgerEntryReverse"]
    assert same["entry"]["id"] == rev["entry"]["id"]
    before = await counts(t.tenant)
    again = (await sh_finance.api.gql(REVERSE, {"i": {"id": eid, "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert codes(again) == ["INVALID_STATE"]
    rr = (await sh_finance.api.gql(REVERSE, {"i": {"id": rev["entry"]["id"], "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert codes(rr) == ["INVALID_STATE"] and rr["entry"] is None
    assert await counts(t.tenant) == before
    q = "query($id: ID!) { node(id: $id) { ... on LedgerEntry { reversedBy { id } } } }"
    assert (await sh_finance.api.gql(q, {"id": eid}))["data"]["node"]["reversedBy"]["id"] == rev["entry"]["id"]
    # Reversing money in after it was spent would overdraw the cash: refused.
    inflow = await fund_cash(sh_finance, t.g2, 1_000)
    await entry(sh_finance, [line(t.g2, "501", "DEBIT", 800), line(t.g2, "102", "CREDIT", 800)])
    over = (await sh_finance.api.gql(REVERSE, {"i": {"id": inflow["entry"]["id"], "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert codes(over) == ["INSUFFICIENT_FUNDS"]
    await integrity(t.tenant)


async def test_funds_and_mutual_aid_fund_creation(api, sh_finance, sh_admin, sh_clerk_root):
    funds = (await sh_clerk_root.api.gql("{ funds { code kind name } }"))["data"]["funds"]
    assert {"general", "hardship", "warmth", "procurement"} <= {f["code"] for f in funds}
    create = """mutation($i: FundCreateInput!) { fundCreate(input: $i) { fund { code kind name } errors { code } } }"""
    plan = key("plan").lower()
    made = (await sh_admin.api.gql(create, {"i": {"kind": "MUTUAL_AID", "code": plan, "name": "在职职工住院医疗互助"}}))["data"]["fundCreate"]
    assert made["errors"] == [] and made["fund"] == {"code": f"mutual_aid.{plan}", "kind": "MUTUAL_AID",
                                                     "name": "在职职工住院医疗互助"}
    dup = (await sh_admin.api.gql(create, {"i": {"kind": "MUTUAL_AID", "code": plan, "name": "x"}}))["data"]["fundCreate"]
    assert codes(dup) == ["DUPLICATE"]
    assert codes((await sh_admin.api.gql(create, {"i": {"kind": "GENERAL", "code": "g2", "name": "x"}}))["data"]["fundCreate"]) == ["INVALID_INPUT"]
    assert codes((await sh_clerk_root.api.gql(create, {"i": {"kind": "MUTUAL_AID", "code": "zz", "name": "x"}}))["data"]["fundCreate"]) == ["FORBIDDEN"]
    t = await make_tree()
    r = await fund_cash(sh_finance, t.g1, 300, fund=f"mutual_aid.{plan}")
    assert {p["fund"]["code"] for p in r["entry"]["postings"]} == {f"mutual_aid.{plan}"}

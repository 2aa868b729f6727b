"""One maker-checker rule on every path that moves money out: a manual entry, a reservation (paid
later), a transfer between levels, a reversal and a small-payer refund above the tenant's approval
threshold wait for a second person with ledger.approve; at the threshold they go through. The maker
can never approve their own, whatever roles they hold."""

from __future__ import annotations

from tests.fixtures.api import persona
from tests.funds.helpers import (
    RES_POST,
    account,
    balance,
    codes,
    counts,
    entry,
    integrity,
    key,
    line,
    make_tree,
    user_with,
)

DRAFT_APPROVE = """mutation($id: ID!) { ledgerDraftApprove(id: $id) { entry { id kind totalFen approvedById createdById
  reverses { id } } draft { id kind status } errors { code field message } } }"""
RES_APPROVE = """mutation($id: ID!) { reservationApprove(id: $id) { reservation { id status approvedById remainingFen }
  errors { code field message } } }"""
TRANSFER_D = """mutation($i: LedgerTransferInput!) { ledgerTransfer(input: $i) { direction entry { id kind }
  draft { id kind status totalFen } errors { code field message } } }"""
REVERSE_D = """mutation($i: LedgerEntryReverseInput!) { ledgerEntryReverse(input: $i) { entry { id kind }
  draft { id kind status } errors { code field message } } }"""
RESERVE_S = """mutation($i: ReservationInput!) { reservationCreate(input: $i) { reservation { id status amountFen
  remainingFen approvedById account { availableFen reservedFen } } errors { code field message } } }"""


async def _threshold(p) -> int:
    return (await p.api.gql("{ ledgerConfig { manualEntryThresholdFen } }"))["data"]["ledgerConfig"]["manualEntryThresholdFen"]


async def _cash(p, unit, amount: int, threshold: int, fund: str = "general") -> None:
    """Money in, in entries at or under the threshold (so no approval is needed to seed)."""
    while amount > 0:
        part = min(amount, threshold)
        r = await entry(p, [line(unit, "102", "DEBIT", part, fund), line(unit, "404", "CREDIT", part, fund)])
        assert r["errors"] == [] and r["entry"], r
        amount -= part


async def _maker_checker_pair(api):
    """A maker holding the approver role too (so only SELF_APPROVAL can stop them), and a checker."""
    maker = await user_with(api, "shanghai", [("finance", None), ("approver", None)])
    checker = await user_with(api, "shanghai", [("approver", None)])
    return maker, checker


async def test_manual_entry_just_above_threshold_waits_and_just_at_it_posts(api, sh_finance):
    t = await make_tree()
    limit = await _threshold(sh_finance)
    maker, checker = await _maker_checker_pair(api)
    at = await entry(maker, [line(t.g1, "102", "DEBIT", limit), line(t.g1, "404", "CREDIT", limit)])
    assert at["errors"] == [] and at["entry"] and at["draft"] is None
    above = await entry(maker, [line(t.g1, "501", "DEBIT", limit + 1), line(t.g1, "404", "CREDIT", limit + 1)])
    assert above["entry"] is None and above["draft"]["status"] == "PENDING_APPROVAL"
    own = (await maker.api.gql(DRAFT_APPROVE, {"id": above["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert codes(own) == ["SELF_APPROVAL"]
    ok = (await checker.api.gql(DRAFT_APPROVE, {"id": above["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert ok["errors"] == [] and ok["entry"]["kind"] == "MANUAL" and ok["draft"]["kind"] == "MANUAL"


async def test_reservation_above_threshold_cannot_be_paid_until_a_second_person_approves(api, sh_finance):
    t = await make_tree()
    limit = await _threshold(sh_finance)
    await _cash(sh_finance, t.g1, 2 * limit + 10, limit)
    maker, checker = await _maker_checker_pair(api)
    # Finance alone reserved and paid 6,000,000 fen before: now the reservation waits (money held).
    big = (await maker.api.gql(RESERVE_S, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": limit + 1,
                                                 "expenseCode": "501", "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert big["errors"] == [] and big["reservation"]["status"] == "PENDING_APPROVAL", big
    assert big["reservation"]["account"]["reservedFen"] == limit + 1  # held while it waits
    rid = big["reservation"]["id"]
    before = await counts(t.tenant)
    paid = (await maker.api.gql(RES_POST, {"i": {"id": rid, "idempotencyKey": key()}}))["data"]["reservationPost"]
    assert codes(paid) == ["INVALID_STATE"] and paid["entry"] is None
    assert await counts(t.tenant) == before
    # The maker cannot approve it; finance without ledger.approve cannot either.
    assert codes((await maker.api.gql(RES_APPROVE, {"id": rid}))["data"]["reservationApprove"]) == ["SELF_APPROVAL"]
    assert codes((await sh_finance.api.gql(RES_APPROVE, {"id": rid}))["data"]["reservationApprove"]) == ["FORBIDDEN"]
    # Another province's approver does not even find it; an approver of another subtree may not approve.
    bj_approver = await persona(api, "beijing", "approver")
    assert codes((await bj_approver.api.gql(RES_APPROVE, {"id": rid}))["data"]["reservationApprove"]) == ["NOT_FOUND"]
    elsewhere = await user_with(api, "shanghai", [("approver", (await make_tree()).county)])
    assert codes((await elsewhere.api.gql(RES_APPROVE, {"id": rid}))["data"]["reservationApprove"]) == ["FORBIDDEN"]
    approved = (await checker.api.gql(RES_APPROVE, {"id": rid}))["data"]["reservationApprove"]
    assert approved["errors"] == [] and approved["reservation"]["status"] == "OPEN"
    assert approved["reservation"]["approvedById"]
    assert codes((await checker.api.gql(RES_APPROVE, {"id": rid}))["data"]["reservationApprove"]) == ["INVALID_STATE"]
    paid = (await maker.api.gql(RES_POST, {"i": {"id": rid, "idempotencyKey": key()}}))["data"]["reservationPost"]
    assert paid["errors"] == [] and paid["reservation"]["status"] == "POSTED"
    assert await balance(sh_finance, t.g1, "501") == limit + 1
    # At the threshold a reservation is open at once and can be paid by the maker alone.
    at = (await maker.api.gql(RESERVE_S, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": limit,
                                                "expenseCode": "502", "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert at["reservation"]["status"] == "OPEN" and at["reservation"]["approvedById"] is None
    paid = (await maker.api.gql(RES_POST, {"i": {"id": at["reservation"]["id"], "idempotencyKey": key()}}))["data"]["reservationPost"]
    assert paid["errors"] == []
    await integrity(t.tenant)


async def test_pending_reservation_refused_by_voiding_releases_the_hold(api, sh_finance):
    from tests.funds.helpers import RES_VOID

    t = await make_tree()
    limit = await _threshold(sh_finance)
    await _cash(sh_finance, t.g1, limit + 1, limit)
    made = (await sh_finance.api.gql(RESERVE_S, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": limit + 1,
                                                       "expenseCode": "501", "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert made["reservation"]["status"] == "PENDING_APPROVAL" and made["reservation"]["account"]["availableFen"] == 0
    voided = (await sh_finance.api.gql(RES_VOID, {"id": made["reservation"]["id"]}))["data"]["reservationVoid"]
    assert voided["errors"] == [] and voided["reservation"]["status"] == "VOIDED"
    assert (await account(sh_finance, t.g1, "102"))["availableFen"] == limit + 1
    await integrity(t.tenant)


async def test_reservation_approved_in_code_needs_a_checker_other_than_the_maker(api, sh_finance):
    from core.actor import Actor
    from core.context import tenant_scope
    from core.errors import DomainError, ErrorCode
    from core.funds import services

    t = await make_tree()
    limit = await _threshold(sh_finance)
    await _cash(sh_finance, t.g1, limit + 1, limit)
    with tenant_scope(t.tenant):
        maker = Actor(101, "maker")
        try:
            await services.reserve(t.tenant, maker, unit=t.g1, fund="general", amount_fen=limit + 1,
                                   expense_code="501", key="aid-1", approved_by=101)
            raise AssertionError("self-approval accepted")
        except DomainError as exc:
            assert exc.code is ErrorCode.SELF_APPROVAL
        rid = await services.reserve(t.tenant, maker, unit=t.g1, fund="general", amount_fen=limit + 1,
                                     expense_code="501", key="aid-1", approved_by=202)
        entry_id = await services.post_reservation(t.tenant, maker, rid, key="pay")
    assert entry_id and await balance(sh_finance, t.g1, "501") == limit + 1


async def test_transfer_above_threshold_is_a_draft_until_approved_and_at_threshold_posts(api, sh_finance):
    t = await make_tree()
    limit = await _threshold(sh_finance)
    await _cash(sh_finance, t.county, 2 * limit + 1, limit)
    maker, checker = await _maker_checker_pair(api)
    before = await counts(t.tenant)
    down = (await maker.api.gql(TRANSFER_D, {"i": {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"),
                                                   "amountFen": limit + 1, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    assert down["errors"] == [] and down["entry"] is None and down["direction"] == "DOWN"
    assert down["draft"]["kind"] == "TRANSFER_DOWN" and down["draft"]["status"] == "PENDING_APPROVAL"
    after = await counts(t.tenant)
    assert after["ledger_entry"] == before["ledger_entry"] and after["ledger_transfer"] == before["ledger_transfer"]
    assert await balance(sh_finance, t.g1, "102") == 0  # nothing moved (the draft names the accounts)
    own = (await maker.api.gql(DRAFT_APPROVE, {"id": down["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert codes(own) == ["SELF_APPROVAL"]
    ok = (await checker.api.gql(DRAFT_APPROVE, {"id": down["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert ok["errors"] == [] and ok["entry"]["kind"] == "TRANSFER_DOWN" and ok["entry"]["approvedById"]
    assert await balance(sh_finance, t.g1, "102") == limit + 1
    assert await balance(sh_finance, t.g1, "403") == limit + 1
    # The approved transfer shows in the flows report (its transfer row came with it).
    fl = """query($i: ReportInput!) { hierarchyFlows(input: $i) { downFen } }"""
    flows = (await sh_finance.api.gql(fl, {"i": {"subtreeOf": t.id("county"), "dateTo": "2100-01-01"}}))["data"]
    assert flows["hierarchyFlows"]["downFen"] == limit + 1
    at = (await maker.api.gql(TRANSFER_D, {"i": {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g2"),
                                                 "amountFen": limit, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    assert at["errors"] == [] and at["entry"]["kind"] == "TRANSFER_DOWN" and at["draft"] is None
    # Up (上解) too: the payer owes it, the amount is above the threshold, a second person approves.
    for part in (limit, 1):  # (two entries: one above the threshold would itself wait for approval)
        await entry(sh_finance, [line(t.g1, "311", "DEBIT", part), line(t.g1, "221", "CREDIT", part)])
    up = (await maker.api.gql(TRANSFER_D, {"i": {"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"),
                                                 "amountFen": limit + 1, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    assert up["draft"]["kind"] == "TRANSFER_UP" and up["entry"] is None
    ok = (await checker.api.gql(DRAFT_APPROVE, {"id": up["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert ok["errors"] == [] and ok["entry"]["kind"] == "TRANSFER_UP"
    assert await balance(sh_finance, t.g1, "221") == 0
    await integrity(t.tenant)


async def test_reversal_above_threshold_waits_for_approval_and_is_posted_once(api, sh_finance, sh_approver):
    t = await make_tree()
    limit = await _threshold(sh_finance)
    maker, checker = await _maker_checker_pair(api)
    small = await entry(sh_finance, [line(t.g1, "102", "DEBIT", limit), line(t.g1, "404", "CREDIT", limit)])
    big = await entry(sh_finance, [line(t.g1, "102", "DEBIT", limit + 1), line(t.g1, "404", "CREDIT", limit + 1)])
    big = (await sh_approver.api.gql(DRAFT_APPROVE, {"id": big["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert big["errors"] == []
    # At the threshold a reversal posts directly.
    r = (await maker.api.gql(REVERSE_D, {"i": {"id": small["entry"]["id"], "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert r["errors"] == [] and r["entry"]["kind"] == "REVERSAL" and r["draft"] is None
    # Above it: a draft; cash stays until a second person approves.
    r = (await maker.api.gql(REVERSE_D, {"i": {"id": big["entry"]["id"], "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert r["errors"] == [] and r["entry"] is None and r["draft"]["kind"] == "REVERSAL"
    assert await balance(sh_finance, t.g1, "102") == limit + 1
    second = (await maker.api.gql(REVERSE_D, {"i": {"id": big["entry"]["id"], "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert second["draft"] and second["draft"]["id"] != r["draft"]["id"]
    assert codes((await maker.api.gql(DRAFT_APPROVE, {"id": r["draft"]["id"]}))["data"]["ledgerDraftApprove"]) == ["SELF_APPROVAL"]
    ok = (await checker.api.gql(DRAFT_APPROVE, {"id": r["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert ok["errors"] == [] and ok["entry"]["reverses"]["id"] == big["entry"]["id"]
    assert await balance(sh_finance, t.g1, "102") == 0
    # The other pending reversal of the same entry can no longer be approved.
    again = (await checker.api.gql(DRAFT_APPROVE, {"id": second["draft"]["id"]}))["data"]["ledgerDraftApprove"]
    assert codes(again) == ["INVALID_STATE"] and again["entry"] is None
    await integrity(t.tenant)


REFUND = """mutation($i: SmallPayerRefundInput!) { smallPayerRefund(input: $i) { upwardPaidFen entry { id kind }
  draft { id kind status totalFen } errors { code field message } } }"""
CFG = """mutation($v: BigInt) { ledgerConfigUpdate(manualEntryThresholdFen: $v) { config { manualEntryThresholdFen }
  errors { code } } }"""


async def test_small_payer_refund_above_threshold_waits_for_approval(api, sh_finance, sh_admin):
    t = await make_tree()
    levy = """mutation($i: LevyInput!) { levyRecord(input: $i) { errors { code } } }"""
    for unit, payroll in (("g1", 1_000_000), ("g2", 500_000)):  # upward 8,000 and 4,000 fen in policy year 2019
        r = await sh_finance.api.gql(levy, {"i": {"orgUnitId": t.id(unit), "periodStart": "2020-01-01",
                                                  "periodEnd": "2020-01-31", "payrollFen": payroll,
                                                  "idempotencyKey": key(), "entryDate": "2020-03-02"}})
        assert r["data"]["levyRecord"]["errors"] == []
    maker, checker = await _maker_checker_pair(api)
    # The national refund is under 10,000 元, far below the default threshold: lower it for this test.
    assert (await sh_admin.api.gql(CFG, {"v": 4_000}))["data"]["ledgerConfigUpdate"]["errors"] == []
    try:
        above = (await maker.api.gql(REFUND, {"i": {"orgUnitId": t.id("g1"), "policyYear": 2019}}))["data"]["smallPayerRefund"]
        assert above["errors"] == [] and above["entry"] is None and above["draft"]["kind"] == "SMALL_PAYER_REFUND"
        assert await balance(sh_finance, t.g1, "403") == 0
        assert codes((await maker.api.gql(DRAFT_APPROVE, {"id": above["draft"]["id"]}))["data"]["ledgerDraftApprove"]) == ["SELF_APPROVAL"]
        ok = (await checker.api.gql(DRAFT_APPROVE, {"id": above["draft"]["id"]}))["data"]["ledgerDraftApprove"]
        assert ok["errors"] == [] and ok["entry"]["kind"] == "SMALL_PAYER_REFUND"
        assert await balance(sh_finance, t.g1, "403") == 8_000
        # Asking again returns the approved refund, never a second one.
        again = (await maker.api.gql(REFUND, {"i": {"orgUnitId": t.id("g1"), "policyYear": 2019}}))["data"]["smallPayerRefund"]
        assert again["errors"] == [] and again["entry"]["id"] == ok["entry"]["id"]
        at = (await maker.api.gql(REFUND, {"i": {"orgUnitId": t.id("g2"), "policyYear": 2019}}))["data"]["smallPayerRefund"]
        assert at["errors"] == [] and at["entry"]["kind"] == "SMALL_PAYER_REFUND" and at["draft"] is None
    finally:
        assert (await sh_admin.api.gql(CFG, {"v": None}))["data"]["ledgerConfigUpdate"]["errors"] == []
    await integrity(t.tenant)


async def test_racing_approvals_of_one_transfer_draft_post_it_once(api, sh_finance):
    import asyncio

    t = await make_tree()
    limit = await _threshold(sh_finance)
    await _cash(sh_finance, t.county, limit + 1, limit)
    d = (await sh_finance.api.gql(TRANSFER_D, {"i": {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"),
                                                     "amountFen": limit + 1, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    checkers = [await user_with(api, "shanghai", [("approver", None)]) for _ in range(4)]
    results = await asyncio.gather(*[c.api.gql(DRAFT_APPROVE, {"id": d["draft"]["id"]}) for c in checkers])
    payloads = [r["data"]["ledgerDraftApprove"] for r in results]
    assert sorted(tuple(codes(p)) for p in payloads) == [()] + [("INVALID_STATE",)] * 3, payloads
    assert await balance(sh_finance, t.g1, "102") == limit + 1
    await integrity(t.tenant)

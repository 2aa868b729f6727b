"""A client's idempotency key can never pose as a key the ledger derives itself: a manual entry keyed
like a reservation payment does not make the payment look done, and one keyed like the yearly
allocation does not make the allocation skip the unit. Every lookup checks that what it finds is what
it expects; a mismatch is a typed error, never a silent "already done"."""

from __future__ import annotations

from core.graphql.base import from_global_id
from tests.funds.helpers import (
    RES_POST,
    RESERVE,
    balance,
    codes,
    entry,
    fund_cash,
    integrity,
    key,
    line,
    make_tree,
)


async def _reservation(p, t, amount: int) -> tuple[str, int]:
    r = (await p.api.gql(RESERVE, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": amount,
                                         "expenseCode": "501", "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert r["errors"] == [], r
    return r["reservation"]["id"], from_global_id(r["reservation"]["id"])[1]


async def test_manual_entry_keyed_like_a_reservation_payment_does_not_fake_the_payment(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 10_000)
    gid, pk = await _reservation(sh_finance, t, 3_000)
    # Entries keyed as the ledger used to key (and now keys) this reservation's payment "pay-1".
    for squat in (f"reservation:{pk}:pay-1", f"sys:reservation:{pk}:pay-1"):
        r = await entry(sh_finance, [line(t.g1, "102", "DEBIT", 1), line(t.g1, "404", "CREDIT", 1)], k=squat)
        assert r["errors"] == [] and r["entry"]["idempotencyKey"] == squat  # shown as the client sent it
    paid = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "pay-1"}}))["data"]["reservationPost"]
    assert paid["errors"] == [] and paid["entry"]["kind"] == "PAYOUT", paid
    assert paid["reservation"]["status"] == "POSTED" and paid["reservation"]["postedFen"] == 3_000
    assert await balance(sh_finance, t.g1, "501") == 3_000
    assert await balance(sh_finance, t.g1, "102") == 10_000 + 2 - 3_000
    # The same payment key again is the same payment.
    again = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "pay-1"}}))["data"]["reservationPost"]
    assert again["errors"] == [] and again["entry"]["id"] == paid["entry"]["id"]
    await integrity(t.tenant)


async def test_repeated_payment_key_for_a_different_amount_is_duplicate_not_already_paid(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 10_000)
    gid, _ = await _reservation(sh_finance, t, 5_000)
    first = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "p", "amountFen": 1_000}}))["data"]["reservationPost"]
    assert first["errors"] == [] and first["reservation"]["postedFen"] == 1_000
    other = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "p", "amountFen": 2_000}}))["data"]["reservationPost"]
    assert codes(other) == ["DUPLICATE"] and other["entry"] is None
    same = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "p", "amountFen": 1_000}}))["data"]["reservationPost"]
    assert same["errors"] == [] and same["entry"]["id"] == first["entry"]["id"]
    assert await balance(sh_finance, t.g1, "501") == 1_000


async def test_pre_namespace_entry_under_a_payment_key_is_ignored_unless_it_is_that_payment(api, sh_finance):
    """Rows written before namespaces carry bare keys: a client entry that took a payment's bare key
    does not count as the payment; the ledger's own bare-key payment does (no double payment)."""
    from core.context import tenant_scope
    from core.funds import chart, posting, services
    from core.funds.posting import EntrySpec, Line

    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 10_000)
    gid, pk = await _reservation(sh_finance, t, 4_000)
    with tenant_scope(t.tenant):
        cash, income, expense = await services.account_ids(t.tenant, [(t.g1["id"], "general", "102"),
                                                                      (t.g1["id"], "general", "404"),
                                                                      (t.g1["id"], "general", "501")])
        # A client's manual entry that took the bare key before the upgrade.
        await posting.post(t.tenant, EntrySpec(key=f"reservation:{pk}:old", kind=chart.MANUAL, entry_date=services.today(),
                                               lines=[Line(cash, 7), Line(income, -7)]))
    paid = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "old", "amountFen": 1_000}}))["data"]["reservationPost"]
    assert paid["errors"] == [] and paid["entry"]["kind"] == "PAYOUT" and paid["reservation"]["postedFen"] == 1_000
    # The ledger's own payment under a bare key (as written before the upgrade) is recognised.
    with tenant_scope(t.tenant):
        r = await services.get_fund(t.tenant, "general")  # noqa: F841 - warms the fund cache
        from core.funds.sql import ledger_tx

        async with ledger_tx() as db:
            res = await db.fetchrow("SELECT * FROM ledger_reservation WHERE tenant_id = $1 AND id = $2", t.tenant.id, pk)
            done = await posting.post(t.tenant, EntrySpec(
                key=f"reservation:{pk}:legacy", kind=chart.PAYOUT, entry_date=services.today(),
                lines=[Line(expense, 500), Line(cash, -500)], release_accounts={cash: 500}), db=db)
            await db.execute("UPDATE ledger_reservation SET posted_fen = posted_fen + 500 WHERE tenant_id = $1 AND id = $2",
                             t.tenant.id, pk)
        assert res is not None and done.created
    again = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": "legacy", "amountFen": 500}}))["data"]["reservationPost"]
    assert again["errors"] == [] and again["reservation"]["postedFen"] == 1_500
    assert from_global_id(again["entry"]["id"])[1] == done.entry_id
    assert await balance(sh_finance, t.g1, "501") == 1_500
    await integrity(t.tenant)


async def test_manual_entry_keyed_like_the_yearly_allocation_does_not_skip_the_unit(api, sh_finance):
    from core.context import tenant_scope
    from core.funds import services

    t = await make_tree()
    await entry(sh_finance, [line(t.g1, "102", "DEBIT", 100_000), line(t.g1, "404", "CREDIT", 100_000)],
                entryDate="2018-05-01")
    uid = t.g1["id"]
    for squat in (f"special-allocation:2018:{uid}", f"sys:special-allocation:2018:{uid}:0"):
        r = await entry(sh_finance, [line(t.g1, "102", "DEBIT", 1), line(t.g1, "404", "CREDIT", 1)], k=squat,
                        entryDate="2018-06-01")
        assert r["errors"] == []
    # A client entry dressed up as an allocation (source) does not count as one either.
    r = await entry(sh_finance, [line(t.g1, "102", "DEBIT", 5_000, "hardship"), line(t.g1, "311", "CREDIT", 5_000, "hardship")],
                    sourceType="special_allocation", sourceId=f"2018:{uid}", entryDate="2018-06-01")
    assert r["errors"] == []
    with tenant_scope(t.tenant):
        result = await services.allocate_special_fund(t.tenant, 2018)
    mine = [s for s in result["skipped"] if s["org_unit_id"] == uid]
    assert mine == [] and result["posted"] >= 1
    assert await balance(sh_finance, t.g1, "102", "hardship") == 5_000 + 5_000  # (100,002 × 5 %) rounds down
    await integrity(t.tenant)


async def test_client_keys_are_shown_and_found_as_sent(api, sh_finance):
    t = await make_tree()
    k = key("shown")
    r = await fund_cash(sh_finance, t.g1, 100, k=k)
    assert r["entry"]["idempotencyKey"] == k
    q = "query($k: String) { ledgerEntries(filter: {idempotencyKey: $k}) { nodes { id idempotencyKey } } }"
    found = (await sh_finance.api.gql(q, {"k": k}))["data"]["ledgerEntries"]["nodes"]
    assert found == [{"id": r["entry"]["id"], "idempotencyKey": k}]
    # The longest key a client may send still fits with its namespace.
    long_key = "x" * 200
    r = await fund_cash(sh_finance, t.g1, 100, k=long_key)
    assert r["entry"]["idempotencyKey"] == long_key
    gid, _ = await _reservation(sh_finance, t, 50)
    paid = (await sh_finance.api.gql(RES_POST, {"i": {"id": gid, "idempotencyKey": long_key}}))["data"]["reservationPost"]
    assert paid["errors"] == [] and paid["entry"]["kind"] == "PAYOUT"

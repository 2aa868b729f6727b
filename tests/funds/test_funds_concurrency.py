"""What must hold under concurrency, against PostgreSQL, through GraphQL over HTTP."""

from __future__ import annotations

import asyncio

from tests.funds.helpers import (
    ENTRY_CREATE,
    RESERVE,
    TRANSFER,
    account,
    balance,
    counts,
    entry,
    fund_cash,
    integrity,
    key,
    line,
    make_tree,
)


async def test_50_concurrent_payouts_against_a_fund_that_affords_10(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 1_000)
    postings = [line(t.g1, "501", "DEBIT", 100), line(t.g1, "102", "CREDIT", 100)]

    async def pay(i: int) -> dict:
        body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(f"pay{i}"), "postings": postings}})
        return body["data"]["ledgerEntryCreate"]

    results = await asyncio.gather(*[pay(i) for i in range(50)])
    ok = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    assert len(ok) == 10
    assert len(refused) == 40 and all([e["code"] for e in r["errors"]] == ["INSUFFICIENT_FUNDS"] for r in refused)
    cash = await account(sh_finance, t.g1, "102")
    assert cash["balanceFen"] == 0 and cash["availableFen"] == 0
    assert await balance(sh_finance, t.g1, "501") == 1_000
    await integrity(t.tenant)


async def test_50_concurrent_reservations_against_a_fund_that_affords_10(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g2, 1_000, fund="warmth")

    async def hold(i: int) -> dict:
        body = await sh_finance.api.gql(RESERVE, {"i": {"orgUnitId": t.id("g2"), "fund": "warmth", "amountFen": 100,
                                                         "expenseCode": "501", "idempotencyKey": key(f"r{i}")}})
        return body["data"]["reservationCreate"]

    results = await asyncio.gather(*[hold(i) for i in range(50)])
    assert sum(1 for r in results if r["errors"] == []) == 10
    assert {e["code"] for r in results for e in r["errors"]} == {"INSUFFICIENT_FUNDS"}
    cash = await account(sh_finance, t.g2, "102", "warmth")
    assert (cash["balanceFen"], cash["reservedFen"], cash["availableFen"]) == (1_000, 1_000, 0)
    await integrity(t.tenant)


async def test_same_idempotency_key_20_times_concurrently_posts_one_entry(api, sh_finance):
    t = await make_tree()
    before = await counts(t.tenant)
    k = key("same")
    postings = [line(t.g1, "102", "DEBIT", 250), line(t.g1, "404", "CREDIT", 250)]

    async def send() -> dict:
        body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": k, "postings": postings}})
        return body["data"]["ledgerEntryCreate"]

    results = await asyncio.gather(*[send() for _ in range(20)])
    assert all(r["errors"] == [] for r in results), results
    assert len({r["entry"]["id"] for r in results}) == 1
    after = await counts(t.tenant)
    assert after["ledger_entry"] == before["ledger_entry"] + 1
    assert after["ledger_posting"] == before["ledger_posting"] + 2
    assert await balance(sh_finance, t.g1, "102") == 250
    await integrity(t.tenant)


async def test_same_transfer_key_concurrently_moves_money_once(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.county, 10_000)
    inp = {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"), "amountFen": 1_000, "idempotencyKey": key()}
    results = await asyncio.gather(*[sh_finance.api.gql(TRANSFER, {"i": inp}) for _ in range(20)])
    assert len({r["data"]["ledgerTransfer"]["entry"]["id"] for r in results}) == 1
    assert await balance(sh_finance, t.g1, "102") == 1_000 and await balance(sh_finance, t.county, "102") == 9_000


async def test_opposite_transfers_between_the_same_accounts_do_not_deadlock(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.county, 100_000)
    await fund_cash(sh_finance, t.g1, 100_000)
    # g1's remittances settle what it owes upward (221), which they may not exceed.
    await entry(sh_finance, [line(t.g1, "311", "DEBIT", 2_000), line(t.g1, "221", "CREDIT", 2_000)])

    async def move(src: str, dst: str) -> dict:
        body = await sh_finance.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id(src), "toOrgUnitId": t.id(dst),
                                                         "amountFen": 100, "idempotencyKey": key()}})
        assert "errors" not in body, body
        return body["data"]["ledgerTransfer"]

    jobs = []
    for _ in range(20):
        jobs += [move("g1", "county"), move("county", "g1")]
    results = await asyncio.wait_for(asyncio.gather(*jobs), timeout=60)
    assert all(r["errors"] == [] for r in results), [r["errors"] for r in results if r["errors"]]
    assert {r["direction"] for r in results} == {"UP", "DOWN"}
    assert await balance(sh_finance, t.g1, "102") == 100_000
    assert await balance(sh_finance, t.county, "102") == 100_000
    # Manual entries in opposite directions between the same two accounts, too.
    a = [line(t.g1, "102", "DEBIT", 10), line(t.g1, "101", "CREDIT", 10)]
    b = [line(t.g1, "101", "DEBIT", 10), line(t.g1, "102", "CREDIT", 10)]
    await fund_cash(sh_finance, t.g1, 1_000)
    seed = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": b}})
    assert seed["data"]["ledgerEntryCreate"]["errors"] == []
    bodies = await asyncio.wait_for(asyncio.gather(*[
        sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": p}}) for p in [a, b] * 15]), 60)
    assert all(x["data"]["ledgerEntryCreate"]["errors"] == [] or
               [e["code"] for e in x["data"]["ledgerEntryCreate"]["errors"]] == ["INSUFFICIENT_FUNDS"] for x in bodies)
    await integrity(t.tenant)


async def test_racing_reversals_of_one_entry_reverse_it_once(api, sh_finance):
    from tests.funds.helpers import REVERSE, entry

    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 1_000)
    spent = await entry(sh_finance, [line(t.g1, "501", "DEBIT", 300), line(t.g1, "102", "CREDIT", 300)])
    eid = spent["entry"]["id"]
    bodies = await asyncio.gather(*[sh_finance.api.gql(REVERSE, {"i": {"id": eid, "idempotencyKey": key()}})
                                    for _ in range(10)])
    results = [b["data"]["ledgerEntryReverse"] for b in bodies]
    assert sum(1 for r in results if r["errors"] == []) == 1
    assert {e["code"] for r in results for e in r["errors"]} == {"INVALID_STATE"}
    assert await balance(sh_finance, t.g1, "102") == 1_000
    await integrity(t.tenant)

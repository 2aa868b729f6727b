"""Money and id values that are not what they claim to be: refused with a typed message naming the
variable, nothing written, no server-error log line. And postings or levies that contradict
themselves are refused rather than silently resolved."""

from __future__ import annotations

import logging

import pytest

from tests.funds.helpers import ENTRY_CREATE, RESERVE, balance, codes, counts, fund_cash, key, line, make_tree

BAD_FEN = [2**63, 100.5, "1e3", True, "100", "١٠٠", 1e3, -(2**63) - 1]


@pytest.mark.parametrize("value", BAD_FEN, ids=repr)
async def test_bad_fen_variable_is_invalid_input_naming_the_variable_and_writes_nothing(api, sh_finance, caplog, value):
    t = await make_tree()
    before = await counts(t.tenant)
    caplog.set_level(logging.WARNING)
    body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": [
        line(t.g1, "102", "DEBIT", value), line(t.g1, "404", "CREDIT", 100)]}}, expect_status=400)
    err = body["errors"][0]
    assert err["extensions"]["code"] == "INVALID_INPUT", body
    assert "$i" in err["message"] and "postings[0].amountFen" in err["message"], err
    assert "Internal server error" not in err["message"]
    assert body["data"] is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert await counts(t.tenant) == before


@pytest.mark.parametrize("value", [2**63, 100.5, "1e3", True, "100", "١٠٠"], ids=repr)
async def test_bad_fen_on_every_money_mutation_is_refused_typed(api, sh_finance, value):
    t = await make_tree()
    cases = [
        (RESERVE, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": value, "expenseCode": "501",
                         "idempotencyKey": key()}}),
        ("mutation($i: LedgerTransferInput!) { ledgerTransfer(input: $i) { errors { code } } }",
         {"i": {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"), "amountFen": value, "idempotencyKey": key()}}),
        ("mutation($i: LevyInput!) { levyRecord(input: $i) { errors { code } } }",
         {"i": {"orgUnitId": t.id("g1"), "periodStart": "2025-01-01", "periodEnd": "2025-01-31", "payrollFen": value,
                "idempotencyKey": key()}}),
        ("mutation($v: BigInt) { ledgerConfigUpdate(manualEntryThresholdFen: $v) { errors { code } } }", {"v": value}),
    ]
    for query, variables in cases:
        body = await sh_finance.api.gql(query, variables, expect_status=400)
        err = body["errors"][0]
        assert err["extensions"]["code"] == "INVALID_INPUT" and "invalid value" in err["message"], (query, body)


@pytest.mark.parametrize("literal", ['"100"', "100.5", "9223372036854775808", "true", "1e3"])
async def test_bad_fen_literal_in_the_query_text_is_invalid_input(api, sh_finance, literal):
    q = (f'mutation {{ ledgerEntryCreate(input: {{idempotencyKey: "lit", postings: [{{side: DEBIT, amountFen: {literal}, '
         'accountId: "QQ=="}, {side: CREDIT, amountFen: 5, accountId: "QQ=="}]}) { errors { code } } }')
    body = await sh_finance.api.gql(q, expect_status=400)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body
    assert "BigInt" in body["errors"][0]["message"]


@pytest.mark.parametrize("value", [True, 100.5, "1e3", 2**63])
async def test_bad_id_and_int_variables_get_a_message_naming_the_variable_not_a_server_error(api, sh_finance, caplog, value):
    caplog.set_level(logging.WARNING)
    for query, name in (("mutation($id: ID!) { reservationVoid(id: $id) { errors { code } } }", "$id"),
                        ("mutation($y: Int!) { specialAllocationRun(year: $y) { errors { code } } }", "$y")):
        body = await sh_finance.api.gql(query, {name[1:]: value}, expect_status=None)
        if body["_status"] == 200:  # a large number is a well-formed ID that names nothing
            assert codes(body["data"]["reservationVoid"]) == ["NOT_FOUND"]
            continue
        assert body["_status"] == 400
        msg = body["errors"][0]["message"]
        assert name in msg and "Internal server error" not in msg, body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_whole_json_integers_are_still_accepted(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 12_345)
    assert await balance(sh_finance, t.g1, "102") == 12_345


async def test_posting_naming_its_account_twice_ways_is_refused_even_when_both_exist(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 1_000)
    await fund_cash(sh_finance, t.g2, 1_000)
    from tests.funds.helpers import account

    g1_cash = await account(sh_finance, t.g1, "102")
    before = await counts(t.tenant)
    # accountId says g1's cash, orgUnitId says g2: refused, not silently "resolved" to accountId.
    conflicting = {"side": "CREDIT", "amountFen": 500, "accountId": g1_cash["id"], "orgUnitId": t.id("g2"),
                   "fund": "general", "code": "102"}
    body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": [
        line(t.g2, "501", "DEBIT", 500), conflicting]}})
    payload = body["data"]["ledgerEntryCreate"]
    assert codes(payload) == ["INVALID_INPUT"] and payload["errors"][0]["field"] == "accountId", payload
    for extra in ({"orgUnitId": t.id("g1")}, {"code": "101"}, {"fund": "hardship"}):
        p = {"side": "CREDIT", "amountFen": 500, "accountId": g1_cash["id"], **extra}
        body = await sh_finance.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": key(), "postings": [
            line(t.g1, "501", "DEBIT", 500), p]}})
        assert codes(body["data"]["ledgerEntryCreate"]) == ["INVALID_INPUT"], (extra, body)
    assert await counts(t.tenant) == before
    assert await balance(sh_finance, t.g1, "102") == 1_000 and await balance(sh_finance, t.g2, "102") == 1_000

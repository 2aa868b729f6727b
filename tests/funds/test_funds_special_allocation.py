"""The yearly special-fund allocation: only for a year that has ended, and every run allocates per
unit only what is still due, so late income tops up, a unit skipped for lack of cash is retried, and
a rerun with nothing new posts nothing (also when two runs race)."""

from __future__ import annotations

import asyncio

from core.jobs import runner
from tests.funds.helpers import balance, codes, counts, entry, integrity, key, line, make_tree

SPECIAL = """mutation($y: Int!) { specialAllocationRun(year: $y) { job { id status } errors { code field message } } }"""
JOB = "query($id: ID!) { job(id: $id) { id status result errors } }"


async def _run(p, year: int) -> dict:
    started = (await p.api.gql(SPECIAL, {"y": year}))["data"]["specialAllocationRun"]
    assert started["errors"] == [], started
    await runner.drain_local()
    job = (await p.api.gql(JOB, {"id": started["job"]["id"]}))["data"]["job"]
    assert job["status"] == "SUCCEEDED", job
    return job["result"]


def _mine(result: dict, unit: dict, what: str) -> list:
    return [s for s in result[what] if s["org_unit_id"] == unit["id"]]


async def test_special_allocation_refuses_the_current_and_future_years(api, sh_finance):
    from core.funds.services import today

    t = await make_tree()
    before = await counts(t.tenant)
    this_year = today().year
    for year in (this_year, this_year + 1):
        r = (await sh_finance.api.gql(SPECIAL, {"y": year}))["data"]["specialAllocationRun"]
        assert codes(r) == ["INVALID_INPUT"] and r["errors"][0]["field"] == "year" and r["job"] is None, r
    assert await counts(t.tenant) == before


async def test_second_allocation_run_allocates_only_the_difference_after_late_income(in_process_jobs, api, sh_finance):
    t = await make_tree()
    await entry(sh_finance, [line(t.g1, "102", "DEBIT", 100_000), line(t.g1, "402", "CREDIT", 100_000)],
                entryDate="2017-03-01")
    first = await _run(sh_finance, 2017)
    assert await balance(sh_finance, t.g1, "102", "hardship") == 5_000
    assert first["ratio_bp"] == 500
    # A levy for the year arrives after the year-end run.
    await entry(sh_finance, [line(t.g1, "102", "DEBIT", 40_000), line(t.g1, "402", "CREDIT", 40_000)],
                entryDate="2017-11-30")
    second = await _run(sh_finance, 2017)
    assert await balance(sh_finance, t.g1, "102", "hardship") == 7_000  # 5 % of 140,000: only 2,000 more
    assert await balance(sh_finance, t.g1, "102") == 140_000 - 7_000
    assert second["posted"] >= 1
    third = await _run(sh_finance, 2017)
    assert await balance(sh_finance, t.g1, "102", "hardship") == 7_000
    assert not _mine(third, t.g1, "skipped")
    q = """query($s: String) { ledgerEntries(filter: {kind: SPECIAL_ALLOCATION, sourceType: "special_allocation",
        sourceId: $s}) { totalCount nodes { entryDate totalFen } } }"""
    found = (await sh_finance.api.gql(q, {"s": f"2017:{t.g1['id']}"}))["data"]["ledgerEntries"]
    assert sorted(n["totalFen"] for n in found["nodes"]) == [2 * 2_000, 2 * 5_000]  # debits in both funds
    assert {n["entryDate"] for n in found["nodes"]} == {"2017-12-31"}
    await integrity(t.tenant)


async def test_unit_skipped_for_insufficient_cash_is_allocated_by_a_later_run(in_process_jobs, api, sh_finance):
    t = await make_tree()
    await entry(sh_finance, [line(t.g2, "102", "DEBIT", 200_000), line(t.g2, "401", "CREDIT", 200_000)],
                entryDate="2016-02-01")
    await entry(sh_finance, [line(t.g2, "501", "DEBIT", 195_000), line(t.g2, "102", "CREDIT", 195_000)],
                entryDate="2016-03-01")
    first = await _run(sh_finance, 2016)
    skipped = _mine(first, t.g2, "skipped")
    assert [s["code"] for s in skipped] == ["INSUFFICIENT_FUNDS"], first
    assert await balance(sh_finance, t.g2, "102", "hardship") == 0
    # Money arrives (not income of 2016: dated 2016, but a grant from above is not counted).
    await entry(sh_finance, [line(t.g2, "102", "DEBIT", 20_000), line(t.g2, "403", "CREDIT", 20_000)],
                entryDate="2016-12-01")
    second = await _run(sh_finance, 2016)
    assert not _mine(second, t.g2, "skipped")
    assert await balance(sh_finance, t.g2, "102", "hardship") == 10_000
    await integrity(t.tenant)


async def test_reversed_allocation_is_allocated_again_and_over_allocation_is_reported(api, sh_finance):
    from core.context import tenant_scope
    from core.funds import services

    t = await make_tree()
    income = await entry(sh_finance, [line(t.g1, "102", "DEBIT", 60_000), line(t.g1, "405", "CREDIT", 60_000)],
                         entryDate="2015-04-01")
    await entry(sh_finance, [line(t.g1, "102", "DEBIT", 10_000), line(t.g1, "403", "CREDIT", 10_000)],
                entryDate="2016-01-10")  # cash that is not 2015 income

    async def allocate() -> dict:
        with tenant_scope(t.tenant):
            return await services.allocate_special_fund(t.tenant, 2015)

    await allocate()
    assert await balance(sh_finance, t.g1, "102", "hardship") == 3_000
    rev = """mutation($i: LedgerEntryReverseInput!) { ledgerEntryReverse(input: $i) { entry { id } errors { code } } }"""
    q = """query($s: String) { ledgerEntries(filter: {kind: SPECIAL_ALLOCATION, sourceId: $s}) { nodes { id } } }"""
    alloc = (await sh_finance.api.gql(q, {"s": f"2015:{t.g1['id']}"}))["data"]["ledgerEntries"]["nodes"]
    assert len(alloc) == 1
    # The allocation is reversed (a correction): the next run allocates it again.
    r = (await sh_finance.api.gql(rev, {"i": {"id": alloc[0]["id"], "idempotencyKey": key()}}))["data"]["ledgerEntryReverse"]
    assert r["errors"] == []
    assert await balance(sh_finance, t.g1, "102", "hardship") == 0
    await allocate()
    assert await balance(sh_finance, t.g1, "102", "hardship") == 3_000
    # The income was booked in error and reversed: 3,000 is now over-allocated; reported, not taken back.
    r = (await sh_finance.api.gql(rev, {"i": {"id": income["entry"]["id"], "idempotencyKey": key(),
                                              "entryDate": "2015-12-30"}}))["data"]["ledgerEntryReverse"]
    assert r["errors"] == []
    result = await allocate()
    assert _mine(result, t.g1, "over_allocated") == [{"org_unit_id": t.g1["id"], "due_fen": 0, "allocated_fen": 3_000}]
    assert await balance(sh_finance, t.g1, "102", "hardship") == 3_000
    await integrity(t.tenant)


async def test_racing_allocation_runs_allocate_each_unit_once(api, sh_finance):
    from core.context import tenant_scope
    from core.funds import services

    t = await make_tree()
    for unit in (t.g1, t.g2, t.county):
        await entry(sh_finance, [line(unit, "102", "DEBIT", 80_000), line(unit, "404", "CREDIT", 80_000)],
                    entryDate="2014-06-01")

    async def run() -> dict:
        with tenant_scope(t.tenant):
            return await services.allocate_special_fund(t.tenant, 2014)

    await asyncio.gather(*[run() for _ in range(4)])
    for unit in (t.g1, t.g2, t.county):
        assert await balance(sh_finance, unit, "102", "hardship") == 4_000
    await integrity(t.tenant)


async def test_top_up_for_a_closed_december_is_dated_in_an_open_month(api, sh_finance):
    from core.context import tenant_scope
    from core.funds import services

    t = await make_tree()
    await entry(sh_finance, [line(t.g1, "102", "DEBIT", 20_000), line(t.g1, "404", "CREDIT", 20_000)],
                entryDate="2013-12-01")
    close = """mutation($p: String!) { ledgerPeriodClose(period: $p) { period { period } errors { code } } }"""
    assert (await sh_finance.api.gql(close, {"p": "2013-12"}))["data"]["ledgerPeriodClose"]["errors"] == []
    with tenant_scope(t.tenant):
        result = await services.allocate_special_fund(t.tenant, 2013)
    assert not _mine(result, t.g1, "skipped")
    assert await balance(sh_finance, t.g1, "102", "hardship") == 1_000
    q = """query($s: String) { ledgerEntries(filter: {kind: SPECIAL_ALLOCATION, sourceId: $s}) { nodes { entryDate } } }"""
    nodes = (await sh_finance.api.gql(q, {"s": f"2013:{t.g1['id']}"}))["data"]["ledgerEntries"]["nodes"]
    assert [n["entryDate"] for n in nodes] == [services.today().isoformat()]

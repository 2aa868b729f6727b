"""Levy intake and its split, the small-payer refund, transfers between levels, the yearly special-fund
allocation, budgets and reservations, all through GraphQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from core.jobs import runner
from tests.funds.helpers import (
    RES_POST,
    RES_VOID,
    RESERVE,
    TRANSFER,
    account,
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

LEVY = """mutation($i: LevyInput!) { levyRecord(input: $i) { levyFen grassrootsFen upwardFen rule
  entry { id kind postings { code signedAmountFen orgUnit { code } } } errors { code field message } } }"""
REFUND = """mutation($i: SmallPayerRefundInput!) { smallPayerRefund(input: $i) { upwardPaidFen
  entry { id kind postings { code signedAmountFen orgUnit { code } } } errors { code field message } } }"""


def levy_input(t, unit, payroll, **extra):
    return {"orgUnitId": t.id(unit) if isinstance(unit, str) else unit, "periodStart": "2025-01-01",
            "periodEnd": "2025-01-31", "payrollFen": payroll, "idempotencyKey": key("levy"), **extra}


async def test_levy_split_60_40_settled_and_accrued(api, sh_finance):
    t = await make_tree()
    r = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g1", 1_000_050)}))["data"]["levyRecord"]
    # 2 % of 1,000,050 fen = 20,001 fen; 60 % to the union with the odd fen, 40 % to the parent.
    assert r["errors"] == [] and r["levyFen"] == 20_001
    assert (r["grassrootsFen"], r["upwardFen"]) == (12_001, 8_000) and "6000bp" in r["rule"]
    assert await balance(sh_finance, t.g1, "102") == 12_001
    assert await balance(sh_finance, t.g1, "402") == 12_001
    assert await balance(sh_finance, t.county, "102") == 8_000
    assert await balance(sh_finance, t.county, "402") == 8_000
    # Accrued: the union holds all of it and owes the parent until it remits (上解).
    r2 = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g2", 500_000, upwardSettled=False, levyFen=10_000)}))["data"]["levyRecord"]
    assert r2["errors"] == [] and (r2["grassrootsFen"], r2["upwardFen"]) == (6_000, 4_000)
    assert await balance(sh_finance, t.g2, "102") == 10_000
    assert await balance(sh_finance, t.g2, "221") == 4_000
    assert await balance(sh_finance, t.county, "132") == 4_000
    remit = (await sh_finance.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("g2"), "toOrgUnitId": t.id("county"),
                                                         "amountFen": 4_000, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    assert remit["errors"] == [] and remit["direction"] == "UP"
    assert await balance(sh_finance, t.g2, "221") == 0 and await balance(sh_finance, t.county, "132") == 0
    assert await balance(sh_finance, t.g2, "102") == 6_000 and await balance(sh_finance, t.county, "102") == 12_000
    # Only grassroots unions pay the levy; the period must make sense; amounts are positive.
    bad = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "county", 1_000)}))["data"]["levyRecord"]
    assert codes(bad) == ["INVALID_INPUT"]
    bad = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g1", 1_000, periodEnd="2024-12-01")}))["data"]["levyRecord"]
    assert codes(bad) == ["INVALID_INPUT"]
    bad = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g1", 10)}))["data"]["levyRecord"]
    assert codes(bad) == ["INVALID_INPUT"]  # 2 % of 10 fen rounds to nothing
    bad = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g1", 1_000, levyFen=-5)}))["data"]["levyRecord"]
    assert codes(bad) == ["INVALID_INPUT"]
    await integrity(t.tenant)


async def test_levy_split_comes_from_the_province_plugin(api, fj_finance):
    t = await make_tree("fujian")
    r = (await fj_finance.api.gql(LEVY, {"i": levy_input(t, "g1", 1_000_000)}))["data"]["levyRecord"]
    assert r["errors"] == [] and r["rule"].startswith("fujian ")
    assert r["grassrootsFen"] + r["upwardFen"] == r["levyFen"] == 20_000


async def test_small_payer_refund(api, sh_finance):
    t = await make_tree()
    # Policy year 2024 runs 2024-10-01 .. 2025-09-30: 8,000 + 4,000 fen went upward from g1.
    for day, payroll in (("2024-11-15", 1_000_000), ("2025-06-15", 500_000)):
        r = (await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g1", payroll, entryDate=day)}))["data"]["levyRecord"]
        assert r["errors"] == []
    # Outside the policy year: not counted.
    await sh_finance.api.gql(LEVY, {"i": levy_input(t, "g1", 1_000_000, entryDate="2025-10-02")})
    inp = {"orgUnitId": t.id("g1"), "policyYear": 2024}
    # Only finance of the paying level may refund; the union's own finance cannot.
    union_finance = await user_with(api, "shanghai", [("finance", t.g1)])
    assert codes((await union_finance.api.gql(REFUND, {"i": inp}))["data"]["smallPayerRefund"]) == ["FORBIDDEN"]
    r = (await sh_finance.api.gql(REFUND, {"i": inp}))["data"]["smallPayerRefund"]
    assert r["errors"] == [] and r["upwardPaidFen"] == 12_000 and r["entry"]["kind"] == "SMALL_PAYER_REFUND"
    assert await balance(sh_finance, t.g1, "403") == 12_000
    assert await balance(sh_finance, t.county, "506") == 12_000
    again = (await sh_finance.api.gql(REFUND, {"i": inp}))["data"]["smallPayerRefund"]
    assert again["entry"]["id"] == r["entry"]["id"]  # once per union and policy year
    assert await balance(sh_finance, t.g1, "403") == 12_000
    # State-owned enterprises are excluded; so is a union taking the micro-firm refund.
    before = await counts(t.tenant)
    for flags in ({"isSoe": True}, {"claimsMicroRefund": True}):
        no = (await sh_finance.api.gql(REFUND, {"i": {"orgUnitId": t.id("g2"), "policyYear": 2024, **flags}}))["data"]["smallPayerRefund"]
        assert codes(no) == ["NOT_ELIGIBLE"]
    # A union that paid 10,000 元 or more upward is not a small payer.
    big = await make_tree()
    await sh_finance.api.gql(LEVY, {"i": levy_input(big, "g1", 125_000_000, entryDate="2025-01-10")})
    no = (await sh_finance.api.gql(REFUND, {"i": {"orgUnitId": big.id("g1"), "policyYear": 2024}}))["data"]["smallPayerRefund"]
    assert codes(no) == ["NOT_ELIGIBLE"] and "1000000" in no["errors"][0]["message"]
    # The policy year must be over.
    year = dt.date.today().year
    no = (await sh_finance.api.gql(REFUND, {"i": {"orgUnitId": t.id("g2"), "policyYear": year}}))["data"]["smallPayerRefund"]
    assert codes(no) == ["INVALID_STATE"]
    after = await counts(t.tenant)
    assert after["ledger_entry"] == before["ledger_entry"] + 1  # only the big payer's levy
    await integrity(t.tenant)


async def test_transfers_between_levels(api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.county, 50_000)
    await fund_cash(sh_finance, t.g1, 10_000)
    # What g1 owes upward (221): a remittance settles it and may not exceed it.
    await entry(sh_finance, [line(t.g1, "311", "DEBIT", 6_000), line(t.g1, "221", "CREDIT", 6_000)])
    down = (await sh_finance.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"),
                                                        "amountFen": 20_000, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    assert down["errors"] == [] and down["direction"] == "DOWN" and down["entry"]["kind"] == "TRANSFER_DOWN"
    assert sorted((p["orgUnit"]["code"] == t.g1["code"], p["code"], p["signedAmountFen"]) for p in down["entry"]["postings"]) == [
        (False, "102", -20_000), (False, "506", 20_000), (True, "102", 20_000), (True, "403", -20_000)]
    up = (await sh_finance.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("city"),
                                                      "amountFen": 5_000, "idempotencyKey": key(), "memo": "上解"}}))["data"]["ledgerTransfer"]
    assert up["errors"] == [] and up["direction"] == "UP"
    assert await balance(sh_finance, t.g1, "102") == 25_000
    assert await balance(sh_finance, t.county, "102") == 30_000
    assert await balance(sh_finance, t.city, "102") == 5_000
    before = await counts(t.tenant)

    async def refused(inp, code, who=sh_finance):
        body = await who.api.gql(TRANSFER, {"i": {"idempotencyKey": key(), "fund": "general", **inp}})
        assert codes(body["data"]["ledgerTransfer"]) == [code], body

    await refused({"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("g2"), "amountFen": 1}, "INVALID_HIERARCHY")
    await refused({"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("g1"), "amountFen": 1}, "INVALID_INPUT")
    await refused({"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"), "amountFen": 0}, "INVALID_INPUT")
    await refused({"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"), "amountFen": -3}, "INVALID_INPUT")
    await refused({"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"), "amountFen": 25_001}, "INSUFFICIENT_FUNDS")
    await refused({"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"), "amountFen": 1, "fund": "nope"}, "NOT_FOUND")
    # The payer's finance decides: a union's finance remits upward, but cannot grant from the county.
    union_finance = await user_with(api, "shanghai", [("finance", t.g1)])
    await refused({"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"), "amountFen": 1}, "FORBIDDEN", union_finance)
    assert await counts(t.tenant) == before
    ok = (await union_finance.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"),
                                                         "amountFen": 1_000, "idempotencyKey": key()}}))["data"]["ledgerTransfer"]
    assert ok["errors"] == []
    await integrity(t.tenant)


SPECIAL = """mutation($y: Int!) { specialAllocationRun(year: $y) { job { id status } errors { code field } } }"""
JOB = "query($id: ID!) { job(id: $id) { id status result errors } }"


async def test_special_fund_allocation_job_is_idempotent_per_year(in_process_jobs, api, sh_finance):
    from core.context import tenant_scope
    from core.funds import services

    t = await make_tree()
    await entry(sh_finance, [line(t.g1, "102", "DEBIT", 100_000), line(t.g1, "404", "CREDIT", 100_000)],
                entryDate="2022-06-01")
    await entry(sh_finance, [line(t.county, "102", "DEBIT", 50_001), line(t.county, "401", "CREDIT", 50_001)],
                entryDate="2022-07-01")
    # Grants from above are not income of the year for this purpose (the granting level counted it).
    await entry(sh_finance, [line(t.g2, "102", "DEBIT", 9_000), line(t.g2, "403", "CREDIT", 9_000)],
                entryDate="2022-07-01")
    county_finance = await user_with(api, "shanghai", [("finance", t.county)])
    assert codes((await county_finance.api.gql(SPECIAL, {"y": 2022}))["data"]["specialAllocationRun"]) == ["FORBIDDEN"]
    started = (await sh_finance.api.gql(SPECIAL, {"y": 2022}))["data"]["specialAllocationRun"]
    assert started["errors"] == []
    await runner.drain_local()
    job = (await sh_finance.api.gql(JOB, {"id": started["job"]["id"]}))["data"]["job"]
    assert job["status"] == "SUCCEEDED", job
    assert job["result"]["ratio_bp"] == 500 and job["result"]["posted"] == 2
    assert job["result"]["allocated_fen"] == 5_000 + 2_500
    assert await balance(sh_finance, t.g1, "102", "hardship") == 5_000
    assert await balance(sh_finance, t.g1, "102") == 95_000
    assert await balance(sh_finance, t.county, "102", "hardship") == 2_500
    assert await account(sh_finance, t.g2, "102", "hardship") is None
    # The same year again: a new run (it recomputes what is still due), which posts nothing new.
    again = (await sh_finance.api.gql(SPECIAL, {"y": 2022}))["data"]["specialAllocationRun"]
    assert again["errors"] == [] and again["job"]["id"] != started["job"]["id"]
    await runner.drain_local()
    job2 = (await sh_finance.api.gql(JOB, {"id": again["job"]["id"]}))["data"]["job"]
    assert job2["status"] == "SUCCEEDED" and job2["result"]["posted"] == 0, job2
    with tenant_scope(t.tenant):
        rerun = await services.allocate_special_fund(t.tenant, 2022)
    assert rerun["posted"] == 0 and rerun["already_done"] == 2
    assert await balance(sh_finance, t.g1, "102", "hardship") == 5_000
    entries = (await sh_finance.api.gql("""{ ledgerEntries(filter: {kind: SPECIAL_ALLOCATION, dateFrom: "2022-12-31",
        dateTo: "2022-12-31"}) { totalCount } }"""))["data"]["ledgerEntries"]
    assert entries["totalCount"] == 2
    await integrity(t.tenant)


def test_cron_schedule_is_registered():
    from core.funds.jobs import cron_jobs
    from core.jobs.worker import worker_settings

    names = {c.name for c in worker_settings()["cron_jobs"]}
    assert {c.name for c in cron_jobs()} <= names
    assert "funds.cron.special_allocation" in names and "funds.cron.expire_reservations" in names


BUDGET_SET = """mutation($i: BudgetInput!) { budgetSet(input: $i) { budget { id year amountFen liftedFen limitFen spentFen
  reservedFen remainingFen } errors { code field } } }"""
BUDGET_LIFT = """mutation($i: BudgetLiftInput!) { budgetLift(input: $i) { budget { id liftedFen limitFen remainingFen
  lifts { amountFen reason liftedById } } errors { code field } } }"""


async def test_budgets_refuse_overspending_until_an_approver_lifts_them(api, sh_finance, sh_approver, sh_auditor):
    from core.funds.services import today

    t = await make_tree()
    year = today().year
    await fund_cash(sh_finance, t.g1, 100_000)
    await entry(sh_finance, [line(t.g1, "501", "DEBIT", 1_000), line(t.g1, "102", "CREDIT", 1_000)])
    # Approvers do not set budgets; finance does. Spending so far counts.
    assert codes((await sh_approver.api.gql(BUDGET_SET, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "year": year,
                                                                "amountFen": 10_000}}))["data"]["budgetSet"]) == ["FORBIDDEN"]
    b = (await sh_finance.api.gql(BUDGET_SET, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "year": year,
                                                      "amountFen": 10_000}}))["data"]["budgetSet"]
    assert b["errors"] == [] and b["budget"]["spentFen"] == 1_000 and b["budget"]["remainingFen"] == 9_000
    ok = await entry(sh_finance, [line(t.g1, "502", "DEBIT", 6_000), line(t.g1, "102", "CREDIT", 6_000)])
    assert ok["errors"] == []
    before = await counts(t.tenant)
    over = await entry(sh_finance, [line(t.g1, "503", "DEBIT", 3_001), line(t.g1, "102", "CREDIT", 3_001)])
    assert codes(over) == ["BUDGET_EXCEEDED"] and await counts(t.tenant) == before
    # Other funds and other years are not limited by this budget.
    assert (await entry(sh_finance, [line(t.g1, "503", "DEBIT", 3_001), line(t.g1, "102", "CREDIT", 3_001)],
                        entryDate=f"{year - 1}-12-31"))["errors"] == []
    # Finance cannot lift; an approver can, with a reason, and the lift is audited.
    lift = {"id": b["budget"]["id"], "amountFen": 5_000, "reason": "送温暖活动追加"}
    assert codes((await sh_finance.api.gql(BUDGET_LIFT, {"i": lift}))["data"]["budgetLift"]) == ["FORBIDDEN"]
    assert codes((await sh_approver.api.gql(BUDGET_LIFT, {"i": {**lift, "reason": ""}}))["data"]["budgetLift"]) == ["INVALID_INPUT"]
    lifted = (await sh_approver.api.gql(BUDGET_LIFT, {"i": lift}))["data"]["budgetLift"]
    assert lifted["errors"] == [] and lifted["budget"]["limitFen"] == 15_000
    assert lifted["budget"]["lifts"][0]["reason"] == "送温暖活动追加"
    audit = (await sh_auditor.api.gql("""{ auditRecords(filter: {actionPrefix: "budget.lift"}, first: 5) { nodes { action targetId changes } } }"""))
    assert any(n["targetId"] == str(int(__import__("base64").b64decode(b["budget"]["id"]).decode().split(":")[1]))
               for n in audit["data"]["auditRecords"]["nodes"])
    assert (await entry(sh_finance, [line(t.g1, "503", "DEBIT", 3_001), line(t.g1, "102", "CREDIT", 3_001)]))["errors"] == []
    # Reservations count against the budget too: 15,000 - 10,001 spent leaves 4,999.
    r = (await sh_finance.api.gql(RESERVE, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": 5_000,
                                                   "expenseCode": "501", "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert codes(r) == ["BUDGET_EXCEEDED"]
    r = (await sh_finance.api.gql(RESERVE, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": 4_999,
                                                   "expenseCode": "501", "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert r["errors"] == []
    listed = (await sh_finance.api.gql("""query($u: ID!) { budgets(filter: {orgUnitId: $u}) { nodes { spentFen reservedFen
        remainingFen } } }""", {"u": t.id("g1")}))["data"]["budgets"]["nodes"]
    assert listed == [{"spentFen": 10_001, "reservedFen": 4_999, "remainingFen": 0}]
    # Paying from the reservation moves it from reserved to spent: still within the budget.
    paid = (await sh_finance.api.gql(RES_POST, {"i": {"id": r["reservation"]["id"], "idempotencyKey": key()}}))["data"]["reservationPost"]
    assert paid["errors"] == [] and paid["reservation"]["status"] == "POSTED"
    bad = (await sh_finance.api.gql(BUDGET_SET, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "year": 1999,
                                                        "amountFen": 1}}))["data"]["budgetSet"]
    assert codes(bad) == ["INVALID_INPUT"]
    await integrity(t.tenant)


async def test_reservations_reserve_post_in_parts_and_void(api, sh_finance, sh_clerk_root):
    t = await make_tree()
    await fund_cash(sh_finance, t.g2, 10_000)
    inp = {"orgUnitId": t.id("g2"), "fund": "general", "amountFen": 6_000, "expenseCode": "501",
           "idempotencyKey": key("res"), "sourceType": "aid_grant", "sourceId": "G-1"}
    r = (await sh_finance.api.gql(RESERVE, {"i": inp}))["data"]["reservationCreate"]
    assert r["errors"] == [] and r["reservation"]["status"] == "OPEN"
    assert r["reservation"]["account"]["availableFen"] == 4_000 and r["reservation"]["account"]["reservedFen"] == 6_000
    same = (await sh_finance.api.gql(RESERVE, {"i": inp}))["data"]["reservationCreate"]
    assert same["reservation"]["id"] == r["reservation"]["id"]
    rid = r["reservation"]["id"]
    before = await counts(t.tenant)
    more = (await sh_finance.api.gql(RESERVE, {"i": {**inp, "amountFen": 4_001, "idempotencyKey": key()}}))["data"]["reservationCreate"]
    assert codes(more) == ["INSUFFICIENT_FUNDS"]
    spend = await entry(sh_finance, [line(t.g2, "501", "DEBIT", 4_001), line(t.g2, "102", "CREDIT", 4_001)])
    assert codes(spend) == ["INSUFFICIENT_FUNDS"]  # reserved money is not available
    for bad in ({"expenseCode": "102"}, {"fundingCode": "404"}, {"amountFen": 0},
                {"expiresAt": "2020-01-01T00:00:00+00:00"}):
        body = (await sh_finance.api.gql(RESERVE, {"i": {**inp, "idempotencyKey": key(), **bad}}))["data"]["reservationCreate"]
        assert codes(body) == ["INVALID_INPUT"], bad
    assert codes((await sh_clerk_root.api.gql(RESERVE, {"i": {**inp, "idempotencyKey": key()}}))["data"]["reservationCreate"]) == ["FORBIDDEN"]
    assert await counts(t.tenant) == before
    # Pay 2,000 now: still open with 4,000 held.
    pk = key("pay")
    p1 = (await sh_finance.api.gql(RES_POST, {"i": {"id": rid, "idempotencyKey": pk, "amountFen": 2_000}}))["data"]["reservationPost"]
    assert p1["errors"] == [] and p1["reservation"]["status"] == "OPEN" and p1["reservation"]["remainingFen"] == 4_000
    assert sorted((p["code"], p["signedAmountFen"]) for p in p1["entry"]["postings"]) == [("102", -2_000), ("501", 2_000)]
    p1again = (await sh_finance.api.gql(RES_POST, {"i": {"id": rid, "idempotencyKey": pk, "amountFen": 2_000}}))["data"]["reservationPost"]
    assert p1again["entry"]["id"] == p1["entry"]["id"] and p1again["reservation"]["postedFen"] == 2_000
    cash = await account(sh_finance, t.g2, "102")
    assert (cash["balanceFen"], cash["reservedFen"], cash["availableFen"]) == (8_000, 4_000, 4_000)
    too_much = (await sh_finance.api.gql(RES_POST, {"i": {"id": rid, "idempotencyKey": key(), "amountFen": 4_001}}))["data"]["reservationPost"]
    assert codes(too_much) == ["INVALID_INPUT"]
    # A final part payment releases the rest.
    p2 = (await sh_finance.api.gql(RES_POST, {"i": {"id": rid, "idempotencyKey": key(), "amountFen": 1_000, "final": True}}))["data"]["reservationPost"]
    assert p2["errors"] == [] and p2["reservation"]["status"] == "POSTED" and p2["reservation"]["postedFen"] == 3_000
    cash = await account(sh_finance, t.g2, "102")
    assert (cash["balanceFen"], cash["reservedFen"], cash["availableFen"]) == (7_000, 0, 7_000)
    assert codes((await sh_finance.api.gql(RES_VOID, {"id": rid}))["data"]["reservationVoid"]) == ["INVALID_STATE"]
    # Void: everything held comes back.
    r2 = (await sh_finance.api.gql(RESERVE, {"i": {**inp, "amountFen": 3_000, "idempotencyKey": key()}}))["data"]["reservationCreate"]
    v = (await sh_finance.api.gql(RES_VOID, {"id": r2["reservation"]["id"]}))["data"]["reservationVoid"]
    assert v["errors"] == [] and v["reservation"]["status"] == "VOIDED"
    assert (await account(sh_finance, t.g2, "102"))["reservedFen"] == 0
    listed = (await sh_finance.api.gql("""query($u: ID!) { reservations(filter: {orgUnitId: $u, status: VOIDED}) {
        totalCount } }""", {"u": t.id("g2")}))["data"]["reservations"]
    assert listed["totalCount"] == 1
    await integrity(t.tenant)


async def test_expired_reservations_are_voided_by_the_job(in_process_jobs, api, sh_finance):
    t = await make_tree()
    await fund_cash(sh_finance, t.g1, 1_000)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    r = (await sh_finance.api.gql(RESERVE, {"i": {"orgUnitId": t.id("g1"), "fund": "general", "amountFen": 700,
                                                   "expenseCode": "501", "idempotencyKey": key(),
                                                   "expiresAt": soon}}))["data"]["reservationCreate"]
    assert r["errors"] == []
    await asyncio.sleep(1.3)
    late = (await sh_finance.api.gql(RES_POST, {"i": {"id": r["reservation"]["id"], "idempotencyKey": key()}}))["data"]["reservationPost"]
    assert codes(late) == ["INVALID_STATE"]
    job_id = await runner.enqueue(t.tenant, "funds.expire_reservations", "test", key=key("expire"))
    await runner.drain_local()
    from core.context import tenant_scope

    with tenant_scope(t.tenant):
        rec = await runner.get_job(t.tenant, job_id)
    result = rec["result"] if isinstance(rec["result"], dict) else __import__("json").loads(rec["result"])
    assert rec["status"] == "succeeded" and result["expired"] >= 1
    q = "query($id: ID!) { node(id: $id) { ... on Reservation { status remainingFen account { reservedFen } } } }"
    node = (await sh_finance.api.gql(q, {"id": r["reservation"]["id"]}))["data"]["node"]
    assert node == {"status": "EXPIRED", "remainingFen": 0, "account": {"reservedFen": 0}}
    await integrity(t.tenant)

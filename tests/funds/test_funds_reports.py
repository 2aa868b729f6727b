"""Reports over a subtree and a date range, through GraphQL, plus their CSV and XLSX exports."""

from __future__ import annotations

import base64
import csv
import io

from tests.funds.helpers import TRANSFER, entry, key, line, make_tree, user_with

SCOPE_ARGS = "$i: ReportInput!"


async def _seed(p):
    """A city subtree with known numbers, all in 2023 (no other test posts in 2023)."""
    t = await make_tree()
    d = "2023-03-01"
    await entry(p, [line(t.city, "102", "DEBIT", 100_000), line(t.city, "404", "CREDIT", 100_000)], entryDate="2022-12-31")
    await entry(p, [line(t.county, "102", "DEBIT", 50_000), line(t.county, "404", "CREDIT", 50_000)], entryDate=d)
    # Grant down county -> g1, 20,000; g1 spends 12,000 on 501 and 3,000 on 502; g2 spends nothing.
    body = await p.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("county"), "toOrgUnitId": t.id("g1"),
                                            "amountFen": 20_000, "idempotencyKey": key(), "entryDate": d}})
    assert body["data"]["ledgerTransfer"]["errors"] == []
    await entry(p, [line(t.g1, "501", "DEBIT", 12_000), line(t.g1, "102", "CREDIT", 12_000)], entryDate=d)
    await entry(p, [line(t.g1, "502", "DEBIT", 3_000), line(t.g1, "102", "CREDIT", 3_000)], entryDate=d)
    # The county spends 5,000 on administration (504); the city 10,000 on 503.
    await entry(p, [line(t.county, "504", "DEBIT", 5_000), line(t.county, "102", "CREDIT", 5_000)], entryDate=d)
    await entry(p, [line(t.city, "503", "DEBIT", 10_000), line(t.city, "102", "CREDIT", 10_000)], entryDate=d)
    # g2 remits 1,000 up to the city... after receiving it as income. A remittance settles what is
    # owed upward (221), so the debt is booked first, before 2023 (no effect on the figures below).
    await entry(p, [line(t.g2, "311", "DEBIT", 1_000), line(t.g2, "221", "CREDIT", 1_000)], entryDate="2022-12-31")
    await entry(p, [line(t.g2, "102", "DEBIT", 1_000), line(t.g2, "401", "CREDIT", 1_000)], entryDate=d)
    body = await p.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("g2"), "toOrgUnitId": t.id("city"),
                                            "amountFen": 1_000, "idempotencyKey": key(), "entryDate": d}})
    assert body["data"]["ledgerTransfer"]["errors"] == []
    return t


def _scope(t, unit="city", **extra):
    return {"i": {"subtreeOf": t.id(unit), "dateFrom": "2023-01-01", "dateTo": "2023-12-31", **extra}}


async def test_trial_balance_of_a_subtree_balances(api, sh_finance):
    t = await _seed(sh_finance)
    q = f"""query({SCOPE_ARGS}) {{ trialBalance(input: $i) {{ balanced totalDebitFen totalCreditFen
        rows {{ code type openingFen debitFen creditFen closingFen }} }} }}"""
    tb = (await sh_finance.api.gql(q, _scope(t)))["data"]["trialBalance"]
    assert tb["balanced"] and tb["totalDebitFen"] == tb["totalCreditFen"]
    rows = {r["code"]: r for r in tb["rows"]}
    assert rows["102"]["openingFen"] == 100_000  # the 2022 income is opening balance for 2023
    assert rows["404"]["openingFen"] == -100_000 and rows["404"]["creditFen"] == 50_000
    assert rows["501"]["debitFen"] == 12_000 and rows["506"]["debitFen"] == 20_000
    cash = 100_000 + 50_000 - 12_000 - 3_000 - 5_000 - 10_000 + 1_000
    assert rows["102"]["closingFen"] == cash
    # A single grassroots union's subtree balances too, although its entries touch its parents.
    tb2 = (await sh_finance.api.gql(q, _scope(t, "g2")))["data"]["trialBalance"]
    assert tb2["balanced"]
    # Without dateFrom everything counts as movement.
    tb3 = (await sh_finance.api.gql(q, {"i": {"subtreeOf": t.id("city"), "dateTo": "2023-12-31"}}))["data"]["trialBalance"]
    assert {r["code"]: r for r in tb3["rows"]}["102"]["openingFen"] == 0


async def test_fund_statement_expenditure_structure_grassroots_share_and_flows(api, sh_finance):
    t = await _seed(sh_finance)
    fs = f"""query({SCOPE_ARGS}) {{ fundStatement(input: $i) {{ orgUnit {{ code level }} fund {{ code }}
        openingCashFen incomeFen expenseFen otherCashFen closingCashFen reservedFen }} }}"""
    rows = {r["orgUnit"]["code"]: r for r in (await sh_finance.api.gql(fs, _scope(t)))["data"]["fundStatement"]}
    g1 = rows[t.g1["code"]]
    assert (g1["openingCashFen"], g1["incomeFen"], g1["expenseFen"], g1["closingCashFen"]) == (0, 20_000, 15_000, 5_000)
    assert g1["otherCashFen"] == 0 and g1["fund"]["code"] == "general"
    g2 = rows[t.g2["code"]]
    assert (g2["incomeFen"], g2["closingCashFen"], g2["otherCashFen"]) == (1_000, 0, -1_000)
    city = rows[t.city["code"]]
    assert (city["openingCashFen"], city["expenseFen"], city["closingCashFen"]) == (100_000, 10_000, 91_000)

    es = f"""query({SCOPE_ARGS}) {{ expenditureStructure(input: $i) {{ totalFen rows {{ code name amountFen shareBp }} }} }}"""
    s = (await sh_finance.api.gql(es, _scope(t)))["data"]["expenditureStructure"]
    assert s["totalFen"] == 12_000 + 3_000 + 5_000 + 10_000 + 20_000
    by = {r["code"]: r for r in s["rows"]}
    assert [r["code"] for r in s["rows"]] == ["501", "502", "503", "504", "505", "506", "507", "508"]
    assert by["501"]["amountFen"] == 12_000 and by["501"]["shareBp"] == 2400 and by["506"]["name"] == "补助下级支出"

    gs = f"""query({SCOPE_ARGS}) {{ grassrootsShare(input: $i) {{ totalSpendingFen grassrootsSpendingFen shareBp
        byLevel {{ level spendingFen shareBp }} }} }}"""
    g = (await sh_finance.api.gql(gs, _scope(t)))["data"]["grassrootsShare"]
    # 506 (the grant down) is excluded: it is spent again below.
    assert g["totalSpendingFen"] == 30_000 and g["grassrootsSpendingFen"] == 15_000 and g["shareBp"] == 5000
    assert {r["level"]: r["spendingFen"] for r in g["byLevel"]} == {"city": 10_000, "county": 5_000, "grassroots": 15_000}

    fl = f"""query({SCOPE_ARGS}) {{ hierarchyFlows(input: $i) {{ upFen downFen rows {{ direction kind amountFen count
        fromOrgUnit {{ code }} toOrgUnit {{ code }} }} }} }}"""
    f = (await sh_finance.api.gql(fl, _scope(t)))["data"]["hierarchyFlows"]
    assert (f["upFen"], f["downFen"]) == (1_000, 20_000)
    assert {(r["direction"], r["kind"], r["fromOrgUnit"]["code"], r["toOrgUnit"]["code"], r["amountFen"]) for r in f["rows"]} == {
        ("UP", "remit", t.g2["code"], t.city["code"], 1_000), ("DOWN", "grant", t.county["code"], t.g1["code"], 20_000)}
    # Another date range sees none of it; a fund filter applies.
    empty = (await sh_finance.api.gql(fl, {"i": {"subtreeOf": t.id("city"), "dateFrom": "2024-01-01", "dateTo": "2024-12-31"}}))
    assert empty["data"]["hierarchyFlows"]["rows"] == []
    warmth = (await sh_finance.api.gql(es, _scope(t, fund="warmth")))["data"]["expenditureStructure"]
    assert warmth["totalFen"] == 0


async def test_report_scope_and_roles(api, sh_finance, bj_finance):
    t = await _seed(sh_finance)
    q = f"""query({SCOPE_ARGS}) {{ trialBalance(input: $i) {{ balanced totalDebitFen }} }}"""
    # A clerk reads their own subtree (defaulting to it), not a sibling's.
    clerk = await user_with(api, "shanghai", [("clerk", t.county)])
    mine = await clerk.api.gql(q, {"i": {"dateFrom": "2023-01-01", "dateTo": "2023-12-31"}})
    assert mine["data"]["trialBalance"]["balanced"] and mine["data"]["trialBalance"]["totalDebitFen"] > 0
    other = await make_tree()
    denied = await clerk.api.gql(q, _scope(other, "county"))
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    above = await clerk.api.gql(q, _scope(t, "city"))
    assert above["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Another tenant's unit is not found.
    nf = await bj_finance.api.gql(q, _scope(t))
    assert nf["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad = await sh_finance.api.gql(q, {"i": {"subtreeOf": t.id("city"), "dateFrom": "2023-12-31", "dateTo": "2023-01-01"}})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    worker = await user_with(api, "shanghai", [("worker", None)])
    assert (await worker.api.gql(q, _scope(t)))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


EXPORT = """query($r: LedgerReport!, $f: ExportFormat!, $i: ReportInput!) { ledgerReportExport(report: $r, format: $f,
  input: $i) { filename contentType contentBase64 rowCount } }"""


async def test_exports_csv_and_xlsx(api, sh_finance):
    from openpyxl import load_workbook

    t = await _seed(sh_finance)
    for report in ("TRIAL_BALANCE", "FUND_STATEMENT", "EXPENDITURE_STRUCTURE", "GRASSROOTS_SHARE", "FLOWS"):
        body = await sh_finance.api.gql(EXPORT, {"r": report, "f": "CSV", **_scope(t)})
        f = body["data"]["ledgerReportExport"]
        assert f["filename"].endswith(".csv") and f["contentType"].startswith("text/csv") and f["rowCount"] > 0
        text = base64.b64decode(f["contentBase64"]).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == f["rowCount"] + 1
        body = await sh_finance.api.gql(EXPORT, {"r": report, "f": "XLSX", **_scope(t)})
        x = body["data"]["ledgerReportExport"]
        assert x["filename"].endswith(".xlsx")
        wb = load_workbook(io.BytesIO(base64.b64decode(x["contentBase64"])))
        ws = wb.active
        assert ws.max_row == x["rowCount"] + 3  # title, subtitle, header
    tb = base64.b64decode((await sh_finance.api.gql(EXPORT, {"r": "TRIAL_BALANCE", "f": "CSV", **_scope(t)}))["data"]["ledgerReportExport"]["contentBase64"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(tb)))
    assert rows[0][0] == "科目代码" and rows[-1][1] == "合计" and rows[-1][4] == rows[-1][5]  # debits = credits

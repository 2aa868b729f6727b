"""The ledger on the embedded default (SQLite, in-process jobs), as `make run` starts it. A smoke test
in a subprocess: settings and the engine are per process. PostgreSQL is where the real tests run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import asyncio, httpx, json
    from core.app import create_app
    from core.jobs import runner

    LOGIN = 'mutation($u: String!) { login(tenantCode: "fujian", username: $u, password: "huijia-demo") { token } }'

    async def main():
        app = create_app()
        async with app.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                async def gql(token, q, v=None):
                    r = await c.post("/graphql", headers={"authorization": "Bearer " + token}, json={"query": q, "variables": v or {}})
                    body = r.json()
                    assert "errors" not in body, body
                    return body["data"]
                async def login(u):
                    r = await c.post("/graphql", json={"query": LOGIN, "variables": {"u": u}})
                    return r.json()["data"]["login"]["token"]
                fin = await login("finance")
                units = (await gql(fin, "{ orgUnits(first: 100) { nodes { id code level parent { id } } } }"))["orgUnits"]["nodes"]
                # The demo provinces hold a year of money: a new county with one grassroots union
                # gives this test books of its own.
                adm = await login("admin")
                city = [u for u in units if u["level"] == "CITY"][0]
                make = "mutation($in: OrgUnitCreateInput!) { orgUnitCreate(input: $in) { orgUnit { id } errors { code } } }"
                county = await gql(adm, make, {"in": {"parentId": city["id"], "code": "fj-sqlite-county", "name": "测试县总工会", "level": "COUNTY"}})
                parent = county["orgUnitCreate"]["orgUnit"]["id"]
                made = await gql(adm, make, {"in": {"parentId": parent, "code": "fj-sqlite-g", "name": "测试基层工会", "level": "GRASSROOTS"}})
                g = {"id": made["orgUnitCreate"]["orgUnit"]["id"]}
                levy = await gql(fin, "mutation($i: LevyInput!) { levyRecord(input: $i) { grassrootsFen upwardFen errors { code } } }",
                                 {"i": {"orgUnitId": g["id"], "periodStart": "2025-01-01", "periodEnd": "2025-01-31",
                                        "payrollFen": 1000000, "idempotencyKey": "levy-1"}})
                assert levy["levyRecord"]["errors"] == [], levy
                again = await gql(fin, "mutation($i: LevyInput!) { levyRecord(input: $i) { errors { code } } }",
                                  {"i": {"orgUnitId": g["id"], "periodStart": "2025-01-01", "periodEnd": "2025-01-31",
                                         "payrollFen": 1000000, "idempotencyKey": "levy-1"}})
                assert again["levyRecord"]["errors"] == []
                t = await gql(fin, "mutation($i: LedgerTransferInput!) { ledgerTransfer(input: $i) { direction errors { code } } }",
                              {"i": {"fromOrgUnitId": parent, "toOrgUnitId": g["id"], "amountFen": 500, "idempotencyKey": "t-1"}})
                assert t["ledgerTransfer"]["errors"] == [], t
                over = await gql(fin, "mutation($i: LedgerEntryInput!) { ledgerEntryCreate(input: $i) { errors { code } } }",
                                 {"i": {"idempotencyKey": "over", "postings": [
                                     {"orgUnitId": g["id"], "fund": "general", "code": "501", "side": "DEBIT", "amountFen": 1000000},
                                     {"orgUnitId": g["id"], "fund": "general", "code": "102", "side": "CREDIT", "amountFen": 1000000}]}})
                assert [e["code"] for e in over["ledgerEntryCreate"]["errors"]] == ["INSUFFICIENT_FUNDS"], over
                r = await gql(fin, "mutation($i: ReservationInput!) { reservationCreate(input: $i) { reservation { id } errors { code } } }",
                              {"i": {"orgUnitId": g["id"], "fund": "general", "amountFen": 300, "expenseCode": "501", "idempotencyKey": "r-1"}})
                rid = r["reservationCreate"]["reservation"]["id"]
                p = await gql(fin, "mutation($i: ReservationPostInput!) { reservationPost(input: $i) { reservation { status } errors { code } } }",
                              {"i": {"id": rid, "idempotencyKey": "p-1", "amountFen": 100, "final": True}})
                assert p["reservationPost"]["reservation"]["status"] == "POSTED", p
                # Maker-checker on SQLite too: with a low threshold a transfer and a reservation wait for the approver.
                appr = await login("approver")
                await gql(adm, "mutation { ledgerConfigUpdate(manualEntryThresholdFen: 200) { errors { code } } }")
                d = await gql(fin, "mutation($i: LedgerTransferInput!) { ledgerTransfer(input: $i) { entry { id } draft { id kind } errors { code } } }",
                              {"i": {"fromOrgUnitId": parent, "toOrgUnitId": g["id"], "amountFen": 400, "idempotencyKey": "t-2"}})
                assert d["ledgerTransfer"]["entry"] is None and d["ledgerTransfer"]["draft"]["kind"] == "TRANSFER_DOWN", d
                ok = await gql(appr, "mutation($id: ID!) { ledgerDraftApprove(id: $id) { entry { kind } errors { code } } }",
                               {"id": d["ledgerTransfer"]["draft"]["id"]})
                assert ok["ledgerDraftApprove"]["entry"]["kind"] == "TRANSFER_DOWN", ok
                r2 = await gql(fin, "mutation($i: ReservationInput!) { reservationCreate(input: $i) { reservation { id status } errors { code } } }",
                               {"i": {"orgUnitId": g["id"], "fund": "general", "amountFen": 300, "expenseCode": "501", "idempotencyKey": "r-2"}})
                assert r2["reservationCreate"]["reservation"]["status"] == "PENDING_APPROVAL", r2
                ra = await gql(appr, "mutation($id: ID!) { reservationApprove(id: $id) { reservation { status } errors { code } } }",
                               {"id": r2["reservationCreate"]["reservation"]["id"]})
                assert ra["reservationApprove"]["reservation"]["status"] == "OPEN", ra
                await gql(adm, "mutation { ledgerConfigUpdate(manualEntryThresholdFen: null) { errors { code } } }")
                tb = await gql(fin, "query($i: ReportInput!) { trialBalance(input: $i) { balanced totalDebitFen } }",
                               {"i": {"dateTo": "2100-01-01"}})
                assert tb["trialBalance"]["balanced"] and tb["trialBalance"]["totalDebitFen"] > 0, tb
                x = await gql(fin, "query($i: ReportInput!) { ledgerReportExport(report: FLOWS, format: XLSX, input: $i) { rowCount } }",
                              {"i": {"dateTo": "2100-01-01", "subtreeOf": parent}})
                aud = await login("auditor")
                v = await gql(aud, "{ ledgerVerify { ok checked pending problems } }")
                print("LEDGER", json.dumps(v["ledgerVerify"]), "FLOWS", x["ledgerReportExport"]["rowCount"])

    asyncio.run(main())
''')


def test_ledger_on_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env["HUIJIA_DATA_DIR"] = str(tmp_path)
    env["HUIJIA_ENV"] = "development"
    demo = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    assert 'LEDGER {"ok": true' in run.stdout and "FLOWS 2" in run.stdout, run.stdout
    for cmd in ("verify", "check"):
        out = subprocess.run([sys.executable, "-m", "core.cli", "ledger", cmd, "--tenant", "fujian"], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "fujian: OK" in out.stdout, out.stdout + out.stderr

"""Report files as jobs: started by a mutation (report.read over the unit asked for), written to the
encrypted store, downloaded by their creator through the audited GET /report-files/<id>."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from core.jobs import runner
from tests.funds.helpers import user_with
from tests.funds.test_funds_reports import EXPORT, _scope, _seed

START = """mutation($r: LedgerReport!, $f: ExportFormat!, $i: ReportInput!) {
  ledgerReportFileStart(report: $r, format: $f, input: $i) {
  job { id status result } downloadUrl errors { field code message } } }"""
JOB = "query($id: ID!) { job(id: $id) { id status result } }"
TB = """query($i: ReportInput!) { trialBalance(input: $i) { totalDebitFen totalCreditFen
  rows { code openingFen debitFen creditFen closingFen } } }"""


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


async def start(p, report, fmt, variables):
    return await p.api.gql(START, {"r": report, "f": fmt, **variables})


async def finished(p, report, fmt, variables):
    body = await start(p, report, fmt, variables)
    payload = body["data"]["ledgerReportFileStart"]
    assert payload["errors"] == [], payload
    await runner.drain_local()
    job = (await p.api.gql(JOB, {"id": payload["job"]["id"]}))["data"]["job"]
    assert job["status"] == "SUCCEEDED", job
    return payload["downloadUrl"], job


async def download(api, p, url):
    return await api.client.get(url, headers={"authorization": f"Bearer {p.token}"})


async def test_report_file_equals_the_report(api, sh_finance):
    from openpyxl import load_workbook

    t = await _seed(sh_finance)
    url, job = await finished(sh_finance, "TRIAL_BALANCE", "CSV", _scope(t))
    assert url.startswith("/report-files/")
    r = await download(api, sh_finance, url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and job["result"]["filename"].endswith(".csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == job["result"]["rowCount"] + 1
    # The same numbers as the trialBalance query, row by row.
    tb = (await sh_finance.api.gql(TB, _scope(t)))["data"]["trialBalance"]
    by_code = {row[0]: row for row in rows[1:-1]}
    assert set(by_code) == {x["code"] for x in tb["rows"]}
    for x in tb["rows"]:
        row = by_code[x["code"]]
        assert [int(v) for v in row[3:7]] == [x["openingFen"], x["debitFen"], x["creditFen"], x["closingFen"]]
    assert rows[-1][1] == "合计" and int(rows[-1][4]) == tb["totalDebitFen"] == int(rows[-1][5])
    # And byte for byte what the (deprecated) base64 field returns.
    old = (await sh_finance.api.gql(EXPORT, {"r": "TRIAL_BALANCE", "f": "CSV", **_scope(t)}))["data"]["ledgerReportExport"]
    assert base64.b64decode(old["contentBase64"]) == r.content

    for report in ("FUND_STATEMENT", "EXPENDITURE_STRUCTURE", "GRASSROOTS_SHARE", "FLOWS"):
        url, job = await finished(sh_finance, report, "XLSX", _scope(t))
        x = await download(api, sh_finance, url)
        assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
        ws = load_workbook(io.BytesIO(x.content)).active
        assert ws.max_row == job["result"]["rowCount"] + 3  # title, subtitle, header
        old = (await sh_finance.api.gql(EXPORT, {"r": report, "f": "XLSX", **_scope(t)}))["data"]["ledgerReportExport"]
        old_ws = load_workbook(io.BytesIO(base64.b64decode(old["contentBase64"]))).active
        # Row 2 carries the generation time; everything else is the same report.
        def cells(sheet):
            return [list(r) for i, r in enumerate(sheet.iter_rows(values_only=True)) if i != 1]

        assert cells(ws) == cells(old_ws)


async def test_download_is_audited_and_only_for_its_creator(api, sh_finance, sh_auditor):
    t = await _seed(sh_finance)
    url, job = await finished(sh_finance, "EXPENDITURE_STRUCTURE", "CSV", _scope(t))
    assert (await download(api, sh_finance, url)).status_code == 200
    raw_id = url.rsplit("/", 1)[-1]
    audit = await sh_auditor.api.gql('{ auditRecords(filter: {actionPrefix: "report.file"}, first: 50) '
                                     '{ nodes { action targetType targetId changes } } }')
    nodes = audit["data"]["auditRecords"]["nodes"]
    assert {"report.file", "report.file.download"} <= {n["action"] for n in nodes}
    downloads = [n for n in nodes if n["action"] == "report.file.download" and n["targetId"] == raw_id]
    assert downloads and downloads[0]["changes"]["rows"] == job["result"]["rowCount"]
    # Another finance user of the same tenant, with report.read over the unit, does not get it.
    other = await user_with(api, "shanghai", [("finance", None)])
    assert (await download(api, other, url)).status_code == 404
    # Nor does anyone anonymous, and an id that is no report file is not found.
    assert (await api.client.get(url)).status_code == 401
    assert (await download(api, sh_finance, "/report-files/99999999")).status_code == 404
    assert (await download(api, sh_finance, f"/report-files/{2**63}")).status_code == 404


async def test_wrong_tenant_is_not_found(api, sh_finance, bj_finance):
    t = await _seed(sh_finance)
    url, _ = await finished(sh_finance, "TRIAL_BALANCE", "CSV", _scope(t))
    # Beijing cannot start a file on a Shanghai unit, nor fetch Shanghai's file by its id.
    body = await start(bj_finance, "TRIAL_BALANCE", "CSV", _scope(t))
    assert _code(body) == "NOT_FOUND"
    assert (await download(api, bj_finance, url)).status_code == 404


async def test_wrong_role_or_unit_outside_the_subtree_is_refused(api, sh_finance):
    from tests.funds.helpers import make_tree

    t = await _seed(sh_finance)
    clerk = await user_with(api, "shanghai", [("clerk", t.county)])
    # Within the clerk's subtree: allowed, and it defaults to the clerk's unit like the report query.
    url, _ = await finished(clerk, "TRIAL_BALANCE", "CSV", {"i": {"dateFrom": "2023-01-01", "dateTo": "2023-12-31"}})
    assert (await download(api, clerk, url)).status_code == 200
    assert _code(await start(clerk, "TRIAL_BALANCE", "CSV", _scope(t, "city"))) == "FORBIDDEN"  # above the grant
    other = await make_tree()
    assert _code(await start(clerk, "TRIAL_BALANCE", "CSV", _scope(other, "county"))) == "FORBIDDEN"  # a sibling tree
    worker = await user_with(api, "shanghai", [("worker", None)])
    assert _code(await start(worker, "TRIAL_BALANCE", "CSV", _scope(t))) == "FORBIDDEN"
    assert (await download(api, worker, url)).status_code == 404
    bad = await start(sh_finance, "TRIAL_BALANCE", "CSV",
                      {"i": {"subtreeOf": t.id("city"), "dateFrom": "2023-12-31", "dateTo": "2023-01-01"}})
    assert _code(bad) == "INVALID_INPUT"


async def test_the_stored_file_is_encrypted(api, sh_finance):
    from core.funds.exports import KIND, file_store
    from core.tenancy.services import get_tenant

    t = await _seed(sh_finance)
    url, _ = await finished(sh_finance, "EXPENDITURE_STRUCTURE", "CSV", _scope(t))
    tenant = await get_tenant(code="shanghai")
    job_id = int(url.rsplit("/", 1)[-1])
    stored = file_store().path_for(KIND, tenant.id, job_id).read_bytes()
    plain = (await download(api, sh_finance, url)).content
    # Sealed chunks (ASCII lines), none of the report's text; the store opens them to the same bytes.
    assert stored.startswith(b"v1.") and stored.isascii() and plain.decode("utf-8-sig").startswith("科目代码,支出类别")
    with file_store().open_stored(KIND, tenant.id, job_id) as f:
        assert f.read() == plain


def _code(body):
    """The error code of a refused mutation: a top-level error, or the payload's first error."""
    if body.get("errors"):
        return body["errors"][0]["extensions"]["code"]
    return body["data"]["ledgerReportFileStart"]["errors"][0]["code"]


async def test_files_past_retention_are_purged_and_answer_410(api, sh_finance):
    import datetime as dt

    from core.funds.exports import KIND, file_store, purge_report_files
    from core.tenancy.services import get_tenant

    t = await _seed(sh_finance)
    url, _ = await finished(sh_finance, "GRASSROOTS_SHARE", "CSV", _scope(t))
    job_id = int(url.rsplit("/", 1)[-1])
    tenant = await get_tenant(code="shanghai")
    # A file newer than the cutoff stays.
    await purge_report_files(tenant, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert file_store().stored_exists(KIND, tenant.id, job_id)
    assert await purge_report_files(tenant, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) >= 1
    assert not file_store().stored_exists(KIND, tenant.id, job_id)
    r = await download(api, sh_finance, url)
    assert r.status_code == 410 and r.json()["error"]["code"] == "INVALID_STATE"

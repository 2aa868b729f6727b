"""CSV and XLSX files of the ledger reports.

A file is written by a ``funds.report_file`` job into the encrypted store (area ``funds``, kind
``reports``, keyed by the job's id) and downloaded by its creator through ``GET /report-files/<job id>``
(core/funds/http.py), which checks report.read over the unit again and audits every download. The
older ``ledgerReportExport`` query still returns the same bytes base64-encoded, deprecated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from core.context import TenantContext
from core.files import FileStore
from core.funds.reports import ReportScope, report_table

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes
    row_count: int


def _safe_cell(value: Any) -> Any:
    """Spreadsheet formula injection: text starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def to_csv(headers: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow([_safe_cell(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def to_xlsx(title: str, headers: list[str], rows: list[list[Any]], subtitle: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws.title = title[:31]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([subtitle])
    ws.append(headers)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([_safe_cell(v) for v in r])
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(h) * 2 + 2))
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def export_report(tenant: TenantContext, report: str, fmt: str, scope: ReportScope, unit_code: str,
                        fund_codes: dict[int, str]) -> ExportFile:
    title, headers, rows = await report_table(tenant, report, scope, fund_codes)
    start = scope.date_from.isoformat() if scope.date_from else "start"
    name = f"{tenant.code}-{unit_code}-{report}-{start}-{scope.date_to.isoformat()}.{fmt}"
    if fmt == "csv":
        data = to_csv(headers, rows)
    else:
        fund = fund_codes.get(scope.fund_id, "") if scope.fund_id else "all funds"
        subtitle = f"{tenant.name} · {unit_code} · {start} ~ {scope.date_to.isoformat()} · {fund} · generated " \
                   f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
        data = to_xlsx(title, headers, rows, subtitle)
    return ExportFile(name, CONTENT_TYPES[fmt], data, len(rows))


# ---------------------------------------------------------------------------------------------
# Report files as jobs: written to the encrypted store, downloaded through GET /report-files/<job id>
# ---------------------------------------------------------------------------------------------

REPORT_FILE_JOB = "funds.report_file"
KIND = "reports"


def file_store() -> FileStore:
    from core.files import store

    return store("funds")


def download_url(job_id: int) -> str:
    return f"/report-files/{job_id}"


async def start_report_file(tenant: TenantContext, actor: Any, report: str, fmt: str, scope: ReportScope,
                            unit: dict[str, Any]) -> int:
    """Queue a report file for the unit's subtree; the caller has checked report.read there. The job's
    arguments are the report's parameters (ids, codes and dates), its record names the creator and
    the unit, which the download checks again."""
    from core.audit.services import record
    from core.jobs.runner import enqueue

    date_from = scope.date_from.isoformat() if scope.date_from else ""
    job_id = await enqueue(tenant, REPORT_FILE_JOB, report, fmt, unit["id"], date_from, scope.date_to.isoformat(),
                           scope.fund_id or 0, created_by=actor.user_id, org_unit_id=unit["id"],
                           key=f"{REPORT_FILE_JOB}:{actor.user_id}:{dt.datetime.now(dt.UTC).isoformat()}")
    await record(tenant, actor, "report.file", "Job", job_id,
                 {"report": report, "format": fmt, "unit": unit["code"], "dateFrom": date_from,
                  "dateTo": scope.date_to.isoformat(), "fundId": scope.fund_id})
    return job_id


async def run_report_file(tenant: TenantContext, job_id: int, report: str, fmt: str, unit_id: int, date_from: str,
                          date_to: str, fund_id: int) -> dict[str, Any]:
    from core.errors import not_found
    from core.funds import queries
    from core.tenancy.queries import get_unit

    unit = await get_unit(tenant, unit_id)
    if unit is None:
        raise not_found("org unit")
    scope = ReportScope(unit["path"], dt.date.fromisoformat(date_from) if date_from else None,
                        dt.date.fromisoformat(date_to), fund_id or None)
    f = await export_report(tenant, report, fmt, scope, unit["code"], await queries.fund_codes(tenant))
    size = file_store().store_stream(iter([f.data]), KIND, tenant.id, job_id)
    return {"filename": f.filename, "contentType": f.content_type, "rowCount": f.row_count, "sizeBytes": size,
            "unitPath": unit["path"], "downloadUrl": download_url(job_id)}


async def purge_report_files(tenant: TenantContext, cutoff: dt.datetime) -> int:
    """Delete the tenant's stored report files whose job finished before ``cutoff`` (or whose job is
    gone); returns how many were deleted."""
    from core.context import tenant_scope
    from core.jobs.tables import JobRecord

    store = file_store()
    ids = store.stored_ids(KIND, tenant.id)
    if not ids:
        return 0
    with tenant_scope(tenant):  # under RLS, a query outside the tenant's scope sees no job and would purge all
        keep = {r["id"] for r in await JobRecord.select(JobRecord.id).where(
            (JobRecord.tenant_id == tenant.id) & JobRecord.id.is_in(ids) & (JobRecord.updated_at >= cutoff))}
    return sum(store.purge_stored(KIND, tenant.id, i) for i in ids if i not in keep)

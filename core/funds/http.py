"""HTTP route for ledger report files (GraphQL does not carry files well). Bearer-authenticated like
/graphql: the edge middleware has already resolved tenant and user.

- ``GET /report-files/<job id>`` — the file a ``ledgerReportFileStart`` job wrote, for the user who
  started it, while they still hold ``report.read`` over the unit it covers. Every download is
  audited. 404 for another tenant's or another user's job, 409 while the job has not finished, 410
  once the file is past the export retention (``HUIJIA_EXPORT_RETENTION_HOURS``) and purged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import Request, Response, get
from litestar.response import Stream

from core.context import TenantContext
from core.downloads import content_disposition, http_error
from core.errors import ErrorCode

# Ids in paths are BIGINT: a larger number is no row (and would be a driver error, a 500).
MAX_ID = 2**63 - 1


@get("/report-files/{job_id:int}")
async def download_report_file(request: Request[Any, Any, Any], job_id: int) -> Response[Any]:
    from core.actor import Actor
    from core.audit.services import record
    from core.funds.exports import KIND, REPORT_FILE_JOB, file_store
    from core.graphql.base import json_loads_maybe
    from core.jobs.runner import get_job
    from core.tenancy.queries import get_unit

    state: dict[str, Any] = request.scope.get("state", {})
    principal = state.get("principal")
    if principal is None:
        return http_error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)", "请先登录")
    tenant: TenantContext = state["tenant"]  # a principal always comes with its tenant
    row = await get_job(tenant, job_id) if job_id <= MAX_ID else None
    if row is None or row["name"] != REPORT_FILE_JOB or row["created_by"] != principal.user_id:
        return http_error(404, ErrorCode.NOT_FOUND, "report file not found", "报表文件不存在，或您无权查看")
    unit = await get_unit(tenant, row["org_unit_id"]) if row["org_unit_id"] else None
    # Checked again at download: a role withdrawn since the job started no longer reads the file.
    if unit is None or not principal.can("report.read", unit["path"]):
        return http_error(403, ErrorCode.FORBIDDEN, "not allowed: report.read", "无权查看该单位的报表")
    store = file_store()
    if row["status"] != "succeeded":
        return http_error(409, ErrorCode.INVALID_STATE, f"the report file is {row['status']}", "报表文件尚未生成")
    if not store.stored_exists(KIND, tenant.id, job_id):
        from core.settings import get_settings

        hours = get_settings().export_retention_hours
        return http_error(410, ErrorCode.INVALID_STATE, f"the report file has expired (files are kept {hours} hours): "
                      "export again", f"报表文件已过期（保留 {hours} 小时），请重新导出")
    result = json_loads_maybe(row["result"]) or {}
    await record(tenant, Actor(principal.user_id, principal.username), "report.file.download", "Job", job_id,
                 {"filename": result.get("filename"), "rows": result.get("rowCount")})

    def chunks() -> Iterator[bytes]:
        with store.open_stored(KIND, tenant.id, job_id) as f:
            yield from iter(lambda: f.read(256 * 1024), b"")

    return Stream(chunks, media_type=result.get("contentType", "application/octet-stream"),
                  headers={"content-disposition": content_disposition(result.get("filename") or f"report-{job_id}")})


ROUTES = [download_report_file]

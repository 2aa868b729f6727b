"""HTTP routes for files, which GraphQL does not carry well. Bearer-authenticated like /graphql (the
edge middleware has already resolved tenant and user).

- ``POST /imports`` — the roster, either as the whole request body (``?filename=名册.xlsx``; any
  content type but multipart/form-data; CSV or XLSX is recognised from the content) or as the
  ``file`` field of a ``multipart/form-data`` form (the filename from the part, ``filename*``
  understood). Streamed to the encrypted store, never held whole in memory, the size limit enforced
  as it arrives. Answers 201 with the import (preview running) or 422 with ``fileError`` when the file
  cannot be a roster (empty, wrong type, unknown encoding, header mismatch, too large); a form that
  is not usable (no ``file`` part, two files, malformed) is a 400 with ``error.fileError`` in Chinese.
- ``GET /imports/template.xlsx`` / ``GET /imports/template.csv`` — the roster template.
- ``GET /imports/<id>/errors.xlsx`` / ``.csv`` — the row error report (行号, 列, 错误说明) of the
  latest phase (the commit's once it started, else the preview's).
- ``GET /exports/<id>`` — a finished export, for the user who made it. Every download is audited.
  410 once it has expired (``HUIJIA_EXPORT_RETENTION_HOURS``, see ``core/members/retention.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Stream

from core.downloads import content_disposition, http_error
from core.errors import ErrorCode
from core.graphql.base import to_global_id

MAX_REPORT_ROWS = 100_000
# Ids in paths are BIGINT: a larger number is no row (and would be a driver error, a 500).
MAX_ID = 2**63 - 1


def _who(request: Request[Any, Any, Any]) -> tuple[Any, Any]:
    state = request.scope.get("state", {})
    return state.get("tenant"), state.get("principal")


def import_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": to_global_id("MemberImport", row["id"]), "status": row["status"].upper(), "filename": row["filename"],
        "format": row["format"], "encoding": row["encoding"], "sizeBytes": row["size_bytes"],
        "fileError": row["file_error"] or None,
        "previewJobId": to_global_id("Job", row["preview_job_id"]) if row["preview_job_id"] else None,
    }


@post("/imports", status_code=201, request_max_body_size=None)
async def upload_import(request: Request[Any, Any, Any]) -> Response[Any]:
    from core.actor import Actor
    from core.members.importer import receive_upload
    from core.multipart import MultipartFile, MultipartProblem, form_boundary
    from core.settings import get_settings

    tenant, principal = _who(request)
    if principal is None:
        return http_error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
    if not principal.can("member.import"):
        return http_error(403, ErrorCode.FORBIDDEN, "not allowed: member.import")
    limit = get_settings().import_max_bytes
    try:
        boundary = form_boundary(request.headers.get("content-type"))
    except MultipartProblem as problem:
        return _form_error(problem)
    allowed = limit if boundary is None else limit + MULTIPART_SLACK
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > allowed:
        return http_error(413, ErrorCode.INVALID_INPUT, f"文件超过{limit // (1024 * 1024)}MB上限：请拆分为多个文件后分别导入")
    filename = request.query_params.get("filename") or "roster"
    body: Any = request.stream()
    if boundary is not None:
        form = MultipartFile(body, boundary, max_body=allowed)
        try:
            filename = await form.open() or filename
        except MultipartProblem as problem:
            return _form_error(problem)
        body = form
    try:
        row = await receive_upload(tenant, Actor(principal.user_id, principal.username),
                                   principal.scope_paths("member.import"), filename, body, limit)
    except MultipartProblem as problem:  # found after the file part: the import is marked failed
        return _form_error(problem)
    body = {"import": import_json(row)}
    return Response(body, status_code=422 if row["status"] == "invalid" else 201)


# Part headers and small text fields around the file in a multipart/form-data upload.
MULTIPART_SLACK = 64 * 1024


def _form_error(problem: Any) -> Response[Any]:
    return http_error(problem.status, ErrorCode.INVALID_INPUT, problem.message,
                  fileError={"code": "UPLOAD", "message": problem.message_zh, "row": None, "column": ""})


@get(["/imports/template.csv", "/imports/template.xlsx"])
async def import_template(request: Request[Any, Any, Any]) -> Response[Any]:
    from core.members import roster

    fmt = request.url.path.rsplit(".", 1)[-1]
    _, principal = _who(request)
    if principal is None:
        return http_error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
    if fmt == "csv":
        return Response(roster.template_csv(), media_type="text/csv",
                        headers={"content-disposition": content_disposition("会员名册导入模板.csv")})
    if fmt == "xlsx":
        return Response(roster.template_xlsx(),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"content-disposition": content_disposition("会员名册导入模板.xlsx")})
    return http_error(404, ErrorCode.NOT_FOUND, "template.csv or template.xlsx")


@get(["/imports/{import_id:int}/errors.csv", "/imports/{import_id:int}/errors.xlsx"])
async def import_errors(request: Request[Any, Any, Any], import_id: int) -> Response[Any]:
    from core.members import queries
    from core.members.importer import error_report_rows

    fmt = request.url.path.rsplit(".", 1)[-1]
    tenant, principal = _who(request)
    if principal is None:
        return http_error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
    from core.members.graphql import can_see_import

    imp = await queries.get_import(tenant, import_id) if import_id <= MAX_ID else None
    if imp is None or not can_see_import(principal, imp):
        return http_error(404, ErrorCode.NOT_FOUND, "import not found")
    if fmt not in ("csv", "xlsx"):
        return http_error(404, ErrorCode.NOT_FOUND, "errors.csv or errors.xlsx")
    phase = "commit" if imp["status"] in ("committing", "committed", "interrupted") else "preview"
    errors = await queries.import_errors(tenant, import_id, phase, 0, MAX_REPORT_ROWS)
    rows = list(error_report_rows(errors))
    if imp["file_error"]:
        fe = imp["file_error"]
        rows.insert(1, [fe.get("row") or "", fe.get("column") or "", fe.get("message", "")])
    name = f"导入错误报告-{import_id}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv",
                        headers={"content-disposition": content_disposition(name)})
    from core.xlsx.writer import XlsxStreamWriter

    buf = io.BytesIO()
    with XlsxStreamWriter(buf, "错误", widths=[8, 14, 60]) as book:
        book.header(rows[0])
        for r in rows[1:]:
            book.row(r)
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": content_disposition(name)})


@get("/exports/{export_id:int}")
async def download_export(request: Request[Any, Any, Any], export_id: int) -> Response[Any]:
    from core.actor import Actor
    from core.members import exporter, filestore, queries

    tenant, principal = _who(request)
    if principal is None:
        return http_error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
    exp = await queries.get_export(tenant, export_id) if export_id <= MAX_ID else None
    if exp is None or exp["created_by"] != principal.user_id:
        return http_error(404, ErrorCode.NOT_FOUND, "export not found")
    if not principal.can("member.export_unmasked" if exp["unmasked"] else "member.export"):
        return http_error(403, ErrorCode.FORBIDDEN, "not allowed: member.export")
    if exp["status"] == "expired":
        from core.settings import get_settings

        return http_error(410, ErrorCode.INVALID_STATE, f"the export has expired (files are kept "
                      f"{get_settings().export_retention_hours} hours): export again")
    if exp["status"] != "ready" or not filestore.stored_exists(exporter.KIND, tenant.id, export_id):
        return http_error(409, ErrorCode.INVALID_STATE, f"the export is {exp['status']}")
    await exporter.note_download(tenant, Actor(principal.user_id, principal.username), exp)

    def chunks() -> Iterator[bytes]:
        with filestore.open_stored(exporter.KIND, tenant.id, export_id) as f:
            yield from iter(lambda: f.read(256 * 1024), b"")

    media = "text/csv" if exp["format"] == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Stream(chunks, media_type=media, headers={"content-disposition": content_disposition(f"会员导出-{export_id}.{exp['format']}")})


ROUTES = [upload_import, import_template, import_errors, download_export]

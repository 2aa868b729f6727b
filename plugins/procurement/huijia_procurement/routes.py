"""HTTP routes: the download of a bid document (sealed until the tender deadline, like the price)
and of an organisation's qualification document, for a logged-in caller (Authorization: Bearer).

Errors: ``{"error": {"code", "message", "messageZh", "field"}}`` with 401 / 404 / 409 / 429.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.sdk import DomainError, ErrorCode, capability_enabled, files, raw, tenant_scope
from huijia_procurement import bids, registry
from huijia_procurement.settings import NAME

_STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.TOO_MANY_ATTEMPTS: 429, ErrorCode.UNAUTHENTICATED: 401,
           ErrorCode.FORBIDDEN: 403, ErrorCode.INVALID_STATE: 409}


def error_response(exc: DomainError) -> Response[Any]:
    body: dict[str, Any] = {"code": exc.code.value, "message": exc.message, "messageZh": exc.message_zh,
                            "field": exc.field}
    if exc.extensions:
        body.update(exc.extensions)
    headers = {}
    if exc.extensions and "retryAfterSeconds" in exc.extensions:
        headers["Retry-After"] = str(exc.extensions["retryAfterSeconds"])
    return Response({"error": body}, status_code=_STATUS.get(exc.code, 400), headers=headers)


def _caller(request: Request[Any, Any, Any]) -> tuple[Any, Any]:
    tenant, principal = request.state.get("tenant"), request.state.get("principal")
    if tenant is None or principal is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
    if not capability_enabled(tenant, NAME):
        raise DomainError(ErrorCode.NOT_FOUND, "document not found", "id")
    return tenant, principal


def _file(doc: dict[str, Any], reader: Any) -> Response[Any]:
    try:
        data = reader.read()
    finally:
        reader.close()
    return Response(data, media_type=doc["content_type"],
                    headers={"Content-Disposition": f"attachment; filename=document-{int(doc['id'])}",
                             "Cache-Control": "no-store"})


@get("/procurement/bid-documents/{document_id:int}")
async def bid_document(request: Request[Any, Any, Any], document_id: int) -> Response[Any]:
    try:
        tenant, principal = _caller(request)
        with tenant_scope(tenant):
            doc, reader = await bids.document_for_download(tenant, principal, document_id)
    except DomainError as exc:
        return error_response(exc)
    return _file(doc, reader)


@get("/procurement/org-documents/{document_id:int}")
async def org_document(request: Request[Any, Any, Any], document_id: int) -> Response[Any]:
    try:
        tenant, principal = _caller(request)
        with tenant_scope(tenant):
            rows = await raw("SELECT * FROM procurement_org_document WHERE tenant_id = {} AND id = {}", tenant.id,
                             document_id)
            if not rows:
                raise DomainError(ErrorCode.NOT_FOUND, "document not found", "id")
            await registry.visible(tenant, principal, int(rows[0]["org_id"]), field="id")
    except DomainError as exc:
        return error_response(exc)
    return _file(rows[0], files.store(registry.FILE_AREA).open_stored("org_document", tenant.id, document_id))


ROUTES = [bid_document, org_document]

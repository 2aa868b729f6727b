"""HTTP routes.

For a logged-in caller (Authorization: Bearer): the download of a bid document (sealed until the
tender deadline, like the price) and of an organisation's qualification document.

Public, unauthenticated, rate-limited per client address, 404 for a tenant without the capability:
``GET /public/procurement/{tenant}/ocds`` and ``.../ocds/{call id}`` (OCDS 1.1 release packages) and
``GET /public/procurement/{tenant}/awards`` (awarded contracts).

Errors: ``{"error": {"code", "message", "messageZh", "field"}}`` with 401 / 404 / 409 / 429.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.sdk import (
    DomainError,
    ErrorCode,
    capability_enabled,
    files,
    get_tenant,
    rate_limit,
    raw,
    tenant_scope,
)
from huijia_procurement import bids, ocds, registry
from huijia_procurement.settings import NAME, for_tenant

PUBLIC = "/public/procurement/{tenant_code:str}"

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


async def _public_tenant(request: Request[Any, Any, Any], tenant_code: str) -> Any:
    """The tenant of a public route: 404 unless it enables the capability; rate-limited per address."""
    tenant = await get_tenant(code=tenant_code[:64])
    if tenant is None or not capability_enabled(tenant, NAME):
        raise DomainError(ErrorCode.NOT_FOUND, "no such province's procurement", None, "未找到该省的购买服务信息")
    ip = request.client.host if request.client else "-"
    wait = await rate_limit("procurement-public", f"{tenant.id}:{ip}", for_tenant(tenant).public_requests_per_minute, 60)
    if wait:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"too many requests; retry in {wait} s", None,
                          "请求过于频繁，请稍后再试", extensions={"retryAfterSeconds": wait})
    return tenant


@get(f"{PUBLIC}/ocds")
async def ocds_package(request: Request[Any, Any, Any], tenant_code: str) -> Response[Any]:
    """An OCDS 1.1 release package with the latest release of each published call (newest 500)."""
    try:
        tenant = await _public_tenant(request, tenant_code)
        with tenant_scope(tenant):
            items = await ocds.releases(tenant)
    except DomainError as exc:
        return error_response(exc)
    return Response(ocds.package(tenant, str(request.url), items), media_type="application/json")


@get(f"{PUBLIC}/ocds/{{call_id:int}}")
async def ocds_call(request: Request[Any, Any, Any], tenant_code: str, call_id: int) -> Response[Any]:
    """An OCDS 1.1 release package for one published call (404 for a draft or another tenant's call)."""
    try:
        tenant = await _public_tenant(request, tenant_code)
        with tenant_scope(tenant):
            items = await ocds.releases(tenant, call_id)
        if not items:
            raise DomainError(ErrorCode.NOT_FOUND, "call not found", "callId", "项目不存在")
    except DomainError as exc:
        return error_response(exc)
    return Response(ocds.package(tenant, str(request.url), items), media_type="application/json")


@get(f"{PUBLIC}/awards")
async def awarded(request: Request[Any, Any, Any], tenant_code: str) -> Response[Any]:
    """The tenant's awarded (signed) contracts, newest first: buyer, supplier, value, date."""
    try:
        tenant = await _public_tenant(request, tenant_code)
        with tenant_scope(tenant):
            rows = await ocds.awarded_contracts(tenant)
    except DomainError as exc:
        return error_response(exc)
    return Response({"contracts": rows})


ROUTES = [bid_document, org_document, ocds_package, ocds_call, awarded]

"""Staff HTTP route for station photos (GraphQL does not carry files well). Bearer-authenticated
like /graphql: the edge middleware has already resolved tenant and user.

- ``GET /service_network/photos/<photo id>``: a photo of a station in the caller's
  ``service_network.read`` subtree; 404 for another tenant's photo, one outside the subtree, or a
  tenant without the capability (nothing tells them apart).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.response import Stream

from core.sdk import ErrorCode, capability_enabled, raw, tenant_scope
from huijia_service_network import photos
from huijia_service_network.settings import NAME

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is no row (and would be a driver error)


def _error(status: int, code: ErrorCode, message: str, message_zh: str) -> Response[Any]:
    return Response({"error": {"code": code.value, "message": message, "messageZh": message_zh}}, status_code=status)


@get("/service_network/photos/{photo_id:int}")
async def download_photo(request: Request[Any, Any, Any], photo_id: int) -> Response[Any]:
    state: dict[str, Any] = request.scope.get("state", {})
    principal = state.get("principal")
    if principal is None:
        return _error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)", "请先登录")
    tenant = state["tenant"]  # a principal always comes with its tenant
    missing = _error(404, ErrorCode.NOT_FOUND, "photo not found", "照片不存在，或您无权查看")
    if not capability_enabled(tenant, NAME) or not 1 <= photo_id <= MAX_ID:
        return missing
    with tenant_scope(tenant):
        rows = await raw("SELECT p.id, p.content_type, o.path FROM sn_station_photo p JOIN sn_station s ON "
                         "s.tenant_id = p.tenant_id AND s.id = p.station_id JOIN org_unit o ON o.tenant_id = s.tenant_id "
                         "AND o.id = s.org_unit_id WHERE p.tenant_id = {} AND p.id = {}", tenant.id, photo_id)
    if not rows or not principal.can("service_network.read", rows[0]["path"]):
        return missing
    return Stream(photos.chunks(tenant.id, photo_id), media_type=rows[0]["content_type"],
                  headers={"cache-control": "private, max-age=3600", "x-content-type-options": "nosniff"})


ROUTES = [download_photo]

"""Public HTTP routes: what anyone may read or do without logging in, per province (tenant code in
the path). GraphQL fields are for logged-in staff (the host gates them on a login); these are
plain JSON, rate-limited per client address, and answer only for tenants enabling the capability.

- ``GET  /public/service-network/{tenant}/items[?unit=<org unit code>]``: published service items;
- ``GET  /public/service-network/{tenant}/stations/nearby?lat=&lon=[&datum=gcj02][&n=20][&openNow=1][&facility=aed]``;
- ``POST /public/service-network/{tenant}/stations/{number}/check-in`` ``{"phone", "occupation"}``
  (the station's QR code points here);
- ``GET  /public/service-network/{tenant}/stations/{number}/photos``: the station's public photos;
- ``GET  /public/service-network/{tenant}/stations/{number}/photos/{id}``: one of them (the image).

Photos are public only when staff mark them so (a picture of the rest room, not of the people in it):
a worker deciding where to rest sees what is there. They go through the same per-address limit as
every public read, so the finder cannot be used to pull the store's files in bulk.

Errors: ``{"error": {"code", "message", "messageZh", "field"}}`` with 400 / 404 / 429.
"""

from __future__ import annotations

import math
from typing import Any

from litestar import Request, Response, get, post

from core.sdk import DomainError, ErrorCode, capability_enabled, get_tenant, raw, tenant_scope
from huijia_service_network import geo, rules, services
from huijia_service_network.settings import NAME, for_tenant

PREFIX = "/public/service-network/{tenant_code:str}"
_STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.TOO_MANY_ATTEMPTS: 429}


def _error(exc: DomainError) -> Response[Any]:
    body: dict[str, Any] = {"code": exc.code.value, "message": exc.message, "messageZh": exc.message_zh, "field": exc.field}
    headers = {}
    if exc.extensions and "retryAfterSeconds" in exc.extensions:
        body["retryAfterSeconds"] = exc.extensions["retryAfterSeconds"]
        headers["Retry-After"] = str(exc.extensions["retryAfterSeconds"])
    return Response({"error": body}, status_code=_STATUS.get(exc.code, 400), headers=headers)


async def _tenant(request: Request[Any, Any, Any], tenant_code: str) -> Any:
    tenant = await get_tenant(code=tenant_code[:64])
    if tenant is None or not capability_enabled(tenant, NAME):
        raise DomainError(ErrorCode.NOT_FOUND, "no such province service network", None, "未找到该省服务阵地")
    ip = request.client.host if request.client else "-"
    await services.throttle("sn-public", f"{tenant.id}:{ip}", for_tenant(tenant).public_requests_per_minute, 60,
                            "请求过于频繁，请稍后再试")
    return tenant


def _float(value: str | None, field: str) -> float:
    try:
        out = float(value) if value is not None else math.nan
    except ValueError:
        out = math.nan
    if not math.isfinite(out):
        raise services.invalid(f"{field} must be a number", field, "坐标须为数字")
    return out


def _int(value: str | None, field: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        out = int(value)
    except ValueError:
        out = low - 1
    if not low <= out <= high:
        raise services.invalid(f"{field} must be between {low} and {high}", field, f"{field} 须在{low}至{high}之间")
    return out


@get(f"{PREFIX}/items")
async def public_items(request: Request[Any, Any, Any], tenant_code: str, unit: str | None = None) -> Response[Any]:
    try:
        tenant = await _tenant(request, tenant_code)
        with tenant_scope(tenant):
            sql = ("SELECT t.id, t.name, t.provider_kind, t.provider_name, t.how_to, t.hours, t.contact, o.code AS unit_code, "
                   "o.name AS unit_name FROM sn_service_item t JOIN org_unit o ON o.id = t.org_unit_id AND "
                   "o.tenant_id = t.tenant_id WHERE t.tenant_id = {} AND t.published = {}")
            args: list[Any] = [tenant.id, True]
            if unit:
                sql += " AND o.code = {}"
                args.append(unit[:64])
            rows = await raw(sql + " ORDER BY o.path, t.id LIMIT 500", *args)
    except DomainError as exc:
        return _error(exc)
    return Response({"items": [{
        "name": r["name"], "providerKind": r["provider_kind"], "provider": r["provider_name"], "howTo": r["how_to"],
        "hours": r["hours"], "contact": r["contact"], "unit": {"code": r["unit_code"], "name": r["unit_name"]},
    } for r in rows]})


def station_json(f: services.Found) -> dict[str, Any]:
    r = f.row
    g_lat, g_lon = geo.wgs_to_gcj(r["lat"], r["lon"])
    return {"number": r["number"], "name": r["name"], "address": r["address"], "lat": r["lat"], "lon": r["lon"],
            "gcj02": [g_lat, g_lon], "distanceM": round(f.distance_m), "stars": r["stars"],
            "facilities": rules.facilities_of(r["facilities"]), "homeName": r["home_name"]}


@get(f"{PREFIX}/stations/nearby")
async def public_nearby(request: Request[Any, Any, Any], tenant_code: str) -> Response[Any]:
    q = request.query_params
    try:
        tenant = await _tenant(request, tenant_code)
        lat, lon = services.to_wgs84(_float(q.get("lat"), "lat"), _float(q.get("lon"), "lon"), q.get("datum") or "wgs84")
        n = _int(q.get("n"), "n", 20, 1, 100)
        open_now = (q.get("openNow") or "").lower() in ("1", "true", "yes")
        facility = q.get("facility") or None
        if facility is not None:
            services.check_facilities(tenant, [facility])
        with tenant_scope(tenant):
            found, radius = await services.nearest(tenant, lat, lon, n, facility=facility,
                                                    open_at=services.local_time(tenant) if open_now else None)
    except DomainError as exc:
        return _error(exc)
    # radiusM: how far the search looked (fewer than n stations means none other within it).
    return Response({"stations": [station_json(f) for f in found], "radiusM": round(radius)})


@post(f"{PREFIX}/stations/{{number:str}}/check-in", status_code=201)
async def public_check_in(request: Request[Any, Any, Any], tenant_code: str, number: str) -> Response[Any]:
    try:
        tenant = await _tenant(request, tenant_code)
        try:
            body = await request.json()
        except Exception:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("phone"), str) or not isinstance(body.get("occupation"), str):
            raise services.invalid("body must be {phone, occupation}", None, "请填写手机号和职业")
        with tenant_scope(tenant):
            visit = await services.check_in(tenant, number[:40], body["phone"][:40], body["occupation"][:80])
    except DomainError as exc:
        return _error(exc)
    return Response({"checkedIn": True, "visitedAt": visit["visited_at"].isoformat()}, status_code=201)


_PUBLIC_PHOTOS = ("SELECT p.id, p.caption, p.content_type FROM sn_station_photo p JOIN sn_station s ON s.tenant_id = p.tenant_id "
                  "AND s.id = p.station_id WHERE p.tenant_id = {} AND s.number = {} AND p.public = {}")


@get(f"{PREFIX}/stations/{{number:str}}/photos")
async def public_photos(request: Request[Any, Any, Any], tenant_code: str, number: str) -> Response[Any]:
    try:
        tenant = await _tenant(request, tenant_code)
        with tenant_scope(tenant):
            rows = await raw(_PUBLIC_PHOTOS + " ORDER BY p.id LIMIT 20", tenant.id, number[:40], True)
    except DomainError as exc:
        return _error(exc)
    base = f"/public/service-network/{tenant.code}/stations/{number[:40]}/photos"
    return Response({"photos": [{"url": f"{base}/{r['id']}", "caption": r["caption"]} for r in rows]})


@get(f"{PREFIX}/stations/{{number:str}}/photos/{{photo_id:int}}")
async def public_photo(request: Request[Any, Any, Any], tenant_code: str, number: str, photo_id: int) -> Response[Any]:
    from litestar.response import Stream

    from huijia_service_network import photos

    try:
        tenant = await _tenant(request, tenant_code)
        rows = []
        if 1 <= photo_id <= 2**63 - 1:
            with tenant_scope(tenant):
                rows = await raw(_PUBLIC_PHOTOS + " AND p.id = {}", tenant.id, number[:40], True, photo_id)
        if not rows:
            raise DomainError(ErrorCode.NOT_FOUND, "photo not found", None, "未找到该照片")
    except DomainError as exc:
        return _error(exc)
    return Stream(photos.chunks(tenant.id, photo_id), media_type=rows[0]["content_type"],
                  headers={"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"})


ROUTES = [public_items, public_nearby, public_check_in, public_photos, public_photo]

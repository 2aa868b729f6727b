"""The capability's services: validation, writes and the finder. GraphQL and the public routes call
these; they raise DomainError with Chinese ``message_zh`` for the UI."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from core.sdk import (
    DomainError,
    ErrorCode,
    PhoneError,
    TenantContext,
    audit_record,
    hooks_for,
    normalize_phone,
    phone_digest,
    pii_encrypt,
    rate_limit,
    raw,
    transaction,
)
from huijia_service_network import geo, hours, rules
from huijia_service_network.settings import for_tenant


def invalid(message: str, field: str | None, message_zh: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, field, message_zh)


async def throttle(name: str, subject: str, limit: int, window: int, message_zh: str) -> None:
    wait = await rate_limit(name, subject, limit, window)
    if wait:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, f"too many requests; retry in {wait} s", None, message_zh,
                          extensions={"retryAfterSeconds": wait})


# ---------------------------------------------------------------------------------------------
# Coordinates and hours
# ---------------------------------------------------------------------------------------------

DATUMS = ("wgs84", "gcj02")


def to_wgs84(lat: float, lon: float, datum: str, field: str = "lat") -> tuple[float, float]:
    """WGS-84 from what the caller gave; refuses a point outside China (checked on the WGS-84 point)."""
    datum = datum.lower()
    if datum not in DATUMS:
        raise invalid("datum must be wgs84 or gcj02", "datum", "坐标系只能是 WGS-84 或 GCJ-02")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
        raise invalid("coordinates out of range", field, "坐标超出范围")
    if datum == "gcj02":
        if not geo.in_china(lat, lon):
            raise invalid("the point lies outside China", field, "坐标不在中国境内")
        lat, lon = geo.gcj_to_wgs(lat, lon)
    if not geo.in_china(lat, lon):
        raise invalid("the point lies outside China", field, "坐标不在中国境内")
    return lat, lon


def parse_windows(items: list[dict[str, Any]]) -> list[hours.Window]:
    out = []
    for i, w in enumerate(items):
        try:
            out.append(hours.parse_window(w["start"], w["end"], w["kind"], overnight=bool(w.get("overnight")),
                                          days=w.get("days")))
        except hours.HoursError as exc:
            raise invalid(str(exc), f"hours.{i}", exc.message_zh) from None
    if hours.overlapping(out):
        raise invalid("opening windows overlap", "hours", "开放时段相互重叠")
    return out


def local_time(tenant: TenantContext, now: dt.datetime | None = None) -> tuple[int, int]:
    """The tenant's local (weekday 0 Monday ... 6 Sunday, minute of the day) at ``now``."""
    now = now or dt.datetime.now(dt.UTC)
    local = now + dt.timedelta(minutes=for_tenant(tenant).utc_offset_minutes)
    return local.weekday(), local.hour * 60 + local.minute


def local_minute(tenant: TenantContext, now: dt.datetime | None = None) -> int:
    return local_time(tenant, now)[1]


# ---------------------------------------------------------------------------------------------
# Stations
# ---------------------------------------------------------------------------------------------


def check_facilities(tenant: TenantContext, codes: list[str]) -> list[str]:
    known = {f.code for f in for_tenant(tenant).facilities} | {"aed"}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise invalid(f"unknown facilities: {', '.join(unknown)}", "facilities",
                      "设施不在本省清单内：" + "、".join(unknown))
    return sorted(set(codes))


def stars_for(tenant: TenantContext, area_m2: int, capacity: int, facilities: list[str]) -> int:
    checklist = [f.code for f in for_tenant(tenant).facilities]
    stars = hooks_for(tenant).station_rating(tenant=tenant, area_m2=area_m2, capacity=capacity,
                                             facilities=list(facilities), checklist=checklist)
    return max(1, min(5, int(stars or 1)))


async def replace_windows(tenant: TenantContext, station_id: int, windows: list[hours.Window]) -> None:
    await raw("DELETE FROM sn_station_window WHERE tenant_id = {} AND station_id = {}", tenant.id, station_id)
    for w in windows:
        await raw("INSERT INTO sn_station_window (tenant_id, station_id, start_min, end_min, kind, days) "
                  "VALUES ({}, {}, {}, {}, {}, {})", tenant.id, station_id, w.start, w.end, w.kind, w.days)


async def windows_of(tenant: TenantContext, station_ids: list[int]) -> dict[int, list[hours.Window]]:
    out: dict[int, list[hours.Window]] = {i: [] for i in station_ids}
    if not station_ids:
        return out
    marks = ", ".join("{}" for _ in station_ids)
    rows = await raw(f"SELECT station_id, start_min, end_min, kind, days FROM sn_station_window WHERE tenant_id = {{}} "
                     f"AND station_id IN ({marks}) ORDER BY station_id, start_min, days", tenant.id, *station_ids)
    for r in rows:
        out[r["station_id"]].append(hours.Window(r["start_min"], r["end_min"], r["kind"], r["days"]))
    return out


# ---------------------------------------------------------------------------------------------
# The public finder
# ---------------------------------------------------------------------------------------------

# A window is open at minute m of weekday d: a day window of day d covers m, or an overnight one
# started on d at or before m, or one started the day before has not yet ended. The placeholders
# are: bit(d), m, m, bit(d), m, bit(d-1), m. Both databases run it as is (``&`` is bitwise AND in each).
OPEN_NOW = ("EXISTS (SELECT 1 FROM sn_station_window w WHERE w.tenant_id = s.tenant_id AND w.station_id = s.id AND "
            "((w.start_min < w.end_min AND (w.days & {}) <> 0 AND w.start_min <= {} AND w.end_min > {}) OR "
            "(w.end_min < w.start_min AND (((w.days & {}) <> 0 AND w.start_min <= {}) OR "
            "((w.days & {}) <> 0 AND w.end_min > {})))))")


def open_now_args(weekday: int, minute: int) -> list[int]:
    today, yesterday = 1 << weekday, 1 << ((weekday - 1) % 7)
    return [today, minute, minute, today, minute, yesterday, minute]


@dataclass(frozen=True, slots=True)
class Found:
    row: dict[str, Any]
    distance_m: float


def finder_sql(tenant_id: int, lat: float, lon: float, b: tuple[float, float, float, float],
               at: tuple[int, int] | None, facility: str | None, limit: int) -> tuple[str, list[Any]]:
    """The stations in box ``b``, nearest first by the equirectangular approximation (plain
    arithmetic, so SQLite runs it too), at most ``limit`` of them."""
    sql = ("SELECT s.id, s.number, s.name, s.lat, s.lon, s.address, s.facilities, s.stars, s.home_name "
           "FROM sn_station s WHERE s.tenant_id = {} AND s.lat BETWEEN {} AND {} AND s.lon BETWEEN {} AND {}")
    args: list[Any] = [tenant_id, b[0], b[1], b[2], b[3]]
    if facility:
        sql += " AND s.facilities LIKE {}"
        args.append(f"%,{facility},%")
    if at is not None:  # (local weekday, minute): open then
        sql += " AND " + OPEN_NOW
        args += open_now_args(*at)
    k = math.cos(math.radians(lat)) ** 2
    sql += " ORDER BY (s.lat - {}) * (s.lat - {}) + {} * (s.lon - {}) * (s.lon - {}), s.id LIMIT {}"
    args += [lat, lat, k, lon, lon, limit]
    return sql, args


# Rows fetched beyond n, so that the approximation's order (exact to about 1e-4 of the distance at
# the finder's scale) cannot push a true top-n station out of the fetched set.
SLACK = 8


async def nearest(tenant: TenantContext, lat: float, lon: float, n: int, *, open_at: tuple[int, int] | None,
                  facility: str | None) -> tuple[list[Found], float]:
    """The ``n`` nearest stations to a WGS-84 point, nearest first, and the radius searched;
    ``open_at`` (local weekday, minute) keeps those open then.

    No spatial extension: a lat/lon box read through the (tenant_id, lat, lon) btree, growing ×2
    from 1 km until it holds ``n`` stations within its inscribed circle (the only ones certain to
    beat anything outside the box) or reaches the tenant's ``finder_max_radius_m``. SQL orders the
    box by an approximate distance and returns ``n`` plus a margin; the exact great-circle distance
    decides."""
    max_radius = float(for_tenant(tenant).finder_max_radius_m)
    radius = min(1000.0, max_radius)
    while True:
        sql, args = finder_sql(tenant.id, lat, lon, geo.box(lat, lon, radius), open_at, facility, n + SLACK)
        rows = await raw(sql, *args)
        found = [Found(r, d) for r in rows if (d := geo.haversine_m(lat, lon, r["lat"], r["lon"])) <= radius]
        if len(found) >= n or radius >= max_radius:
            found.sort(key=lambda f: (f.distance_m, f.row["id"]))
            return found[:n], radius
        radius = min(radius * 2, max_radius)


# ---------------------------------------------------------------------------------------------
# Check-ins
# ---------------------------------------------------------------------------------------------


async def check_in(tenant: TenantContext, number: str, phone: str, occupation: str) -> dict[str, Any]:
    """A QR check-in at station ``number``: the phone is encrypted and indexed, never stored or
    logged in the clear; one phone may check in ``checkins_per_phone_per_hour`` times an hour."""
    settings = for_tenant(tenant)
    try:
        canonical = normalize_phone(phone)
    except PhoneError:
        raise invalid("phone is not a valid phone number", "phone", "手机号码格式不正确") from None
    occupation = occupation.strip()
    if not occupation or len(occupation) > 40:
        raise invalid("occupation must have 1 to 40 characters", "occupation", "职业须为1至40个字")
    station = (await raw("SELECT id, org_unit_id FROM sn_station WHERE tenant_id = {} AND number = {}",
                         tenant.id, number))
    if not station:
        raise DomainError(ErrorCode.NOT_FOUND, "station not found", "number", "未找到该驿站")
    await throttle("sn-checkin", f"{tenant.id}:{canonical}", settings.checkins_per_phone_per_hour, 3600,
                   "该手机号签到过于频繁，请稍后再试")
    sid = station[0]["id"]
    async with transaction():
        row = (await raw("INSERT INTO sn_station_visit (tenant_id, station_id, phone_enc, phone_bidx, occupation, visited_at) "
                         "VALUES ({}, {}, {}, {}, {}, {}) RETURNING id, visited_at", tenant.id, sid,
                         pii_encrypt(canonical, "sn_station_visit", "phone", tenant.id),
                         phone_digest(canonical, tenant.id), occupation, dt.datetime.now(dt.UTC)))[0]
    return {"visit_id": row["id"], "station_id": sid, "visited_at": row["visited_at"]}


# ---------------------------------------------------------------------------------------------
# Ratings
# ---------------------------------------------------------------------------------------------


async def station_used(tenant: TenantContext, subject_id: int, member_id: int) -> int | None:
    """A member used a station when a check-in there carries their phone (blind indexes compared)."""
    rows = await raw(
        "SELECT s.org_unit_id FROM sn_station s "
        "WHERE s.tenant_id = {} AND s.id = {} AND EXISTS (SELECT 1 FROM sn_station_visit v JOIN member m "
        "ON m.tenant_id = v.tenant_id AND m.phone_bidx = v.phone_bidx WHERE v.tenant_id = s.tenant_id "
        "AND v.station_id = s.id AND m.id = {})", tenant.id, subject_id, member_id)
    return int(rows[0]["org_unit_id"]) if rows else None


def check_rating(stars: int, dimensions: dict[str, int], comment: str, subject_type: str) -> None:
    if not 1 <= stars <= 5:
        raise invalid("stars must be between 1 and 5", "stars", "评分须为1至5星")
    allowed = rules.STATION_DIMENSIONS if subject_type == "station" else ()
    for key, value in dimensions.items():
        if key not in allowed:
            raise invalid(f"unknown dimension {key!r}", "dimensions", f"不支持的评价维度“{key}”")
        if not 1 <= value <= 5:
            raise invalid(f"dimension {key!r} must be between 1 and 5", "dimensions", "各维度评分须为1至5星")
    if len(comment) > 500:
        raise invalid("comment is longer than 500 characters", "comment", "评价内容不能超过500字")


async def subject_unit(tenant: TenantContext, subject_type: str, subject_id: int, member_id: int) -> int:
    """Ask the owner of ``subject_type`` whether the member used it; the subject's org unit id if so."""
    subjects = [s for group in hooks_for(tenant).rating_subjects(tenant=tenant) for s in group or ()]
    owner = next((s for s in subjects if s["type"] == subject_type), None)
    if owner is None:
        raise invalid(f"unknown subject type {subject_type!r}", "subjectType", "不支持评价该类事项")
    unit_id = await owner["used"](tenant, subject_id, member_id)
    if unit_id is None:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "the member has not used this", "subjectId",
                          "该职工未使用过此项服务，不能评价")
    return int(unit_id)


async def save_rating(tenant: TenantContext, actor: Any, user_id: int, unit_id: int, subject_type: str,
                      subject_id: int, member_id: int, stars: int, dimensions: dict[str, int], comment: str) -> int:
    """Insert or replace the member's rating; every version goes to the history. Concurrent
    submissions for one (subject, member) meet at the unique key: the loser updates instead."""
    low = stars <= for_tenant(tenant).low_rating_stars
    dims = rules.dimensions_json(dimensions)
    now = dt.datetime.now(dt.UTC)
    async with transaction():
        rows = await raw(
            "INSERT INTO sn_rating (tenant_id, org_unit_id, subject_type, subject_id, member_id, stars, dimensions, "
            "comment, flagged, followed_up, version, rated_by, rated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, "
            "{}, 1, {}, {}) ON CONFLICT (tenant_id, subject_type, subject_id, member_id) DO UPDATE SET "
            "stars = excluded.stars, dimensions = excluded.dimensions, comment = excluded.comment, "
            "flagged = excluded.flagged, followed_up = {}, version = sn_rating.version + 1, "
            "rated_by = excluded.rated_by, rated_at = excluded.rated_at RETURNING id, version",
            tenant.id, unit_id, subject_type, subject_id, member_id, stars, dims, comment, low, False,
            user_id, now, False)
        rid, version = rows[0]["id"], rows[0]["version"]
        await raw("INSERT INTO sn_rating_history (tenant_id, rating_id, version, stars, dimensions, comment, rated_by, "
                  "rated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {})", tenant.id, rid, version, stars, dims, comment,
                  user_id, now)
        await audit_record(tenant, actor, "service_network.rating.submit", "Rating", rid,
                           {"subject_type": subject_type, "subject_id": subject_id, "stars": stars, "version": version})
    return int(rid)

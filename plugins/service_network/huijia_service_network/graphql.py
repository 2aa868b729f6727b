"""The service_network capability's GraphQL (staff side). The public side, for people who are not
logged in, is in public.py.

The host gates every field on the capability. Each mutation checks the permission on the TARGET's
org unit (``require_in_subtree``); by-id resolvers (and ``node(id)``) hide what lies outside the
caller's ``service_network.read`` subtree; lists filter with ``scope_clause``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    Node,
    UserError,
    audit_record,
    for_query,
    from_global_id,
    get_member,
    get_unit,
    in_subtree,
    perm,
    raw,
    require_in_subtree,
    run_mutation,
    scope_clause,
    to_global_id,
    transaction,
)
from huijia_service_network import geo, hours, rules, services
from huijia_service_network.settings import for_tenant

MAX_LIST = 500


def _gid(kind: str, pk: int | None) -> strawberry.ID | None:
    return strawberry.ID(to_global_id(kind, pk)) if pk else None


async def _unit_for(info: Info, gid: strawberry.ID, action: str, field: str = "orgUnitId") -> dict[str, Any]:
    tenant, principal = info.context.require(action)
    unit = await get_unit(tenant, from_global_id(gid, "OrgUnit", field)[1])
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", field)
    require_in_subtree(principal, action, unit["path"], what="org unit", field=field,
                       read_action="service_network.read")
    return unit


def _text(value: str, field: str, limit: int, label_zh: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit or "\x00" in value:
        raise services.invalid(f"{field} must have {'1' if required else '0'} to {limit} characters", field,
                               f"{label_zh}须为{'1' if required else '0'}至{limit}个字")
    return value


# ---------------------------------------------------------------------------------------------
# Service items
# ---------------------------------------------------------------------------------------------


@strawberry.type(description="One service of an org unit's service-item list (服务职工工作项目清单).")
class ServiceItem(Node):
    id: strawberry.ID
    org_unit_id: strawberry.ID
    name: str
    provider_kind: str = strawberry.field(description="union | aid_centre | social_org")
    provider_name: str
    how_to: str
    hours: str
    contact: str
    published: bool = strawberry.field(description="Shown to the public without logging in.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> ServiceItem:
        return cls(id=strawberry.ID(to_global_id("ServiceItem", r["id"])), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   name=r["name"], provider_kind=r["provider_kind"], provider_name=r["provider_name"],
                   how_to=r["how_to"], hours=r["hours"], contact=r["contact"], published=bool(r["published"]))


_ITEMS = ("SELECT t.*, o.path AS unit_path FROM sn_service_item t JOIN org_unit o ON o.id = t.org_unit_id "
          "AND o.tenant_id = t.tenant_id WHERE t.tenant_id = {}")


async def resolve_item(info: Info, pk: int) -> ServiceItem | None:
    tenant, principal = info.context.require("service_network.read")
    rows = await raw(_ITEMS + " AND t.id = {}", tenant.id, pk)
    if not rows or not in_subtree(principal, "service_network.read", rows[0]["unit_path"]):
        return None
    return ServiceItem.from_row(rows[0])


@strawberry.input
class ServiceItemInput:
    name: str
    provider_kind: str = strawberry.field(description="union | aid_centre | social_org")
    provider_name: str
    how_to: str = ""
    hours: str = ""
    contact: str = ""
    published: bool = False


def _item_values(i: ServiceItemInput) -> dict[str, Any]:
    if i.provider_kind not in rules.PROVIDER_KINDS:
        raise services.invalid("providerKind must be union, aid_centre or social_org", "providerKind",
                               "服务提供方只能是工会、帮扶中心或签约社会组织")
    return {"name": _text(i.name, "name", 100, "服务名称"), "provider_kind": i.provider_kind,
            "provider_name": _text(i.provider_name, "providerName", 100, "提供方名称"),
            "how_to": _text(i.how_to, "howTo", 2000, "办理方式", required=False),
            "hours": _text(i.hours, "hours", 200, "服务时间", required=False),
            "contact": _text(i.contact, "contact", 100, "联系方式", required=False), "published": bool(i.published)}


@strawberry.type
class ServiceItemPayload:
    item: ServiceItem | None = None
    errors: list[UserError]


# ---------------------------------------------------------------------------------------------
# Stations
# ---------------------------------------------------------------------------------------------


@strawberry.type(description="An opening window on some weekdays. `overnight` windows run past midnight (22:00–08:00) "
                             "and belong to the day they start.")
class OpeningWindow:
    start: str
    end: str
    kind: str = strawberry.field(description="staffed | qr (unattended, QR-code door)")
    overnight: bool
    days: list[int] = strawberry.field(description="ISO weekdays it starts on: 1 Monday ... 7 Sunday.")

    @classmethod
    def of(cls, w: hours.Window) -> OpeningWindow:
        return cls(start=hours.Window.text(w.start), end=hours.Window.text(w.end), kind=w.kind, overnight=w.overnight,
                   days=w.weekdays)


@strawberry.type(description="A photo of a station (JPEG or PNG, checked by its content).")
class StationPhoto:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int
    public: bool = strawberry.field(description="Shown by the public finder.")
    caption: str
    created_at: dt.datetime
    url: str = strawberry.field(description="Download (logged in, the station in your read subtree).")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> StationPhoto:
        return cls(id=strawberry.ID(to_global_id("StationPhoto", r["id"])), filename=r["filename"],
                   content_type=r["content_type"], size=r["size"], public=bool(r["public"]), caption=r["caption"],
                   created_at=r["created_at"], url=f"/service_network/photos/{r['id']}")


async def _photos(tenant: Any, keys: list[Any]) -> list[Any]:
    ids = [int(k) for k in keys]
    marks = ", ".join("{}" for _ in ids)
    rows = await raw(f"SELECT * FROM sn_station_photo WHERE tenant_id = {{}} AND station_id IN ({marks}) ORDER BY id",
                     tenant.id, *ids)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(int(r["station_id"]), []).append(r)
    return [grouped.get(k, []) for k in ids]


@strawberry.type(description="A union station (工会驿站 / 户外劳动者服务站点). Coordinates are WGS-84.")
class Station(Node):
    id: strawberry.ID
    org_unit_id: strawberry.ID
    number: str
    name: str
    lat: float
    lon: float
    address: str
    facilities: list[str]
    area_m2: int
    capacity: int
    stars: int = strawberry.field(description="1–5, from the station_rating hook (the province's rule).")
    union_unit_id: strawberry.ID | None = strawberry.field(description="「会站家」: the union at the same site.")
    home_name: str | None = strawberry.field(description="「会站家」: the 职工之家 at the same site.")
    hours: list[OpeningWindow]

    @strawberry.field(description="Its photos, oldest first (one query for a whole list of stations).")
    async def photos(self, info: Info) -> list[StationPhoto]:
        info.context.authenticated()  # the station itself was checked when it was resolved
        rows = await info.context.loader("service_network.photos", _photos).load(from_global_id(self.id, "Station")[1])
        return [StationPhoto.from_row(r) for r in rows]

    @strawberry.field(description="The same point in GCJ-02 (for Chinese map apps): [lat, lon].")
    def gcj02(self) -> list[float]:
        return list(geo.wgs_to_gcj(self.lat, self.lon))

    @classmethod
    def from_row(cls, r: dict[str, Any], windows: list[hours.Window]) -> Station:
        return cls(id=strawberry.ID(to_global_id("Station", r["id"])), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   number=r["number"], name=r["name"], lat=r["lat"], lon=r["lon"], address=r["address"],
                   facilities=rules.facilities_of(r["facilities"]), area_m2=r["area_m2"], capacity=r["capacity"],
                   stars=r["stars"], union_unit_id=_gid("OrgUnit", r["union_unit_id"]), home_name=r["home_name"],
                   hours=[OpeningWindow.of(w) for w in windows])


_STATIONS = ("SELECT t.*, o.path AS unit_path FROM sn_station t JOIN org_unit o ON o.id = t.org_unit_id "
             "AND o.tenant_id = t.tenant_id WHERE t.tenant_id = {}")


async def resolve_station(info: Info, pk: int) -> Station | None:
    tenant, principal = info.context.require("service_network.read")
    rows = await raw(_STATIONS + " AND t.id = {}", tenant.id, pk)
    if not rows or not in_subtree(principal, "service_network.read", rows[0]["unit_path"]):
        return None
    return Station.from_row(rows[0], (await services.windows_of(tenant, [pk]))[pk])


@strawberry.input
class WindowInput:
    start: str = strawberry.field(description="HH:MM")
    end: str = strawberry.field(description="HH:MM (24:00 for midnight)")
    kind: str = strawberry.field(default="staffed", description="staffed | qr")
    overnight: bool = strawberry.field(default=False, description="Runs past midnight: end is the next day.")
    days: list[int] | None = strawberry.field(default=None, description="ISO weekdays (1 Monday ... 7 Sunday) it "
                                                                          "starts on; omitted: every day.")


@strawberry.input
class StationInput:
    org_unit_id: strawberry.ID
    number: str
    name: str
    lat: float
    lon: float
    datum: str = strawberry.field(default="wgs84", description="wgs84 | gcj02 (converted to WGS-84)")
    address: str = ""
    facilities: list[str] = strawberry.field(default_factory=list)
    area_m2: int = 0
    capacity: int = 0
    hours: list[WindowInput] = strawberry.field(default_factory=list)
    union_unit_id: strawberry.ID | None = None
    home_name: str | None = None


async def _station_values(info: Info, i: StationInput) -> tuple[dict[str, Any], list[hours.Window]]:
    tenant, _ = info.context.require("service_network.write")
    unit = await _unit_for(info, i.org_unit_id, "service_network.write")
    lat, lon = services.to_wgs84(i.lat, i.lon, i.datum)
    if not 0 <= i.area_m2 <= 100_000:
        raise services.invalid("areaM2 must be between 0 and 100000", "areaM2", "面积须在0至100000平方米之间")
    if not 0 <= i.capacity <= 10_000:
        raise services.invalid("capacity must be between 0 and 10000", "capacity", "容纳人数须在0至10000之间")
    if len(i.hours) > 21:
        raise services.invalid("at most 21 opening windows", "hours", "开放时段不能超过21个")
    windows = services.parse_windows([vars(w) for w in i.hours])
    facilities = services.check_facilities(tenant, list(i.facilities))
    union_id = None
    if i.union_unit_id:
        union_id = (await _unit_for(info, i.union_unit_id, "service_network.write", "unionUnitId"))["id"]
    values = {"org_unit_id": unit["id"], "number": _text(i.number, "number", 40, "驿站编号"),
              "name": _text(i.name, "name", 100, "驿站名称"), "lat": lat, "lon": lon,
              "address": _text(i.address, "address", 200, "地址", required=False),
              "facilities": rules.facilities_column(facilities), "area_m2": i.area_m2, "capacity": i.capacity,
              "stars": services.stars_for(tenant, i.area_m2, i.capacity, facilities), "union_unit_id": union_id,
              "home_name": _text(i.home_name or "", "homeName", 100, "职工之家名称", required=False) or None}
    return values, windows


@strawberry.type
class StationPayload:
    station: Station | None = None
    errors: list[UserError]


# ---------------------------------------------------------------------------------------------
# Ratings
# ---------------------------------------------------------------------------------------------


@strawberry.type
class RatingDimension:
    key: str
    label_zh: str
    stars: int


@strawberry.type
class RatingVersion:
    version: int
    stars: int
    comment: str
    rated_at: dt.datetime


@strawberry.type
class RatingFollowUp:
    note: str
    resolved: bool
    created_at: dt.datetime


def _dims(text: Any) -> list[RatingDimension]:
    return [RatingDimension(key=k, label_zh=rules.DIMENSION_LABELS.get(k, k), stars=v)
            for k, v in sorted(rules.dimensions_of(text).items())]


@strawberry.type(description="A member's current rating of one thing they used; earlier versions in `history`.")
class Rating(Node):
    id: strawberry.ID
    org_unit_id: strawberry.ID
    subject_type: str
    subject_id: BigInt  # type: ignore[valid-type]
    member_id: strawberry.ID
    stars: int
    dimensions: list[RatingDimension]
    comment: str
    flagged: bool = strawberry.field(description="At or below the tenant's low-rating threshold: needs a follow-up.")
    followed_up: bool
    version: int
    rated_at: dt.datetime

    @strawberry.field(description="Every version, oldest first.")
    async def history(self, info: Info) -> list[RatingVersion]:
        # The rating itself was checked when it was resolved (a worker gets theirs back from ratingSubmit).
        tenant, _ = info.context.authenticated()
        pk = from_global_id(self.id, "Rating")[1]
        rows = await raw("SELECT version, stars, comment, rated_at FROM sn_rating_history WHERE tenant_id = {} "
                         "AND rating_id = {} ORDER BY version", tenant.id, pk)
        return [RatingVersion(**r) for r in rows]

    @strawberry.field
    async def follow_ups(self, info: Info) -> list[RatingFollowUp]:
        # The rating itself was checked when it was resolved (a worker gets theirs back from ratingSubmit).
        tenant, _ = info.context.authenticated()
        pk = from_global_id(self.id, "Rating")[1]
        rows = await raw("SELECT note, resolved, created_at FROM sn_rating_follow_up WHERE tenant_id = {} "
                         "AND rating_id = {} ORDER BY id", tenant.id, pk)
        return [RatingFollowUp(note=r["note"], resolved=bool(r["resolved"]), created_at=r["created_at"]) for r in rows]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Rating:
        return cls(id=strawberry.ID(to_global_id("Rating", r["id"])), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   subject_type=r["subject_type"], subject_id=r["subject_id"],
                   member_id=_gid("Member", r["member_id"]), stars=r["stars"], dimensions=_dims(r["dimensions"]),
                   comment=r["comment"], flagged=bool(r["flagged"]), followed_up=bool(r["followed_up"]),
                   version=r["version"], rated_at=r["rated_at"])


_RATINGS = ("SELECT t.*, o.path AS unit_path FROM sn_rating t JOIN org_unit o ON o.id = t.org_unit_id "
            "AND o.tenant_id = t.tenant_id WHERE t.tenant_id = {}")


async def resolve_rating(info: Info, pk: int) -> Rating | None:
    tenant, principal = info.context.require("service_network.read")
    rows = await raw(_RATINGS + " AND t.id = {}", tenant.id, pk)
    if not rows or not in_subtree(principal, "service_network.read", rows[0]["unit_path"]):
        return None
    return Rating.from_row(rows[0])


@strawberry.input
class DimensionInput:
    key: str = strawberry.field(description="For stations: siting 选址, hygiene 卫生, supplies 物资, convenience 便利, function 功能")
    stars: int


@strawberry.input
class RatingInput:
    subject_type: str = strawberry.field(description="station | service_item | what other capabilities offer")
    subject_id: BigInt = strawberry.field(description="The rated thing's database id.")  # type: ignore[valid-type]
    member_id: strawberry.ID
    stars: int
    dimensions: list[DimensionInput] = strawberry.field(default_factory=list)
    comment: str = ""


@strawberry.type
class RatingPayload:
    rating: Rating | None = None
    errors: list[UserError]


@strawberry.type(description="Ratings of one org unit's subtree in a period.")
class RatingAggregate:
    org_unit_id: strawberry.ID
    name: str
    count: int
    average_stars: float
    low_count: int
    rank: int


# ---------------------------------------------------------------------------------------------
# Query and mutation roots
# ---------------------------------------------------------------------------------------------


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIST:
        raise DomainError(ErrorCode.INVALID_INPUT, f"limit must be between 1 and {MAX_LIST}", "limit")


@strawberry.type
class ServiceNetworkQuery:
    @strawberry.field(description=perm("service_network.read", "Service-item lists in your subtree, published or not."))
    @for_query
    async def service_items(self, info: Info, limit: int = 100) -> list[ServiceItem]:
        _check_limit(limit)
        tenant, principal = info.context.require("service_network.read")
        scope, params = scope_clause(principal, "service_network.read", "t.org_unit_id", tenant.id)
        rows = await raw(f"{_ITEMS} AND {scope} ORDER BY t.id LIMIT {{}}", tenant.id, *params, limit)
        return [ServiceItem.from_row(r) for r in rows]

    @strawberry.field(description=perm("service_network.read", "One service item."))
    @for_query
    async def service_item(self, info: Info, id: strawberry.ID) -> ServiceItem | None:
        return await resolve_item(info, from_global_id(id, "ServiceItem")[1])

    @strawberry.field(description=perm("service_network.read", "Stations in your subtree, by number."))
    @for_query
    async def stations(self, info: Info, limit: int = 100) -> list[Station]:
        _check_limit(limit)
        tenant, principal = info.context.require("service_network.read")
        scope, params = scope_clause(principal, "service_network.read", "t.org_unit_id", tenant.id)
        rows = await raw(f"{_STATIONS} AND {scope} ORDER BY t.number LIMIT {{}}", tenant.id, *params, limit)
        windows = await services.windows_of(tenant, [r["id"] for r in rows])
        return [Station.from_row(r, windows[r["id"]]) for r in rows]

    @strawberry.field(description=perm("service_network.read", "One station."))
    @for_query
    async def station(self, info: Info, id: strawberry.ID) -> Station | None:
        return await resolve_station(info, from_global_id(id, "Station")[1])

    @strawberry.field(description=perm("service_network.read", "The facilities checklist of your tenant."))
    @for_query
    async def station_facilities(self, info: Info) -> list[RatingDimension]:
        tenant, _ = info.context.require("service_network.read")
        return [RatingDimension(key=f.code, label_zh=f.label_zh, stars=0) for f in for_tenant(tenant).facilities]

    @strawberry.field(description=perm("service_network.read", "Ratings in your subtree, newest first; `flagged` for the follow-up queue."))
    @for_query
    async def ratings(self, info: Info, flagged: bool | None = None, subject_type: str | None = None,
                      limit: int = 100) -> list[Rating]:
        _check_limit(limit)
        tenant, principal = info.context.require("service_network.read")
        scope, params = scope_clause(principal, "service_network.read", "t.org_unit_id", tenant.id)
        sql, args = f"{_RATINGS} AND {scope}", [tenant.id, *params]
        if flagged:  # the follow-up queue: flagged and not yet followed up
            sql += " AND t.flagged = {} AND t.followed_up = {}"
            args += [True, False]
        elif flagged is False:
            sql += " AND t.flagged = {}"
            args.append(False)
        if subject_type:
            sql += " AND t.subject_type = {}"
            args.append(subject_type)
        rows = await raw(sql + " ORDER BY t.rated_at DESC, t.id DESC LIMIT {}", *args, limit)
        return [Rating.from_row(r) for r in rows]

    @strawberry.field(description=perm("service_network.read", "Ratings by org unit at a level (e.g. the cities of the "
                                                               "province, ranked as Jiangsu publishes) over [since, until)."))
    @for_query
    async def rating_ranking(self, info: Info, since: dt.date, until: dt.date, level: str = "city",
                             subject_type: str | None = None) -> list[RatingAggregate]:
        tenant, principal = info.context.require("service_network.read")
        if until <= since:
            raise DomainError(ErrorCode.INVALID_INPUT, "until must be after since", "until", "截止日期须晚于起始日期")
        if level not in ("province", "city", "county", "grassroots", "industry"):
            raise DomainError(ErrorCode.INVALID_INPUT, "unknown level", "level", "不支持的层级")
        scope, params = scope_clause(principal, "service_network.read", "a.id", tenant.id)
        sql = ("SELECT a.id, a.name, count(t.id) AS n, avg(t.stars * 1.0) AS avg_stars, "
               "sum(CASE WHEN t.flagged THEN 1 ELSE 0 END) AS low FROM org_unit a "
               "JOIN org_unit o ON o.tenant_id = a.tenant_id AND o.path LIKE a.path || '%' "
               "JOIN sn_rating t ON t.tenant_id = o.tenant_id AND t.org_unit_id = o.id "
               f"WHERE a.tenant_id = {{}} AND a.level = {{}} AND t.rated_at >= {{}} AND t.rated_at < {{}} AND {scope}")
        args: list[Any] = [tenant.id, level, _utc(since), _utc(until), *params]
        if subject_type:
            sql += " AND t.subject_type = {}"
            args.append(subject_type)
        rows = await raw(sql + " GROUP BY a.id, a.name ORDER BY avg_stars DESC, n DESC, a.id", *args)
        return [RatingAggregate(org_unit_id=_gid("OrgUnit", r["id"]), name=r["name"], count=int(r["n"]),
                                average_stars=round(float(r["avg_stars"]), 3), low_count=int(r["low"] or 0), rank=i + 1)
                for i, r in enumerate(rows)]


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@strawberry.type
class ServiceNetworkMutation:
    @strawberry.mutation(description=perm("service_network.write", "Add a service to an org unit's list."))
    async def service_item_create(self, info: Info, org_unit_id: strawberry.ID, input: ServiceItemInput) -> ServiceItemPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            unit = await _unit_for(info, org_unit_id, "service_network.write")
            v = _item_values(input)
            async with transaction():
                row = (await raw(
                    "INSERT INTO sn_service_item (tenant_id, org_unit_id, name, provider_kind, provider_name, how_to, "
                    "hours, contact, published, created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
                    "RETURNING *", tenant.id, unit["id"], v["name"], v["provider_kind"], v["provider_name"], v["how_to"],
                    v["hours"], v["contact"], v["published"], principal.user_id, dt.datetime.now(dt.UTC)))[0]
                await audit_record(tenant, info.context.actor, "service_network.item.create", "ServiceItem", row["id"],
                                   {"org_unit_id": unit["id"], "published": v["published"]})
            return {"item": ServiceItem.from_row(row)}

        return await run_mutation(ServiceItemPayload, work)

    @strawberry.mutation(description=perm("service_network.write", "Change a service (publish or withdraw it)."))
    async def service_item_update(self, info: Info, id: strawberry.ID, input: ServiceItemInput) -> ServiceItemPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            rows = await raw(_ITEMS + " AND t.id = {}", tenant.id, from_global_id(id, "ServiceItem")[1])
            if not rows:
                raise DomainError(ErrorCode.NOT_FOUND, "service item not found", "id")
            require_in_subtree(principal, "service_network.write", rows[0]["unit_path"], what="service item",
                               read_action="service_network.read")
            v = _item_values(input)
            async with transaction():
                row = (await raw("UPDATE sn_service_item SET name = {}, provider_kind = {}, provider_name = {}, how_to = {}, "
                                 "hours = {}, contact = {}, published = {} WHERE tenant_id = {} AND id = {} RETURNING *",
                                 v["name"], v["provider_kind"], v["provider_name"], v["how_to"], v["hours"], v["contact"],
                                 v["published"], tenant.id, rows[0]["id"]))[0]
                await audit_record(tenant, info.context.actor, "service_network.item.update", "ServiceItem", row["id"],
                                   {"published": v["published"]})
            return {"item": ServiceItem.from_row(row)}

        return await run_mutation(ServiceItemPayload, work)

    @strawberry.mutation(description=perm("service_network.write", "Register a station; its stars come from the province's rule."))
    async def station_create(self, info: Info, input: StationInput) -> StationPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            v, windows = await _station_values(info, input)
            async with transaction():
                if await raw("SELECT 1 FROM sn_station WHERE tenant_id = {} AND number = {}", tenant.id, v["number"]):
                    raise DomainError(ErrorCode.DUPLICATE, "a station with this number exists", "number", "驿站编号已存在")
                row = (await raw(
                    "INSERT INTO sn_station (tenant_id, org_unit_id, number, name, lat, lon, address, facilities, area_m2, "
                    "capacity, stars, union_unit_id, home_name, created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, "
                    "{}, {}, {}, {}, {}, {}, {}, {}) RETURNING *", tenant.id, v["org_unit_id"], v["number"], v["name"],
                    v["lat"], v["lon"], v["address"], v["facilities"], v["area_m2"], v["capacity"], v["stars"],
                    v["union_unit_id"], v["home_name"], principal.user_id, dt.datetime.now(dt.UTC)))[0]
                await services.replace_windows(tenant, row["id"], windows)
                await audit_record(tenant, info.context.actor, "service_network.station.create", "Station", row["id"],
                                   {"org_unit_id": v["org_unit_id"], "stars": v["stars"]})
            return {"station": Station.from_row(row, windows)}

        return await run_mutation(StationPayload, work)

    @strawberry.mutation(description=perm("service_network.write", "Replace a station's details (rated again)."))
    async def station_update(self, info: Info, id: strawberry.ID, input: StationInput) -> StationPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            rows = await raw(_STATIONS + " AND t.id = {}", tenant.id, from_global_id(id, "Station")[1])
            if not rows:
                raise DomainError(ErrorCode.NOT_FOUND, "station not found", "id")
            require_in_subtree(principal, "service_network.write", rows[0]["unit_path"], what="station",
                               read_action="service_network.read")
            v, windows = await _station_values(info, input)
            if rows[0]["star_cap"] is not None:  # the yearly assessment's downgrade holds until the next one
                v["stars"] = min(v["stars"], int(rows[0]["star_cap"]))
            async with transaction():
                if await raw("SELECT 1 FROM sn_station WHERE tenant_id = {} AND number = {} AND id <> {}",
                             tenant.id, v["number"], rows[0]["id"]):
                    raise DomainError(ErrorCode.DUPLICATE, "a station with this number exists", "number", "驿站编号已存在")
                row = (await raw(
                    "UPDATE sn_station SET org_unit_id = {}, number = {}, name = {}, lat = {}, lon = {}, address = {}, "
                    "facilities = {}, area_m2 = {}, capacity = {}, stars = {}, union_unit_id = {}, home_name = {} "
                    "WHERE tenant_id = {} AND id = {} RETURNING *", v["org_unit_id"], v["number"], v["name"], v["lat"],
                    v["lon"], v["address"], v["facilities"], v["area_m2"], v["capacity"], v["stars"], v["union_unit_id"],
                    v["home_name"], tenant.id, rows[0]["id"]))[0]
                await services.replace_windows(tenant, row["id"], windows)
                await audit_record(tenant, info.context.actor, "service_network.station.update", "Station", row["id"],
                                   {"org_unit_id": v["org_unit_id"], "stars": v["stars"]})
            return {"station": Station.from_row(row, windows)}

        return await run_mutation(StationPayload, work)

    @strawberry.mutation(description=perm("service_network.rate", "Record a member's rating of something they used; "
                                                                  "a later rating replaces the earlier one (history kept)."))
    async def rating_submit(self, info: Info, input: RatingInput) -> RatingPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.rate")
            dims = {}
            for d in input.dimensions:
                if d.key in dims:
                    raise services.invalid(f"dimension {d.key!r} given twice", "dimensions", "评价维度重复")
                dims[d.key] = d.stars
            comment = (input.comment or "").strip()
            services.check_rating(input.stars, dims, comment, input.subject_type)
            member_pk = from_global_id(input.member_id, "Member", "memberId")[1]
            member = await get_member(tenant, member_pk)
            if member is None:
                raise DomainError(ErrorCode.NOT_FOUND, "member not found", "memberId")
            munit = await get_unit(tenant, member["org_unit_id"])
            require_in_subtree(principal, "service_network.rate", munit["path"] if munit else None, what="member",
                               field="memberId")
            if not 1 <= input.subject_id <= 2**63 - 1:
                raise DomainError(ErrorCode.NOT_FOUND, "subject not found", "subjectId")
            unit_id = await services.subject_unit(tenant, input.subject_type, input.subject_id, member_pk)
            rid = await services.save_rating(tenant, info.context.actor, principal.user_id, unit_id, input.subject_type,
                                             input.subject_id, member_pk, input.stars, dims, comment)
            row = (await raw(_RATINGS + " AND t.id = {}", tenant.id, rid))[0]
            return {"rating": Rating.from_row(row)}

        return await run_mutation(RatingPayload, work)

    @strawberry.mutation(description=perm("service_network.follow_up", "Record a follow-up of a flagged rating."))
    async def rating_follow_up(self, info: Info, id: strawberry.ID, note: str, resolved: bool = True) -> RatingPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.follow_up")
            rows = await raw(_RATINGS + " AND t.id = {}", tenant.id, from_global_id(id, "Rating")[1])
            if not rows:
                raise DomainError(ErrorCode.NOT_FOUND, "rating not found", "id")
            require_in_subtree(principal, "service_network.follow_up", rows[0]["unit_path"], what="rating",
                               read_action="service_network.read")
            text = _text(note, "note", 1000, "回访记录")
            async with transaction():
                await raw("INSERT INTO sn_rating_follow_up (tenant_id, rating_id, note, resolved, created_by, created_at) "
                          "VALUES ({}, {}, {}, {}, {}, {})", tenant.id, rows[0]["id"], text, resolved, principal.user_id,
                          dt.datetime.now(dt.UTC))
                if resolved:
                    await raw("UPDATE sn_rating SET followed_up = {} WHERE tenant_id = {} AND id = {}", True, tenant.id,
                              rows[0]["id"])
                await audit_record(tenant, info.context.actor, "service_network.rating.follow_up", "Rating", rows[0]["id"],
                                   {"resolved": resolved})
            row = (await raw(_RATINGS + " AND t.id = {}", tenant.id, rows[0]["id"]))[0]
            return {"rating": Rating.from_row(row)}

        return await run_mutation(RatingPayload, work)


# ---------------------------------------------------------------------------------------------
# Service requests
# ---------------------------------------------------------------------------------------------


def _sla(due: dt.datetime, done: dt.datetime | None, now: dt.datetime) -> str:
    if done is not None:
        return "met" if done <= due else "missed"
    if now > due:
        return "overdue"
    return "due_soon" if due - now < dt.timedelta(hours=4) else "ok"


def _utc_of(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@strawberry.type
class RequestStep:
    transition: str
    from_state: str | None
    to_state: str
    actor_name: str
    reasons: list[str]
    at: dt.datetime


@strawberry.type(description="维权帮扶一体化: the aid case (another capability's) a rights request opened.")
class AidCaseLink:
    capability: str
    case_type: str = strawberry.field(description="grant (临时救助) | archive (建档申请) for hardship")
    case_id: BigInt  # type: ignore[valid-type]
    label_zh: str
    state: str | None = strawberry.field(description="The case's workflow state now.")


@strawberry.type(description="A service request (legal aid, 欠薪, a dispute, counselling ...) and its SLA clocks.")
class ServiceRequest(Node):
    id: strawberry.ID
    org_unit_id: strawberry.ID = strawberry.field(description="The handling unit (its aid centre), after routing.")
    origin_unit_id: strawberry.ID
    category: str
    category_label_zh: str
    channel: str = strawberry.field(description="portal | hotline | station")
    state: str
    state_label_zh: str
    version: int
    summary: str
    requester_name: str
    phone_masked: str | None
    social_org: str | None
    first_response_due: dt.datetime
    resolution_due: dt.datetime
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime
    response_sla: str = strawberry.field(description="ok | due_soon | overdue | met | missed")
    resolution_sla: str
    allowed_transitions: list[str] = strawberry.field(description="The steps you may take now.")
    aid_case: AidCaseLink | None = strawberry.field(default=None, description="The hardship case it opened, if any.")
    referral_capability: str | None = strawberry.field(
        default=None, description="Whose register put the social organisation under contract: procurement or settings.")
    referral_contract_id: strawberry.ID | None = strawberry.field(
        default=None, description="The procurement Contract it was referred under (a global id), if any.")
    referral_org_id: strawberry.ID | None = strawberry.field(
        default=None, description="The procurement SocialOrg it was referred to (a global id), if any.")
    procurement_need_id: strawberry.ID | None = strawberry.field(
        default=None, description="The procurement ServiceNeed it became (a global id), if any.")

    @strawberry.field(description="Every step, oldest first.")
    async def timeline(self, info: Info) -> list[RequestStep]:
        from core.sdk import workflow_timeline
        from huijia_service_network.requests import REQUEST

        tenant, _ = info.context.authenticated()  # the request itself was checked when it was resolved
        steps = await workflow_timeline(tenant, REQUEST, from_global_id(self.id, "ServiceRequest")[1])
        return [RequestStep(transition=s.transition, from_state=s.from_state, to_state=s.to_state,
                            actor_name=s.actor_name, reasons=list(s.reasons), at=s.at) for s in steps]


_REQUESTS = ("SELECT r.*, o.path AS unit_path, c.state, c.version, ac.state AS aid_state FROM sn_request r "
             "JOIN org_unit o ON o.id = r.org_unit_id AND o.tenant_id = r.tenant_id JOIN workflow_case c ON "
             "c.tenant_id = r.tenant_id AND c.capability = 'service_network' AND c.case_type = 'request' AND c.case_id = r.id "
             "LEFT JOIN workflow_case ac ON ac.tenant_id = r.tenant_id AND ac.capability = r.aid_capability AND "
             "ac.case_type = r.aid_case_type AND ac.case_id = r.aid_case_id WHERE r.tenant_id = {}")


def _request_from_row(info: Info, tenant: Any, principal: Any, r: dict[str, Any]) -> ServiceRequest:
    from core.sdk import mask_phone, pii_decrypt, workflow_allowed
    from huijia_service_network.requests import REQUEST

    labels = {c.code: c.label_zh for c in for_tenant(tenant).request_categories}
    phone = None
    if r["phone_enc"]:
        try:
            phone = mask_phone(pii_decrypt(r["phone_enc"], "sn_request", "phone", tenant.id))
        except Exception:  # a retired key: show that a number exists, not a failure
            phone = "***********"
    now = dt.datetime.now(dt.UTC)
    first_due, res_due = _utc_of(r["first_response_due"]), _utc_of(r["resolution_due"])
    responded, resolved = _utc_of(r["first_responded_at"]), _utc_of(r["resolved_at"])
    return ServiceRequest(
        id=strawberry.ID(to_global_id("ServiceRequest", r["id"])), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
        origin_unit_id=_gid("OrgUnit", r["origin_unit_id"]), category=r["category"],
        category_label_zh=labels.get(r["category"], r["category"]), channel=r["channel"], state=r["state"],
        state_label_zh=REQUEST.labels_zh.get(r["state"], r["state"]), version=int(r["version"]), summary=r["summary"],
        requester_name=r["requester_name"], phone_masked=phone, social_org=r["social_org"],
        first_response_due=first_due, resolution_due=res_due, first_responded_at=responded, resolved_at=resolved,
        created_at=_utc_of(r["created_at"]), response_sla=_sla(first_due, responded, now),
        resolution_sla=_sla(res_due, resolved, now),
        allowed_transitions=[t.name for t in workflow_allowed(REQUEST, r["state"], principal, r["unit_path"])],
        aid_case=AidCaseLink(capability=r["aid_capability"], case_type=r["aid_case_type"], case_id=r["aid_case_id"],
                             label_zh=r["aid_label_zh"] or "", state=r["aid_state"]) if r["aid_case_id"] else None,
        referral_capability=r["referral_capability"],
        referral_contract_id=_gid("Contract", r["referral_contract_id"]),
        referral_org_id=_gid("SocialOrg", r["referral_org_id"]),
        procurement_need_id=_gid("ServiceNeed", r["need_id"]) if r["need_capability"] == "procurement" else None)


async def resolve_request(info: Info, pk: int) -> ServiceRequest | None:
    """Staff read requests in their read subtree; the person who submitted one (a worker on the
    portal) reads theirs, to follow its status."""
    tenant, principal = info.context.authenticated()
    rows = await raw(_REQUESTS + " AND r.id = {}", tenant.id, pk)
    if not rows:
        return None
    r = rows[0]
    if not (in_subtree(principal, "service_network.read", r["unit_path"]) or r["created_by"] == principal.user_id):
        return None
    return _request_from_row(info, tenant, principal, r)


@strawberry.input
class ServiceRequestInput:
    org_unit_id: strawberry.ID = strawberry.field(description="The requester's unit (routing starts here).")
    category: str
    channel: str = strawberry.field(description="portal | hotline | station")
    summary: str
    requester_name: str = ""
    phone: str | None = None
    member_id: strawberry.ID | None = None
    station_id: strawberry.ID | None = None
    service_item_id: strawberry.ID | None = None


@strawberry.type
class ServiceRequestPayload:
    request: ServiceRequest | None = None
    errors: list[UserError]


@strawberry.type(description="Requests of one category at one handling unit.")
class RequestDashboardRow:
    org_unit_id: strawberry.ID
    unit_name: str
    category: str
    total: int
    open: int
    overdue: int
    avg_first_response_hours: float | None
    avg_resolution_hours: float | None


@strawberry.type
class ServiceRequestQuery:
    @strawberry.field(description=perm("service_network.read", "The request queue of your subtree, oldest first."))
    @for_query
    async def service_requests(self, info: Info, state: str | None = None, category: str | None = None,
                               limit: int = 100) -> list[ServiceRequest]:
        _check_limit(limit)
        tenant, principal = info.context.require("service_network.read")
        scope, params = scope_clause(principal, "service_network.read", "r.org_unit_id", tenant.id)
        sql, args = f"{_REQUESTS} AND {scope}", [tenant.id, *params]
        if state:
            sql += " AND c.state = {}"
            args.append(state)
        if category:
            sql += " AND r.category = {}"
            args.append(category)
        rows = await raw(sql + " ORDER BY r.created_at, r.id LIMIT {}", *args, limit)
        return [_request_from_row(info, tenant, principal, r) for r in rows]

    @strawberry.field(description=perm("service_network.read", "One request: staff with this permission in its "
                                                               "subtree, or whoever submitted it (to follow its status)."))
    @for_query
    async def service_request(self, info: Info, id: strawberry.ID) -> ServiceRequest | None:
        return await resolve_request(info, from_global_id(id, "ServiceRequest")[1])

    @strawberry.field(description=perm("service_network.read", "Backlog, overdue and mean response and resolution "
                                                               "times by handling unit and category, for requests made in [since, until)."))
    @for_query
    async def service_request_dashboard(self, info: Info, since: dt.date, until: dt.date) -> list[RequestDashboardRow]:
        tenant, principal = info.context.require("service_network.read")
        if until <= since:
            raise DomainError(ErrorCode.INVALID_INPUT, "until must be after since", "until", "截止日期须晚于起始日期")
        scope, params = scope_clause(principal, "service_network.read", "r.org_unit_id", tenant.id)
        rows = await raw(
            f"SELECT r.org_unit_id, o.name, r.category, r.first_response_due, r.resolution_due, r.first_responded_at, "
            f"r.resolved_at, r.created_at, c.state FROM sn_request r JOIN org_unit o ON o.id = r.org_unit_id AND "
            f"o.tenant_id = r.tenant_id JOIN workflow_case c ON c.tenant_id = r.tenant_id AND c.capability = "
            f"'service_network' AND c.case_type = 'request' AND c.case_id = r.id WHERE r.tenant_id = {{}} AND "
            f"r.created_at >= {{}} AND r.created_at < {{}} AND {scope}", tenant.id, _utc(since), _utc(until), *params)
        now = dt.datetime.now(dt.UTC)
        groups: dict[tuple[int, str], dict[str, Any]] = {}
        for r in rows:
            g = groups.setdefault((r["org_unit_id"], r["category"]), {"name": r["name"], "total": 0, "open": 0,
                                                                       "overdue": 0, "resp": [], "res": []})
            g["total"] += 1
            created = _utc_of(r["created_at"])
            if r["state"] in ("submitted", "accepted", "referred"):
                g["open"] += 1
                due = _utc_of(r["first_response_due"] if r["first_responded_at"] is None else r["resolution_due"])
                g["overdue"] += now > due
            if r["first_responded_at"]:
                g["resp"].append((_utc_of(r["first_responded_at"]) - created).total_seconds() / 3600)
            if r["resolved_at"]:
                g["res"].append((_utc_of(r["resolved_at"]) - created).total_seconds() / 3600)

        def mean(xs: list[float]) -> float | None:
            return round(sum(xs) / len(xs), 2) if xs else None

        return [RequestDashboardRow(org_unit_id=_gid("OrgUnit", unit), unit_name=g["name"], category=cat,
                                    total=g["total"], open=g["open"], overdue=g["overdue"],
                                    avg_first_response_hours=mean(g["resp"]), avg_resolution_hours=mean(g["res"]))
                for (unit, cat), g in sorted(groups.items(), key=lambda kv: (kv[1]["name"], kv[0][1]))]


@strawberry.type
class ServiceRequestMutation:
    @strawberry.mutation(description=perm("service_network.request", "Submit a need (worker portal, 12351 hotline or a "
                                                                     "station); routed by the tenant's rules, SLA clocks started."))
    async def service_request_submit(self, info: Info, input: ServiceRequestInput) -> ServiceRequestPayload:
        from huijia_service_network import requests

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.request")
            origin = await get_unit(tenant, from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")[1])
            if origin is None:
                raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId")
            require_in_subtree(principal, "service_network.request", origin["path"], what="org unit", field="orgUnitId")
            member_pk = None
            if input.member_id:
                member_pk = from_global_id(input.member_id, "Member", "memberId")[1]
                member = await get_member(tenant, member_pk)
                munit = await get_unit(tenant, member["org_unit_id"]) if member else None
                if munit is None or not in_subtree(principal, "service_network.request", munit["path"]):
                    raise DomainError(ErrorCode.NOT_FOUND, "member not found", "memberId")
            station_pk = item_pk = None
            if input.station_id:
                station_pk = from_global_id(input.station_id, "Station", "stationId")[1]
                if not await raw("SELECT 1 FROM sn_station WHERE tenant_id = {} AND id = {}", tenant.id, station_pk):
                    raise DomainError(ErrorCode.NOT_FOUND, "station not found", "stationId")
            if input.service_item_id:
                item_pk = from_global_id(input.service_item_id, "ServiceItem", "serviceItemId")[1]
                if not await raw("SELECT 1 FROM sn_service_item WHERE tenant_id = {} AND id = {}", tenant.id, item_pk):
                    raise DomainError(ErrorCode.NOT_FOUND, "service item not found", "serviceItemId")
            rid = await requests.submit(tenant, info.context.actor, principal.user_id, origin, channel=input.channel,
                                        category_code=input.category, summary=input.summary,
                                        requester_name=input.requester_name, phone=input.phone, member_id=member_pk,
                                        station_id=station_pk, service_item_id=item_pk)
            return {"request": await resolve_request(info, rid)}

        return await run_mutation(ServiceRequestPayload, work)

    @strawberry.mutation(description=perm("service_network.handle", "Take a step on a request: accept, refer, resolve, "
                                                                    "reject (with reasons) or close."))
    async def service_request_step(self, info: Info, id: strawberry.ID, transition: str,
                                   reasons: list[str] | None = None,
                                   expected_version: int | None = None) -> ServiceRequestPayload:
        from core.sdk import workflow_step
        from huijia_service_network.requests import REQUEST

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            pk = from_global_id(id, "ServiceRequest")[1]
            await workflow_step(tenant, REQUEST, pk, transition, actor=info.context.actor, principal=principal,
                                reasons=reasons or [], expected_version=expected_version)
            return {"request": await resolve_request(info, pk)}

        return await run_mutation(ServiceRequestPayload, work)

"""The service network's worker-facing GraphQL (职工之家 portal, /m/): submit a need, follow my
requests, check in at a station with the phone on file, see my visits, rate what I used (here or in
another capability: an aid grant, a campaign benefit, a mutual-aid claim) and see my ratings.

Every field starts from the caller (``require_worker``): the member is always the worker's own,
never an id from the client, so a worker cannot act or read as someone else; another worker's
request reads as not found, exactly like an id that does not exist. Staff use the fields in
graphql.py. ``serviceRequestCategories`` serves both (the hotline form and the portal form).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    UserError,
    for_query,
    from_global_id,
    get_member,
    get_unit,
    perm,
    pii_decrypt,
    raw,
    require_worker,
    run_mutation,
    to_global_id,
)
from huijia_service_network import services
from huijia_service_network.graphql import (
    _RATINGS,
    _REQUESTS,
    DimensionInput,
    Rating,
    RatingPayload,
    ServiceRequest,
    ServiceRequestPayload,
    _request_from_row,
)
from huijia_service_network.settings import for_tenant

MAX_MINE = 100
# A worker's requests: the ones about their member record, or that they submitted themselves.
_MINE = " AND (r.member_id = {} OR r.created_by = {})"


@strawberry.type(description="A kind of service request this province handles, with its SLA clocks.")
class RequestCategory:
    code: str
    label_zh: str
    first_response_hours: int
    resolution_hours: int


@strawberry.type(description="One of my check-ins at a station.")
class StationVisit:
    station_id: strawberry.ID
    station_number: str
    station_name: str
    occupation: str
    visited_at: dt.datetime
    my_stars: int | None = strawberry.field(description="My current rating of this station, if any.")


@strawberry.type
class StationVisitPayload:
    visit: StationVisit | None = None
    errors: list[UserError]


async def _own_phone(tenant: Any, member_id: int) -> str:
    member = await get_member(tenant, member_id)
    if member is None or not member.get("phone_enc"):
        raise DomainError(ErrorCode.INVALID_STATE, "no phone on file for your member record", "phone",
                          "您的会员档案中没有手机号码，请联系工会登记")
    return pii_decrypt(member["phone_enc"], "member", "phone", tenant.id)


_VISITS = ("SELECT v.visited_at, v.occupation, s.id AS station_id, s.number, s.name, r.stars FROM sn_station_visit v "
           "JOIN sn_station s ON s.tenant_id = v.tenant_id AND s.id = v.station_id "
           "JOIN member m ON m.tenant_id = v.tenant_id AND m.phone_bidx = v.phone_bidx "
           "LEFT JOIN sn_rating r ON r.tenant_id = v.tenant_id AND r.subject_type = 'station' AND r.subject_id = s.id "
           "AND r.member_id = m.id WHERE v.tenant_id = {} AND m.id = {}")


def _visit(r: dict[str, Any]) -> StationVisit:
    return StationVisit(station_id=strawberry.ID(to_global_id("Station", r["station_id"])), station_number=r["number"],
                        station_name=r["name"], occupation=r["occupation"], visited_at=r["visited_at"],
                        my_stars=r["stars"])


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_MINE))


async def _mine(info: Info, pk: int) -> ServiceRequest | None:
    me = await require_worker(info)
    rows = await raw(_REQUESTS + " AND r.id = {}" + _MINE, me.tenant.id, pk, me.member_id or -1, me.principal.user_id)
    return _request_from_row(info, me.tenant, me.principal, rows[0]) if rows else None


@strawberry.type
class ServiceNetworkPortalQuery:
    @strawberry.field(description="The service-request categories of your province, with their SLA clocks (what a worker chooses from). Requires `service_network.read` (staff) or `worker.self` (workers).")
    @for_query
    async def service_request_categories(self, info: Info) -> list[RequestCategory]:
        tenant, principal = info.context.authenticated()
        if not (principal.can("service_network.read") or principal.can("worker.self")):
            raise DomainError(ErrorCode.FORBIDDEN, "requires service_network.read or worker.self")
        return [RequestCategory(code=c.code, label_zh=c.label_zh, first_response_hours=c.first_response_hours,
                                resolution_hours=c.resolution_hours) for c in for_tenant(tenant).request_categories]

    @strawberry.field(description=perm("worker.self", "Worker portal: the service requests I submitted, newest first, with their status."))
    @for_query
    async def my_service_requests(self, info: Info, limit: int = 50) -> list[ServiceRequest]:
        me = await require_worker(info)
        tenant, principal = me.tenant, me.principal
        rows = await raw(_REQUESTS + _MINE + " ORDER BY r.created_at DESC, r.id DESC LIMIT {}", tenant.id,
                         me.member_id or -1, principal.user_id, _limit(limit))
        return [_request_from_row(info, tenant, principal, r) for r in rows]

    @strawberry.field(description=perm("worker.self", "Worker portal: one of my requests (null for anyone else's)."))
    @for_query
    async def my_service_request(self, info: Info, id: strawberry.ID) -> ServiceRequest | None:
        return await _mine(info, from_global_id(id, "ServiceRequest")[1])

    @strawberry.field(description=perm("worker.self", "Worker portal: my current ratings, newest first; `subjectType` "
                                       "keeps one kind (a page shows my rating beside each thing I may rate)."))
    @for_query
    async def my_ratings(self, info: Info, limit: int = 50, subject_type: str | None = None) -> list[Rating]:
        me = await require_worker(info)
        if me.member_id is None:
            return []
        sql, args = _RATINGS + " AND t.member_id = {}", [me.tenant.id, me.member_id]
        if subject_type:
            sql += " AND t.subject_type = {}"
            args.append(subject_type)
        rows = await raw(sql + " ORDER BY t.rated_at DESC, t.id DESC LIMIT {}", *args, _limit(limit))
        return [Rating.from_row(r) for r in rows]

    @strawberry.field(description=perm("worker.self", "Worker portal: my check-ins at stations (matched by the phone on my member "
                                  "record), newest first."))
    @for_query
    async def my_station_visits(self, info: Info, limit: int = 50) -> list[StationVisit]:
        me = await require_worker(info)
        if me.member_id is None:
            return []
        rows = await raw(_VISITS + " ORDER BY v.visited_at DESC, v.id DESC LIMIT {}", me.tenant.id, me.member_id,
                         _limit(limit))
        return [_visit(r) for r in rows]


@strawberry.type
class ServiceNetworkPortalMutation:
    @strawberry.mutation(description=perm("worker.self", "Worker portal: submit a need for myself; my union's unit is "
                                          "where routing starts (routed and clocked like any request)."))
    async def worker_service_request_submit(
            self, info: Info, category: str, summary: str, station_id: strawberry.ID | None = None,
            service_item_id: strawberry.ID | None = None,
            phone: Annotated[str | None, strawberry.argument(
                description="A number to call back (stored encrypted); none: the phone on file.")] = None,
    ) -> ServiceRequestPayload:
        from huijia_service_network import requests

        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            member_id = me.require_member()
            tenant = me.tenant
            origin = await get_unit(tenant, me.member_unit_id) if me.member_unit_id else None
            if origin is None:
                raise DomainError(ErrorCode.INVALID_STATE, "your member record has no union", None, "您的会籍未关联工会组织")
            member = await get_member(tenant, member_id)
            station_pk = item_pk = None
            if station_id:
                station_pk = from_global_id(station_id, "Station", "stationId")[1]
                if not await raw("SELECT 1 FROM sn_station WHERE tenant_id = {} AND id = {}", tenant.id, station_pk):
                    raise DomainError(ErrorCode.NOT_FOUND, "station not found", "stationId", "未找到该驿站")
            if service_item_id:
                item_pk = from_global_id(service_item_id, "ServiceItem", "serviceItemId")[1]
                if not await raw("SELECT 1 FROM sn_service_item WHERE tenant_id = {} AND id = {} AND published = {}",
                                 tenant.id, item_pk, True):
                    raise DomainError(ErrorCode.NOT_FOUND, "service item not found", "serviceItemId", "未找到该服务项目")
            rid = await requests.submit(tenant, info.context.actor, me.principal.user_id, origin, channel="portal",
                                        category_code=category, summary=summary,
                                        requester_name=member["name"] if member else "", phone=phone,
                                        member_id=member_id, station_id=station_pk, service_item_id=item_pk)
            return {"request": await _mine(info, rid)}

        return await run_mutation(ServiceRequestPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Worker portal: check in at a station (its number, as on the QR code) with the "
                                     "phone on my member record; throttled like the public check-in."))
    async def worker_station_check_in(self, info: Info, number: str, occupation: str) -> StationVisitPayload:
        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            member_id = me.require_member()
            phone = await _own_phone(me.tenant, member_id)
            visit = await services.check_in(me.tenant, number.strip()[:40], phone, occupation[:80])
            rows = await raw(_VISITS + " AND v.id = {}", me.tenant.id, member_id, visit["visit_id"])
            return {"visit": _visit(rows[0])}

        return await run_mutation(StationVisitPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Worker portal: rate something I used (a station I checked in at, a resolved "
                                     "request of mine, and what other capabilities offer through `rating_subjects`: a "
                                     "paid aid grant, a campaign benefit, a paid mutual-aid claim); a later rating "
                                     "replaces mine, the history is kept."))
    async def worker_rating_submit(self, info: Info, subject_type: str, subject_id: BigInt,  # type: ignore[valid-type]
                                   stars: int, dimensions: list[DimensionInput] | None = None,
                                   comment: str = "") -> RatingPayload:
        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            member_id = me.require_member()
            dims: dict[str, int] = {}
            for d in dimensions or []:
                if d.key in dims:
                    raise services.invalid(f"dimension {d.key!r} given twice", "dimensions", "评价维度重复")
                dims[d.key] = d.stars
            text = (comment or "").strip()
            services.check_rating(stars, dims, text, subject_type)
            if not 1 <= int(subject_id) <= 2**63 - 1:
                raise DomainError(ErrorCode.NOT_FOUND, "subject not found", "subjectId")
            unit_id = await services.subject_unit(me.tenant, subject_type, int(subject_id), member_id)
            rid = await services.save_rating(me.tenant, info.context.actor, me.principal.user_id, unit_id, subject_type,
                                             int(subject_id), member_id, stars, dims, text)
            row = (await raw(_RATINGS + " AND t.id = {}", me.tenant.id, rid))[0]
            return {"rating": Rating.from_row(row)}

        return await run_mutation(RatingPayload, work)

"""The worker portal's side of the service network (``core.sdk.require_worker``): submit a need, follow
my requests, rate what I used, see my check-ins. Everything is the caller's own: another worker's
request reads as not found, exactly like an id that does not exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    for_query,
    from_global_id,
    get_unit,
    perm,
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

MAX_LIST = 200
# A worker's requests: the ones about their member record, or that they submitted themselves.
_MINE = " AND (r.member_id = {} OR r.created_by = {})"


@strawberry.input
class MyServiceRequestInput:
    category: str
    summary: str
    phone: str | None = strawberry.field(default=None, description="A number to call back (stored encrypted).")
    station_id: strawberry.ID | None = None
    service_item_id: strawberry.ID | None = None


@strawberry.input
class MyRatingInput:
    subject_type: str = strawberry.field(description="station | service_request | service_item | what other capabilities offer")
    subject_id: BigInt = strawberry.field(description="The rated thing's database id.")  # type: ignore[valid-type]
    stars: int
    dimensions: list[DimensionInput] = strawberry.field(default_factory=list)
    comment: str = ""


@strawberry.type(description="One of my QR check-ins at a station.")
class MyCheckIn:
    station_id: strawberry.ID
    station_number: str
    station_name: str
    occupation: str
    visited_at: dt.datetime


def _limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIST:
        raise DomainError(ErrorCode.INVALID_INPUT, f"limit must be between 1 and {MAX_LIST}", "limit")


async def _mine(info: Info, pk: int) -> ServiceRequest | None:
    me = await require_worker(info)
    rows = await raw(_REQUESTS + " AND r.id = {}" + _MINE, me.tenant.id, pk, me.member_id or -1, me.principal.user_id)
    return _request_from_row(info, me.tenant, me.principal, rows[0]) if rows else None


@strawberry.type
class WorkerServiceQuery:
    # The list of my requests is portal.py's ``myServiceRequests``.

    @strawberry.field(description=perm("worker.self", "Worker portal: one of my requests (null for anyone else's)."))
    @for_query
    async def my_service_request(self, info: Info, id: strawberry.ID) -> ServiceRequest | None:
        return await _mine(info, from_global_id(id, "ServiceRequest")[1])

    @strawberry.field(description=perm("worker.self", "Worker portal: my ratings, newest first."))
    @for_query
    async def my_ratings(self, info: Info, limit: int = 50) -> list[Rating]:
        _limit(limit)
        me = await require_worker(info)
        if me.member_id is None:
            return []
        rows = await raw(_RATINGS + " AND t.member_id = {} ORDER BY t.rated_at DESC, t.id DESC LIMIT {}",
                         me.tenant.id, me.member_id, limit)
        return [Rating.from_row(r) for r in rows]

    @strawberry.field(description=perm("worker.self", "Worker portal: my station check-ins (matched by my member record's phone), newest first."))
    @for_query
    async def my_check_ins(self, info: Info, limit: int = 50) -> list[MyCheckIn]:
        _limit(limit)
        me = await require_worker(info)
        if me.member_id is None:
            return []
        rows = await raw("SELECT v.station_id, v.occupation, v.visited_at, s.number, s.name FROM sn_station_visit v "
                         "JOIN member m ON m.tenant_id = v.tenant_id AND m.phone_bidx = v.phone_bidx "
                         "JOIN sn_station s ON s.tenant_id = v.tenant_id AND s.id = v.station_id "
                         "WHERE v.tenant_id = {} AND m.id = {} ORDER BY v.visited_at DESC, v.id DESC LIMIT {}",
                         me.tenant.id, me.member_id, limit)
        return [MyCheckIn(station_id=strawberry.ID(to_global_id("Station", r["station_id"])), station_number=r["number"],
                          station_name=r["name"], occupation=r["occupation"], visited_at=r["visited_at"]) for r in rows]


@strawberry.type
class WorkerServiceMutation:
    @strawberry.mutation(description=perm("worker.self", "Worker portal: submit a need from my union (routed and clocked like any request)."))
    async def my_service_request_submit(self, info: Info, input: MyServiceRequestInput) -> ServiceRequestPayload:
        from huijia_service_network import requests

        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            member_id = me.require_member()
            origin = await get_unit(me.tenant, me.member_unit_id) if me.member_unit_id else None
            if origin is None:
                raise DomainError(ErrorCode.INVALID_STATE, "your member record has no union", None, "您的会籍未关联工会组织")
            tenant = me.tenant
            station_pk = item_pk = None
            if input.station_id:
                station_pk = from_global_id(input.station_id, "Station", "stationId")[1]
                if not await raw("SELECT 1 FROM sn_station WHERE tenant_id = {} AND id = {}", tenant.id, station_pk):
                    raise DomainError(ErrorCode.NOT_FOUND, "station not found", "stationId", "未找到该驿站")
            if input.service_item_id:
                item_pk = from_global_id(input.service_item_id, "ServiceItem", "serviceItemId")[1]
                if not await raw("SELECT 1 FROM sn_service_item WHERE tenant_id = {} AND id = {} AND published = {}",
                                 tenant.id, item_pk, True):
                    raise DomainError(ErrorCode.NOT_FOUND, "service item not found", "serviceItemId", "未找到该服务项目")
            rid = await requests.submit(tenant, info.context.actor, me.principal.user_id, origin, channel="portal",
                                        category_code=input.category, summary=input.summary, requester_name="",
                                        phone=input.phone, member_id=member_id, station_id=station_pk,
                                        service_item_id=item_pk)
            return {"request": await _mine(info, rid)}

        return await run_mutation(ServiceRequestPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Worker portal: rate something I used (a later rating replaces mine; history kept)."))
    async def my_rating_submit(self, info: Info, input: MyRatingInput) -> RatingPayload:
        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            member_id = me.require_member()
            dims: dict[str, int] = {}
            for d in input.dimensions:
                if d.key in dims:
                    raise services.invalid(f"dimension {d.key!r} given twice", "dimensions", "评价维度重复")
                dims[d.key] = d.stars
            comment = (input.comment or "").strip()
            services.check_rating(input.stars, dims, comment, input.subject_type)
            if not 1 <= input.subject_id <= 2**63 - 1:
                raise DomainError(ErrorCode.NOT_FOUND, "subject not found", "subjectId")
            unit_id = await services.subject_unit(me.tenant, input.subject_type, input.subject_id, member_id)
            rid = await services.save_rating(me.tenant, info.context.actor, me.principal.user_id, unit_id,
                                             input.subject_type, input.subject_id, member_id, input.stars, dims, comment)
            row = (await raw(_RATINGS + " AND t.id = {}", me.tenant.id, rid))[0]
            return {"rating": Rating.from_row(row)}

        return await run_mutation(RatingPayload, work)

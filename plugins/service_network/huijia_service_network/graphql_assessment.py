"""GraphQL of station upkeep: the yearly assessment (staff record incidents - missed hours,
shortages, complaints - on a station in their subtree, start the province's assessment job for a
year at the root, read the results in their subtree) and the stations' photos."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

import strawberry

from core.sdk import (
    DomainError,
    ErrorCode,
    Info,
    UserError,
    audit_record,
    enqueue,
    for_query,
    from_global_id,
    perm,
    raw,
    require_in_subtree,
    run_mutation,
    scope_clause,
    to_global_id,
    transaction,
)
from huijia_service_network import services
from huijia_service_network.assessment import INCIDENT_KINDS
from huijia_service_network.graphql import StationPhoto

MAX_LIST = 500


@strawberry.type
class AssessmentTrigger:
    code: str = strawberry.field(description="missed_hours | shortages | complaints | falling_satisfaction | a province's")
    label_zh: str
    downgrade: int = strawberry.field(description="Stars it costs.")
    detail: str


@strawberry.type(description="A station's yearly assessment: the year's figures, the triggers that fired, the star change.")
class StationAssessment:
    id: strawberry.ID
    station_id: strawberry.ID
    station_number: str
    station_name: str
    org_unit_id: strawberry.ID
    year: int
    stars_before: int
    stars_after: int
    missed_hours: int
    shortages: int
    complaints: int
    ratings: int
    satisfaction: float | None = strawberry.field(description="Mean stars of the station's ratings in the year.")
    ratings_prev: int
    satisfaction_prev: float | None
    triggers: list[AssessmentTrigger]
    computed_at: dt.datetime

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> StationAssessment:
        return cls(id=strawberry.ID(to_global_id("StationAssessment", r["id"])),
                   station_id=strawberry.ID(to_global_id("Station", r["station_id"])), station_number=r["number"],
                   station_name=r["name"], org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])),
                   year=r["year"], stars_before=r["stars_before"], stars_after=r["stars_after"],
                   missed_hours=r["missed_hours"], shortages=r["shortages"], complaints=r["complaints"],
                   ratings=r["ratings"], satisfaction=_round(r["satisfaction"]), ratings_prev=r["ratings_prev"],
                   satisfaction_prev=_round(r["satisfaction_prev"]),
                   triggers=[AssessmentTrigger(**t) for t in json.loads(r["triggers"] or "[]")],
                   computed_at=r["computed_at"])


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 3)


@strawberry.type(description="Something recorded against a station for its yearly assessment.")
class StationIncident:
    id: strawberry.ID
    station_id: strawberry.ID
    kind: str = strawberry.field(description="missed_hours | shortage | complaint")
    kind_label_zh: str
    occurred_on: dt.date
    quantity: int = strawberry.field(description="Hours for missed_hours; 1 otherwise.")
    note: str
    created_at: dt.datetime

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> StationIncident:
        return cls(id=strawberry.ID(to_global_id("StationIncident", r["id"])),
                   station_id=strawberry.ID(to_global_id("Station", r["station_id"])), kind=r["kind"],
                   kind_label_zh=INCIDENT_KINDS.get(r["kind"], r["kind"]), occurred_on=r["occurred_on"],
                   quantity=r["quantity"], note=r["note"], created_at=r["created_at"])


@strawberry.type
class StationIncidentPayload:
    incident: StationIncident | None = None
    errors: list[UserError]


@strawberry.type
class AssessmentRunPayload:
    job_id: strawberry.ID | None = strawberry.field(default=None, description="Poll `job(id)` for progress and the result.")
    errors: list[UserError]


_ASSESSMENTS = ("SELECT a.*, s.number, s.name FROM sn_station_assessment a JOIN sn_station s ON s.tenant_id = a.tenant_id "
                "AND s.id = a.station_id WHERE a.tenant_id = {}")


def _check_year(year: int, field: str = "year") -> None:
    if not 2000 <= year <= dt.date.today().year:
        raise services.invalid(f"{field} must be between 2000 and this year", field, "年度须在2000年至今年之间")


@strawberry.type
class AssessmentQuery:
    @strawberry.field(description=perm("service_network.read", "The stations' assessments of a year in your subtree; "
                                                               "`downgradedOnly` for those that lost stars."))
    @for_query
    async def station_assessments(self, info: Info, year: int, downgraded_only: bool = False,
                                  limit: int = 100) -> list[StationAssessment]:
        if not 1 <= limit <= MAX_LIST:
            raise DomainError(ErrorCode.INVALID_INPUT, f"limit must be between 1 and {MAX_LIST}", "limit")
        tenant, principal = info.context.require("service_network.read")
        scope, params = scope_clause(principal, "service_network.read", "a.org_unit_id", tenant.id)
        sql = f"{_ASSESSMENTS} AND a.year = {{}} AND {scope}"
        if downgraded_only:
            sql += " AND a.stars_after < a.stars_before"
        rows = await raw(sql + " ORDER BY s.number LIMIT {}", tenant.id, year, *params, limit)
        return [StationAssessment.from_row(r) for r in rows]

    @strawberry.field(description=perm("service_network.read", "What was recorded against a station in a year."))
    @for_query
    async def station_incidents(self, info: Info, station_id: strawberry.ID, year: int) -> list[StationIncident]:
        tenant, _ = info.context.require("service_network.read")
        station = await _station(info, station_id, "service_network.read")
        rows = await raw("SELECT * FROM sn_station_incident WHERE tenant_id = {} AND station_id = {} AND occurred_on >= {} "
                         "AND occurred_on < {} ORDER BY occurred_on, id", tenant.id, station["id"],
                         dt.date(year, 1, 1), dt.date(year + 1, 1, 1)) if 1 <= year <= 9998 else []
        return [StationIncident.from_row(r) for r in rows]


async def _station(info: Info, gid: strawberry.ID, action: str) -> dict[str, Any]:
    tenant, principal = info.context.require(action)
    rows = await raw("SELECT s.id, s.org_unit_id, o.path FROM sn_station s JOIN org_unit o ON o.tenant_id = s.tenant_id "
                     "AND o.id = s.org_unit_id WHERE s.tenant_id = {} AND s.id = {}", tenant.id,
                     from_global_id(gid, "Station", "stationId")[1])
    if not rows:
        raise DomainError(ErrorCode.NOT_FOUND, "station not found", "stationId", "未找到该驿站")
    require_in_subtree(principal, action, rows[0]["path"], what="station", field="stationId",
                       read_action="service_network.read")
    return rows[0]


@strawberry.type
class AssessmentMutation:
    @strawberry.mutation(description=perm("service_network.write", "Record missed opening hours, a supply shortage or a "
                                                                   "substantiated complaint against a station."))
    async def station_incident_record(self, info: Info, station_id: strawberry.ID, kind: str, occurred_on: dt.date,
                                      hours: int | None = None, note: str | None = None) -> StationIncidentPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            station = await _station(info, station_id, "service_network.write")
            if kind not in INCIDENT_KINDS:
                raise services.invalid("kind must be missed_hours, shortage or complaint", "kind",
                                       "类型只能是未按时开放、物资短缺或投诉")
            if occurred_on > dt.date.today() or occurred_on.year < 2000:
                raise services.invalid("occurredOn must not be in the future", "occurredOn", "发生日期不能晚于今天")
            quantity = 1
            if kind == "missed_hours":
                if hours is None or not 1 <= hours <= 24:
                    raise services.invalid("hours must be between 1 and 24 (one day)", "hours", "缺勤时长须为1至24小时")
                quantity = hours
            text = (note or "").strip()
            if len(text) > 500 or "\x00" in text:
                raise services.invalid("note is longer than 500 characters", "note", "说明不能超过500字")
            async with transaction():
                row = (await raw("INSERT INTO sn_station_incident (tenant_id, org_unit_id, station_id, kind, occurred_on, "
                                 "quantity, note, created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) "
                                 "RETURNING *", tenant.id, station["org_unit_id"], station["id"], kind, occurred_on,
                                 quantity, text, principal.user_id, dt.datetime.now(dt.UTC)))[0]
                await audit_record(tenant, info.context.actor, "service_network.station.incident", "Station",
                                   station["id"], {"kind": kind, "quantity": quantity, "occurred_on": occurred_on.isoformat()})
            return {"incident": StationIncident.from_row(row)}

        return await run_mutation(StationIncidentPayload, work)

    @strawberry.mutation(description=perm("service_network.assess", "Granted at the province root. Assess every station "
                                                                    "for a year (a background job in batches; a rerun replaces "
                                                                    "the year's records); poll `job(id)`."))
    async def station_assessment_run(self, info: Info, year: int) -> AssessmentRunPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.assess")
            root = (await raw("SELECT id, path FROM org_unit WHERE tenant_id = {} ORDER BY depth, id LIMIT 1", tenant.id))[0]
            require_in_subtree(principal, "service_network.assess", root["path"], what="province", field="year")
            _check_year(year)
            job_id = await enqueue(tenant, "service_network.assess_stations", year, created_by=principal.user_id,
                                   key=f"service_network.assess_stations:{year}:{dt.datetime.now(dt.UTC).timestamp()}")
            await audit_record(tenant, info.context.actor, "service_network.assessment.run", "Job", job_id, {"year": year})
            return {"job_id": strawberry.ID(to_global_id("Job", job_id))}

        return await run_mutation(AssessmentRunPayload, work)


# ---------------------------------------------------------------------------------------------
# Photos (here beside the other station upkeep; the types are in graphql.py)
# ---------------------------------------------------------------------------------------------


@strawberry.type
class StationPhotoPayload:
    photo: StationPhoto | None = None
    errors: list[UserError]


@strawberry.type
class PhotoMutation:
    @strawberry.mutation(description=perm("service_network.write", "Add a photo (JPEG or PNG, at most 5 MB, base64) "
                                                                   "to a station; the type is decided by the content. "
                                                                   "`public` photos are shown by the public finder."))
    async def station_photo_add(self, info: Info, station_id: strawberry.ID, filename: str, content_base64: str,
                                content_type: str | None = None, public: bool = False,
                                caption: str = "") -> StationPhotoPayload:
        from huijia_service_network import photos

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            station = await _station(info, station_id, "service_network.write")
            if len(content_base64) > photos.MAX_PHOTO * 4 // 3 + 8:
                raise services.invalid("the photo is larger than 5 MB", "contentBase64", "照片超过5MB")
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise services.invalid("contentBase64 is not base64", "contentBase64", "照片内容格式不正确") from None
            pid = await photos.add(tenant, info.context.actor, principal.user_id, int(station["id"]), filename, content,
                                   content_type, public, caption)
            row = (await raw("SELECT * FROM sn_station_photo WHERE tenant_id = {} AND id = {}", tenant.id, pid))[0]
            return {"photo": StationPhoto.from_row(row)}

        return await run_mutation(StationPhotoPayload, work)

    @strawberry.mutation(description=perm("service_network.write", "Remove a station's photo (and its stored file)."))
    async def station_photo_remove(self, info: Info, id: strawberry.ID) -> StationPhotoPayload:
        from huijia_service_network import photos

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("service_network.write")
            rows = await raw("SELECT p.*, o.path FROM sn_station_photo p JOIN sn_station s ON s.tenant_id = p.tenant_id "
                             "AND s.id = p.station_id JOIN org_unit o ON o.tenant_id = s.tenant_id AND o.id = s.org_unit_id "
                             "WHERE p.tenant_id = {} AND p.id = {}", tenant.id, from_global_id(id, "StationPhoto")[1])
            if not rows:
                raise DomainError(ErrorCode.NOT_FOUND, "photo not found", "id", "未找到该照片")
            require_in_subtree(principal, "service_network.write", rows[0]["path"], what="photo",
                               read_action="service_network.read")
            await photos.remove(tenant, info.context.actor, rows[0])
            return {"photo": StationPhoto.from_row(rows[0])}

        return await run_mutation(StationPhotoPayload, work)

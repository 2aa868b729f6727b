"""The service_network capability's tenant-owned tables (row-level security in the fence migration)."""

from piccolo.columns import (
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import OrgUnitTable, TenantTable


class ServiceItem(Table, tablename="sn_service_item"):
    """One line of an org unit's 服务职工工作项目清单."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    name = Varchar(length=100)
    provider_kind = Varchar(length=20)  # union | aid_centre | social_org
    provider_name = Varchar(length=100)
    how_to = Text(default="")
    hours = Varchar(length=200, default="")
    contact = Varchar(length=100, default="")
    published = Boolean(default=False)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Station(Table, tablename="sn_station"):
    """A 工会驿站 / 户外劳动者服务站点. Coordinates are WGS-84; ``facilities`` is ``,code,code,``
    so one facility filter is a LIKE on either database."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    number = Varchar(length=40)
    name = Varchar(length=100)
    lat = DoublePrecision()
    lon = DoublePrecision()
    address = Varchar(length=200, default="")
    facilities = Varchar(length=1000, default=",")
    area_m2 = Integer(default=0)
    capacity = Integer(default=0)
    stars = SmallInt(default=1)
    # The latest yearly assessment's result: the province rule's stars never rise above it until the
    # next assessment (a downgrade holds when the station's facts are edited).
    star_cap = SmallInt(null=True, default=None)
    # 「会站家」: the union and the 职工之家 at the same site.
    union_unit_id = ForeignKey(OrgUnitTable, null=True, default=None, on_delete=OnDelete.restrict)
    home_name = Varchar(length=100, null=True, default=None)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class StationWindow(Table, tablename="sn_station_window"):
    """An opening window on some weekdays; ``end_min < start_min`` is overnight (see hours.py)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    station_id = BigInt(index=True)
    start_min = SmallInt()
    end_min = SmallInt()
    kind = Varchar(length=10)  # staffed | qr
    days = SmallInt(default=127)  # weekdays it starts on: bit 0 Monday ... bit 6 Sunday


class StationVisit(Table, tablename="sn_station_visit"):
    """A QR check-in. The phone is encrypted; its blind index (the members' phone index) finds a
    member's visits without decrypting anything."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    station_id = BigInt(index=True)
    phone_enc = Varchar(length=200)
    phone_bidx = Bytea()
    occupation = Varchar(length=40)
    visited_at = Timestamptz(default=TimestamptzNow())


class Rating(Table, tablename="sn_rating"):
    """The current rating of one subject by one member; earlier ones are in sn_rating_history."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    subject_type = Varchar(length=40)
    subject_id = BigInt()
    member_id = BigInt()
    stars = SmallInt()
    dimensions = Text(default="{}")
    comment = Varchar(length=500, default="")
    flagged = Boolean(default=False)
    followed_up = Boolean(default=False)
    version = Integer(default=1)
    rated_by = BigInt(null=True, default=None)
    rated_at = Timestamptz(default=TimestamptzNow())


class RatingHistory(Table, tablename="sn_rating_history"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    rating_id = BigInt(index=True)
    version = Integer()
    stars = SmallInt()
    dimensions = Text(default="{}")
    comment = Varchar(length=500, default="")
    rated_by = BigInt(null=True, default=None)
    rated_at = Timestamptz(default=TimestamptzNow())


class RatingFollowUp(Table, tablename="sn_rating_follow_up"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    rating_id = BigInt(index=True)
    note = Varchar(length=1000)
    resolved = Boolean(default=False)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Request(Table, tablename="sn_request"):
    """A service request; its state is the shared workflow case (service_network.request, case_id = id).
    ``org_unit_id`` is the handling unit (after routing), ``origin_unit_id`` where it came from."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    origin_unit_id = ForeignKey(OrgUnitTable, null=False, on_delete=OnDelete.restrict)
    category = Varchar(length=32)
    channel = Varchar(length=10)
    member_id = BigInt(null=True, default=None)
    requester_name = Varchar(length=50, default="")
    phone_enc = Varchar(length=200, null=True, default=None)
    phone_bidx = Bytea(null=True, default=None)
    summary = Text()
    social_org = Varchar(length=100, null=True, default=None)
    station_id = BigInt(null=True, default=None)
    service_item_id = BigInt(null=True, default=None)
    first_response_due = Timestamptz()
    resolution_due = Timestamptz()
    first_responded_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # 维权帮扶一体化: the aid case a rights request opened (another capability's workflow case).
    aid_capability = Varchar(length=40, null=True, default=None)
    aid_case_type = Varchar(length=40, null=True, default=None)
    aid_case_id = BigInt(null=True, default=None)
    aid_label_zh = Varchar(length=40, null=True, default=None)
    # A referral to a social organisation: whose register said it is under contract (procurement, or
    # "settings" for the tenant's list) and that register's ids of the organisation and the contract.
    referral_capability = Varchar(length=40, null=True, default=None)
    referral_org_id = BigInt(null=True, default=None)
    referral_contract_id = BigInt(null=True, default=None)
    # 需求导向: the procurement need-list item the request became (another capability's id).
    need_capability = Varchar(length=40, null=True, default=None)
    need_id = BigInt(null=True, default=None)


class StationIncident(Table, tablename="sn_station_incident"):
    """What staff record against a station for its yearly assessment: missed opening hours (``quantity``
    hours), a supply shortage or a substantiated complaint (``quantity`` 1)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    station_id = BigInt(index=True)
    kind = Varchar(length=20)  # missed_hours | shortage | complaint
    occurred_on = Date()
    quantity = Integer(default=1)
    note = Varchar(length=500, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class StationAssessment(Table, tablename="sn_station_assessment"):
    """One station's yearly assessment: the year's figures, the downgrade triggers that fired (JSON)
    and the star change. Computed again, it is replaced (one per station and year)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    station_id = BigInt(index=True)
    year = Integer()
    stars_before = SmallInt()
    stars_after = SmallInt()
    missed_hours = Integer(default=0)
    shortages = Integer(default=0)
    complaints = Integer(default=0)
    ratings = Integer(default=0)
    satisfaction = DoublePrecision(null=True, default=None)
    ratings_prev = Integer(default=0)
    satisfaction_prev = DoublePrecision(null=True, default=None)
    triggers = Text(default="[]")
    job_id = BigInt(null=True, default=None)
    computed_at = Timestamptz(default=TimestamptzNow())


class StationPhoto(Table, tablename="sn_station_photo"):
    """A photo of a station, in the encrypted file store (area ``service_network``, kind ``photo``,
    object id = this id). ``public`` photos are shown by the public finder."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    station_id = BigInt(index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=40)
    size = Integer()
    sha256 = Varchar(length=64)
    public = Boolean(default=False)
    caption = Varchar(length=100, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [ServiceItem, Station, StationWindow, StationVisit, Rating, RatingHistory, RatingFollowUp, Request,
          StationIncident, StationAssessment, StationPhoto]

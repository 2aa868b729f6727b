"""Create mutual_aid_premium, _claim, _claim_document, _settlement and _stay_file."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    JSONB,
    BigInt,
    BigSerial,
    Date,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-03T18:40:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "mutual_aid premiums, claims, claim documents, settlements, stay files"


class Tenant(Table, tablename="tenant", schema=None):
    id = BigSerial(primary_key=True)


class OrgUnit(Table, tablename="org_unit", schema=None):
    id = BigSerial(primary_key=True)


def _fk(to):
    return ForeignKey, {"references": to, "on_delete": OnDelete.restrict, "on_update": OnUpdate.cascade,
                        "target_column": None, "null": False, "index": True}


def _s(n=64, default=""):
    return Varchar, {"length": n, "default": default, "null": False}


def _ns(n=64):
    return Varchar, {"length": n, "default": None, "null": True}


BIG = (BigInt, {"default": 0, "null": False})
NBIG = (BigInt, {"default": None, "null": True})
DATE = (Date, {"default": DateNow(), "null": False})
NDATE = (Date, {"default": None, "null": True})
AT = (Timestamptz, {"default": TimestamptzNow(), "null": False})
PK = (BigSerial, {"null": False, "primary_key": True})

TABLES = {
    ("MutualAidPremium", "mutual_aid_premium"): {
        "id": PK, "tenant_id": _fk(Tenant), "org_unit_id": _fk(OrgUnit), "enrolment_id": BIG, "plan_code": _s(),
        "term_start": DATE, "level": _s(32), "payer_unit_id": BIG, "amount_fen": BIG, "entry_id": BIG,
        "created_by": NBIG, "created_at": AT},
    ("MutualAidClaim", "mutual_aid_claim"): {
        "id": PK, "tenant_id": _fk(Tenant), "org_unit_id": _fk(OrgUnit), "member_id": BIG, "enrolment_id": BIG,
        "plan_code": _s(), "term_start": DATE, "kind": _s(), "event_date": DATE, "admitted_on": NDATE,
        "discharged_on": NDATE, "hospital_enc": _s(500), "covered_cost_fen": BIG, "own_cost_fen": BIG,
        "deductible_fen": BIG, "excess_bed_fen": BIG, "non_insured_fen": BIG,
        "tier": (Integer, {"default": None, "null": True}), "case_ref": _s(), "amount_fen": BIG,
        "breakdown": (JSONB, {"default": "[]", "null": False}), "capped_by": _ns(8), "source": _s(16),
        "stay_key": _ns(64), "reservation_id": NBIG, "entry_id": NBIG, "created_by": NBIG,
        "created_by_name": _s(150), "created_at": AT},
    ("MutualAidClaimDocument", "mutual_aid_claim_document"): {
        "id": PK, "tenant_id": _fk(Tenant), "claim_id": BIG, "kind": _s(32), "filename": _s(200),
        "content_type": _s(), "size": BIG, "sha256": _s(), "created_by": NBIG, "created_at": AT},
    ("MutualAidSettlement", "mutual_aid_settlement"): {
        "id": PK, "tenant_id": _fk(Tenant), "plan_code": _s(), "term_start": DATE, "premiums_fen": BIG,
        "claims_fen": BIG, "surplus_fen": BIG, "destination": _s(), "entry_id": NBIG, "closed_by": NBIG,
        "created_at": AT},
    ("MutualAidStayFile", "mutual_aid_stay_file"): {
        "id": PK, "tenant_id": _fk(Tenant), "plan_code": _s(), "kind": _s(), "filename": _s(200), "size": BIG,
        "sha256": _s(), "created_by": NBIG, "created_at": AT},
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mutual_aid", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, (cls, params) in columns.items():
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                               db_column_name=name, column_class_name=cls.__name__, column_class=cls,
                               params=dict(params), schema=None)
    return manager

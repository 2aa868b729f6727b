"""GraphQL object types for members, households and transfers.

Every personal value leaves masked: ``idNumberMasked`` (first 6 + last 4), ``phoneMasked`` (first 3 +
last 4); the birth date only as ``birthYear``/``age`` (a full birth date next to the masked ID
would reveal it).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

import strawberry

from core.context import TenantContext
from core.graphql.base import (
    Connection,
    Edge,
    Info,
    JSONScalar,
    Node,
    PageInfo,
    connection,
    page_args,
    to_global_id,
)
from core.members import personal, queries, services
from core.members.vocab import RELATIONS, STATES, WORK_STATUSES, tag_vocabulary
from core.tenancy.graphql import OrgUnit
from core.tenancy.queries import units_by_ids


@strawberry.enum(name="MemberGender", description="Sex, from the ID number.")
class Gender(enum.Enum):
    MALE = "M"
    FEMALE = "F"


@strawberry.enum(name="MemberWorkStatus", description="工作状态.")
class WorkStatus(enum.Enum):
    ON_DUTY = "on_duty"
    LAID_OFF = "laid_off"
    UNEMPLOYED = "unemployed"
    RETIRED = "retired"
    SICK_LEAVE = "sick_leave"
    EARLY_RETIRED = "early_retired"
    MIGRANT_WORKER = "migrant_worker"


@strawberry.enum(description="Membership state: 在会, 会籍转移中, 已退会, 已去世.")
class MembershipState(enum.Enum):
    JOINED = "joined"
    TRANSFERRING = "transferring"
    LEFT = "left"
    DECEASED = "deceased"


@strawberry.enum(name="MemberRevealField", description="A personal field that `memberReveal` can show in full.")
class RevealField(enum.Enum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    BIRTH_DATE = "birth_date"


@strawberry.enum(name="HouseholdRelation", description="Relation of a household person to the household's member.")
class Relation(enum.Enum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    OTHER = "other"


@strawberry.type(description="A member tag (core, or registered by a plugin for this tenant).")
class MemberTag:
    code: str
    label: str
    description: str


def _tags(tenant: TenantContext, codes: list[str]) -> list[MemberTag]:
    vocab = tag_vocabulary(tenant)
    out = []
    for code in codes or []:
        tag = vocab.tags.get(code)
        out.append(MemberTag(code=code, label=tag.label_zh if tag else code, description=tag.description_zh if tag else ""))
    return out


def _age(born: dt.date | None) -> int | None:
    if born is None:
        return None
    today = services.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


_MISSING = object()


async def prefetch_units(info: Info, members: list[Member]) -> None:
    """Load the unions of a page of members in one batch (the same loader ``orgUnit`` uses) and keep
    each on its member, one OrgUnit object per distinct union."""
    ids = list(dict.fromkeys(m.unit_pk for m in members))
    loader = info.context.loader("org_unit_by_id", units_by_ids)
    # One query for the page, then primed into the request's loader for anything nested that asks
    # again (a loader's load_many would cost an asyncio task per union).
    tenant, _ = info.context.authenticated()
    rows = await units_by_ids(tenant, ids) if ids else []
    loader.prime_many(dict(zip(ids, rows, strict=True)))
    units = {i: OrgUnit.from_row(r) if r else None for i, r in zip(ids, rows, strict=True)}
    for m in members:
        m._org_unit = units[m.unit_pk]  # type: ignore[attr-defined]  # a prefetch cache, not a GraphQL field


@strawberry.type(description="One change to a member (personal values are never shown, only that they changed).")
class MemberHistoryEntry:
    id: strawberry.ID
    action: str
    changes: JSONScalar
    actor_name: str
    at: dt.datetime
    import_id: strawberry.ID | None
    transfer_id: strawberry.ID | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> MemberHistoryEntry:
        return cls(id=strawberry.ID(to_global_id("MemberHistory", r["id"])), action=r["action"],
                   changes=services.history_changes(r["changes"]), actor_name=r["actor_name"], at=r["at"],
                   import_id=strawberry.ID(to_global_id("MemberImport", r["import_id"])) if r["import_id"] else None,
                   transfer_id=strawberry.ID(to_global_id("MemberTransfer", r["transfer_id"])) if r["transfer_id"] else None)


@strawberry.type(description="A union member (会员). Personal data is masked; see `memberReveal`.")
class Member(Node):
    id: strawberry.ID
    name: str
    gender: Gender
    birth_year: int = strawberry.field(description="From the ID number (the full date only through memberReveal).")
    age: int
    id_number_masked: str = strawberry.field(description="First 6 and last 4 characters, e.g. 110105********002X.")
    phone_masked: str | None = strawberry.field(description="First 3 and last 4 digits, e.g. 138****5678.")
    employer: str
    work_status: WorkStatus
    state: MembershipState
    joined_on: dt.date | None
    left_on: dt.date | None
    version: int = strawberry.field(description="Increases on every change; pass it back as expectedVersion.")
    created_at: dt.datetime
    updated_at: dt.datetime
    pk: strawberry.Private[int]
    unit_pk: strawberry.Private[int]
    household_pk: strawberry.Private[int | None]
    tag_codes: strawberry.Private[list[str]]
    tenant: strawberry.Private[TenantContext]

    @classmethod
    def from_row(cls, tenant: TenantContext, r: dict[str, Any]) -> Member:
        return cls(
            id=strawberry.ID(to_global_id("Member", r["id"])), name=r["name"], gender=Gender(r["gender"]),
            birth_year=r["birth_date"].year, age=_age(r["birth_date"]) or 0,
            id_number_masked=personal.masked_id(r["id_number_enc"], "member", tenant.id) or "",
            phone_masked=personal.masked_phone(r["phone_enc"], tenant.id), employer=r["employer"],
            work_status=WorkStatus(r["work_status"]), state=MembershipState(r["state"]), joined_on=r["joined_on"],
            left_on=r["left_on"], version=r["version"], created_at=r["created_at"], updated_at=r["updated_at"],
            pk=r["id"], unit_pk=r["org_unit_id"], household_pk=r["household_id"], tag_codes=list(r["tags"] or []),
            tenant=tenant,
        )

    @strawberry.field(description="工作状态 in Chinese.")
    def work_status_label(self) -> str:
        return WORK_STATUSES[self.work_status.value]

    @strawberry.field(description="会员状态 in Chinese.")
    def state_label(self) -> str:
        return STATES[self.state.value]

    @strawberry.field
    def tags(self) -> list[MemberTag]:
        return _tags(self.tenant, self.tag_codes)

    @strawberry.field(description="The member's grassroots union.", metadata={"prefetched": "_org_unit"})
    def org_unit(self, info: Info) -> OrgUnit | None:
        # Lists load their members' unions in one batch first (see prefetch_units): answering
        # synchronously spares graphql-core an awaitable per row.
        prefetched = getattr(self, "_org_unit", _MISSING)
        if prefetched is not _MISSING:
            return cast("OrgUnit | None", prefetched)
        return self._load_org_unit(info)  # type: ignore[return-value]  # awaited by graphql-core

    async def _load_org_unit(self, info: Info) -> OrgUnit | None:
        row = await info.context.loader("org_unit_by_id", units_by_ids).load(self.unit_pk)
        return OrgUnit.from_row(row) if row else None

    @strawberry.field(description="The member's household, if registered.")
    async def household(self, info: Info) -> Household | None:
        if self.household_pk is None:
            return None
        return await resolve_household(info, self.household_pk)

    @strawberry.field(description="Every change to this member, newest first.")
    async def history(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[MemberHistoryEntry]:
        page = page_args(first, after)
        rows, total = await queries.history(self.tenant, self.pk, page.offset, page.limit)
        return connection([MemberHistoryEntry.from_row(r) for r in rows], total, page)


@strawberry.type(description="A person in a household: a linked member, or a non-member with their own (masked) ID.")
class HouseholdPerson(Node):
    id: strawberry.ID
    relation: Relation
    relation_label: str
    name: str
    id_number_masked: str | None
    gender: Gender | None
    birth_year: int | None
    member: Member | None


@strawberry.type(description="A household (户), for hardship archives: its member and the people living with them.")
class Household(Node):
    id: strawberry.ID
    note: str
    org_unit_id: strawberry.ID
    people: list[HouseholdPerson]
    size: int


async def build_household(tenant: TenantContext, hh: dict[str, Any]) -> Household:
    people_rows = await queries.household_people(tenant, hh["id"])
    members = {m["id"]: m for m in await queries.members_by_ids(tenant, [p["member_id"] for p in people_rows if p["member_id"]]) if m}
    people = []
    for p in people_rows:
        m = members.get(p["member_id"]) if p["member_id"] else None
        member = Member.from_row(tenant, m) if m else None
        people.append(HouseholdPerson(
            id=strawberry.ID(to_global_id("HouseholdPerson", p["id"])), relation=Relation(p["relation"]),
            relation_label="本人" if p["relation"] == "self" else RELATIONS.get(p["relation"], p["relation"]),
            name=member.name if member else (p["name"] or ""),
            id_number_masked=member.id_number_masked if member else personal.masked_id(p["id_number_enc"], "household_person", tenant.id),
            gender=member.gender if member else (Gender(p["gender"]) if p["gender"] else None),
            birth_year=member.birth_year if member else (p["birth_date"].year if p["birth_date"] else None),
            member=member,
        ))
    return Household(id=strawberry.ID(to_global_id("Household", hh["id"])), note=hh["note"],
                     org_unit_id=strawberry.ID(to_global_id("OrgUnit", hh["org_unit_id"])), people=people, size=len(people))


@strawberry.enum(name="MemberTransferStatus")
class TransferStatus(enum.Enum):
    PENDING = "pending"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@strawberry.enum(name="MemberTransferDirection", description="INCOMING: to one of your unions; OUTGOING: from one.")
class TransferDirection(enum.Enum):
    INCOMING = "INCOMING"
    OUTGOING = "OUTGOING"


@strawberry.type(description="A 会籍转移 between two grassroots unions, possibly in different provinces. Both unions approve.")
class MemberTransfer(Node):
    id: strawberry.ID
    status: TransferStatus
    direction: str = strawberry.field(description="WITHIN (one tenant), OUTGOING or INCOMING.")
    person_name: str
    id_number_masked: str
    member_id: strawberry.ID = strawberry.field(description="The member this copy of the transfer is about. Once a transfer between provinces completes, the destination's copy names the destination's member: the moved member (same id), or the destination's own earlier record of the person when the transfer merged into it.")
    source_tenant_code: str
    source_unit_name: str
    dest_tenant_code: str
    dest_unit_name: str
    reason: str
    requested_by_name: str
    source_approved_by_name: str | None
    source_approved_at: dt.datetime | None
    dest_approved_by_name: str | None
    dest_approved_at: dt.datetime | None
    decided_by_name: str | None
    decision_note: str
    created_at: dt.datetime
    completed_at: dt.datetime | None


async def _tenant_code(tenant_id: int) -> str:
    from core.tenancy.services import get_tenant

    t = await get_tenant(id=tenant_id)
    return t.code if t else ""


async def transfer_from_row(tenant: TenantContext, r: dict[str, Any]) -> MemberTransfer:
    direction = {"both": "WITHIN", "source": "OUTGOING", "dest": "INCOMING"}[r["side"]]
    return MemberTransfer(
        id=strawberry.ID(to_global_id("MemberTransfer", r["id"])), status=TransferStatus(r["status"]),
        direction=direction, person_name=r["person_name"],
        id_number_masked=services.transfer_display_mask(r, tenant),
        member_id=strawberry.ID(to_global_id("Member", r["member_id"])),
        source_tenant_code=await _tenant_code(r["source_tenant_id"]), source_unit_name=r["source_unit_name"],
        dest_tenant_code=await _tenant_code(r["dest_tenant_id"]), dest_unit_name=r["dest_unit_name"],
        reason=r["reason"], requested_by_name=r["requested_by_name"],
        source_approved_by_name=r["source_approved_by_name"], source_approved_at=r["source_approved_at"],
        dest_approved_by_name=r["dest_approved_by_name"], dest_approved_at=r["dest_approved_at"],
        decided_by_name=r["decided_by_name"], decision_note=r["decision_note"], created_at=r["created_at"],
        completed_at=r["completed_at"],
    )


@strawberry.type(description="A page of members. `totalCount` is exact up to 100,000 matches; beyond that it is 100000 and `totalCountIsExact` is false (narrow the filter for an exact figure).")
class MemberConnection:
    total_count: int = strawberry.field(description="Members matching the filter, across pages (capped at 100000).")
    total_count_is_exact: bool
    edges: list[Edge[Member]]
    nodes: list[Member] = strawberry.field(description="The page's items, without cursors (cheaper to query).")
    page_info: PageInfo


# Here rather than in .helpers: ``Member.household`` resolves through it.
async def _unit_path(info: Info, unit_pk: int) -> str | None:
    row = await info.context.loader("org_unit_by_id", units_by_ids).load(unit_pk)
    return row["path"] if row else None


async def resolve_household(info: Info, pk: int) -> Household | None:
    tenant, principal = info.context.require("member.read")
    hh = await queries.get_household(tenant, pk)
    if hh is None or not principal.can("member.read", await _unit_path(info, hh["org_unit_id"])):
        return None
    return await build_household(tenant, hh)

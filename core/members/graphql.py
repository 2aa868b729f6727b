"""GraphQL for members, households, transfers, roster imports and exports.

Every personal value leaves masked: ``idNumberMasked`` (first 6 + last 4), ``phoneMasked`` (first 3 +
last 4); the birth date only as ``birthYear``/``age`` (a full birth date next to the masked ID
would reveal it). The plain value of one field is only available through ``memberReveal``, which
needs ``member.reveal`` over the member's union and a reason, and is audited.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
from typing import Any

import strawberry
from strawberry.tools import merge_types

from core.context import TenantContext
from core.errors import DomainError, ErrorCode, not_found
from core.graphql.base import (
    BigInt,
    Connection,
    Edge,
    Info,
    JSONScalar,
    Node,
    OrderDirection,
    PageInfo,
    UserError,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
)
from core.jobs.graphql import Job
from core.members import personal, queries, services
from core.members.vocab import RELATIONS, STATES, WORK_STATUSES, tag_vocabulary
from core.pii import IdNumberError, PhoneError
from core.scope import require_in_subtree
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


@strawberry.type(description="One change to a member (personal values are never shown, only that they changed).")
class MemberHistoryEntry:
    id: strawberry.ID
    action: str
    changes: JSONScalar  # type: ignore[valid-type]
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

    @strawberry.field(description="The member's grassroots union.")
    async def org_unit(self, info: Info) -> OrgUnit | None:
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


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@strawberry.input(description="Filters for members; all given conditions must hold.")
class MemberFilter:
    name_prefix: str | None = None
    id_number: str | None = strawberry.field(default=None, description="Exact ID number (matched through the blind index).")
    phone: str | None = strawberry.field(default=None, description="Exact phone number (matched through the blind index).")
    org_unit_id: strawberry.ID | None = strawberry.field(default=None, description="Members of exactly this union.")
    subtree_of: strawberry.ID | None = strawberry.field(default=None, description="Members of this unit and every unit below it.")
    states: list[MembershipState] | None = None
    work_statuses: list[WorkStatus] | None = None
    tags: list[str] | None = strawberry.field(default=None, description="Tag codes; a member must carry all of them.")


@strawberry.enum
class MemberOrderField(enum.Enum):
    NAME = "NAME"
    CREATED = "CREATED"
    JOINED_ON = "JOINED_ON"


@strawberry.input
class MemberOrder:
    field: MemberOrderField = MemberOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="A new member. Gender and birth date come from the ID number.")
class MemberCreateInput:
    name: str
    id_number: str
    org_unit_id: strawberry.ID = strawberry.field(description="A grassroots union you administer.")
    phone: str | None = None
    employer: str | None = None
    work_status: WorkStatus | None = None
    tags: list[str] | None = None
    joined_on: dt.date | None = strawberry.field(default=None, description="Defaults to today.")


@strawberry.input(description="Fields to change; omitted fields stay as they are. `phone: null` removes the phone.")
class MemberUpdateInput:
    name: str | None = strawberry.UNSET
    id_number: str | None = strawberry.field(default=strawberry.UNSET, description="Corrects a mistyped ID number.")
    phone: str | None = strawberry.UNSET
    employer: str | None = strawberry.UNSET
    work_status: WorkStatus | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    joined_on: dt.date | None = strawberry.UNSET
    expected_version: int | None = strawberry.field(default=None, description="Refuse (CONFLICT) if the member changed since.")


@strawberry.input(description="Where to transfer: `toOrgUnitId` within your tenant, or `toTenantCode` + `toOrgUnitCode` for another province.")
class MemberTransferInput:
    member_id: strawberry.ID
    to_org_unit_id: strawberry.ID | None = None
    to_tenant_code: str | None = None
    to_org_unit_code: str | None = None
    reason: str = ""


@strawberry.input(description="A household person: an existing member (`memberId`), or a non-member (`name` + `idNumber`).")
class HouseholdPersonInput:
    relation: Relation
    member_id: strawberry.ID | None = None
    name: str | None = None
    id_number: str | None = None


@strawberry.type
class MemberPayload:
    member: Member | None = None
    errors: list[UserError]


@strawberry.type
class RevealPayload:
    value: str | None = strawberry.field(default=None, description="The plain value (null when none is on record).")
    errors: list[UserError]


@strawberry.type
class HouseholdPayload:
    household: Household | None = None
    errors: list[UserError]


@strawberry.type
class MemberTransferPayload:
    transfer: MemberTransfer | None = None
    errors: list[UserError]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


async def _unit_path(info: Info, unit_pk: int) -> str | None:
    row = await info.context.loader("org_unit_by_id", units_by_ids).load(unit_pk)
    return row["path"] if row else None


async def _member_for(info: Info, gid: Any, action: str, field: str = "id") -> tuple[TenantContext, dict[str, Any]]:
    """The member with this global id, if the caller may perform ``action`` on it (else NOT_FOUND or FORBIDDEN)."""
    tenant, principal = info.context.authenticated()
    _, pk = from_global_id(gid, "Member", field)
    row = await queries.get_member(tenant, pk)
    if row is None:
        raise not_found("member", field, "会员不存在，或您无权查看")
    require_in_subtree(principal, action, await _unit_path(info, row["org_unit_id"]), what="member", field=field,
                       read_action="member.read",
                       message_zh="会员不存在，或您无权查看")
    return tenant, row


async def _audit_refusal(info: Info, action: str, gid: Any, changes: dict[str, Any], exc: DomainError) -> None:
    """Attempts at personal data belong in the log even when refused (no permission, no or a poor
    reason, an object out of reach). Only for logged-in callers: anonymous ones are refused before
    anything is looked at."""
    from core.audit.services import record

    tenant, principal = info.context.tenant, info.context.principal
    if tenant is None or principal is None:
        return
    target_type, target_id = "", ""
    if gid is not None:
        try:
            target_type, target_id = from_global_id(gid)
        except DomainError:
            target_type, target_id = "", ""
    clean = {k: (v.strip()[:200] if isinstance(v, str) else v) for k, v in changes.items()}
    await record(tenant, info.context.actor, action, target_type, target_id, {**clean, "refused": exc.code.value})


def _scope(info: Info, action: str) -> list[str]:
    _, principal = info.context.authenticated()
    return principal.scope_paths(action)


def _check_len(value: str | None, field: str, limit: int) -> None:
    if value is not None and (len(value) > limit or "\x00" in value):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is too long or contains NUL characters", field,
                          "查询条件过长或含有不允许的字符")


async def build_filter(info: Info, tenant: TenantContext, flt: MemberFilter | None,
                       seal: bool = False) -> queries.MemberFilter:
    """``seal``: also keep the exact ID/phone searched for, encrypted (an export's stored filter)."""
    flt = flt or MemberFilter()
    _check_len(flt.name_prefix, "namePrefix", 50)
    _check_len(flt.id_number, "idNumber", 40)
    _check_len(flt.phone, "phone", 40)
    if flt.tags is not None and (len(flt.tags) > 20 or any(len(t) > 40 or "\x00" in t for t in flt.tags)):
        raise DomainError(ErrorCode.INVALID_INPUT, "tags: at most 20 codes of 40 characters", "tags",
                          "会员标签条件最多 20 个，每个不超过 40 个字符")
    id_bidx = phone_bidx = None
    id_enc = phone_enc = None
    if flt.id_number:
        try:
            id_plain = personal.canonical_id_number(flt.id_number.strip())
        except IdNumberError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, exc.message_en, "idNumber", exc.message_zh) from None
        # Under every index key the tenant's members may be under (more than one during a rotation).
        id_bidx = tuple((await personal.index_keys(tenant)).id_bidxs(id_plain))
        id_enc = personal.encrypt(id_plain, "member_export", "filter_id_number", tenant.id) if seal else None
    if flt.phone:
        try:
            phone_plain = personal.canonical_phone(flt.phone.strip())
        except PhoneError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, exc.message_en, "phone", exc.message_zh) from None
        phone_bidx = tuple((await personal.index_keys(tenant)).phone_bidxs(phone_plain))
        phone_enc = personal.encrypt(phone_plain, "member_export", "filter_phone", tenant.id) if seal else None
    subtree = None
    if flt.subtree_of:
        _, pk = from_global_id(flt.subtree_of, "OrgUnit", "subtreeOf")
        subtree = await _unit_path(info, pk)
        if subtree is None:
            raise not_found("org unit", "subtreeOf", "所选工会不存在，或不在您的管辖范围内")
    unit_pk = from_global_id(flt.org_unit_id, "OrgUnit", "orgUnitId")[1] if flt.org_unit_id else None
    if seal:
        # A stored filter (an export) may only name unions the caller reads; a search just finds
        # nothing outside its scope.
        _, principal = info.context.authenticated()
        if subtree is not None:
            require_in_subtree(principal, "member.read", subtree, what="org unit", field="subtreeOf")
        if unit_pk is not None:
            require_in_subtree(principal, "member.read", await _unit_path(info, unit_pk), what="org unit",
                               field="orgUnitId")
    prefix = personal.name_key(flt.name_prefix) if flt.name_prefix else None
    return queries.MemberFilter(
        name_prefix=prefix or None, id_bidx=id_bidx, phone_bidx=phone_bidx, org_unit_id=unit_pk, subtree_path=subtree,
        id_enc=id_enc, phone_enc=phone_enc,
        states=[s.value for s in flt.states] if flt.states else None,
        work_statuses=[s.value for s in flt.work_statuses] if flt.work_statuses else None,
        tags=list(flt.tags) if flt.tags else None,
    )


async def resolve_member(info: Info, pk: int) -> Member | None:
    tenant, principal = info.context.require("member.read")
    row = await queries.get_member(tenant, pk)
    if row is None or not principal.can("member.read", await _unit_path(info, row["org_unit_id"])):
        return None
    return Member.from_row(tenant, row)


async def resolve_household(info: Info, pk: int) -> Household | None:
    tenant, principal = info.context.require("member.read")
    hh = await queries.get_household(tenant, pk)
    if hh is None or not principal.can("member.read", await _unit_path(info, hh["org_unit_id"])):
        return None
    return await build_household(tenant, hh)


async def resolve_transfer(info: Info, pk: int) -> MemberTransfer | None:
    tenant, _ = info.context.require("member.read")
    row = await queries.get_transfer(tenant, pk)
    if row is None or not _transfer_sides(info, row, await _transfer_paths(info, tenant, row), "member.read"):
        return None  # neither of this tenant's unions in the transfer lies in your subtree
    return await transfer_from_row(tenant, row)


async def _household_for(info: Info, gid: Any, action: str, field: str = "householdId") -> tuple[TenantContext, dict[str, Any]]:
    tenant, principal = info.context.authenticated()
    _, pk = from_global_id(gid, "Household", field)
    hh = await queries.get_household(tenant, pk)
    if hh is None:
        raise not_found("household", field, "家庭不存在，或您无权查看")
    require_in_subtree(principal, action, await _unit_path(info, hh["org_unit_id"]), what="household", field=field,
                       read_action="member.read",
                       message_zh="家庭不存在，或您无权查看")
    return tenant, hh


def _transfer_sides(info: Info, row: dict[str, Any], paths: dict[str, str | None], action: str) -> list[str]:
    _, principal = info.context.authenticated()
    sides = ["source", "dest"] if row["side"] == "both" else [row["side"]]
    return [s for s in sides if paths.get(s) is not None and principal.can(action, paths[s])]


async def _transfer_paths(info: Info, tenant: TenantContext, row: dict[str, Any]) -> dict[str, str | None]:
    paths: dict[str, str | None] = {}
    if row["source_tenant_id"] == tenant.id:
        paths["source"] = await _unit_path(info, row["source_unit_id"])
    if row["dest_tenant_id"] == tenant.id:
        paths["dest"] = await _unit_path(info, row["dest_unit_id"])
    return paths


# ---------------------------------------------------------------------------------------------
# Query / Mutation
# ---------------------------------------------------------------------------------------------


def _member_cursor(position: int, member_pk: int) -> str:
    """Opaque cursor: the row's position and id. Key-ordered lists seek past that row instead of
    counting past every earlier one; the id, not the sort key, rides in the cursor, so no
    personal data does."""
    return base64.b64encode(f"mcursor:{position}:{member_pk}".encode()).decode()


def _decode_member_cursor(after: str | None) -> tuple[int, int | None]:
    if not after:
        return 0, None
    try:
        raw = base64.b64decode(after, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raw = ""
    if raw.startswith("mcursor:"):
        try:
            position_text, pk_text = raw[len("mcursor:"):].split(":")
            position, pk = int(position_text), int(pk_text)
            if 0 <= position <= 2**62 and 0 < pk <= 2**62:
                return position + 1, pk
        except ValueError:
            pass
    return page_args(1, after).offset, None  # an offset cursor (or a bad one: page_args says so)


@strawberry.type
class MemberRecordsQuery:
    @strawberry.field(description=perm("member.read", "Members within your scope, masked, paginated. Search by name prefix, exact ID number or phone, union or subtree, state, work status and tags."))
    @for_query
    async def members(self, info: Info, filter: MemberFilter | None = None, order_by: MemberOrder | None = None,
                      first: int | None = 50, after: str | None = None) -> MemberConnection:
        tenant, principal = info.context.require("member.read")
        offset, after_key = _decode_member_cursor(after)
        page = page_args(first, None)
        page = type(page)(offset, page.limit)
        flt = await build_filter(info, tenant, filter)
        order = order_by or MemberOrder()
        rows, total, exact = await queries.search_members(
            tenant, flt, scope_paths=principal.scope_paths("member.read"), order=order.field.value,
            descending=order.direction is OrderDirection.DESC, offset=page.offset, limit=page.limit,
            after_key=after_key)
        base = connection([Member.from_row(tenant, r) for r in rows], total, page)
        cursors = [_member_cursor(page.offset + i, r["id"]) for i, r in enumerate(rows)]
        edges = [Edge(cursor=c, node=n) for c, n in zip(cursors, base.nodes, strict=True)]
        info_ = base.page_info
        page_info = PageInfo(has_next_page=info_.has_next_page, has_previous_page=info_.has_previous_page,
                             start_cursor=cursors[0] if cursors else None, end_cursor=cursors[-1] if cursors else None)
        return MemberConnection(total_count=base.total_count, edges=edges, nodes=base.nodes,
                                page_info=page_info, total_count_is_exact=exact)

    @strawberry.field(description=perm("member.read", "One member by global id; null if not visible to you."))
    @for_query
    async def member(self, info: Info, id: strawberry.ID) -> Member | None:
        return await resolve_member(info, from_global_id(id, "Member")[1])

    @strawberry.field(description=perm("member.read", "The reasons your province accepts for an unmasked export; besides them, free text written as `其他：…` (at least 4 characters)."))
    @for_query
    async def pii_access_reasons(self, info: Info) -> list[str]:
        from core.members.reasons import tenant_reasons

        tenant, _ = info.context.require("member.read")
        return tenant_reasons(tenant)

    @strawberry.field(description=perm("member.read", "The member tags of your tenant: core tags and those registered by its plugins."))
    @for_query
    async def member_tags(self, info: Info) -> list[MemberTag]:
        tenant, _ = info.context.require("member.read")
        vocab = tag_vocabulary(tenant)
        return [MemberTag(code=t.code, label=t.label_zh, description=t.description_zh) for t in vocab.tags.values()]

    @strawberry.field(description=perm("member.read", "One household by global id; null if not visible to you."))
    @for_query
    async def household(self, info: Info, id: strawberry.ID) -> Household | None:
        return await resolve_household(info, from_global_id(id, "Household")[1])

    @strawberry.field(description=perm("member.read", "Transfers your tenant takes part in (within it, outgoing or incoming) whose union on your tenant's side lies in your subtree, newest first."))
    @for_query
    async def member_transfers(self, info: Info, status: TransferStatus | None = None,
                               direction: TransferDirection | None = None, first: int | None = 50,
                               after: str | None = None) -> Connection[MemberTransfer]:
        tenant, principal = info.context.require("member.read")
        page = page_args(first, after)
        rows, total = await queries.list_transfers(tenant, status=status.value if status else None,
                                                   direction=direction.value if direction else None,
                                                   offset=page.offset, limit=page.limit, principal=principal)
        return connection([await transfer_from_row(tenant, r) for r in rows], total, page)

    @strawberry.field(description=perm("member.read", "One transfer by global id."))
    @for_query
    async def member_transfer(self, info: Info, id: strawberry.ID) -> MemberTransfer | None:
        return await resolve_transfer(info, from_global_id(id, "MemberTransfer")[1])


def _values(input: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(input, name)
        if value is strawberry.UNSET:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        out[name] = value
    return out


def _check_inputs(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise DomainError(ErrorCode.INVALID_INPUT, "NUL characters are not allowed", key, "含有不允许的字符")
        if isinstance(value, list) and any(isinstance(v, str) and ("\x00" in v or len(v) > 40) for v in value):
            raise DomainError(ErrorCode.INVALID_INPUT, "invalid tag", key, "会员标签不正确")
        if isinstance(value, str) and len(value) > 500:
            raise DomainError(ErrorCode.INVALID_INPUT, "value is too long", key, "填写内容过长（不超过 500 个字符）")


@strawberry.type
class MemberRecordsMutation:
    @strawberry.mutation(description=perm("member.write", "Register a member in a grassroots union you administer. Validated by the GB 11643 checksum and the tenant's plugin rules; one person per tenant per ID number."))
    async def member_create(self, info: Info, input: MemberCreateInput) -> MemberPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("member.write")
            _, unit_pk = from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")
            path = await _unit_path(info, unit_pk)
            if path is None:
                raise not_found("org unit", "orgUnitId", "所选工会不存在")
            info.context.require("member.write", path)
            values = _values(input, ("name", "id_number", "phone", "employer", "work_status", "tags", "joined_on"))
            _check_inputs(values)
            row = await services.create_member(tenant, info.context.actor, values=values, unit_id=unit_pk,
                                               scope_paths=principal.scope_paths("member.write"))
            return {"member": Member.from_row(tenant, row)}

        return await run_mutation(MemberPayload, work)

    @strawberry.mutation(description=perm("member.write", "Change a member's details (not the union: that is a transfer)."))
    async def member_update(self, info: Info, id: strawberry.ID, input: MemberUpdateInput) -> MemberPayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for(info, id, "member.write")
            changes = _values(input, ("name", "id_number", "phone", "employer", "work_status", "tags", "joined_on"))
            _check_inputs(changes)
            for key in ("name", "id_number"):
                if key in changes and changes[key] is None:
                    raise DomainError(ErrorCode.INVALID_INPUT, f"{key} cannot be removed",
                                      "idNumber" if key == "id_number" else key,
                                      "身份证号码不能删除" if key == "id_number" else "姓名不能删除")
            updated = await services.update_member(tenant, info.context.actor, row["id"], changes,
                                                   scope_paths=_scope(info, "member.write"),
                                                   expected_version=input.expected_version)
            return {"member": Member.from_row(tenant, updated)}

        return await run_mutation(MemberPayload, work)

    @strawberry.mutation(description=perm("member.write", "退会: the member leaves the union."))
    async def member_leave(self, info: Info, id: strawberry.ID, left_on: dt.date | None = None,
                           reason: str = "") -> MemberPayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for(info, id, "member.write")
            return {"member": Member.from_row(tenant, await services.leave_member(tenant, info.context.actor, row["id"],
                                                                                   on=left_on, reason=reason))}

        return await run_mutation(MemberPayload, work)

    @strawberry.mutation(description=perm("member.write", "Record a member's death; the record is closed."))
    async def member_mark_deceased(self, info: Info, id: strawberry.ID, died_on: dt.date | None = None) -> MemberPayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for(info, id, "member.write")
            return {"member": Member.from_row(tenant, await services.mark_deceased(tenant, info.context.actor, row["id"],
                                                                                    on=died_on))}

        return await run_mutation(MemberPayload, work)

    @strawberry.mutation(description=perm("member.write", "A member who left joins again, in their old union or another one you administer."))
    async def member_rejoin(self, info: Info, id: strawberry.ID, org_unit_id: strawberry.ID | None = None,
                            joined_on: dt.date | None = None) -> MemberPayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for(info, id, "member.write")
            unit_pk = from_global_id(org_unit_id, "OrgUnit", "orgUnitId")[1] if org_unit_id else None
            updated = await services.rejoin_member(tenant, info.context.actor, row["id"], unit_id=unit_pk, on=joined_on,
                                                   scope_paths=_scope(info, "member.write"))
            return {"member": Member.from_row(tenant, updated)}

        return await run_mutation(MemberPayload, work)

    @strawberry.mutation(description=perm("member.reveal", "Show one personal field in full (a Member or HouseholdPerson id). Needs a reason; audited (field and reason, never the value)."))
    async def member_reveal(self, info: Info, id: strawberry.ID, field: RevealField, reason: str) -> RevealPayload:
        async def attempt() -> dict[str, Any]:
            try:
                return await work()
            except DomainError as exc:
                await _audit_refusal(info, "member.reveal.refused", id, {"field": field.value, "reason": reason}, exc)
                raise

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("member.reveal")
            _check_inputs({"reason": reason})
            type_name, pk = from_global_id(id)
            if type_name == "HouseholdPerson":
                person = await queries.get_person(tenant, pk)
                hh = await queries.get_household(tenant, person["household_id"]) if person else None
                path = await _unit_path(info, hh["org_unit_id"]) if hh else None
                if person is None or not principal.can("member.read", path):
                    raise not_found("household person", message_zh="家庭成员不存在")
                info.context.require("member.reveal", path)
                value = await services.reveal(tenant, info.context.actor, person=person, field=field.value, reason=reason)
            else:
                _, row = await _member_for(info, id, "member.reveal")
                value = await services.reveal(tenant, info.context.actor, member=row, field=field.value, reason=reason)
            return {"value": value}

        return await run_mutation(RevealPayload, attempt)

    @strawberry.mutation(description=perm("member.write", "Register a household for a member (the member becomes its first person)."))
    async def household_create(self, info: Info, member_id: strawberry.ID, note: str = "") -> HouseholdPayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for(info, member_id, "member.write", "memberId")
            hh_id = await services.create_household(tenant, info.context.actor, row["id"], note)
            return {"household": await build_household(tenant, await queries.get_household(tenant, hh_id))}

        return await run_mutation(HouseholdPayload, work)

    @strawberry.mutation(description=perm("member.write", "Add a person to a household: a member of your tenant, or a non-member with their own ID number (encrypted). One household per person."))
    async def household_add_person(self, info: Info, household_id: strawberry.ID, input: HouseholdPersonInput) -> HouseholdPayload:
        async def work() -> dict[str, Any]:
            tenant, hh = await _household_for(info, household_id, "member.write")
            _check_inputs({"name": input.name, "idNumber": input.id_number})
            if input.relation is Relation.SELF:
                raise DomainError(ErrorCode.INVALID_INPUT, "a household has one SELF person: its member", "relation",
                                  "一个家庭只有一位本人（即登记家庭的会员）")
            member_pk = None
            if input.member_id:
                _, row = await _member_for(info, input.member_id, "member.write", "memberId")
                member_pk = row["id"]
            elif not (input.name and input.id_number):
                raise DomainError(ErrorCode.INVALID_INPUT, "give memberId, or name and idNumber", "memberId",
                                  "请选择本省会员，或填写非会员的姓名和身份证号码")
            await services.add_person(tenant, info.context.actor, hh["id"], relation=input.relation.value,
                                      member_id=member_pk, name=input.name, id_number=input.id_number)
            return {"household": await build_household(tenant, hh)}

        return await run_mutation(HouseholdPayload, work)

    @strawberry.mutation(description=perm("member.write", "Remove a person from their household."))
    async def household_remove_person(self, info: Info, person_id: strawberry.ID) -> HouseholdPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("member.write")
            _, pk = from_global_id(person_id, "HouseholdPerson", "personId")
            person = await queries.get_person(tenant, pk)
            if person is None:
                raise not_found("household person", "personId", "家庭成员不存在")
            _, hh = await _household_for(info, to_global_id("Household", person["household_id"]), "member.write", "personId")
            await services.remove_person(tenant, info.context.actor, pk)
            return {"household": await build_household(tenant, hh)}

        return await run_mutation(HouseholdPayload, work)

    @strawberry.mutation(description=perm("member.write", "Start a 会籍转移 to another grassroots union, in your tenant or another province's. Needs both unions' approval (memberTransferApprove). The answer never depends on the other province's records of the person: that province checks them when it approves (an active member there is refused with CONFLICT, a deceased record with INVALID_STATE, told to it only); a former member's record is completed into."))
    async def member_transfer_request(self, info: Info, input: MemberTransferInput) -> MemberTransferPayload:
        async def work() -> dict[str, Any]:
            from core.tenancy.services import get_tenant

            tenant, row = await _member_for(info, input.member_id, "member.write", "memberId")
            _check_inputs({"reason": input.reason, "toTenantCode": input.to_tenant_code, "toOrgUnitCode": input.to_org_unit_code})
            dest_tenant = None
            dest_unit = None
            if input.to_tenant_code and input.to_tenant_code != tenant.code:
                dest_tenant = await get_tenant(code=input.to_tenant_code[:32])
                if dest_tenant is None or dest_tenant.is_platform:
                    raise not_found("tenant", "toTenantCode", "转入的省（市）不存在或未开通")
                if not input.to_org_unit_code:
                    raise DomainError(ErrorCode.INVALID_INPUT, "toOrgUnitCode is required for another tenant", "toOrgUnitCode",
                                      "转往外省须填写转入工会代码")
            elif input.to_org_unit_id:
                dest_unit = from_global_id(input.to_org_unit_id, "OrgUnit", "toOrgUnitId")[1]
            elif input.to_org_unit_code:
                from core.tenancy.services import get_unit_by_code

                found = await get_unit_by_code(tenant, input.to_org_unit_code[:64])
                if found is None:
                    raise not_found("destination org unit", "toOrgUnitCode", "转入工会不存在")
                dest_unit = found["id"]
            else:
                raise DomainError(ErrorCode.INVALID_INPUT, "give toOrgUnitId, or toTenantCode and toOrgUnitCode", "toOrgUnitId",
                                  "请选择本省转入工会，或填写外省省份和工会代码")
            t = await services.request_transfer(tenant, info.context.actor, row["id"], reason=input.reason,
                                                dest_tenant=dest_tenant, dest_unit_id=dest_unit,
                                                dest_unit_code=input.to_org_unit_code)
            return {"transfer": await transfer_from_row(tenant, t)}

        return await run_mutation(MemberTransferPayload, work)

    @strawberry.mutation(description=perm("member.transfer.approve", "Approve a transfer for your union's side (source or destination). The destination's approval checks its own records of the person (CONFLICT: active member there; INVALID_STATE: deceased record). The second approval, by another person, completes it; if the destination's records no longer allow it, nothing changes and the source side gets one uniform CONFLICT that says nothing about those records."))
    async def member_transfer_approve(self, info: Info, id: strawberry.ID) -> MemberTransferPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.transfer.approve")
            _, pk = from_global_id(id, "MemberTransfer")
            row = await queries.get_transfer(tenant, pk)
            if row is None:
                raise not_found("transfer", message_zh="会籍转移记录不存在，或您无权查看")
            sides = _transfer_sides(info, row, await _transfer_paths(info, tenant, row), "member.transfer.approve")
            t = await services.approve_transfer(tenant, info.context.actor, pk, allowed_sides=sides)
            return {"transfer": await transfer_from_row(tenant, t)}

        return await run_mutation(MemberTransferPayload, work)

    @strawberry.mutation(description=perm("member.transfer.approve", "Reject a pending transfer (either union); the member stays where they were."))
    async def member_transfer_reject(self, info: Info, id: strawberry.ID, note: str = "") -> MemberTransferPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.transfer.approve")
            _check_inputs({"note": note})
            _, pk = from_global_id(id, "MemberTransfer")
            row = await queries.get_transfer(tenant, pk)
            if row is None:
                raise not_found("transfer", message_zh="会籍转移记录不存在，或您无权查看")
            sides = _transfer_sides(info, row, await _transfer_paths(info, tenant, row), "member.transfer.approve")
            t = await services.reject_transfer(tenant, info.context.actor, pk, note=note, allowed_sides=sides)
            return {"transfer": await transfer_from_row(tenant, t)}

        return await run_mutation(MemberTransferPayload, work)

    @strawberry.mutation(description=perm("member.write", "Withdraw a pending transfer (the source union)."))
    async def member_transfer_cancel(self, info: Info, id: strawberry.ID) -> MemberTransferPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.write")
            _, pk = from_global_id(id, "MemberTransfer")
            row = await queries.get_transfer(tenant, pk)
            if row is None:
                raise not_found("transfer", message_zh="会籍转移记录不存在，或您无权查看")
            paths = await _transfer_paths(info, tenant, row)
            sides = [s for s in _transfer_sides(info, row, paths, "member.write") if s == "source"]
            t = await services.reject_transfer(tenant, info.context.actor, pk, note="", allowed_sides=sides, cancel=True)
            return {"transfer": await transfer_from_row(tenant, t)}

        return await run_mutation(MemberTransferPayload, work)





# ---------------------------------------------------------------------------------------------
# Roster imports and exports
# ---------------------------------------------------------------------------------------------


@strawberry.enum(name="MemberImportStatus", description="Where an import stands. UPLOADED/PREVIEWING → PREVIEWED (or INVALID) → COMMITTING → COMMITTED; INTERRUPTED can be resumed. EXPIRED: not committed or discarded within the retention period, so its file was deleted (upload again).")
class ImportStatus(enum.Enum):
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    PREVIEWING = "previewing"
    PREVIEWED = "previewed"
    INVALID = "invalid"
    COMMITTING = "committing"
    INTERRUPTED = "interrupted"
    COMMITTED = "committed"
    FAILED = "failed"
    DISCARDED = "discarded"
    EXPIRED = "expired"


@strawberry.enum(name="MemberImportPhase")
class ImportPhase(enum.Enum):
    PREVIEW = "preview"
    COMMIT = "commit"


@strawberry.type(name="MemberImportFileError", description="Why a whole file cannot be imported (Chinese message; row/column when known).")
class ImportFileError:
    code: str
    message: str
    row: int | None
    column: str


@strawberry.type(name="MemberImportRowError", description="One problem with one row (never quoting the personal value).")
class ImportRowError:
    row: int
    column: str
    code: str
    message: str


@strawberry.type(name="MemberImportColumn", description="A column of the uploaded file's header and the field it was mapped to (null: ignored).")
class ImportColumn:
    field: str | None
    column: str


@strawberry.type(description="An uploaded roster (名册): its dry-run preview, and its commit with checkpoints.")
class MemberImport(Node):
    id: strawberry.ID
    filename: str
    format: str
    encoding: str = strawberry.field(description="utf-8-sig, utf-16 or gb18030 (GBK files are detected and decoded).")
    status: ImportStatus
    size_bytes: BigInt  # type: ignore[valid-type]
    total_rows: int
    valid_rows: int
    error_rows: int
    would_create: int
    would_update: int
    would_leave_unchanged: int
    allow_errors: bool
    committed_through_row: int = strawberry.field(description="Every row up to this one is committed (or reported); a resumed commit continues after it.")
    batches_committed: int
    created: int
    updated: int
    unchanged: int
    failed: int
    file_error: ImportFileError | None
    columns: list[ImportColumn]
    created_by_name: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error_report_csv_url: str
    error_report_xlsx_url: str
    pk: strawberry.Private[int]
    tenant: strawberry.Private[TenantContext]
    preview_job_pk: strawberry.Private[int | None]
    commit_job_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, tenant: TenantContext, r: dict[str, Any]) -> MemberImport:
        fe = r["file_error"] or None
        return cls(
            id=strawberry.ID(to_global_id("MemberImport", r["id"])), filename=r["filename"], format=r["format"],
            encoding=r["encoding"], status=ImportStatus(r["status"]), size_bytes=r["size_bytes"], total_rows=r["total_rows"],
            valid_rows=r["valid_rows"], error_rows=r["error_rows"], would_create=r["would_create"],
            would_update=r["would_update"], would_leave_unchanged=r["would_unchange"], allow_errors=r["allow_errors"],
            committed_through_row=r["committed_through_row"], batches_committed=r["batches_committed"],
            created=r["created_count"], updated=r["updated_count"], unchanged=r["unchanged_count"], failed=r["failed_count"],
            file_error=ImportFileError(code=fe.get("code", ""), message=fe.get("message", ""), row=fe.get("row"),
                                       column=fe.get("column") or "") if fe else None,
            columns=[ImportColumn(field=c.get("field"), column=c.get("column", "")) for c in (r["header"] or [])],
            created_by_name=r["created_by_name"], created_at=r["created_at"], finished_at=r["finished_at"],
            error_report_csv_url=f"/imports/{r['id']}/errors.csv", error_report_xlsx_url=f"/imports/{r['id']}/errors.xlsx",
            pk=r["id"], tenant=tenant, preview_job_pk=r["preview_job_id"], commit_job_pk=r["commit_job_id"],
        )

    @strawberry.field(description="Row errors of a phase (default: the commit's once it started, else the preview's), by row.")
    async def errors(self, phase: ImportPhase | None = None, first: int | None = 20,
                     after: str | None = None) -> Connection[ImportRowError]:
        page = page_args(first, after)
        if phase is None:
            phase = ImportPhase.COMMIT if self.status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED,
                                                          ImportStatus.INTERRUPTED) else ImportPhase.PREVIEW
        rows = await queries.import_errors(self.tenant, self.pk, phase.value, page.offset, page.limit + 1)
        total = page.offset + len(rows)
        items = [ImportRowError(row=r["row_no"], column=r["column_name"], code=r["code"], message=r["message"])
                 for r in rows[: page.limit]]
        return connection(items, total, page)

    @strawberry.field(description="The preview (dry-run) job.")
    async def preview_job(self, info: Info) -> Job | None:
        return await _job(info, self.preview_job_pk)

    @strawberry.field(description="The latest commit job.")
    async def commit_job(self, info: Info) -> Job | None:
        return await _job(info, self.commit_job_pk)


async def _job(info: Info, pk: int | None) -> Job | None:
    from core.jobs.runner import jobs_by_ids

    if pk is None:
        return None
    row = await info.context.loader("job_by_id", jobs_by_ids).load(pk)
    return Job.from_row(row) if row else None


@strawberry.enum(name="MemberExportFormat")
class ExportFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"


@strawberry.enum(name="MemberExportStatus", description="EXPIRED: the file was deleted after the retention period (export again).")
class ExportStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


@strawberry.type(description="An export of filtered members; download from `downloadUrl` (your own exports only).")
class MemberExport(Node):
    id: strawberry.ID
    format: ExportFormat
    unmasked: bool
    reason: str
    status: ExportStatus
    row_count: int
    size_bytes: BigInt  # type: ignore[valid-type]
    downloads: int
    created_by_name: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download_url: str | None
    job_pk: strawberry.Private[int | None]
    tenant: strawberry.Private[TenantContext]

    @classmethod
    def from_row(cls, tenant: TenantContext, r: dict[str, Any]) -> MemberExport:
        return cls(id=strawberry.ID(to_global_id("MemberExport", r["id"])), format=ExportFormat(r["format"]),
                   unmasked=r["unmasked"], reason=r["reason"], status=ExportStatus(r["status"]), row_count=r["row_count"],
                   size_bytes=r["size_bytes"], downloads=r["downloads"], created_by_name=r["created_by_name"],
                   created_at=r["created_at"], finished_at=r["finished_at"],
                   download_url=f"/exports/{r['id']}" if r["status"] == "ready" else None, job_pk=r["job_id"], tenant=tenant)

    @strawberry.field
    async def job(self, info: Info) -> Job | None:
        return await _job(info, self.job_pk)


@strawberry.type
class MemberImportPayload:
    member_import: MemberImport | None = None
    errors: list[UserError]


@strawberry.type
class MemberExportPayload:
    member_export: MemberExport | None = None
    errors: list[UserError]


def sees_all_imports(principal: Any) -> bool:
    """Imports (their counts and row errors) are visible to their uploader, and to everyone who may
    import anywhere in the tenant (``member.import`` at the province root)."""
    return any(p.count("/") == 2 for p in principal.scope_paths("member.import"))


def can_see_import(principal: Any, row: dict[str, Any]) -> bool:
    return row["created_by"] == principal.user_id or sees_all_imports(principal)


async def resolve_import(info: Info, pk: int) -> MemberImport | None:
    tenant, principal = info.context.authenticated()
    row = await queries.get_import(tenant, pk)
    if row is None or not can_see_import(principal, row):
        return None
    return await _shown_import(tenant, row)


async def _shown_import(tenant: TenantContext, row: dict[str, Any]) -> MemberImport:
    """An import as reported: a commit whose job stopped (its worker died) shows INTERRUPTED."""
    from core.members.importer import shown_status

    return MemberImport.from_row(tenant, {**row, "status": await shown_status(tenant, row)})


async def resolve_export(info: Info, pk: int) -> MemberExport | None:
    tenant, principal = info.context.authenticated()
    row = await queries.get_export(tenant, pk)
    if row is None or row["created_by"] != principal.user_id:
        return None
    return MemberExport.from_row(tenant, row)


@strawberry.type
class MemberFilesQuery:
    @strawberry.field(description=perm("member.import", "One roster import: status, preview counts, first errors, checkpoint."))
    @for_query
    async def member_import(self, info: Info, id: strawberry.ID) -> MemberImport | None:
        info.context.require("member.import")
        return await resolve_import(info, from_global_id(id, "MemberImport")[1])

    @strawberry.field(description=perm("member.import", "Roster imports, newest first: your own, or all of the tenant's for importers at the province root. Upload with `POST /imports?filename=…` (the body is the file)."))
    @for_query
    async def member_imports(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[MemberImport]:
        tenant, principal = info.context.require("member.import")
        page = page_args(first, after)
        rows, total = await queries.list_imports(tenant, page.offset, page.limit,
                                                 None if sees_all_imports(principal) else principal.user_id)
        return connection([await _shown_import(tenant, r) for r in rows], total, page)

    @strawberry.field(description=perm("member.export", "One of your exports."))
    @for_query
    async def member_export(self, info: Info, id: strawberry.ID) -> MemberExport | None:
        info.context.require("member.export")
        return await resolve_export(info, from_global_id(id, "MemberExport")[1])


@strawberry.type
class MemberFilesMutation:
    @strawberry.mutation(description=perm("member.import", "Commit a previewed import (or resume an interrupted one after its checkpoint). Refused when the preview found errors, unless allowErrors: then those rows are skipped and reported."))
    async def member_import_commit(self, info: Info, id: strawberry.ID, allow_errors: bool = False) -> MemberImportPayload:
        from core.members import importer

        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.import")
            found = await resolve_import(info, from_global_id(id, "MemberImport")[1])
            if found is None:
                raise not_found("import", message_zh="导入记录不存在，或您无权查看")
            row = await importer.start_commit(tenant, info.context.actor, found.pk, allow_errors=allow_errors)
            return {"member_import": MemberImport.from_row(tenant, row)}

        return await run_mutation(MemberImportPayload, work)

    @strawberry.mutation(description=perm("member.import", "Discard an import that was not committed (its stored file is deleted)."))
    async def member_import_discard(self, info: Info, id: strawberry.ID) -> MemberImportPayload:
        from core.members import importer

        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.import")
            found = await resolve_import(info, from_global_id(id, "MemberImport")[1])
            if found is None:
                raise not_found("import", message_zh="导入记录不存在，或您无权查看")
            return {"member_import": MemberImport.from_row(tenant, await importer.discard(tenant, info.context.actor, found.pk))}

        return await run_mutation(MemberImportPayload, work)

    @strawberry.mutation(description=perm("member.export", "Export the members matching a filter (within your scope) to CSV or XLSX, masked. `unmasked: true` needs `member.export_unmasked` and a reason; it is audited."))
    async def member_export_start(self, info: Info, filter: MemberFilter | None = None, format: ExportFormat = ExportFormat.XLSX,
                                  unmasked: bool = False, reason: str = "") -> MemberExportPayload:
        from core.members import exporter

        async def attempt() -> dict[str, Any]:
            try:
                return await work()
            except DomainError as exc:
                if unmasked:
                    await _audit_refusal(info, "member.export.refused", None, {"unmasked": True, "reason": reason}, exc)
                raise

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("member.export")
            if unmasked:
                info.context.require("member.export_unmasked")
            _check_inputs({"reason": reason})
            flt = await build_filter(info, tenant, filter, seal=True)
            scope = principal.scope_paths("member.export_unmasked" if unmasked else "member.export")
            read_scope = principal.scope_paths("member.read")
            scope = [p for p in scope if any(p.startswith(r) for r in read_scope)]
            row = await exporter.start_export(tenant, info.context.actor, flt=flt, scope_paths=scope, fmt=format.value,
                                              unmasked=unmasked, reason=reason)
            return {"member_export": MemberExport.from_row(tenant, row)}

        return await run_mutation(MemberExportPayload, attempt)


async def _resolve_person(info: Info, pk: int) -> HouseholdPerson | None:
    tenant, _ = info.context.require("member.read")
    person = await queries.get_person(tenant, pk)
    if person is None:
        return None
    hh = await resolve_household(info, person["household_id"])
    gid = to_global_id("HouseholdPerson", pk)
    return next((p for p in hh.people if p.id == gid), None) if hh else None


# Merged into core/graphql/schema.py.
MembersQuery = merge_types("MembersQuery", (MemberRecordsQuery, MemberFilesQuery))
MembersMutation = merge_types("MembersMutation", (MemberRecordsMutation, MemberFilesMutation))
NODE_RESOLVERS = {
    "Member": resolve_member,
    "Household": resolve_household,
    "HouseholdPerson": _resolve_person,
    "MemberTransfer": resolve_transfer,
    "MemberImport": resolve_import,
    "MemberExport": resolve_export,
}
NODE_TYPES = [Member, Household, HouseholdPerson, MemberTransfer, MemberImport, MemberExport]

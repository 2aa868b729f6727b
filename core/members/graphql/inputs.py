"""GraphQL inputs and payloads for members, households and transfers."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from core.graphql.base import (
    OrderDirection,
    UserError,
)
from core.members.graphql.types import (
    Household,
    Member,
    MembershipState,
    MemberTransfer,
    Relation,
    WorkStatus,
)


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

"""GraphQL for members, households, transfers, roster imports and exports.

Every personal value leaves masked: ``idNumberMasked`` (first 6 + last 4), ``phoneMasked`` (first 3 +
last 4); the birth date only as ``birthYear``/``age`` (a full birth date next to the masked ID
would reveal it). The plain value of one field is only available through ``memberReveal``, which
needs ``member.reveal`` over the member's union and a reason, and is audited.

The package is split by concern: :mod:`.types` (object types), :mod:`.inputs` (inputs and payloads),
:mod:`.helpers` (scope checks shared by resolvers), :mod:`.records` (members, households, transfers)
and :mod:`.files` (roster imports and exports).
"""

from __future__ import annotations

from strawberry.tools import merge_types

from core.graphql.base import Info, to_global_id
from core.members import queries
from core.members.graphql.files import (
    MemberExport,
    MemberFilesMutation,
    MemberFilesQuery,
    MemberImport,
    can_see_import,
    resolve_export,
    resolve_import,
    sees_all_imports,
)
from core.members.graphql.helpers import build_filter, resolve_member, resolve_transfer
from core.members.graphql.inputs import MemberFilter
from core.members.graphql.records import MemberRecordsMutation, MemberRecordsQuery
from core.members.graphql.types import Household, HouseholdPerson, Member, MemberTransfer, resolve_household

__all__ = [
    "NODE_RESOLVERS", "NODE_TYPES", "Household", "HouseholdPerson", "Member", "MemberExport", "MemberFilter",
    "MemberImport", "MemberTransfer", "MembersMutation", "MembersQuery", "build_filter", "can_see_import",
    "resolve_export", "resolve_household", "resolve_import", "resolve_member", "resolve_transfer", "sees_all_imports",
]


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

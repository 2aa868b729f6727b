"""Query and mutation fields for member records, households and transfers."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import strawberry

from core.dbutil import written
from core.errors import DomainError, ErrorCode, not_found
from core.graphql.base import (
    Connection,
    Edge,
    Info,
    OrderDirection,
    PageInfo,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
)
from core.members import queries, services
from core.members.graphql.helpers import (
    _audit_refusal,
    _check_inputs,
    _household_for,
    _member_for,
    _scope,
    _transfer_paths,
    _transfer_sides,
    _values,
    build_filter,
    resolve_member,
    resolve_transfer,
)
from core.members.graphql.inputs import (
    HouseholdPayload,
    HouseholdPersonInput,
    MemberCreateInput,
    MemberFilter,
    MemberOrder,
    MemberPayload,
    MemberTransferInput,
    MemberTransferPayload,
    MemberUpdateInput,
    RevealPayload,
)
from core.members.graphql.types import (
    Household,
    Member,
    MemberConnection,
    MemberTag,
    MemberTransfer,
    Relation,
    RevealField,
    TransferDirection,
    TransferStatus,
    _unit_path,
    build_household,
    prefetch_units,
    resolve_household,
    transfer_from_row,
)
from core.members.vocab import tag_vocabulary
from core.tenancy.graphql import selects

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
            after_key=after_key, with_total=selects(info, "totalCount", "totalCountIsExact", "pageInfo"))
        base = connection([Member.from_row(tenant, r) for r in rows], total, page)
        if selects(info, "nodes.orgUnit", "edges.node.orgUnit"):
            await prefetch_units(info, base.nodes)
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
            return {"household": await build_household(tenant, written(await queries.get_household(tenant, hh_id), "household"))}

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

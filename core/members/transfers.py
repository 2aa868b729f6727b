"""Membership transfers (会籍转移): requested by the source union, approved by both unions; a transfer
between tenants moves the member row itself, or merges it into the destination's record of a former
member (see ``_move_between_tenants``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext, tenant_scope
from core.dbutil import advisory_xact_lock, rescope_transaction, transaction, utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.members import personal, queries
from core.members.member_common import (
    MEMBER_LOCK_NAMESPACE,
    _link_household_people,
    _locked_member,
    _plain,
    _unique_violation,
    add_history,
    joined_notice,
    set_tags,
    today,
    unit_info,
)
from core.members.tables import HouseholdPerson, Member, MemberTransfer
from core.members.vocab import STATES
from core.pii import mask_id_number
from core.tenancy.tables import OrgUnit
from core.validation import clean_text

# ---------------------------------------------------------------------------------------------
# Transfers (会籍转移)
# ---------------------------------------------------------------------------------------------


async def request_transfer(tenant: TenantContext, actor: Actor, member_id: int, *, reason: str,
                           dest_tenant: TenantContext | None, dest_unit_id: int | None = None,
                           dest_unit_code: str | None = None) -> dict[str, Any]:
    """Open a transfer to a grassroots union of this tenant (``dest_unit_id``) or of another tenant
    (``dest_tenant`` + ``dest_unit_code``). The member is "transferring" until both unions decide.
    Between tenants, the destination's records of the person are NOT looked at here: the answer
    must not tell the requesting province whether the person is known, active or deceased there
    (docs/members.md, "What a province learns"). The destination checks them when it approves
    (``_check_destination_record``, told to the destination only), and again on completion."""
    reason = clean_text("reason", reason, max_len=500, required=False, label_zh="转移原因")
    cross = dest_tenant is not None and dest_tenant.id != tenant.id
    target = dest_tenant if cross else tenant
    assert target is not None
    async with transaction():
        row = await _locked_member(tenant, member_id)
        if row["state"] != "joined":
            raise DomainError(ErrorCode.INVALID_STATE, f"only a joined member can transfer (state: {row['state']})", "memberId",
                              f"只有在会会员可以办理会籍转移（当前状态：{STATES.get(row['state'], row['state'])}）")
        source = await unit_info(tenant, row["org_unit_id"])
        assert source is not None
        id_plain = personal.decrypt(row["id_number_enc"], "member", "id_number", tenant.id)
        if cross:
            with tenant_scope(target):
                await rescope_transaction(target.id)
                dest_row = await OrgUnit.select(OrgUnit.id).where(
                    (OrgUnit.tenant_id == target.id) & (OrgUnit.code == (dest_unit_code or ""))).first()
                dest = await unit_info(target, dest_row["id"]) if dest_row else None
                await rescope_transaction(tenant.id)
        else:
            dest = await unit_info(tenant, dest_unit_id) if dest_unit_id else None
        if dest is None:
            raise not_found("destination org unit", "toOrgUnitCode" if cross else "toOrgUnitId", "转入工会不存在")
        if dest.level != "grassroots" or not dest.active:
            raise DomainError(ErrorCode.INVALID_INPUT, "the destination must be an active grassroots union",
                              "toOrgUnitCode" if cross else "toOrgUnitId", "转入单位须为未撤销的基层工会")
        if not cross and dest.id == source.id:
            raise DomainError(ErrorCode.INVALID_INPUT, "the member already belongs to this union", "toOrgUnitId",
                              "该会员已在此工会")
        uid = uuid.uuid4().hex
        masked = mask_id_number(id_plain)
        common = dict(
            transfer_uid=uid, member_id=member_id, person_name=row["name"], source_tenant_id=tenant.id,
            source_unit_id=source.id, source_unit_name=source.name, dest_tenant_id=target.id, dest_unit_id=dest.id,
            dest_unit_name=dest.name, status="pending", reason=reason, requested_by=actor.user_id,
            requested_by_name=actor.username[:100],
        )
        own = (await MemberTransfer.insert(MemberTransfer(
            tenant_id=tenant.id, side="source" if cross else "both",
            id_masked_enc=personal.encrypt(masked, "member_transfer", "id_masked", tenant.id), **common,
        )).returning(MemberTransfer.id))[0]["id"]
        await Member.update({Member.state: "transferring", Member.version: row["version"] + 1,
                             Member.updated_at: utcnow()}).where((Member.tenant_id == tenant.id) & (Member.id == member_id))
        changes = {"state": ["joined", "transferring"], "from_unit": source.id, "to_unit": dest.id,
                   "to_tenant": target.code}
        await add_history(tenant, actor, member_id, "transfer.request", changes, transfer_id=own)
        await record(tenant, actor, "member.transfer.request", "MemberTransfer", own, changes)
        if cross:
            with tenant_scope(target):
                await rescope_transaction(target.id)
                other = (await MemberTransfer.insert(MemberTransfer(
                    tenant_id=target.id, side="dest",
                    id_masked_enc=personal.encrypt(masked, "member_transfer", "id_masked", target.id), **common,
                )).returning(MemberTransfer.id))[0]["id"]
                await record(target, actor, "member.transfer.incoming", "MemberTransfer", other,
                             {"from_tenant": tenant.code, "to_unit": dest.id})
                await rescope_transaction(tenant.id)
    return written(await queries.get_transfer(tenant, own), "transfer")


ACTIVE_STATES = ("joined", "transferring")


class DestinationRecordError(DomainError):
    """A refusal that stems from the destination tenant's records of the person. Told as is to the
    destination's staff (their own data); the source union gets ``UNIFORM_REFUSAL`` instead."""


UNIFORM_REFUSAL = ("the destination province cannot complete this transfer as it stands; it must review "
                   "the transfer (reject it, or approve it again once its records allow)")
UNIFORM_REFUSAL_ZH = "转入省（市）目前无法完成此次转移，须由其审核后再办理"


def _check_destination_record(existing: Mapping[str, Any], field: str) -> None:
    """Whether a transfer between tenants may end in the destination's existing record of the
    person (same ID number). A former member's record (``left``) is reused: the transfer completes
    by merging into it. An active member there is a genuine conflict, and a closed (deceased)
    record cannot be reopened by a transfer. The messages reach the source union, so they say no
    more about the other tenant's record than the refusal needs: no id, unit, name or dates."""
    if existing["state"] in ACTIVE_STATES:
        raise DestinationRecordError(ErrorCode.CONFLICT, "the person is already an active member in the destination tenant", field,
                                     "此人已是转入省（市）的在会会员")
    if existing["state"] == "deceased":
        raise DestinationRecordError(ErrorCode.INVALID_STATE, "the destination tenant's record of this person is closed "
                          "(recorded as deceased); it must be corrected there before a transfer", field,
                                     "转入省（市）已将此人登记为去世，须先在那里更正后才能转移")


async def _transfer_rows(tenant: TenantContext, transfer_id: int) -> tuple[dict[str, Any], TenantContext | None]:
    from core.tenancy.services import get_tenant

    row = await queries.get_transfer(tenant, transfer_id)
    if row is None:
        raise not_found("transfer", message_zh="会籍转移记录不存在，或您无权查看")
    other = None
    if row["side"] != "both":
        other_id = row["dest_tenant_id"] if row["side"] == "source" else row["source_tenant_id"]
        other = await get_tenant(id=other_id)
        if other is None:
            raise DomainError(ErrorCode.INACTIVE, "the other tenant of this transfer is not active", "id",
                              "转移涉及的另一省（市）已停用")
    return row, other


async def _update_both(tenant: TenantContext, other: TenantContext | None, uid: str, values: dict[Any, Any]) -> None:
    values = {**values, MemberTransfer.updated_at: utcnow()}
    await MemberTransfer.update(values).where((MemberTransfer.tenant_id == tenant.id) & (MemberTransfer.transfer_uid == uid))
    if other is not None:
        with tenant_scope(other):
            await rescope_transaction(other.id)
            await MemberTransfer.update(values).where(
                (MemberTransfer.tenant_id == other.id) & (MemberTransfer.transfer_uid == uid))
            await rescope_transaction(tenant.id)


def approvable_sides(row: Mapping[str, Any], can: Any) -> list[str]:
    """Sides of a pending transfer this principal may approve, given ``can(unit_path)`` checks done
    by the caller. Returned by the GraphQL layer from unit paths; here only the state matters."""
    sides = []
    if row["side"] in ("both", "source") and row["source_approved_at"] is None and can("source"):
        sides.append("source")
    if row["side"] in ("both", "dest") and row["dest_approved_at"] is None and can("dest"):
        sides.append("dest")
    return sides


async def approve_transfer(tenant: TenantContext, actor: Actor, transfer_id: int, *, allowed_sides: Sequence[str]) -> dict[str, Any]:
    """Record one union's approval (the first pending side the actor may approve). The same person
    cannot approve both sides, nor a transfer they requested. The second approval completes it."""
    completed_in: tuple[TenantContext, int] | None = None
    async with transaction():
        row, other = await _transfer_rows(tenant, transfer_id)
        await advisory_xact_lock(MEMBER_LOCK_NAMESPACE, row["member_id"])
        row = written(await queries.get_transfer(tenant, transfer_id), "transfer")
        if row["status"] != "pending":
            raise DomainError(ErrorCode.INVALID_STATE, f"the transfer is {row['status']}", "id",
                              "该会籍转移已办结或已撤回，不能再操作")
        pending = [s for s in ("source", "dest") if row[f"{s}_approved_at"] is None
                   and (row["side"] == "both" or row["side"] == s)]
        sides = [s for s in pending if s in allowed_sides]
        if not sides:
            raise DomainError(ErrorCode.FORBIDDEN, "you cannot approve a pending side of this transfer", "id",
                              "您无权审批该会籍转移")
        if actor.user_id is not None and actor.user_id == row["requested_by"]:
            raise DomainError(ErrorCode.SELF_APPROVAL, "the person who requested a transfer cannot approve it", "id",
                              "申请人不能审批自己提出的会籍转移")
        if actor.user_id is not None and actor.user_id in (row["source_approved_by"], row["dest_approved_by"]):
            raise DomainError(ErrorCode.SELF_APPROVAL, "the other union's approval must come from another person", "id",
                              "另一方工会的审批须由其他人办理")
        side = sides[0]
        cross = row["source_tenant_id"] != row["dest_tenant_id"]
        if cross and side == "dest":
            await _check_destination_for(tenant, other, row)
        now = utcnow()
        values = {getattr(MemberTransfer, f"{side}_approved_by"): actor.user_id,
                  getattr(MemberTransfer, f"{side}_approved_by_name"): actor.username[:100],
                  getattr(MemberTransfer, f"{side}_approved_at"): now}
        done = all(row[f"{s}_approved_at"] is not None or s == side for s in ("source", "dest"))
        if done:
            values.update({MemberTransfer.status: "completed", MemberTransfer.completed_at: now})
        await _update_both(tenant, other, row["transfer_uid"], values)
        await record(tenant, actor, "member.transfer.approve", "MemberTransfer", transfer_id,
                     {"side": side, "completed": done})
        if done:
            try:
                completed_in = await _complete(tenant, other, row, actor)
            except DestinationRecordError as exc:
                if cross and side == "source":
                    raise DomainError(ErrorCode.CONFLICT, UNIFORM_REFUSAL, "id", UNIFORM_REFUSAL_ZH) from None
                raise exc
    if completed_in is not None:
        dest_tenant, dest_member_id = completed_in
        with tenant_scope(dest_tenant):
            await joined_notice(dest_tenant, dest_member_id)
    return written(await queries.get_transfer(tenant, transfer_id), "transfer")


async def _check_destination_for(dest: TenantContext, source: TenantContext | None, row: Mapping[str, Any]) -> None:
    """The destination approving: does it hold an active or deceased record of the person? (Its
    own data, so it is told precisely.) The ID number is read from the source's member row."""
    assert source is not None
    with tenant_scope(source):
        await rescope_transaction(source.id)
        member = await queries.get_member(source, row["member_id"])
        await rescope_transaction(dest.id)
    if member is None:
        raise DomainError(ErrorCode.INVALID_STATE, "the member is no longer waiting for this transfer", "id")
    id_plain = personal.decrypt(member["id_number_enc"], "member", "id_number", source.id)
    existing = await queries.member_by_bidx(dest, (await personal.index_keys(dest)).id_bidxs(id_plain))
    if existing is not None:
        _check_destination_record(existing, "id")


async def _complete(tenant: TenantContext, other: TenantContext | None, row: Mapping[str, Any],
                    actor: Actor) -> tuple[TenantContext, int]:
    """Carry out a transfer both unions approved. Returns the destination tenant and the id of the
    member there (the moving member's own id, or the destination's record it merged into)."""
    source_tenant = tenant if row["source_tenant_id"] == tenant.id else other
    dest_tenant = tenant if row["dest_tenant_id"] == tenant.id else other
    assert source_tenant is not None and dest_tenant is not None
    with tenant_scope(source_tenant):
        await rescope_transaction(source_tenant.id)
        member = await queries.get_member(source_tenant, row["member_id"])
        if member is None or member["state"] != "transferring":
            raise DomainError(ErrorCode.INVALID_STATE, "the member is no longer waiting for this transfer", "id",
                              "该会员已不在等待此次会籍转移")
        own_id = written(await MemberTransfer.select(MemberTransfer.id).where(
            (MemberTransfer.tenant_id == source_tenant.id) & (MemberTransfer.transfer_uid == row["transfer_uid"])).first(),
            "transfer")["id"]
        if source_tenant.id == dest_tenant.id:
            await Member.update({Member.org_unit_id: row["dest_unit_id"], Member.state: "joined",
                                 Member.version: member["version"] + 1, Member.updated_at: utcnow()}).where(
                (Member.tenant_id == source_tenant.id) & (Member.id == member["id"]))
            changes = {"state": ["transferring", "joined"], "org_unit_id": [row["source_unit_id"], row["dest_unit_id"]]}
            await add_history(source_tenant, actor, member["id"], "transfer.complete", changes, transfer_id=own_id)
            await record(source_tenant, actor, "member.transfer.complete", "Member", member["id"], changes)
            await rescope_transaction(tenant.id)
            return source_tenant, member["id"]
        dest_member_id = await _move_between_tenants(source_tenant, dest_tenant, member, row, own_id, actor)
    await rescope_transaction(tenant.id)
    return dest_tenant, dest_member_id


async def _move_between_tenants(source: TenantContext, dest: TenantContext, member: Mapping[str, Any],
                                row: Mapping[str, Any], source_transfer_id: int, actor: Actor) -> int:
    """Move (not copy) the member row out of the source tenant, and return the member's id in the
    destination.

    The source row is deleted (the source keeps its history rows, ending with "transfer.out", and
    its household record: archives are cancelled on transfer). If the destination has no record of
    the person, the row is inserted there with the same id, its personal data re-encrypted and
    re-indexed for the destination tenant; the destination's history starts with "transfer.in".
    If the destination holds a former member's record (``left``), the transfer merges into it
    (``_merge_into``) and the destination keeps that record's id. An active or deceased record
    there refuses the completion (``_check_destination_record``): the whole approval rolls back.

    Row-level security allows neither tenant to write the other's rows, so the connection is
    rescoped between the halves, inside one transaction: both halves land or neither does."""
    id_plain = personal.decrypt(member["id_number_enc"], "member", "id_number", source.id)
    phone_plain = personal.decrypt(member["phone_enc"], "member", "phone", source.id) if member["phone_enc"] else None
    # Decide first, before writing anything: is there a record of the person in the destination?
    with tenant_scope(dest):
        await rescope_transaction(dest.id)
        # Writes below use the destination's current index key; the look-up matches every key of
        # a rotation in progress (personal.index_keys).
        ix = await personal.index_keys(dest, for_write=True)
        bidxs = ix.id_bidxs(id_plain)
        existing = await _locked_member_by_bidx(dest, bidxs)
        if existing is not None:
            _check_destination_record(existing, "id")
        await rescope_transaction(source.id)
    # Source half.
    await HouseholdPerson.delete().where((HouseholdPerson.tenant_id == source.id)
                                         & (HouseholdPerson.member_id == member["id"]))
    await set_tags(source, member["id"], [])
    await Member.delete().where((Member.tenant_id == source.id) & (Member.id == member["id"]))
    out: dict[str, Any] = {"state": ["transferring", "transferred_out"], "to_tenant": dest.code,
                           "to_unit": row["dest_unit_id"]}
    if existing is not None:
        out["merged_into"] = existing["id"]
    await add_history(source, actor, member["id"], "transfer.out", out, transfer_id=source_transfer_id)
    await record(source, actor, "member.transfer.out", "Member", member["id"], out)
    # Destination half.
    with tenant_scope(dest):
        await rescope_transaction(dest.id)
        dest_transfer = written(await MemberTransfer.select(MemberTransfer.id).where(
            (MemberTransfer.tenant_id == dest.id) & (MemberTransfer.transfer_uid == row["transfer_uid"])).first(),
            "transfer")["id"]
        if existing is not None:
            await _merge_into(source, dest, existing, member, row, id_plain, phone_plain, dest_transfer, actor, ix)
            return existing["id"]
        try:
            await Member.insert(Member(
                id=member["id"], tenant_id=dest.id, org_unit_id=row["dest_unit_id"], name=member["name"],
                name_search=personal.name_key(member["name"]), gender=member["gender"], birth_date=member["birth_date"],
                id_number_enc=personal.encrypt(id_plain, "member", "id_number", dest.id), id_number_bidx=ix.id_bidx(id_plain),
                phone_enc=personal.encrypt(phone_plain, "member", "phone", dest.id) if phone_plain else None,
                phone_bidx=ix.phone_bidx(phone_plain) if phone_plain else None,
                employer=member["employer"], work_status=member["work_status"], tags=list(member["tags"] or []),
                state="joined", joined_on=member["joined_on"], version=member["version"] + 1,
                created_at=member["created_at"], updated_at=utcnow(),
            ))
        except Exception as exc:
            # The unique (tenant_id, id_number_bidx) index caught a record of the person created in
            # the destination after our look-up (an import, a create, or another transfer of the same
            # person from a third tenant). It is new, hence active: a conflict, not a merge.
            if _unique_violation(exc):
                raise DestinationRecordError(ErrorCode.CONFLICT, "the person is already an active member in the "
                                             "destination tenant", "id", "此人已是转入省（市）的在会会员") from None
            raise
        await set_tags(dest, member["id"], list(member["tags"] or []))
        changes = {"state": ["transferring", "joined"], "from_tenant": source.code, "org_unit_id": row["dest_unit_id"]}
        await add_history(dest, actor, member["id"], "transfer.in", changes, transfer_id=dest_transfer)
        await record(dest, actor, "member.transfer.in", "Member", member["id"], changes)
        await _link_household_people(dest, member["id"], bidxs)
        return member["id"]


async def _locked_member_by_bidx(tenant: TenantContext, bidxs: Sequence[bytes]) -> dict[str, Any] | None:
    """The tenant's record of a person, locked for this transaction: the member advisory lock (what
    every service write on a member takes) and the row lock (what an import batch takes with
    FOR UPDATE), so neither can change it between our decision and our write."""
    for _ in range(3):
        found = await queries.member_by_bidx(tenant, bidxs)
        if found is None:
            return None
        await advisory_xact_lock(MEMBER_LOCK_NAMESPACE, found["id"])
        row = await queries.lock_member(tenant, found["id"])
        # Its ID number may have been corrected while we waited for the locks: look again.
        if row is not None and bytes(row["id_number_bidx"]) in bidxs:
            return row
    raise DestinationRecordError(ErrorCode.CONFLICT, "the destination's records of this person are being changed; try again", "id",
                                 "转入省（市）正在修改此人的档案，请稍后重试")


async def _merge_into(source: TenantContext, dest: TenantContext, existing: Mapping[str, Any],
                      member: Mapping[str, Any], row: Mapping[str, Any], id_plain: str, phone_plain: str | None,
                      dest_transfer_id: int, actor: Actor, ix: personal.IndexKeys) -> None:
    """Complete a transfer into the destination's record of a former member (see docs/members.md §3,
    "Into a former member's record"). The record keeps its id, history, household and creation
    date, and becomes a member of the destination union again. The moving record is the current
    one (its union kept it until today), so its values win wherever it has one; the old record's
    phone and employer stay only where the moving record has none; tags are the union of both, since
    a transfer should not silently drop what the destination once recorded (a 劳动模范 title)."""
    old_phone = personal.decrypt(existing["phone_enc"], "member", "phone", dest.id) if existing["phone_enc"] else None
    phone = phone_plain or old_phone
    employer = member["employer"] or existing["employer"]
    tags = list(dict.fromkeys(list(existing["tags"] or []) + list(member["tags"] or [])))
    # Membership is continuous across a transfer: the moving record's joined_on carries over, as it
    # does when the row moves into a tenant with no record of the person.
    joined_on = member["joined_on"] or today()
    changes: dict[str, Any] = {
        "state": [existing["state"], "joined"], "from_tenant": source.code, "from_member_id": member["id"],
        "org_unit_id": [existing["org_unit_id"], row["dest_unit_id"]],
        "joined_on": [_plain(existing["joined_on"]), _plain(joined_on)], "left_on": [_plain(existing["left_on"]), None],
    }
    # Like every history row: which personal fields changed, never their values.
    if existing["name"] != member["name"]:
        changes["name"] = "changed"
    if phone != old_phone:
        changes["phone"] = "changed"
    for key, old, new in (("employer", existing["employer"], employer),
                          ("work_status", existing["work_status"], member["work_status"]),
                          ("tags", list(existing["tags"] or []), tags)):
        if old != new:
            changes[key] = [old, new]
    await Member.update({
        Member.state: "joined", Member.org_unit_id: row["dest_unit_id"], Member.joined_on: joined_on,
        Member.left_on: None, Member.name: member["name"], Member.name_search: personal.name_key(member["name"]),
        Member.gender: member["gender"], Member.birth_date: member["birth_date"],
        # The same number, encrypted afresh for this tenant under the active key.
        Member.id_number_enc: personal.encrypt(id_plain, "member", "id_number", dest.id),
        Member.phone_enc: personal.encrypt(phone, "member", "phone", dest.id) if phone else None,
        Member.id_number_bidx: ix.id_bidx(id_plain),  # under the key writes use now (mid-rotation too)
        Member.phone_bidx: ix.phone_bidx(phone) if phone else None,
        Member.employer: employer, Member.work_status: member["work_status"], Member.tags: tags,
        Member.version: existing["version"] + 1, Member.updated_at: utcnow(),
    }).where((Member.tenant_id == dest.id) & (Member.id == existing["id"]))
    await set_tags(dest, existing["id"], tags)
    # The destination's copy of the transfer points at the member the destination can see.
    await MemberTransfer.update({MemberTransfer.member_id: existing["id"]}).where(
        (MemberTransfer.tenant_id == dest.id) & (MemberTransfer.id == dest_transfer_id))
    await add_history(dest, actor, existing["id"], "transfer.in.merged", changes, transfer_id=dest_transfer_id)
    await record(dest, actor, "member.transfer.in.merged", "Member", existing["id"], changes)


async def reject_transfer(tenant: TenantContext, actor: Actor, transfer_id: int, *, note: str,
                          allowed_sides: Sequence[str], cancel: bool = False) -> dict[str, Any]:
    """Either union rejects (or the source cancels): both rows close and the member is "joined"
    again in the source union."""
    note = clean_text("note", note, max_len=500, required=False, label_zh="备注")
    async with transaction():
        row, other = await _transfer_rows(tenant, transfer_id)
        await advisory_xact_lock(MEMBER_LOCK_NAMESPACE, row["member_id"])
        row = written(await queries.get_transfer(tenant, transfer_id), "transfer")
        if row["status"] != "pending":
            raise DomainError(ErrorCode.INVALID_STATE, f"the transfer is {row['status']}", "id",
                              "该会籍转移已办结或已撤回，不能再操作")
        if not allowed_sides:
            raise DomainError(ErrorCode.FORBIDDEN, "not allowed: " + ("cancel" if cancel else "reject") + " this transfer", "id",
                              "您无权" + ("撤回" if cancel else "驳回") + "该会籍转移")
        status = "cancelled" if cancel else "rejected"
        await _update_both(tenant, other, row["transfer_uid"], {
            MemberTransfer.status: status, MemberTransfer.decided_by_name: actor.username[:100],
            MemberTransfer.decision_note: note})
        await record(tenant, actor, f"member.transfer.{'cancel' if cancel else 'reject'}", "MemberTransfer", transfer_id,
                     {"note": note})
        source = tenant if row["source_tenant_id"] == tenant.id else other
        assert source is not None
        with tenant_scope(source):
            await rescope_transaction(source.id)
            member = await queries.get_member(source, row["member_id"])
            if member is not None and member["state"] == "transferring":
                await Member.update({Member.state: "joined", Member.version: member["version"] + 1,
                                     Member.updated_at: utcnow()}).where(
                    (Member.tenant_id == source.id) & (Member.id == member["id"]))
                own = await MemberTransfer.select(MemberTransfer.id).where(
                    (MemberTransfer.tenant_id == source.id) & (MemberTransfer.transfer_uid == row["transfer_uid"])).first()
                await add_history(source, actor, member["id"], f"transfer.{status}",
                                  {"state": ["transferring", "joined"]}, transfer_id=own["id"] if own else None)
            await rescope_transaction(tenant.id)
    return written(await queries.get_transfer(tenant, transfer_id), "transfer")

"""Writes to members, households and transfers.

Each function takes the tenant first and the actor second, owns its transaction, writes the member's
history and the audit log inside it, and raises ``DomainError`` for refusals. Personal values are
validated (``core.members.validation``), encrypted and blind-indexed here and never leave this layer
in plain text, except through ``reveal`` (audited, with a reason).

Org-unit changes happen only through transfers (会籍转移), which need both unions' approval; a
transfer between tenants moves the member row itself, or merges it into the destination's record of
a former member (see ``_move_between_tenants``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext, tenant_scope
from core.dbutil import advisory_xact_lock, rescope_transaction, transaction, utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.members import personal, queries
from core.members.tables import Household, HouseholdPerson, Member, MemberHistory, MemberTag, MemberTransfer
from core.members.validation import (
    CleanMember,
    Problem,
    RowContext,
    UnitDirectory,
    UnitInfo,
    clean_member,
    parse_date,
    plugin_problems,
    raise_problems,
    unit_problem,
)
from core.members.vocab import RELATIONS, STATES, tag_vocabulary
from core.pii import IdNumberError, mask_id_number
from core.tenancy.tables import OrgUnit
from core.validation import clean_text

DUPLICATE_ZH = "本省（市）已有使用该身份证号码的会员"
CLOSED_ZH = "已去世会员的档案已关闭，不能修改"
MEMBER_LOCK_NAMESPACE = 1401
HOUSEHOLD_LOCK_NAMESPACE = 1402


def today() -> dt.date:
    from core.pii.idcard import _today

    return _today()


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


async def unit_directory(tenant: TenantContext, unit_ids: Sequence[int] | None = None) -> UnitDirectory:
    """All units of the tenant, or the given units and their ancestors (for region codes)."""
    cols = (OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.active, OrgUnit.path, OrgUnit.area_code)
    query = OrgUnit.select(*cols).where(OrgUnit.tenant_id == tenant.id)
    if unit_ids is not None:
        rows = await query.where(OrgUnit.id.is_in(list(unit_ids) or [-1]))
        ancestors = {int(p) for r in rows for p in r["path"].strip("/").split("/") if p} - {r["id"] for r in rows}
        if ancestors:
            rows += await OrgUnit.select(*cols).where((OrgUnit.tenant_id == tenant.id) & OrgUnit.id.is_in(list(ancestors)))
        return UnitDirectory.from_rows(rows)
    return UnitDirectory.from_rows(await query)


async def unit_info(tenant: TenantContext, unit_id: int) -> UnitInfo | None:
    return (await unit_directory(tenant, [unit_id])).by_id.get(unit_id)


def row_context(tenant: TenantContext, units: UnitDirectory, scope_paths: Sequence[str] | None) -> RowContext:
    return RowContext(tenant=tenant, units=units, scope_paths=tuple(scope_paths) if scope_paths is not None else None,
                      tags=tag_vocabulary(tenant), today=today())


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


async def add_history(tenant: TenantContext, actor: Actor, member_id: int, action: str, changes: Mapping[str, Any],
                      *, import_id: int | None = None, transfer_id: int | None = None) -> None:
    await MemberHistory.insert(MemberHistory(
        tenant_id=tenant.id, member_id=member_id, action=action, changes=dict(changes), actor_id=actor.user_id,
        actor_name=actor.username[:64], import_id=import_id, transfer_id=transfer_id,
    ))


async def set_tags(tenant: TenantContext, member_id: int, tags: Sequence[str]) -> None:
    """Keep member_tag (the searchable copy) equal to the member's tags."""
    await MemberTag.delete().where((MemberTag.tenant_id == tenant.id) & (MemberTag.member_id == member_id))
    if tags:
        await MemberTag.insert(*[MemberTag(tenant_id=tenant.id, member_id=member_id, tag=t) for t in dict.fromkeys(tags)])


async def _locked_member(tenant: TenantContext, member_id: int) -> dict[str, Any]:
    await advisory_xact_lock(MEMBER_LOCK_NAMESPACE, member_id)
    row = await queries.get_member(tenant, member_id)
    if row is None:
        raise not_found("member", message_zh="会员不存在，或您无权查看")
    return row


def _unique_violation(exc: Exception) -> bool:
    name = type(exc).__name__
    return name == "UniqueViolationError" or (name == "IntegrityError" and "UNIQUE" in str(exc).upper())


def _member_values(tenant: TenantContext, m: CleanMember, ix: personal.IndexKeys) -> dict[Any, Any]:
    return {
        Member.name: m.name, Member.name_search: m.name_search, Member.gender: m.gender,
        Member.birth_date: m.birth_date,
        Member.id_number_enc: personal.encrypt(m.id_number, "member", "id_number", tenant.id),
        Member.id_number_bidx: ix.id_bidx(m.id_number),
        Member.phone_enc: personal.encrypt(m.phone, "member", "phone", tenant.id) if m.phone else None,
        Member.phone_bidx: ix.phone_bidx(m.phone) if m.phone else None,
        Member.employer: m.employer, Member.work_status: m.work_status, Member.tags: list(m.tags),
    }


def clean_for_api(tenant: TenantContext, values: Mapping[str, Any], unit: UnitInfo, scope_paths: Sequence[str] | None,
                  member_id: int | None = None) -> CleanMember:
    """Validate (core rules, then the tenant's plugin rules) or raise every problem at once."""
    ctx = row_context(tenant, UnitDirectory({unit.id: unit}, {}, {}), scope_paths)
    clean, problems = clean_member(values, ctx, unit=unit)
    raise_problems(problems)
    assert clean is not None
    raise_problems(plugin_problems(ctx, clean, member_id))
    return clean


async def _link_household_people(tenant: TenantContext, member_id: int, bidxs: Sequence[bytes]) -> None:
    """A non-member household person who becomes a member is turned into a link (no second copy).
    ``bidxs``: the person's ID number under each index key to match (see personal.index_keys)."""
    person = await HouseholdPerson.select(HouseholdPerson.id, HouseholdPerson.household_id).where(
        (HouseholdPerson.tenant_id == tenant.id) & HouseholdPerson.id_number_bidx.is_in(list(bidxs))).first()
    if person is None:
        return
    await HouseholdPerson.update({
        HouseholdPerson.member_id: member_id, HouseholdPerson.name: None, HouseholdPerson.id_number_enc: None,
        HouseholdPerson.id_number_bidx: None, HouseholdPerson.gender: None, HouseholdPerson.birth_date: None,
    }).where((HouseholdPerson.tenant_id == tenant.id) & (HouseholdPerson.id == person["id"]))
    await Member.update({Member.household_id: person["household_id"]}).where(
        (Member.tenant_id == tenant.id) & (Member.id == member_id))


async def joined_notice(tenant: TenantContext, member_id: int) -> None:
    """``on_member_joined`` for plugins, after commit (failures are logged, never raised)."""
    from core.plugins import notify

    row = await queries.get_member(tenant, member_id)
    if row is None:
        return
    info = await member_info_of(tenant, row)
    await notify(tenant, "on_member_joined", member=info)


async def member_info_of(tenant: TenantContext, row: Mapping[str, Any]) -> Any:
    from core.interface import MemberInfo
    from core.members.vocab import WORK_STATUSES

    unit = await unit_info(tenant, row["org_unit_id"])
    return MemberInfo(
        id=row["id"], org_unit_id=row["org_unit_id"], name=row["name"],
        region_code=unit.region_code if unit else None,
        id_number=personal.decrypt(row["id_number_enc"], "member", "id_number", tenant.id),
        phone=personal.decrypt(row["phone_enc"], "member", "phone", tenant.id) if row["phone_enc"] else None,
        birth_date=row["birth_date"], work_status=WORK_STATUSES.get(row["work_status"]),
        tags=tuple(row["tags"] or ()), joined_on=row["joined_on"],
    )


# ---------------------------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------------------------


async def create_member(tenant: TenantContext, actor: Actor, *, values: Mapping[str, Any], unit_id: int,
                        scope_paths: Sequence[str] | None) -> dict[str, Any]:
    unit = await unit_info(tenant, unit_id)
    if unit is None:
        raise not_found("org unit", "orgUnitId", "所选工会不存在")
    clean = clean_for_api(tenant, values, unit, scope_paths)
    async with transaction():
        # Inside the transaction: the index key to write under can change when a rotation starts.
        ix = await personal.index_keys(tenant, for_write=True)
        row_values = _member_values(tenant, clean, ix)
        bidxs = ix.id_bidxs(clean.id_number)
        # Every key to match: during a rotation the same person may still be under the old one,
        # which the unique index (one value per row) cannot see.
        if await Member.exists().where((Member.tenant_id == tenant.id) & Member.id_number_bidx.is_in(bidxs)):
            raise DomainError(ErrorCode.DUPLICATE, "a member with this ID number already exists in this tenant", "idNumber",
                              DUPLICATE_ZH)
        try:
            inserted = await Member.insert(Member(
                tenant_id=tenant.id, org_unit_id=unit.id, joined_on=clean.joined_on or today(), state="joined",
                **{col._meta.name: value for col, value in row_values.items()},
            )).returning(Member.id)
        except Exception as exc:  # the unique index caught a concurrent create of the same person
            if _unique_violation(exc):
                raise DomainError(ErrorCode.DUPLICATE, "a member with this ID number already exists in this tenant",
                                  "idNumber", DUPLICATE_ZH) from None
            raise
        member_id = inserted[0]["id"]
        await set_tags(tenant, member_id, clean.tags)
        changes = {"org_unit_id": unit.id, "work_status": clean.work_status, "tags": list(clean.tags),
                   "fields": sorted(["name", "id_number", "employer"] + (["phone"] if clean.phone else []))}
        await add_history(tenant, actor, member_id, "create", changes)
        await _link_household_people(tenant, member_id, bidxs)
        await record(tenant, actor, "member.create", "Member", member_id, changes)
    await joined_notice(tenant, member_id)
    return await queries.get_member(tenant, member_id)  # type: ignore[return-value]


_EDITABLE = ("name", "id_number", "phone", "employer", "work_status", "tags", "joined_on")
_PII = {"id_number", "phone"}


async def update_member(tenant: TenantContext, actor: Actor, member_id: int, changes: Mapping[str, Any], *,
                        scope_paths: Sequence[str] | None, expected_version: int | None = None) -> dict[str, Any]:
    """Partial update: ``changes`` holds only the fields being set (``phone: None`` clears it)."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise DomainError(ErrorCode.INVALID_INPUT, f"cannot change {sorted(unknown)[0]} here",
                          message_zh="该项不能在此修改")
    async with transaction():
        row = await _locked_member(tenant, member_id)
        if expected_version is not None and row["version"] != expected_version:
            raise DomainError(ErrorCode.CONFLICT, "the member was changed by someone else; reload and retry",
                              "expectedVersion", "该会员信息已被他人修改，请刷新后重试")
        if row["state"] == "deceased":
            raise DomainError(ErrorCode.INVALID_STATE, "a deceased member's record is closed", "id", CLOSED_ZH)
        unit = await unit_info(tenant, row["org_unit_id"])
        assert unit is not None
        current = {
            "name": row["name"], "employer": row["employer"], "work_status": row["work_status"],
            "tags": row["tags"] or [], "joined_on": row["joined_on"],
            "id_number": personal.decrypt(row["id_number_enc"], "member", "id_number", tenant.id),
            "phone": personal.decrypt(row["phone_enc"], "member", "phone", tenant.id) if row["phone_enc"] else None,
        }
        merged = {**current, **changes}
        clean = clean_for_api(tenant, merged, unit, scope_paths, member_id)
        ix = await personal.index_keys(tenant, for_write=True)
        new_values = _member_values(tenant, clean, ix)
        diff: dict[str, Any] = {}
        for key in _EDITABLE:
            old = current[key]
            new = getattr(clean, key)
            if key == "tags":
                old, new = list(old), list(new)
            if old != new:
                diff[key] = "changed" if key in _PII else [_plain(old), _plain(new)]
        if not diff:
            return row
        update: dict[Any, Any] = {Member.version: row["version"] + 1, Member.updated_at: utcnow()}
        if "name" in diff:
            update.update({Member.name: clean.name, Member.name_search: clean.name_search})
        if "id_number" in diff:
            bidx = new_values[Member.id_number_bidx]
            if await Member.exists().where((Member.tenant_id == tenant.id)
                                           & Member.id_number_bidx.is_in(ix.id_bidxs(clean.id_number))
                                           & (Member.id != member_id)):
                raise DomainError(ErrorCode.DUPLICATE, "another member has this ID number", "idNumber", DUPLICATE_ZH)
            update.update({Member.id_number_enc: new_values[Member.id_number_enc], Member.id_number_bidx: bidx,
                           Member.gender: clean.gender, Member.birth_date: clean.birth_date})
        if "phone" in diff:
            update.update({Member.phone_enc: new_values[Member.phone_enc], Member.phone_bidx: new_values[Member.phone_bidx]})
        for key, col in (("employer", Member.employer), ("work_status", Member.work_status), ("tags", Member.tags),
                         ("joined_on", Member.joined_on)):
            if key in diff:
                update[col] = list(clean.tags) if key == "tags" else getattr(clean, key)
        await Member.update(update).where((Member.tenant_id == tenant.id) & (Member.id == member_id))
        if "tags" in diff:
            await set_tags(tenant, member_id, clean.tags)
        await add_history(tenant, actor, member_id, "update", diff)
        await record(tenant, actor, "member.update", "Member", member_id, diff)
    return await queries.get_member(tenant, member_id)  # type: ignore[return-value]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _check_date(value: Any, field: str, not_before: dt.date | None = None) -> dt.date:
    day = parse_date(value) if value is not None else today()
    if day is None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is not a valid date", field, "日期格式不正确，应为如 2024-03-01 的日期")
    if day > today():
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} cannot be in the future", field, "日期不能晚于今天")
    if not_before and day < not_before:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is before the member joined", field, "日期不能早于入会日期")
    return day


async def leave_member(tenant: TenantContext, actor: Actor, member_id: int, *, on: dt.date | None,
                       reason: str) -> dict[str, Any]:
    """退会: joined -> left."""
    reason = clean_text("reason", reason, max_len=200, required=False, label_zh="退会原因")
    async with transaction():
        row = await _locked_member(tenant, member_id)
        if row["state"] != "joined":
            raise DomainError(ErrorCode.INVALID_STATE, f"only a joined member can leave (state: {row['state']})", "id",
                              f"只有在会会员可以办理退会（当前状态：{STATES.get(row['state'], row['state'])}）")
        day = _check_date(on, "leftOn", row["joined_on"])
        await Member.update({Member.state: "left", Member.left_on: day, Member.version: row["version"] + 1,
                             Member.updated_at: utcnow()}).where((Member.tenant_id == tenant.id) & (Member.id == member_id))
        changes = {"state": ["joined", "left"], "left_on": day.isoformat(), "reason": reason}
        await add_history(tenant, actor, member_id, "leave", changes)
        await record(tenant, actor, "member.leave", "Member", member_id, changes)
    return await queries.get_member(tenant, member_id)  # type: ignore[return-value]


async def mark_deceased(tenant: TenantContext, actor: Actor, member_id: int, *, on: dt.date | None) -> dict[str, Any]:
    async with transaction():
        row = await _locked_member(tenant, member_id)
        if row["state"] not in ("joined", "left"):
            raise DomainError(ErrorCode.INVALID_STATE, f"cannot record a death in state {row['state']}", "id",
                              f"当前状态（{STATES.get(row['state'], row['state'])}）下不能登记去世")
        day = _check_date(on, "diedOn", row["birth_date"])
        await Member.update({Member.state: "deceased", Member.left_on: row["left_on"] or day,
                             Member.version: row["version"] + 1, Member.updated_at: utcnow()}).where(
            (Member.tenant_id == tenant.id) & (Member.id == member_id))
        changes = {"state": [row["state"], "deceased"], "died_on": day.isoformat()}
        await add_history(tenant, actor, member_id, "decease", changes)
        await record(tenant, actor, "member.decease", "Member", member_id, changes)
    return await queries.get_member(tenant, member_id)  # type: ignore[return-value]


async def rejoin_member(tenant: TenantContext, actor: Actor, member_id: int, *, unit_id: int | None,
                        on: dt.date | None, scope_paths: Sequence[str] | None) -> dict[str, Any]:
    """A member who left joins again, in the same or another grassroots union."""
    async with transaction():
        row = await _locked_member(tenant, member_id)
        if row["state"] != "left":
            raise DomainError(ErrorCode.INVALID_STATE, "only a member who left can rejoin", "id", "只有已退会的会员可以重新入会")
        unit = await unit_info(tenant, unit_id or row["org_unit_id"])
        if unit is None:
            raise not_found("org unit", "orgUnitId", "所选工会不存在")
        problem = unit_problem(unit, scope_paths)
        if problem:
            raise_problems([Problem("org_unit", problem.code, problem.message)])
        day = _check_date(on, "joinedOn", row["left_on"])
        await Member.update({Member.state: "joined", Member.org_unit_id: unit.id, Member.joined_on: day,
                             Member.left_on: None, Member.version: row["version"] + 1, Member.updated_at: utcnow()}).where(
            (Member.tenant_id == tenant.id) & (Member.id == member_id))
        changes = {"state": ["left", "joined"], "org_unit_id": [row["org_unit_id"], unit.id], "joined_on": day.isoformat()}
        await add_history(tenant, actor, member_id, "rejoin", changes)
        await record(tenant, actor, "member.rejoin", "Member", member_id, changes)
    await joined_notice(tenant, member_id)
    return await queries.get_member(tenant, member_id)  # type: ignore[return-value]


REVEAL_FIELDS = ("id_number", "phone", "birth_date")


async def reveal(tenant: TenantContext, actor: Actor, *, member: Mapping[str, Any] | None = None,
                 person: Mapping[str, Any] | None = None, field: str, reason: str) -> str | None:
    """The plain value of one personal field, for a stated reason; the audit record names the field
    and the reason, never the value."""
    reason = clean_text("reason", reason, max_len=200, label_zh="查看原因")
    if len(reason) < 2:
        raise DomainError(ErrorCode.INVALID_INPUT, "give a reason of at least 2 characters", "reason",
                          "请填写查看原因（至少 2 个字）")
    if field not in REVEAL_FIELDS:
        raise DomainError(ErrorCode.INVALID_INPUT, "unknown field", "field", "不能查看该项信息")
    if member is not None:
        target_type, target_id, table, row = "Member", member["id"], "member", member
    elif person is not None:
        target_type, target_id, table, row = "HouseholdPerson", person["id"], "household_person", person
        if row["member_id"] is not None:
            linked = await queries.get_member(tenant, row["member_id"])
            if linked is None:
                raise not_found("member", message_zh="会员不存在，或您无权查看")
            target_type, target_id, table, row = "Member", linked["id"], "member", linked
    else:
        raise not_found("member", message_zh="会员不存在，或您无权查看")
    if field == "birth_date":
        value = row["birth_date"].isoformat() if row["birth_date"] else None
    elif field == "id_number":
        value = personal.decrypt(row["id_number_enc"], table, "id_number", tenant.id) if row["id_number_enc"] else None
    else:
        if table != "member":
            raise DomainError(ErrorCode.INVALID_INPUT, "household people have no phone on record", "field",
                                  "家庭成员没有登记手机号码")
        value = personal.decrypt(row["phone_enc"], "member", "phone", tenant.id) if row["phone_enc"] else None
    async with transaction():
        await record(tenant, actor, "member.reveal", target_type, target_id, {"field": field, "reason": reason})
    return value


# ---------------------------------------------------------------------------------------------
# Households
# ---------------------------------------------------------------------------------------------


async def create_household(tenant: TenantContext, actor: Actor, member_id: int, note: str = "") -> int:
    note = clean_text("note", note, max_len=200, required=False, label_zh="备注")
    async with transaction():
        row = await _locked_member(tenant, member_id)
        if row["household_id"] is not None:
            raise DomainError(ErrorCode.CONFLICT, "the member already belongs to a household", "memberId",
                              "该会员已登记在一个家庭中")
        if row["state"] == "deceased":
            raise DomainError(ErrorCode.INVALID_STATE, "a deceased member's record is closed", "memberId", CLOSED_ZH)
        hh = (await Household.insert(Household(tenant_id=tenant.id, org_unit_id=row["org_unit_id"], note=note,
                                               created_by=actor.user_id)).returning(Household.id))[0]["id"]
        await HouseholdPerson.insert(HouseholdPerson(tenant_id=tenant.id, household_id=hh, member_id=member_id,
                                                     relation="self"))
        await Member.update({Member.household_id: hh}).where((Member.tenant_id == tenant.id) & (Member.id == member_id))
        await add_history(tenant, actor, member_id, "household.join", {"household_id": hh, "relation": "self"})
        await record(tenant, actor, "household.create", "Household", hh, {"member_id": member_id})
    return hh


async def add_person(tenant: TenantContext, actor: Actor, household_id: int, *, relation: str,
                     member_id: int | None = None, name: str | None = None, id_number: str | None = None) -> int:
    """Add a person: an existing member (linked), or a non-member with their own encrypted ID. A
    non-member whose ID number matches a member of the tenant is linked to that member instead."""
    if relation not in RELATIONS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"relation must be one of {', '.join(RELATIONS)}", "relation",
                          "与会员的关系应为：" + "、".join(RELATIONS.values()))
    canonical = None
    if member_id is None:
        name = clean_text("name", name, max_len=50, label_zh="姓名")
        if not id_number:
            raise DomainError(ErrorCode.INVALID_INPUT, "idNumber is required for a non-member", "idNumber",
                                  "非会员家庭成员须填写身份证号码")
        try:
            canonical = personal.canonical_id_number(id_number.strip())
        except IdNumberError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, exc.message_en, "idNumber", exc.message_zh) from None
    async with transaction():
        await advisory_xact_lock(HOUSEHOLD_LOCK_NAMESPACE, tenant.id)
        hh = await queries.get_household(tenant, household_id)
        if hh is None:
            raise not_found("household", "householdId", "家庭不存在，或您无权查看")
        ix = await personal.index_keys(tenant, for_write=True)
        if canonical is not None:
            bidxs = ix.id_bidxs(canonical)
            existing = await queries.member_by_bidx(tenant, bidxs)
            if existing is not None:
                member_id = existing["id"]
            elif await HouseholdPerson.exists().where((HouseholdPerson.tenant_id == tenant.id)
                                                      & HouseholdPerson.id_number_bidx.is_in(bidxs)):
                raise DomainError(ErrorCode.CONFLICT, "this person already belongs to a household", "idNumber",
                                  "此人已登记在一个家庭中")
        if member_id is not None:
            member = await _locked_member(tenant, member_id)
            if member["household_id"] is not None:
                raise DomainError(ErrorCode.CONFLICT, "this member already belongs to a household", "memberId",
                                  "该会员已登记在一个家庭中")
            pid = (await HouseholdPerson.insert(HouseholdPerson(
                tenant_id=tenant.id, household_id=household_id, member_id=member_id, relation=relation,
            )).returning(HouseholdPerson.id))[0]["id"]
            await Member.update({Member.household_id: household_id}).where(
                (Member.tenant_id == tenant.id) & (Member.id == member_id))
            await add_history(tenant, actor, member_id, "household.join", {"household_id": household_id,
                                                                             "relation": relation})
        else:
            assert canonical is not None
            gender, born = personal.id_facts(canonical)
            pid = (await HouseholdPerson.insert(HouseholdPerson(
                tenant_id=tenant.id, household_id=household_id, relation=relation, name=name,
                id_number_enc=personal.encrypt(canonical, "household_person", "id_number", tenant.id),
                id_number_bidx=ix.id_bidx(canonical), gender=gender, birth_date=born,
            )).returning(HouseholdPerson.id))[0]["id"]
        await Household.update({Household.updated_at: utcnow()}).where(Household.id == household_id)
        await record(tenant, actor, "household.add_person", "Household", household_id,
                     {"person_id": pid, "relation": relation, "member_id": member_id})
    return pid


async def remove_person(tenant: TenantContext, actor: Actor, person_id: int) -> int:
    async with transaction():
        person = await queries.get_person(tenant, person_id)
        if person is None:
            raise not_found("household person", message_zh="家庭成员不存在")
        await HouseholdPerson.delete().where((HouseholdPerson.tenant_id == tenant.id) & (HouseholdPerson.id == person_id))
        if person["member_id"] is not None:
            await Member.update({Member.household_id: None}).where(
                (Member.tenant_id == tenant.id) & (Member.id == person["member_id"]))
            await add_history(tenant, actor, person["member_id"], "household.leave",
                              {"household_id": person["household_id"]})
        await record(tenant, actor, "household.remove_person", "Household", person["household_id"],
                     {"person_id": person_id})
    return person["household_id"]


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
    return await queries.get_transfer(tenant, own)  # type: ignore[return-value]


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
        row = await queries.get_transfer(tenant, transfer_id)
        assert row is not None
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
    return await queries.get_transfer(tenant, transfer_id)  # type: ignore[return-value]


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
        own_id = (await MemberTransfer.select(MemberTransfer.id).where(
            (MemberTransfer.tenant_id == source_tenant.id) & (MemberTransfer.transfer_uid == row["transfer_uid"])).first())["id"]
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
        dest_transfer = (await MemberTransfer.select(MemberTransfer.id).where(
            (MemberTransfer.tenant_id == dest.id) & (MemberTransfer.transfer_uid == row["transfer_uid"])).first())["id"]
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
        row = await queries.get_transfer(tenant, transfer_id)
        assert row is not None
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
    return await queries.get_transfer(tenant, transfer_id)  # type: ignore[return-value]


def transfer_display_mask(row: Mapping[str, Any], tenant: TenantContext) -> str:
    try:
        return personal.decrypt(row["id_masked_enc"], "member_transfer", "id_masked", tenant.id)
    except Exception:
        return "******************"


def history_changes(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value

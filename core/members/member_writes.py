"""Writes to members: create, update, leave, death, rejoin, and the audited reveal of a personal value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import transaction, utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.members import personal, queries
from core.members.member_common import (
    CLOSED_ZH,
    DUPLICATE_ZH,
    _link_household_people,
    _locked_member,
    _member_values,
    _plain,
    _unique_violation,
    add_history,
    clean_for_api,
    joined_notice,
    set_tags,
    today,
    unit_info,
)
from core.members.tables import Member
from core.members.validation import (
    Problem,
    parse_date,
    raise_problems,
    unit_problem,
)
from core.members.vocab import STATES
from core.validation import clean_text

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
    return written(await queries.get_member(tenant, member_id), "member")


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
    return written(await queries.get_member(tenant, member_id), "member")


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
    return written(await queries.get_member(tenant, member_id), "member")


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
    return written(await queries.get_member(tenant, member_id), "member")


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
    return written(await queries.get_member(tenant, member_id), "member")


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

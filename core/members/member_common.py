"""What the member, household and transfer writes share: units and row contexts, history and tags,
locks, and the values a member row is written with.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.context import TenantContext
from core.dbutil import advisory_xact_lock
from core.errors import not_found
from core.members import personal, queries
from core.members.tables import HouseholdPerson, Member, MemberHistory, MemberTag
from core.members.validation import (
    CleanMember,
    RowContext,
    UnitDirectory,
    UnitInfo,
    clean_member,
    plugin_problems,
    raise_problems,
)
from core.members.vocab import tag_vocabulary
from core.tenancy.tables import OrgUnit

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




def transfer_display_mask(row: Mapping[str, Any], tenant: TenantContext) -> str:
    try:
        return personal.decrypt(row["id_masked_enc"], "member_transfer", "id_masked", tenant.id)
    except Exception:
        return "******************"


def history_changes(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value

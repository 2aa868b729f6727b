"""Writes to households (户): a member's household and the people living with them.
"""

from __future__ import annotations

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import advisory_xact_lock, transaction, utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.members import personal, queries
from core.members.member_common import CLOSED_ZH, HOUSEHOLD_LOCK_NAMESPACE, _locked_member, add_history
from core.members.tables import Household, HouseholdPerson, Member
from core.members.vocab import RELATIONS
from core.pii import IdNumberError
from core.validation import clean_text

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

"""Unit enrolment: a unit union enrols a batch of its members under a plan, all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    DomainErrors,
    ErrorCode,
    Principal,
    TenantContext,
    as_utc,
    audit_record,
    get_unit,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)
from huijia_mutual_aid.interface import Plan, Sex, UnitKind
from huijia_mutual_aid.plans import plan_for, plans_for
from huijia_mutual_aid.rules import (
    CHINA,
    Candidate,
    batch_problems,
    cover_period,
    eligibility_problems,
    ids_in,
    new_hire_problems,
)

RETIRED = ("retired", "early_retired")
MAX_BATCH = 5000


def _date(value: Any) -> dt.date | None:
    # SQLite gives dates back as text
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _candidate(row: dict[str, Any], shares: int, held: tuple[str, ...]) -> Candidate:
    return Candidate(member_id=row["id"], org_unit_id=row["org_unit_id"], shares=shares,
                     sex=Sex(row["gender"]) if row["gender"] in ("F", "M") else None, birth=row["birth_date"],
                     retired=row["work_status"] in RETIRED, work_status=row["work_status"], held=held)


async def enrol_batch(tenant: TenantContext, principal: Principal, actor: Actor, *, plan_code: str, unit_id: int,
                      unit_kind: UnitKind, member_ids: Sequence[int], shares: int | Sequence[int], batch_key: str,
                      on: dt.date) -> list[dict[str, Any]]:
    """Enrol ``member_ids`` of grassroots unit ``unit_id`` under the plan, each with ``shares`` shares (one
    number for all, or one per member). A unit already enrolled for the term adds only new hires, within
    the plan's ``new_hire_days`` of their joining, where the plan (or the tenant's setting) has that rule.

    :raises DomainError: NOT_FOUND for an unknown plan or unit (or one outside the caller's reach),
        FORBIDDEN where the caller may read but not enrol there, INVALID_INPUT for a bad batch size.
    :raises DomainErrors: NOT_ELIGIBLE, one per reason, when the batch breaks a rule; nothing is stored.
    """
    plans = plans_for(tenant)
    plan = plan_for(tenant, plan_code)
    if not 0 < len(member_ids) <= MAX_BATCH:
        raise DomainError(ErrorCode.INVALID_INPUT, f"a batch has 1 to {MAX_BATCH} members", "memberIds",
                          message_zh=f"每批参保人数须在1至{MAX_BATCH}人之间")
    await require_enrol(tenant, principal, unit_id)
    try:
        return await _enrol(tenant, principal, actor, plan, plans, unit_id, unit_kind, member_ids, shares, batch_key, on)
    except Exception as exc:
        # Two batches naming one member at once: the checks of both passed, the unique key lets one in
        # and the whole other batch rolls back.
        if not _is_unique_violation(exc):
            raise
        raise DomainError(ErrorCode.DUPLICATE, "a member in this batch was enrolled meanwhile", "memberIds",
                          message_zh="批次中有会员刚被其他批次参保，请刷新后重试") from None


async def require_enrol(tenant: TenantContext, principal: Principal, unit_id: int) -> None:
    """The caller may enrol members of ``unit_id``: NOT_FOUND for an unknown unit or one outside their
    reach, FORBIDDEN where they may only read."""
    unit = await get_unit(tenant, unit_id)
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId", message_zh="单位不存在")
    require_in_subtree(principal, "mutual_aid.enrol", unit["path"], what="org unit", field="orgUnitId",
                       read_action="mutual_aid.read")


def _is_unique_violation(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name == "UniqueViolationError" or (name == "IntegrityError" and "UNIQUE" in str(exc).upper())


async def _enrol(tenant: TenantContext, principal: Principal, actor: Actor, plan: Plan, plans: dict[str, Plan],
                 unit_id: int, unit_kind: UnitKind, member_ids: Sequence[int], shares: int | Sequence[int],
                 batch_key: str, on: dt.date) -> list[dict[str, Any]]:
    each = [shares] * len(member_ids) if isinstance(shares, int) else list(shares)
    if len(each) != len(member_ids):
        raise DomainError(ErrorCode.INVALID_INPUT, "one number of shares per member", "shares", message_zh="份数与人数不符")
    shares_of = dict(zip(member_ids, each, strict=True))
    term_start, _ = plan.term.bounds(on)
    cover_from, cover_to = cover_period(plan, on)
    async with transaction():
        roster = await raw("SELECT id, org_unit_id, gender, birth_date, work_status FROM member "
                           "WHERE tenant_id = {} AND org_unit_id = {} AND state = 'joined'", tenant.id, unit_id)
        named = {r["id"]: r for r in await raw(
            "SELECT id, org_unit_id, gender, birth_date, work_status, joined_on FROM member "
            f"WHERE tenant_id = {{}} AND id {ids_in(member_ids)} AND state = 'joined'", tenant.id)}
        covered = await raw("SELECT member_id, plan_code, shares, org_unit_id, created_at FROM mutual_aid_enrolment "
                            f"WHERE tenant_id = {{}} AND cover_to >= {{}} AND (member_id {ids_in(member_ids)} "
                            "OR org_unit_id = {})", tenant.id, on, unit_id)
        held: dict[int, tuple[str, ...]] = {}
        for r in covered:
            held[r["member_id"]] = (*held.get(r["member_id"], ()), r["plan_code"])
        mine = [r for r in covered if r["plan_code"] == plan.code and r["org_unit_id"] == unit_id]
        eligible = sum(1 for r in roster if not eligibility_problems(
            plan, sex=_candidate(r, 1, ()).sex, birth=r["birth_date"], on=on, retired=r["work_status"] in RETIRED,
            work_status=r["work_status"]))
        # a member of another unit or tenant, or no member at all, is "not of this unit"
        candidates = [_candidate(named[m], shares_of[m], held.get(m, ())) if m in named
                      else Candidate(member_id=m, org_unit_id=-1, shares=shares_of[m]) for m in member_ids]
        new_hires = bool(mine) and plan.enrolment.new_hire_days is not None
        problems = batch_problems(plan, plans, unit_id=unit_id, unit_kind=unit_kind, eligible=eligible,
                                  already_enrolled=len(mine), existing_shares=[r["shares"] for r in mine],
                                  candidates=candidates, on=on, check_ratio=not new_hires)
        if new_hires:
            enrolled_on = min(as_utc(r["created_at"]).astimezone(CHINA).date() for r in mine)
            problems += [(m, p) for m in member_ids if m in named and named[m]["org_unit_id"] == unit_id
                         for p in new_hire_problems(plan, unit_enrolled_on=enrolled_on, joined_on=_date(named[m]["joined_on"]),
                                                    on=on)]
        if problems:
            raise DomainErrors([
                DomainError(ErrorCode.NOT_ELIGIBLE, "enrolment refused" + ("" if m is None else f" for member {m}"),
                            "memberIds", message_zh=reason, extensions=None if m is None else {"memberId": m})
                for m, reason in problems])
        rows = []
        for m in member_ids:
            rows += await raw(
                "INSERT INTO mutual_aid_enrolment (tenant_id, org_unit_id, plan_code, member_id, term_start, shares, "
                "cover_from, cover_to, premium_fen, batch_key, created_by, created_at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING *",
                tenant.id, unit_id, plan.code, m, term_start, shares_of[m], cover_from, cover_to,
                shares_of[m] * plan.premium_per_share_fen, batch_key, principal.user_id, utcnow())
        await audit_record(tenant, actor, "mutual_aid.enrolment.batch", "OrgUnit", unit_id,
                           {"plan": plan.code, "members": len(rows), "shares": sorted(set(each))})
    return rows

"""The worker portal's hardship fields (职工自助): the self-test, applying for aid, following the case.

Every field starts from the caller (``require_worker``): a worker reaches only the archive of the
household they belong to, and another worker's case reads as NOT_FOUND, like an id that does not
exist. The self-test asks the tenant's classification hooks and stores nothing; only applying writes.
What a worker sees of a case is its state, category, reasons and the dated steps; staff names and
staff-internal notes (objections, their handling) stay out.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    UserError,
    WorkerSelf,
    audit_record,
    for_query,
    from_global_id,
    get_unit,
    perm,
    raw,
    require_worker,
    run_mutation,
    to_global_id,
    utcnow,
    workflow_timeline,
)
from huijia_hardship import services
from huijia_hardship.interface import AID_TYPE_ZH, CATEGORY_ZH, HouseholdFacts
from huijia_hardship.workflow import ARCHIVE, GRANT_STATES_ZH, STATES_ZH

# Steps whose reasons are the union's answer to the worker (a refusal must state its reasons); the
# reasons of the other steps (objections from the public notice, their handling) are staff-internal.
_REASONS_SHOWN = ("reject", "exit", "cancel")


@strawberry.input(description="The worker's own household figures for the self-test or an application "
                              "(monthly fen; yearly costs in fen).")
class HardshipSelfTestInput:
    household_size: int = strawberry.field(description="People in the household (1 to 20).")
    monthly_income_fen: BigInt = strawberry.field(description="Household disposable income per month (annual ÷ 12).")  # type: ignore[valid-type]
    monthly_rigid_expense_fen: BigInt = strawberry.field(description="刚性支出 per month (annual ÷ 12).")  # type: ignore[valid-type]
    health: str = strawberry.field(default="healthy", description="The worker's health: healthy | chronic | "
                                   "serious_illness | malignant_tumour | end_stage_renal | disabled_1..disabled_4.")
    yearly_hardship_cost_fen: BigInt = 0  # type: ignore[valid-type]
    accident: bool = False
    migrant: bool = False
    employment_months: int = 0
    homes: int = 1
    business_owner: bool = False
    study_abroad_self_paid: bool = False


@strawberry.type(description="What the province's rules say about the figures entered (nothing is stored).")
class HardshipSelfTestResult:
    category: str = strawberry.field(description="deep | relative | accident | none.")
    category_label: str
    reasons: list[str]
    excluded: bool
    eligible: bool = strawberry.field(description="The figures would qualify for an archive.")
    rule_version: str


@strawberry.type(description="A step of the worker's case, as the worker sees it (no staff names or internal notes).")
class HardshipMyStep:
    action_label: str
    state_label: str
    reasons: list[str]
    at: dt.datetime


@strawberry.type(description="An aid grant of the worker's household.")
class HardshipMyGrant:
    id: strawberry.ID = strawberry.field(description="The grant (a HardshipGrant id; the worker rates it by its "
                                                     "database id once paid).")
    aid_type_label: str
    amount_fen: BigInt  # type: ignore[valid-type]
    state: str
    state_label: str
    created_at: dt.datetime


@strawberry.type(description="The worker's own hardship case (their household's archive).")
class HardshipMyCase:
    id: strawberry.ID
    state: str
    state_label: str
    category: str
    category_label: str
    reasons: list[str]
    created_at: dt.datetime
    _pk: strawberry.Private[int]
    _tenant: strawberry.Private[Any]

    @strawberry.field(description="The case's steps, oldest first.")
    async def timeline(self) -> list[HardshipMyStep]:
        steps = await workflow_timeline(self._tenant, ARCHIVE, self._pk)
        out = []
        for s in steps:
            t = ARCHIVE.transition(s.transition)
            out.append(HardshipMyStep(action_label=t.label_zh if t else "提交申请",
                                      state_label=STATES_ZH.get(s.to_state, s.to_state),
                                      reasons=list(s.reasons) if s.transition in _REASONS_SHOWN else [], at=s.at))
        return out

    @strawberry.field(description="Aid granted on this case, newest first.")
    async def grants(self) -> list[HardshipMyGrant]:
        from huijia_hardship.aid import GRANTS_SQL

        rows = await raw(f"{GRANTS_SQL} AND g.archive_id = {{}} ORDER BY g.id DESC", self._tenant.id, self._pk)
        return [HardshipMyGrant(id=strawberry.ID(to_global_id("HardshipGrant", r["id"])), aid_type_label=AID_TYPE_ZH.get(r["aid_type"], r["aid_type"]),
                                amount_fen=r["amount_fen"], state=r["state"],
                                state_label=GRANT_STATES_ZH.get(r["state"], r["state"]), created_at=r["created_at"])
                for r in rows]


def _my_case(tenant: Any, r: dict[str, Any]) -> HardshipMyCase:
    c = json.loads(r["classification"]) if isinstance(r["classification"], str) else (r["classification"] or {})
    category = c.get("category") or "none"
    return HardshipMyCase(id=strawberry.ID(to_global_id("HardshipMyCase", r["id"])), state=r["state"],
                          state_label=STATES_ZH.get(r["state"], r["state"]), category=category,
                          category_label=CATEGORY_ZH.get(category, category), reasons=list(c.get("reasons") or []),
                          created_at=r["created_at"], _pk=int(r["id"]), _tenant=tenant)


async def _own_household(me: WorkerSelf) -> int | None:
    """The household the worker's member record belongs to (one household per person)."""
    member_id = me.require_member()
    rows = await raw("SELECT household_id FROM household_person WHERE tenant_id = {} AND member_id = {}",
                     me.tenant.id, member_id)
    return int(rows[0]["household_id"]) if rows else None


async def _area_code(me: WorkerSelf) -> str:
    """The 民政 area of the worker's union, or of its nearest union above that has one (a company's
    union often has none of its own; its district does)."""
    unit = await get_unit(me.tenant, me.member_unit_id) if me.member_unit_id else None
    if unit is None:
        return ""
    ids = [int(x) for x in str(unit["path"]).strip("/").split("/") if x.isdigit()]
    if not ids:
        return ""
    rows = await raw(f"SELECT area_code FROM org_unit WHERE tenant_id = {{}} AND id IN ({', '.join(map(str, ids))}) "
                     "AND area_code IS NOT NULL AND area_code <> '' ORDER BY length(path) DESC LIMIT 1", me.tenant.id)
    return str(rows[0]["area_code"])[:6] if rows else ""


def _validate(i: HardshipSelfTestInput) -> None:
    problems = services.Finances(monthly_income_fen=i.monthly_income_fen,
                                 monthly_rigid_expense_fen=i.monthly_rigid_expense_fen,
                                 yearly_hardship_cost_fen=i.yearly_hardship_cost_fen,
                                 employment_months=i.employment_months, homes=i.homes).problems()
    if not 1 <= i.household_size <= 20:
        problems.insert(0, DomainError(ErrorCode.INVALID_INPUT, "householdSize must be 1 to 20", "householdSize",
                                       "家庭人口须为1至20人"))
    if i.health not in services.HEALTH:
        problems.append(DomainError(ErrorCode.INVALID_INPUT, f"unknown health status {i.health!r}", "health",
                                    "健康状况不在规定选项内"))
    if problems:
        from core.sdk import DomainErrors

        raise problems[0] if len(problems) == 1 else DomainErrors(problems)


def _finances(i: HardshipSelfTestInput) -> services.Finances:
    return services.Finances(monthly_income_fen=i.monthly_income_fen,
                             monthly_rigid_expense_fen=i.monthly_rigid_expense_fen,
                             yearly_hardship_cost_fen=i.yearly_hardship_cost_fen, accident=i.accident,
                             employment_months=i.employment_months, homes=i.homes, business_owner=i.business_owner,
                             study_abroad_self_paid=i.study_abroad_self_paid)


async def _self_test(me: WorkerSelf, i: HardshipSelfTestInput) -> HardshipSelfTestResult:
    from huijia_hardship.plugin import classify
    from huijia_hardship.services import dibao_line

    _validate(i)
    area, year = await _area_code(me), utcnow().year
    # The capability's own 低保 hook (which asks core's deprecated one last), as a clerk's case does.
    dibao = dibao_line(me.tenant, area, year) if area else None
    facts = HouseholdFacts(region_code=area, year=year, household_size=i.household_size,
                           monthly_income_fen=i.monthly_income_fen, monthly_rigid_expense_fen=i.monthly_rigid_expense_fen,
                           dibao_line_fen=dibao, accident=i.accident, yearly_hardship_cost_fen=i.yearly_hardship_cost_fen,
                           migrant=i.migrant, employment_months=i.employment_months, homes=i.homes,
                           business_owner=i.business_owner, study_abroad_self_paid=i.study_abroad_self_paid)
    c = classify(me.tenant, facts)
    return HardshipSelfTestResult(category=c.category, category_label=CATEGORY_ZH.get(c.category, c.category),
                                  reasons=list(c.reasons), excluded=c.excluded,
                                  eligible=c.category != "none" and not c.excluded, rule_version=c.rule_version)


async def _require_own_case(me: WorkerSelf, gid: strawberry.ID) -> dict[str, Any]:
    pk = from_global_id(gid, "HardshipMyCase")[1]
    member_id = me.require_member()
    row = await services.load(me.tenant, pk)
    household = await _own_household(me)
    me.require_own_member(member_id if row is not None and household == int(row["household_id"]) else None,
                          "hardship case")
    assert row is not None
    return row


@strawberry.type
class HardshipPortalQuery:
    @strawberry.field(description=perm("worker.self", "What the province's rules say about your household's "
                                                      "figures. Nothing is stored."))
    @for_query
    async def hardship_self_test(self, info: Info, input: HardshipSelfTestInput) -> HardshipSelfTestResult:
        return await _self_test(await require_worker(info), input)

    @strawberry.field(description=perm("worker.self", "The cases of your own household, newest first (empty before "
                                                      "you apply)."))
    @for_query
    async def my_hardship_cases(self, info: Info) -> list[HardshipMyCase]:
        me = await require_worker(info)
        if me.member_id is None:
            return []
        household = await _own_household(me)
        if household is None:
            return []
        rows = await raw(f"{services._ARCHIVE_SQL} AND a.household_id = {{}} ORDER BY a.id DESC",
                         me.tenant.id, household)
        return [_my_case(me.tenant, r) for r in rows]

    @strawberry.field(description=perm("worker.self", "One case of your own household; NOT_FOUND for anyone else's."))
    @for_query
    async def my_hardship_case(self, info: Info, id: strawberry.ID) -> HardshipMyCase:
        me = await require_worker(info)
        return _my_case(me.tenant, await _require_own_case(me, id))


@strawberry.type
class HardshipMyCasePayload:
    case: HardshipMyCase | None = None
    errors: list[UserError]


@strawberry.type
class HardshipPortalMutation:
    @strawberry.mutation(description=perm("worker.self", "Apply for hardship aid (建档申请) for your own household "
                                                         "with these figures; the union reviews it. One open case per "
                                                         "household (DUPLICATE)."))
    async def hardship_apply(self, info: Info, input: HardshipSelfTestInput) -> HardshipMyCasePayload:
        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            _validate(input)
            household = await _own_household(me)
            if household is None:
                raise DomainError(ErrorCode.INVALID_STATE, "your household is not registered with the union", None,
                                  "您的家庭信息尚未登记，请先联系所在工会登记家庭成员")
            self_person = await raw("SELECT id FROM household_person WHERE tenant_id = {} AND member_id = {}",
                                    me.tenant.id, me.member_id)
            area = await _area_code(me)
            inp = services.ArchiveInput(
                household_id=household, tier="grassroots", finances=_finances(input), area_code=area or None,
                migrant=input.migrant, person_health={int(self_person[0]["id"]): input.health} if self_person else {})
            pk = await services.create_archive(me.tenant, me.principal, info.context.actor, inp, own_household=True)
            await audit_record(me.tenant, info.context.actor, "hardship.worker.apply", "HardshipArchive", pk, {})
            row = await services.load(me.tenant, pk)
            assert row is not None
            return {"case": _my_case(me.tenant, row)}

        return await run_mutation(HardshipMyCasePayload, work)

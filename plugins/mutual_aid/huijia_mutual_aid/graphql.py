"""The mutual_aid capability's GraphQL: the tenant's plans, and a benefit estimate for a claim.

Nothing here checks whether the tenant enabled the capability: the host gates every field (a query
refuses with CAPABILITY_NOT_ENABLED).
"""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    UserError,
    for_query,
    from_global_id,
    perm,
    run_mutation,
    to_global_id,
)
from huijia_mutual_aid.interface import Claim, Enrolment, History, Plan
from huijia_mutual_aid.rules import china_today

MAX_FEN = 10**12  # 100 亿元: far above any real cost, far below the 64-bit range


@strawberry.type
class MutualAidPayer:
    level: str
    amount_fen: BigInt  # type: ignore[valid-type]


@strawberry.type
class MutualAidClaimKind:
    code: str
    label: str


@strawberry.type
class MutualAidUnitRatio:
    unit_kind: str
    min_ratio_bp: int


@strawberry.type(description="A mutual-aid plan a province plugin offers (互助保障计划).")
class MutualAidPlan:
    code: str
    name_zh: str
    fund: str
    premium_per_share_fen: BigInt  # type: ignore[valid-type]
    payers: list[MutualAidPayer]
    max_shares: int
    equal_shares: bool
    term_kind: str
    term_number: int | None
    term_starts_on: dt.date | None
    term_ends_on: dt.date | None
    cover_after_days: int
    claim_within_days: int | None
    claim_deadline: dt.date | None
    cap_per_case_fen: BigInt | None  # type: ignore[valid-type]
    cap_per_year_fen: BigInt | None  # type: ignore[valid-type]
    cap_per_term_fen: BigInt | None  # type: ignore[valid-type]
    excludes: list[str]
    claim_kinds: list[MutualAidClaimKind]
    group_only: bool
    min_ratio_bp: int
    min_ratio_by_unit_kind: list[MutualAidUnitRatio]
    small_unit_staff: int | None
    small_unit_ratio_bp: int | None
    new_hire_days: int | None
    retirees_excluded: bool
    # The day after the accident at which a disability still in treatment is graded, and the claim
    # kinds it applies to (their claims ask for the grading and treatment-end dates).
    disability_grading_day: int | None
    disability_kinds: list[str]

    @classmethod
    def of(cls, p: Plan) -> MutualAidPlan:
        e = p.enrolment
        return cls(
            code=p.code, name_zh=p.name_zh, fund=p.fund, premium_per_share_fen=p.premium_per_share_fen,
            payers=[MutualAidPayer(level=x.level, amount_fen=x.amount_fen) for x in p.payers],
            max_shares=p.max_shares, equal_shares=p.equal_shares, term_kind=p.term.kind.value,
            term_number=p.term.number, term_starts_on=p.term.starts_on, term_ends_on=p.term.ends_on,
            cover_after_days=p.cover_after_days, claim_within_days=p.claim_within_days,
            claim_deadline=p.claim_deadline, cap_per_case_fen=p.cap_per_case_fen,
            cap_per_year_fen=p.cap_per_year_fen, cap_per_term_fen=p.cap_per_term_fen, excludes=list(p.excludes),
            claim_kinds=[MutualAidClaimKind(code=c, label=label) for c, label in p.claim_kinds],
            group_only=e.group_only, min_ratio_bp=e.min_ratio_bp,
            min_ratio_by_unit_kind=[MutualAidUnitRatio(unit_kind=k.value, min_ratio_bp=bp)
                                    for k, bp in e.min_ratio_bp_by_kind],
            small_unit_staff=e.small_unit_staff, small_unit_ratio_bp=e.small_unit_ratio_bp,
            new_hire_days=e.new_hire_days, retirees_excluded=p.eligibility.retirees_excluded,
            disability_grading_day=p.disability_grading_day, disability_kinds=list(p.disability_kinds),
        )


@strawberry.type
class MutualAidBenefitItem:
    label: str
    amount_fen: BigInt  # type: ignore[valid-type]
    note: str


@strawberry.type(description="A claim's benefit: the province's formula, itemised, then the plan's caps.")
class MutualAidBenefit:
    amount_fen: BigInt  # type: ignore[valid-type]
    items: list[MutualAidBenefitItem]
    capped_by: str | None


@strawberry.input(description="A claim to estimate: what happened and what it cost (fen), and what was paid before.")
class MutualAidEstimateInput:
    plan: str
    kind: str
    event_date: dt.date
    shares: int = 1
    admitted_on: dt.date | None = None
    discharged_on: dt.date | None = None
    covered_cost_fen: BigInt = 0  # type: ignore[valid-type]
    own_cost_fen: BigInt = 0  # type: ignore[valid-type]
    deductible_fen: BigInt = 0  # type: ignore[valid-type]
    excess_bed_fen: BigInt = 0  # type: ignore[valid-type]
    non_insured_fen: BigInt = 0  # type: ignore[valid-type]
    tier: int | None = None
    paid_in_year_fen: BigInt = 0  # type: ignore[valid-type]
    paid_in_term_fen: BigInt = 0  # type: ignore[valid-type]


def _claim_of(i: MutualAidEstimateInput, plan: Plan) -> tuple[Enrolment, Claim, History]:
    money = {"coveredCostFen": i.covered_cost_fen, "ownCostFen": i.own_cost_fen, "deductibleFen": i.deductible_fen,
             "excessBedFen": i.excess_bed_fen, "nonInsuredFen": i.non_insured_fen,
             "paidInYearFen": i.paid_in_year_fen, "paidInTermFen": i.paid_in_term_fen}
    for name, value in money.items():
        if not 0 <= value <= MAX_FEN:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{name} must be between 0 and {MAX_FEN}", name,
                              message_zh="金额超出范围")
    if plan.claim_kind_label(i.kind) is None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"plan {plan.code!r} pays no claim of kind {i.kind!r}", "kind",
                          message_zh="本计划不保障该类事项")
    if not 1 <= i.shares <= plan.max_shares:
        raise DomainError(ErrorCode.INVALID_INPUT, f"shares must be between 1 and {plan.max_shares}", "shares",
                          message_zh=f"每人参保份数须在1至{plan.max_shares}份之间")
    if (i.admitted_on is None) != (i.discharged_on is None) or (
        i.admitted_on is not None and i.discharged_on is not None and i.admitted_on > i.discharged_on
    ):
        raise DomainError(ErrorCode.INVALID_INPUT, "a stay needs both dates, admission first", "dischargedOn",
                          message_zh="住院须填写入院和出院日期，且入院在前")
    if i.tier is not None and not 1 <= i.tier <= 10:
        raise DomainError(ErrorCode.INVALID_INPUT, "tier must be between 1 and 10", "tier",
                          message_zh="档次须在1至10之间")
    start, end = plan.term.bounds(i.event_date)
    enrolment = Enrolment(plan_code=plan.code, shares=i.shares, cover_from=start, cover_to=end)
    claim = Claim(kind=i.kind, event_date=i.event_date, admitted_on=i.admitted_on, discharged_on=i.discharged_on,
                  covered_cost_fen=i.covered_cost_fen, own_cost_fen=i.own_cost_fen, deductible_fen=i.deductible_fen,
                  excess_bed_fen=i.excess_bed_fen, non_insured_fen=i.non_insured_fen, tier=i.tier)
    return enrolment, claim, History(paid_in_year_fen=i.paid_in_year_fen, paid_in_term_fen=i.paid_in_term_fen)


@strawberry.type
class MutualAidQuery:
    @strawberry.field(description=perm("mutual_aid.read", "The mutual-aid plans the tenant's province offers."))
    @for_query
    async def mutual_aid_plans(self, info: Info) -> list[MutualAidPlan]:
        from huijia_mutual_aid.plans import plans_for

        tenant, _ = info.context.require("mutual_aid.read")
        return [MutualAidPlan.of(p) for p in plans_for(tenant).values()]

    @strawberry.field(description=perm("mutual_aid.read", "Estimate a claim's benefit under a plan (测算), "
                                       "with the itemised breakdown and any cap that cut it; nothing is stored."))
    @for_query
    async def mutual_aid_benefit_estimate(self, info: Info, input: MutualAidEstimateInput) -> MutualAidBenefit:
        from huijia_mutual_aid.plans import benefit_for, plan_for

        tenant, _ = info.context.require("mutual_aid.read")
        plan = plan_for(tenant, input.plan)
        enrolment, claim, history = _claim_of(input, plan)
        result = benefit_for(tenant, plan, enrolment, claim, history)
        return MutualAidBenefit(amount_fen=result.amount_fen, capped_by=result.capped_by,
                                items=[MutualAidBenefitItem(label=x.label_zh, amount_fen=x.amount_fen, note=x.note_zh)
                                       for x in result.items])


@strawberry.type(description="A member's cover under a plan for one term (参保记录).")
class MutualAidEnrolment:
    id: strawberry.ID
    plan_code: str
    member_id: strawberry.ID
    org_unit_id: strawberry.ID
    shares: int
    cover_from: dt.date
    cover_to: dt.date
    premium_fen: BigInt  # type: ignore[valid-type]

    @classmethod
    def of(cls, r: dict) -> MutualAidEnrolment:
        return cls(id=strawberry.ID(to_global_id("MutualAidEnrolment", r["id"])), plan_code=r["plan_code"],
                   member_id=strawberry.ID(to_global_id("Member", r["member_id"])),
                   org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])), shares=r["shares"],
                   cover_from=r["cover_from"], cover_to=r["cover_to"], premium_fen=r["premium_fen"])


@strawberry.enum
class MutualAidUnitKind(enum.Enum):
    GOVERNMENT = "government"
    INSTITUTION = "institution"
    STATE_OWNED = "state_owned"
    OTHER = "other"


@strawberry.input(description="A unit union's batch: members of the unit, each with the same number of shares.")
class MutualAidEnrolInput:
    plan: str
    org_unit_id: strawberry.ID
    unit_kind: MutualAidUnitKind
    member_ids: list[strawberry.ID]
    shares: int = 1
    batch_key: str


@strawberry.type
class MutualAidEnrolPayload:
    enrolments: list[MutualAidEnrolment] = strawberry.field(default_factory=list)
    errors: list[UserError]


@strawberry.type
class MutualAidMutation:
    @strawberry.mutation(description=perm("mutual_aid.enrol", "Enrol a batch of the unit's members under a plan "
                                          "(all or nothing: ratio, duplicates, exclusive plans, eligibility)."))
    async def mutual_aid_enrol(self, info: Info, input: MutualAidEnrolInput) -> MutualAidEnrolPayload:
        from huijia_mutual_aid.enrolment import enrol_batch
        from huijia_mutual_aid.interface import UnitKind

        async def work() -> dict:
            tenant, principal = info.context.require("mutual_aid.read")
            unit_id = from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")[1]
            members = [from_global_id(m, "Member", "memberIds")[1] for m in input.member_ids]
            if not input.batch_key.strip() or len(input.batch_key) > 64:
                raise DomainError(ErrorCode.INVALID_INPUT, "batchKey must have 1 to 64 characters", "batchKey",
                                  message_zh="批次号须为1至64个字符")
            rows = await enrol_batch(tenant, principal, info.context.actor, plan_code=input.plan, unit_id=unit_id,
                                     unit_kind=UnitKind(input.unit_kind.value), member_ids=members,
                                     shares=input.shares, batch_key=input.batch_key.strip(), on=china_today())
            return {"enrolments": [MutualAidEnrolment.of(r) for r in rows]}

        return await run_mutation(MutualAidEnrolPayload, work)


@strawberry.input(description="A unit union's batch from the enrolment template (XLSX: 身份证号, 姓名, 份数), "
                              "downloaded from /mutual_aid/enrolment-template/<plan>.")
class MutualAidEnrolTemplateInput:
    plan: str
    org_unit_id: strawberry.ID
    unit_kind: MutualAidUnitKind
    batch_key: str
    content_base64: str


@strawberry.type
class MutualAidTemplateMutation:
    @strawberry.mutation(description=perm("mutual_aid.enrol", "Enrol the members of a filled-in enrolment template "
                                          "as one batch (all or nothing, with every check of mutualAidEnrol); each "
                                          "refusal names its row in extensions.row and in messageZh."))
    async def mutual_aid_enrol_from_template(self, info: Info, input: MutualAidEnrolTemplateInput) -> MutualAidEnrolPayload:
        import base64
        import binascii

        from huijia_mutual_aid.interface import UnitKind
        from huijia_mutual_aid.template import MAX_FILE, enrol_from_template

        async def work() -> dict:
            tenant, principal = info.context.require("mutual_aid.read")
            unit_id = from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")[1]
            if not input.batch_key.strip() or len(input.batch_key) > 64:
                raise DomainError(ErrorCode.INVALID_INPUT, "batchKey must have 1 to 64 characters", "batchKey",
                                  message_zh="批次号须为1至64个字符")
            if len(input.content_base64) > MAX_FILE * 4 // 3 + 8:
                raise DomainError(ErrorCode.INVALID_INPUT, "the file is larger than 5 MB", "content", message_zh="文件过大")
            try:
                content = base64.b64decode(input.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise DomainError(ErrorCode.INVALID_INPUT, "content is not base64", "content",
                                  message_zh="文件编码不正确") from None
            rows = await enrol_from_template(tenant, principal, info.context.actor, plan_code=input.plan, unit_id=unit_id,
                                             unit_kind=UnitKind(input.unit_kind.value), content=content,
                                             batch_key=input.batch_key.strip(), on=china_today())
            return {"enrolments": [MutualAidEnrolment.of(r) for r in rows]}

        return await run_mutation(MutualAidEnrolPayload, work)

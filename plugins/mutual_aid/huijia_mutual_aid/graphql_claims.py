"""The mutual_aid capability's GraphQL for money and claims: premiums, a member's cover, claims and their
review, automatic claims from a hospital-stay file, enrolment lists and the year-end settlement.

Lists are connections scoped to the caller's subtrees (``scope_clause``); a page's documents are read
in one query. Personal data is masked: ID numbers and names as core masks them, hospitals to their
first two characters.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    Connection,
    DomainError,
    ErrorCode,
    Info,
    UserError,
    connection,
    find_members_by_id_number,
    for_query,
    from_global_id,
    get_member,
    get_unit,
    mask_id_number,
    mask_name,
    page_args,
    perm,
    raw,
    require_worker,
    run_mutation,
    scope_clause,
    to_global_id,
    workflow_timeline_many,
)
from huijia_mutual_aid.graphql import MutualAidBenefitItem, MutualAidEnrolment
from huijia_mutual_aid.rules import china_today, ids_in
from huijia_mutual_aid.workflow import STATES_ZH


def _gid(kind: str, pk: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(kind, int(pk)))


def _b64(value: str, field: str, limit: int) -> bytes:
    if len(value) > limit * 4 // 3 + 8:
        raise DomainError(ErrorCode.INVALID_INPUT, f"the file is larger than {limit // (1024 * 1024)} MB", field,
                          message_zh="文件过大")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is not base64", field, message_zh="文件编码不正确") from None


def _mask_hospital(name: str) -> str:
    return name[:2] + "**" if name else ""


# -- premiums -----------------------------------------------------------------------------------------


@strawberry.type(description="One payer's part of an enrolment's premium for a term, posted to the plan's fund.")
class MutualAidPremium:
    enrolment_id: strawberry.ID
    term_start: dt.date
    level: str
    payer_unit_id: strawberry.ID
    amount_fen: BigInt  # type: ignore[valid-type]
    entry_id: strawberry.ID


@strawberry.type
class MutualAidPremiumsPayload:
    premiums: list[MutualAidPremium] = strawberry.field(default_factory=list)
    errors: list[UserError]


# -- cover --------------------------------------------------------------------------------------------


@strawberry.type(description="A member's cover under one plan: shares, dates, what was paid, what is left.")
class MutualAidCover:
    plan_code: str
    plan_name: str
    enrolment_id: strawberry.ID
    shares: int
    cover_from: dt.date
    cover_to: dt.date
    active: bool
    paid_in_term_fen: BigInt  # type: ignore[valid-type]
    paid_in_year_fen: BigInt  # type: ignore[valid-type]
    term_left_fen: BigInt | None  # type: ignore[valid-type]
    year_left_fen: BigInt | None  # type: ignore[valid-type]
    cap_per_case_fen: BigInt | None  # type: ignore[valid-type]


@strawberry.type(description="A member and their mutual-aid cover (保障查询), personal data masked.")
class MutualAidMemberCover:
    member_id: strawberry.ID
    name_masked: str
    id_number_masked: str
    covers: list[MutualAidCover]


async def _member_cover(tenant: Any, member: dict[str, Any], id_number: str) -> MutualAidMemberCover:
    from huijia_mutual_aid.cover import covers_of

    covers = (await covers_of(tenant, [int(member["id"])], china_today()))[int(member["id"])]
    return MutualAidMemberCover(
        member_id=_gid("Member", member["id"]), name_masked=mask_name(member["name"]),
        id_number_masked=mask_id_number(id_number),
        covers=[MutualAidCover(plan_code=c.plan.code, plan_name=c.plan.name_zh, enrolment_id=_gid("MutualAidEnrolment",
                c.enrolment["id"]), shares=int(c.enrolment["shares"]), cover_from=c.enrolment["cover_from"],
                cover_to=c.enrolment["cover_to"], active=c.active, paid_in_term_fen=c.paid_in_term_fen,
                paid_in_year_fen=c.paid_in_year_fen, term_left_fen=c.term_left_fen, year_left_fen=c.year_left_fen,
                cap_per_case_fen=c.plan.cap_per_case_fen) for c in covers])


# -- claims -------------------------------------------------------------------------------------------


@strawberry.type
class MutualAidDocument:
    id: strawberry.ID
    kind: str
    filename: str
    content_type: str
    size: int
    download_url: str = strawberry.field(description="GET it with the same bearer token (permission-checked and "
                                                     "audited): staff over the claim's union, or the worker whose claim it is.")


@strawberry.type(description="One step of a claim's review, dated: who took it, from which state to which, and why.")
class MutualAidClaimStep:
    seq: int
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    state_label: str
    actor_name: str
    reasons: list[str]
    at: dt.datetime


@strawberry.type(description="A mutual-aid claim (互助保障申请) on the shared review workflow.")
class MutualAidClaim:
    id: strawberry.ID
    plan_code: str
    kind: str
    state: str
    state_label: str
    version: int
    source: str
    member_id: strawberry.ID
    org_unit_id: strawberry.ID
    enrolment_id: strawberry.ID
    term_start: dt.date
    event_date: dt.date
    admitted_on: dt.date | None
    discharged_on: dt.date | None
    hospital_masked: str
    covered_cost_fen: BigInt  # type: ignore[valid-type]
    own_cost_fen: BigInt  # type: ignore[valid-type]
    tier: int | None
    case_ref: str
    graded_on: dt.date | None
    treatment_ended_on: dt.date | None
    amount_fen: BigInt = strawberry.field(description="The payable benefit after caps (fen), as last computed.")  # type: ignore[valid-type]
    capped_by: str | None
    breakdown: list[MutualAidBenefitItem]
    documents: list[MutualAidDocument]
    timeline: list[MutualAidClaimStep] = strawberry.field(description="The review's steps, oldest first. An "
                                                          "automatic claim's first three (entered, checked and "
                                                          "approved by the system from the stay file) are dated "
                                                          "when the file was imported.")
    created_at: dt.datetime


def _steps(c: dict[str, Any], steps: list[Any]) -> list[MutualAidClaimStep]:
    from huijia_mutual_aid.workflow import AUTOMATIC_PATH, CLAIM

    labels = {t.name: t.label_zh for t in CLAIM.transitions}
    labels["open"] = "受理"
    out = []
    if c["source"] == "automatic":
        # its case was written in its final state at import: the steps are the claim's own record
        state: str | None = None
        for seq, (name, target) in enumerate([("open", CLAIM.initial), *[(n, CLAIM.transition(n).target)  # type: ignore[union-attr]
                                                                           for n in AUTOMATIC_PATH]], start=1):
            out.append(MutualAidClaimStep(seq=seq, action=name, action_label=labels.get(name, name), from_state=state,
                                          to_state=target, state_label=STATES_ZH.get(target, target),
                                          actor_name="系统（免申即享）", reasons=[], at=c["created_at"]))
            state = target
    done = len(out)
    out += [MutualAidClaimStep(seq=s.seq, action=s.transition, action_label=labels.get(s.transition, s.transition),
                               from_state=s.from_state, to_state=s.to_state, state_label=STATES_ZH.get(s.to_state, s.to_state),
                               actor_name=s.actor_name, reasons=list(s.reasons), at=s.at)
            for s in steps if s.seq > done]
    return out


def _claim(tenant: Any, c: dict[str, Any], docs: list[dict[str, Any]], steps: list[Any]) -> MutualAidClaim:
    from huijia_mutual_aid.claims import breakdown_of, hospital_of
    from huijia_mutual_aid.http import download_url

    return MutualAidClaim(
        id=_gid("MutualAidClaim", c["id"]), plan_code=c["plan_code"], kind=c["kind"], state=c["state"],
        state_label=STATES_ZH.get(c["state"], c["state"]), version=int(c["version"]), source=c["source"],
        member_id=_gid("Member", c["member_id"]), org_unit_id=_gid("OrgUnit", c["org_unit_id"]),
        enrolment_id=_gid("MutualAidEnrolment", c["enrolment_id"]), term_start=c["term_start"],
        event_date=c["event_date"], admitted_on=c["admitted_on"], discharged_on=c["discharged_on"],
        hospital_masked=_mask_hospital(hospital_of(tenant, c)), covered_cost_fen=int(c["covered_cost_fen"]),
        own_cost_fen=int(c["own_cost_fen"]), tier=c["tier"], case_ref=c["case_ref"],
        graded_on=c["graded_on"], treatment_ended_on=c["treatment_ended_on"], amount_fen=int(c["amount_fen"]),
        capped_by=c["capped_by"],
        breakdown=[MutualAidBenefitItem(label=x["label_zh"], amount_fen=x["amount_fen"], note=x.get("note_zh", ""))
                   for x in breakdown_of(c)],
        documents=[MutualAidDocument(id=_gid("MutualAidDocument", d["id"]), kind=d["kind"], filename=d["filename"],
                                     content_type=d["content_type"], size=int(d["size"]),
                                     download_url=download_url(d["id"])) for d in docs],
        timeline=_steps(c, steps), created_at=c["created_at"])


async def _claims_out(tenant: Any, rows: list[dict[str, Any]]) -> list[MutualAidClaim]:
    from huijia_mutual_aid.workflow import CLAIM

    docs: dict[int, list[dict[str, Any]]] = {}
    steps: dict[int, list[Any]] = {}
    if rows:
        ids = [int(r["id"]) for r in rows]
        for d in await raw("SELECT * FROM mutual_aid_claim_document WHERE tenant_id = {} AND claim_id "
                           f"{ids_in(ids)} ORDER BY id", tenant.id):
            docs.setdefault(int(d["claim_id"]), []).append(d)
        steps = await workflow_timeline_many(tenant, CLAIM, ids)
    return [_claim(tenant, r, docs.get(int(r["id"]), []), steps.get(int(r["id"]), [])) for r in rows]


@strawberry.enum
class MutualAidClaimState(enum.Enum):
    ENTERED = "entered"
    CHECKED = "checked"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


@strawberry.enum
class MutualAidClaimAction(enum.Enum):
    CHECK = "check"
    APPROVE = "approve"
    REJECT = "reject"
    PAY = "pay"
    CANCEL = "cancel"


@strawberry.enum
class MutualAidDocumentKind(enum.Enum):
    APPLICATION = "application"
    DIAGNOSIS = "diagnosis"
    INVOICE = "invoice"
    DISCHARGE = "discharge"
    CERTIFICATE = "certificate"
    DISABILITY = "disability"
    OTHER = "other"


@strawberry.input
class MutualAidDocumentInput:
    kind: MutualAidDocumentKind
    filename: str
    content_base64: str


@strawberry.input(description="A claim: what happened, what it cost (fen), and its documents (PDF, JPEG or PNG).")
class MutualAidClaimInput:
    plan: str
    member_id: strawberry.ID | None = None  # the unit union names the member; a worker claims for themself
    kind: str
    event_date: dt.date
    admitted_on: dt.date | None = None
    discharged_on: dt.date | None = None
    hospital: str = ""
    covered_cost_fen: BigInt = 0  # type: ignore[valid-type]
    own_cost_fen: BigInt = 0  # type: ignore[valid-type]
    deductible_fen: BigInt = 0  # type: ignore[valid-type]
    excess_bed_fen: BigInt = 0  # type: ignore[valid-type]
    non_insured_fen: BigInt = 0  # type: ignore[valid-type]
    tier: int | None = None
    case_ref: str = ""
    graded_on: dt.date | None = strawberry.field(default=None, description="A disability: the day it was graded.")
    treatment_ended_on: dt.date | None = strawberry.field(default=None, description="A disability: the day treatment "
                                                          "ended (empty: not ended when graded).")
    documents: list[MutualAidDocumentInput] = strawberry.field(default_factory=list)


@strawberry.input
class MutualAidClaimFilter:
    plan: str | None = None
    state: MutualAidClaimState | None = None
    org_unit_id: strawberry.ID | None = None
    member_id: strawberry.ID | None = None
    source: str | None = None


@strawberry.type
class MutualAidClaimPayload:
    claim: MutualAidClaim | None = None
    errors: list[UserError]


def _claim_input(i: MutualAidClaimInput, member_id: int) -> Any:
    from huijia_mutual_aid.claims import MAX_DOCUMENT, ClaimInput, Document

    docs = tuple(Document(d.kind.value, d.filename, _b64(d.content_base64, "documents", MAX_DOCUMENT))
                 for d in i.documents)
    return ClaimInput(plan_code=i.plan, member_id=member_id, kind=i.kind, event_date=i.event_date,
                      admitted_on=i.admitted_on, discharged_on=i.discharged_on, hospital=i.hospital.strip(),
                      covered_cost_fen=i.covered_cost_fen, own_cost_fen=i.own_cost_fen, deductible_fen=i.deductible_fen,
                      excess_bed_fen=i.excess_bed_fen, non_insured_fen=i.non_insured_fen, tier=i.tier,
                      case_ref=i.case_ref.strip(), graded_on=i.graded_on, treatment_ended_on=i.treatment_ended_on,
                      documents=docs)


async def _one_claim(tenant: Any, claim_id: int) -> MutualAidClaim:
    from huijia_mutual_aid.claims import load

    row = await load(tenant, claim_id)
    assert row is not None
    return (await _claims_out(tenant, [row]))[0]


# -- stays and settlement -----------------------------------------------------------------------------


@strawberry.type
class MutualAidStaysPayload:
    job_id: strawberry.ID | None = None
    errors: list[UserError]


@strawberry.type
class MutualAidUnitSettlement:
    org_unit_id: strawberry.ID
    name: str
    level: str
    premiums_fen: BigInt  # type: ignore[valid-type]
    claims_fen: BigInt  # type: ignore[valid-type]
    paid_fen: BigInt  # type: ignore[valid-type]
    claims: int
    ratio_bp: int | None


@strawberry.type
class MutualAidLevelAmount:
    level: str
    premiums_fen: BigInt  # type: ignore[valid-type]
    claims_fen: BigInt  # type: ignore[valid-type]
    ratio_bp: int | None


@strawberry.type(description="A plan's term: premiums, approved and paid claims, claims ratio (basis points) "
                             "by unit and level, the hard claim deadline and the closing, if closed.")
class MutualAidSettlementReport:
    plan_code: str
    term_start: dt.date
    claim_deadline: dt.date
    premiums_fen: BigInt  # type: ignore[valid-type]
    claims_fen: BigInt  # type: ignore[valid-type]
    ratio_bp: int | None
    units: list[MutualAidUnitSettlement]
    payer_levels: list[MutualAidLevelAmount] = strawberry.field(description="Premiums by the plan's payer level.")
    unit_levels: list[MutualAidLevelAmount] = strawberry.field(description="Premiums and claims by the unit's level.")
    closed: bool
    surplus_fen: BigInt | None  # type: ignore[valid-type]
    surplus_moved_to: str | None


def _report(r: dict[str, Any]) -> MutualAidSettlementReport:
    s = r["settlement"]
    return MutualAidSettlementReport(
        plan_code=r["plan"].code, term_start=r["term_start"], claim_deadline=r["deadline"],
        premiums_fen=r["premiums_fen"], claims_fen=r["claims_fen"], ratio_bp=r["ratio_bp"],
        units=[MutualAidUnitSettlement(org_unit_id=_gid("OrgUnit", u["unit_id"]), name=u["name"], level=u["level"],
                                       premiums_fen=u["premiums_fen"], claims_fen=u["claims_fen"], paid_fen=u["paid_fen"],
                                       claims=u["claims"], ratio_bp=u["ratio_bp"]) for u in r["units"]],
        payer_levels=[MutualAidLevelAmount(level=k, premiums_fen=v, claims_fen=0, ratio_bp=None)
                      for k, v in r["payer_levels"]],
        unit_levels=[MutualAidLevelAmount(level=k, premiums_fen=p, claims_fen=c, ratio_bp=b)
                     for k, p, c, b in r["unit_levels"]],
        closed=s is not None, surplus_fen=None if s is None else int(s["surplus_fen"]),
        surplus_moved_to=None if s is None else (s["destination"] or None))


@strawberry.type
class MutualAidSettlePayload:
    report: MutualAidSettlementReport | None = None
    errors: list[UserError]


# -- fields -------------------------------------------------------------------------------------------


@strawberry.type
class MutualAidClaimsQuery:
    @strawberry.field(description=perm("mutual_aid.read", "A member's mutual-aid cover, looked up by ID number "
                                       "(blind index; the number is never stored or logged). NOT_FOUND outside "
                                       "the caller's unions."))
    @for_query
    async def mutual_aid_cover(self, info: Info, id_number: str) -> MutualAidMemberCover:
        tenant, principal = info.context.require("mutual_aid.read")
        found = await find_members_by_id_number(tenant, [id_number])
        member = await get_member(tenant, found[id_number]) if id_number in found else None
        unit = await get_unit(tenant, member["org_unit_id"]) if member else None
        if member is None or unit is None or not principal.can("mutual_aid.read", unit["path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "no member with this ID number", "idNumber",
                              message_zh="未找到该身份证号的会员")
        return await _member_cover(tenant, member, id_number)

    @strawberry.field(description=perm("worker.self", "The logged-in worker's own mutual-aid cover."))
    @for_query
    async def mutual_aid_my_cover(self, info: Info) -> MutualAidMemberCover:
        me = await require_worker(info)
        member = await get_member(me.tenant, me.require_member())
        assert member is not None
        from core.sdk import pii_decrypt

        id_number = pii_decrypt(member["id_number_enc"], "member", "id_number", me.tenant.id)
        return await _member_cover(me.tenant, member, id_number)

    @strawberry.field(description=perm("mutual_aid.read", "Claims in the caller's unions, newest first, filtered."))
    @for_query
    async def mutual_aid_claims(self, info: Info, filter: MutualAidClaimFilter | None = None, first: int | None = None,
                                after: str | None = None) -> Connection[MutualAidClaim]:
        from huijia_mutual_aid.claims import CLAIMS_SQL

        tenant, principal = info.context.require("mutual_aid.read")
        page = page_args(first, after)
        cond, args = scope_clause(principal, "mutual_aid.read", "c.org_unit_id", tenant.id)
        where, more = [cond], list(args)
        f = filter or MutualAidClaimFilter()
        if f.plan:
            where.append("c.plan_code = {}")
            more.append(f.plan)
        if f.state:
            where.append("w.state = {}")
            more.append(f.state.value)
        if f.source:
            where.append("c.source = {}")
            more.append(f.source)
        if f.member_id:
            where.append("c.member_id = {}")
            more.append(from_global_id(f.member_id, "Member", "memberId")[1])
        if f.org_unit_id:
            unit = await get_unit(tenant, from_global_id(f.org_unit_id, "OrgUnit", "orgUnitId")[1])
            where.append("o.path LIKE {}")
            more.append((unit["path"] if unit else "/none/") + "%")
        sql = CLAIMS_SQL + " AND " + " AND ".join(where)
        total = await raw(f"SELECT count(*) AS n FROM ({sql}) AS q", tenant.id, *more)
        rows = await raw(sql + " ORDER BY c.id DESC LIMIT {} OFFSET {}", tenant.id, *more, page.limit, page.offset)
        return connection(await _claims_out(tenant, rows), int(total[0]["n"]), page)

    @strawberry.field(description=perm("mutual_aid.read", "One claim, with its itemised benefit and documents."))
    @for_query
    async def mutual_aid_claim(self, info: Info, id: strawberry.ID) -> MutualAidClaim:
        from huijia_mutual_aid.claims import load

        tenant, principal = info.context.require("mutual_aid.read")
        row = await load(tenant, from_global_id(id, "MutualAidClaim", "id")[1])
        if row is None or not principal.can("mutual_aid.read", row["unit_path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "claim not found", "id", message_zh="申请不存在")
        return (await _claims_out(tenant, [row]))[0]

    @strawberry.field(description=perm("mutual_aid.read", "Enrolments in the caller's unions, by plan and unit."))
    @for_query
    async def mutual_aid_enrolments(self, info: Info, plan: str | None = None, org_unit_id: strawberry.ID | None = None,
                                    first: int | None = None, after: str | None = None) -> Connection[MutualAidEnrolment]:
        tenant, principal = info.context.require("mutual_aid.read")
        page = page_args(first, after)
        cond, args = scope_clause(principal, "mutual_aid.read", "e.org_unit_id", tenant.id)
        where, more = [cond], list(args)
        if plan:
            where.append("e.plan_code = {}")
            more.append(plan)
        if org_unit_id:
            where.append("e.org_unit_id = {}")
            more.append(from_global_id(org_unit_id, "OrgUnit", "orgUnitId")[1])
        sql = "FROM mutual_aid_enrolment e WHERE e.tenant_id = {} AND " + " AND ".join(where)
        total = await raw("SELECT count(*) AS n " + sql, tenant.id, *more)
        rows = await raw("SELECT e.* " + sql + " ORDER BY e.id DESC LIMIT {} OFFSET {}", tenant.id, *more, page.limit,
                         page.offset)
        return connection([MutualAidEnrolment.of(r) for r in rows], int(total[0]["n"]), page)

    @strawberry.field(description=perm("mutual_aid.read", "A plan's term settlement: premiums, claims and the claims "
                                       "ratio by unit and level (the caller's unions)."))
    @for_query
    async def mutual_aid_settlement(self, info: Info, plan: str, term_start: dt.date) -> MutualAidSettlementReport:
        from huijia_mutual_aid.settlement import report

        tenant, principal = info.context.require("mutual_aid.read")
        return _report(await report(tenant, principal, plan, term_start))


@strawberry.type
class MutualAidClaimsMutation:
    @strawberry.mutation(description=perm("mutual_aid.premium", "Post the unit's unposted premiums of the current "
                                          "term to the plan's fund (once per enrolment and term)."))
    async def mutual_aid_premiums_pay(self, info: Info, plan: str, org_unit_id: strawberry.ID) -> MutualAidPremiumsPayload:
        from huijia_mutual_aid.premiums import pay_premiums

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("mutual_aid.read")
            rows = await pay_premiums(tenant, principal, info.context.actor, plan_code=plan,
                                      unit_id=from_global_id(org_unit_id, "OrgUnit", "orgUnitId")[1], on=china_today())
            return {"premiums": [MutualAidPremium(
                enrolment_id=_gid("MutualAidEnrolment", r["enrolment_id"]), term_start=r["term_start"], level=r["level"],
                payer_unit_id=_gid("OrgUnit", r["payer_unit_id"]), amount_fen=int(r["amount_fen"]),
                entry_id=_gid("LedgerEntry", r["entry_id"])) for r in rows]}

        return await run_mutation(MutualAidPremiumsPayload, work)

    @strawberry.mutation(description=perm("mutual_aid.claim", "Enter a claim for a member of the caller's unions, "
                                          "with documents; refused claims store nothing."))
    async def mutual_aid_claim_submit(self, info: Info, input: MutualAidClaimInput) -> MutualAidClaimPayload:
        from huijia_mutual_aid.claims import submit

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("mutual_aid.read")
            if input.member_id is None:
                raise DomainError(ErrorCode.INVALID_INPUT, "memberId is required", "memberId", message_zh="请选择会员")
            member = from_global_id(input.member_id, "Member", "memberId")[1]
            claim_id = await submit(tenant, info.context.actor, _claim_input(input, member), principal=principal,
                                    source="unit", on=china_today())
            return {"claim": await _one_claim(tenant, claim_id)}

        return await run_mutation(MutualAidClaimPayload, work)

    @strawberry.mutation(description=perm("worker.self", "A worker's own claim, with documents (memberId, if given, "
                                          "must be their own)."))
    async def mutual_aid_my_claim_submit(self, info: Info, input: MutualAidClaimInput) -> MutualAidClaimPayload:
        from huijia_mutual_aid.claims import submit

        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            if input.member_id is not None:
                me.require_own_member(from_global_id(input.member_id, "Member", "memberId")[1], "member")
            claim_id = await submit(me.tenant, info.context.actor, _claim_input(input, me.require_member()),
                                    principal=None, source="worker", on=china_today())
            return {"claim": await _one_claim(me.tenant, claim_id)}

        return await run_mutation(MutualAidClaimPayload, work)

    @strawberry.mutation(description=perm("mutual_aid.read", "Take a step on a claim: check (clerk or approver), "
                                          "approve (an approver above the unit; reserves the payout), reject or "
                                          "cancel (with reasons), pay (finance)."))
    async def mutual_aid_claim_step(self, info: Info, id: strawberry.ID, action: MutualAidClaimAction,
                                    reasons: list[str] | None = None,
                                    expected_version: int | None = None) -> MutualAidClaimPayload:
        from huijia_mutual_aid.claims import step

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("mutual_aid.read")
            claim_id = from_global_id(id, "MutualAidClaim", "id")[1]
            await step(tenant, principal, info.context.actor, claim_id, action.value, reasons=reasons,
                       expected_version=expected_version)
            return {"claim": await _one_claim(tenant, claim_id)}

        return await run_mutation(MutualAidClaimPayload, work)

    @strawberry.mutation(description=perm("mutual_aid.import", "Import a hospital-stay CSV (免申即享) as a job: "
                                          "covered stays become approved claims, once per stay; unmatched rows are "
                                          "reported in the job's result and never stored."))
    async def mutual_aid_stays_import(self, info: Info, plan: str, kind: str, filename: str,
                                      content_base64: str) -> MutualAidStaysPayload:
        from huijia_mutual_aid.stays import MAX_FILE, upload

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("mutual_aid.read")
            content = _b64(content_base64, "contentBase64", MAX_FILE)
            job_id = await upload(tenant, principal, info.context.actor, plan_code=plan, kind=kind,
                                  filename=filename, content=content)
            return {"job_id": _gid("Job", job_id)}

        return await run_mutation(MutualAidStaysPayload, work)

    @strawberry.mutation(description=perm("mutual_aid.settle", "Settle and close a plan's term after its hard claim "
                                          "deadline; the surplus moves where the province says."))
    async def mutual_aid_settle(self, info: Info, plan: str, term_start: dt.date) -> MutualAidSettlePayload:
        from huijia_mutual_aid.settlement import close

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("mutual_aid.read")
            return {"report": _report(await close(tenant, principal, info.context.actor, plan, term_start,
                                                  china_today()))}

        return await run_mutation(MutualAidSettlePayload, work)



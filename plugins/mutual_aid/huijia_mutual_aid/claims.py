"""Claims: entered by the unit union (or the worker, for themself) with documents, checked against the
plan's rules, approved by an approver above the unit (never the one who entered it), paid by finance.

The claim's steps run on core's state machine (``mutual_aid.claim``, see ``workflow.py``): order,
permission on the claim's unit, reasons and concurrent steps are checked there. The money moves in the
step's own transaction: approval reserves the payable benefit on the plan's fund at the root union,
payment posts that reservation. The benefit is the province's formula (``mutual_aid_benefit``) within
the plan's caps, counted over the member's approved and paid claims; it is computed when the claim is
entered (to show it) and again, under a lock on the enrolment, when it is approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
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
    files,
    get_member,
    get_unit,
    ledger_post_reservation,
    ledger_reserve,
    ledger_void_reservation,
    on_postgres,
    pii_decrypt,
    pii_encrypt,
    raw,
    require_in_subtree,
    roles_for,
    transaction,
    utcnow,
    workflow_open,
    workflow_step,
)
from huijia_mutual_aid.interface import Claim, Enrolment, History, Plan, Sex
from huijia_mutual_aid.plans import benefit_for, plan_for
from huijia_mutual_aid.premiums import plan_accounts
from huijia_mutual_aid.rules import CHINA, claim_refusals
from huijia_mutual_aid.workflow import CLAIM

TABLE = "mutual_aid_claim"
# 维权支出: the union accounting system books mutual-aid payouts with the workers' protection spending.
EXPENSE_CODE = "502"
SPENT = ("approved", "paid")
# A claim holds money (approved, or paid) exactly while it has a reservation: approval writes it in the step
# that approves, payment keeps it, cancelling clears it when it voids it (the ledger keeps the voided
# reservation, naming the claim). Caps are counted on this, in the claim's own row: the claim's state
# would take a join to the cases, which the planner, its statistics behind a large import, walks by
# the wrong index (every case of the capability for each claim).
HOLDS = "c.reservation_id IS NOT NULL"
CAP_LOCK_NAMESPACE = 1414
MAX_FEN = 10**12
MAX_DOCUMENT = 10 * 1024 * 1024
MAX_DOCUMENTS = 10
DOCUMENT_KINDS = {"application": "申请书", "diagnosis": "诊断证明", "invoice": "医疗费用票据", "discharge": "出院小结",
                  "certificate": "事故或死亡证明", "disability": "伤残鉴定", "other": "其他材料"}
SNIFF = (("application/pdf", b"%PDF-"), ("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"))
CLAIMS_SQL = ("SELECT c.*, o.path AS unit_path, w.state, w.version FROM mutual_aid_claim c "
              "JOIN org_unit o ON o.id = c.org_unit_id AND o.tenant_id = c.tenant_id "
              "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'mutual_aid' "
              "AND w.case_type = 'claim' AND w.case_id = c.id WHERE c.tenant_id = {}")


@dataclass(frozen=True)
class Document:
    kind: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class ClaimInput:
    plan_code: str
    member_id: int
    kind: str
    event_date: dt.date
    admitted_on: dt.date | None = None
    discharged_on: dt.date | None = None
    hospital: str = ""
    covered_cost_fen: int = 0
    own_cost_fen: int = 0
    deductible_fen: int = 0
    excess_bed_fen: int = 0
    non_insured_fen: int = 0
    tier: int | None = None
    case_ref: str = ""
    graded_on: dt.date | None = None
    treatment_ended_on: dt.date | None = None
    documents: tuple[Document, ...] = field(default_factory=tuple)


def cap_lock_key(tenant: TenantContext, plan_code: str) -> int:
    """The advisory-lock key of a plan's caps in a tenant (a signed 32-bit int; a collision only makes
    two plans wait on each other)."""
    digest = hashlib.sha256(f"{tenant.id}|{plan_code}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


async def lock_caps(tenant: TenantContext, plan_code: str, *, exclusive: bool) -> None:
    """What a member was already paid may only be read for a payout under this lock, until the payout is
    written: an approval holds it shared (approvals of different members go on side by side; those of one
    member queue on the enrolment row), a stay import exclusively, since it reads the whole plan's
    payouts once and pays many members. Without it a manual approval committing during an import could
    pass a cap the import had already counted up to."""
    if on_postgres():
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await raw(f"SELECT {fn}({{}}, {{}})", CAP_LOCK_NAMESPACE, cap_lock_key(tenant, plan_code))


def for_update() -> str:
    from core.sdk import get_settings

    return " FOR UPDATE" if get_settings().is_postgres else ""


def sniff(content: bytes) -> str | None:
    return next((ctype for ctype, magic in SNIFF if content.startswith(magic)), None)


def _refused(problems: list[tuple[str, str]]) -> DomainError:
    errors = [DomainError(ErrorCode.NOT_ELIGIBLE, f"claim refused: {code.lower().replace('_', ' ')}", "eventDate",
                          message_zh=zh, extensions={"reason": code}) for code, zh in problems]
    return errors[0] if len(errors) == 1 else DomainErrors(errors)


def validate(plan: Plan, i: ClaimInput, *, documents_required: bool) -> None:
    """Shape checks that need no database (typed errors, nothing stored)."""
    if plan.claim_kind_label(i.kind) is None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"plan {plan.code!r} pays no claim of kind {i.kind!r}", "kind",
                          message_zh="本计划不保障该类事项")
    money = {"coveredCostFen": i.covered_cost_fen, "ownCostFen": i.own_cost_fen, "deductibleFen": i.deductible_fen,
             "excessBedFen": i.excess_bed_fen, "nonInsuredFen": i.non_insured_fen}
    for name, value in money.items():
        if not 0 <= value <= MAX_FEN:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{name} must be between 0 and {MAX_FEN}", name,
                              message_zh="金额超出范围")
    if (i.admitted_on is None) != (i.discharged_on is None) or (
            i.admitted_on is not None and i.discharged_on is not None and i.admitted_on > i.discharged_on):
        raise DomainError(ErrorCode.INVALID_INPUT, "a stay needs both dates, admission first", "dischargedOn",
                          message_zh="住院须填写入院和出院日期，且入院在前")
    if i.tier is not None and not 1 <= i.tier <= 10:
        raise DomainError(ErrorCode.INVALID_INPUT, "tier must be between 1 and 10", "tier", message_zh="档次须在1至10之间")
    if i.treatment_ended_on is not None and i.treatment_ended_on < i.event_date:
        raise DomainError(ErrorCode.INVALID_INPUT, "treatment cannot end before the event", "treatmentEndedOn",
                          message_zh="治疗终结日期不能早于事故日期")
    if len(i.hospital) > 100 or len(i.case_ref) > 64:
        raise DomainError(ErrorCode.INVALID_INPUT, "hospital has at most 100 and caseRef 64 characters", "hospital",
                          message_zh="医院名称或案件编号过长")
    if documents_required and not i.documents:
        raise DomainError(ErrorCode.INVALID_INPUT, "a claim needs at least one document", "documents",
                          message_zh="请上传申请材料")
    if len(i.documents) > MAX_DOCUMENTS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_DOCUMENTS} documents", "documents",
                          message_zh=f"材料最多{MAX_DOCUMENTS}份")
    for d in i.documents:
        if d.kind not in DOCUMENT_KINDS:
            raise DomainError(ErrorCode.INVALID_INPUT, f"unknown document kind {d.kind!r}", "documents",
                              message_zh="材料类型不正确")
        if not d.content or len(d.content) > MAX_DOCUMENT or sniff(d.content) is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "a document must be a PDF, JPEG or PNG of at most 10 MB",
                              "documents", message_zh="材料须为10MB以内的PDF、JPG或PNG文件（按文件内容判断）")


def pick_enrolment(rows: list[dict[str, Any]], event: dt.date) -> dict[str, Any] | None:
    """The enrolment whose term holds the event; else the latest before it (its cover ended), else the
    first after it (cover had not started): the claim check then says which."""
    if len(rows) == 1:  # the usual case, whichever of the three it is
        return rows[0]
    holding = [r for r in rows if r["term_start"] <= event <= r["cover_to"]]
    if holding:
        return max(holding, key=lambda r: r["term_start"])
    before = [r for r in rows if r["term_start"] <= event]
    if before:
        return max(before, key=lambda r: r["term_start"])
    return min(rows, key=lambda r: r["term_start"]) if rows else None


_SEX = {"F": Sex.FEMALE, "M": Sex.MALE}


def enrolment_value(e: dict[str, Any], member: dict[str, Any] | None) -> Enrolment:
    gender = (member or {}).get("gender")
    return Enrolment(plan_code=e["plan_code"], shares=int(e["shares"]), cover_from=e["cover_from"], cover_to=e["cover_to"],
                     sex=_SEX.get(gender) if isinstance(gender, str) else None, birth_date=(member or {}).get("birth_date"))


def claim_value(i: ClaimInput | dict[str, Any]) -> Claim:
    g = i.get if isinstance(i, dict) else lambda k: getattr(i, k)
    return Claim(kind=g("kind"), event_date=g("event_date"), admitted_on=g("admitted_on"),
                 discharged_on=g("discharged_on"), covered_cost_fen=int(g("covered_cost_fen")),
                 own_cost_fen=int(g("own_cost_fen")), deductible_fen=int(g("deductible_fen")),
                 excess_bed_fen=int(g("excess_bed_fen")), non_insured_fen=int(g("non_insured_fen")), tier=g("tier"),
                 graded_on=g("graded_on"), treatment_ended_on=g("treatment_ended_on"))


async def history_of(tenant: TenantContext, plan: Plan, member_id: int, term_start: dt.date, event: dt.date,
                     case_ref: str, exclude_id: int | None = None) -> History:
    """What the plan already paid or holds for the member: approved and paid claims (see ``HOLDS``), in the
    event's calendar year, in the term, and on the same case."""
    rows = await raw(
        "SELECT coalesce(sum(CASE WHEN c.event_date >= {} AND c.event_date <= {} THEN c.amount_fen ELSE 0 END), 0) AS yr, "
        "coalesce(sum(CASE WHEN c.term_start = {} THEN c.amount_fen ELSE 0 END), 0) AS term, "
        "coalesce(sum(CASE WHEN c.case_ref = {} AND c.case_ref <> '' THEN c.amount_fen ELSE 0 END), 0) AS cs "
        "FROM mutual_aid_claim c WHERE c.tenant_id = {} AND c.member_id = {} AND c.plan_code = {} AND " + HOLDS +
        " AND c.id <> {}",
        dt.date(event.year, 1, 1), dt.date(event.year, 12, 31), term_start, case_ref, tenant.id, member_id, plan.code,
        exclude_id or 0)
    r = rows[0]
    return History(paid_in_year_fen=int(r["yr"]), paid_in_term_fen=int(r["term"]), paid_on_case_fen=int(r["cs"]))


async def term_closed(tenant: TenantContext, plan_code: str, term_start: dt.date) -> bool:
    rows = await raw("SELECT 1 AS x FROM mutual_aid_settlement WHERE tenant_id = {} AND plan_code = {} AND term_start = {}",
                     tenant.id, plan_code, term_start)
    return bool(rows)


async def submit(tenant: TenantContext, actor: Actor, i: ClaimInput, *, principal: Principal | None, source: str,
                 on: dt.date) -> int:
    """Enter a claim: every check runs first and a refused claim stores nothing.

    ``principal`` is the clerk's (checked on the member's unit); a worker's own claim passes ``None``
    after the caller made sure the member is theirs.

    :raises DomainError: INVALID_INPUT (shape, documents), NOT_FOUND (plan; member outside the caller's
        reach), FORBIDDEN, NOT_ELIGIBLE with ``extensions.reason`` (not enrolled, waiting period, before
        or after cover, deadline, age, term cap spent), INVALID_STATE (the term is settled and closed).
    """
    plan = plan_for(tenant, i.plan_code)
    validate(plan, i, documents_required=True)
    member = await get_member(tenant, i.member_id)
    if member is None:
        raise DomainError(ErrorCode.NOT_FOUND, "member not found", "memberId", message_zh="会员不存在")
    unit = await get_unit(tenant, member["org_unit_id"])
    assert unit is not None
    if principal is not None:
        require_in_subtree(principal, "mutual_aid.claim", unit["path"], what="member", field="memberId",
                           read_action="mutual_aid.read")
    async with transaction():
        enrolments = await raw("SELECT * FROM mutual_aid_enrolment WHERE tenant_id = {} AND member_id = {} AND "
                               "plan_code = {}" + for_update(), tenant.id, i.member_id, plan.code)
        e = pick_enrolment(enrolments, i.event_date)
        if e is None:
            raise _refused([("NOT_ENROLLED", "该会员未参加本计划")])
        if await term_closed(tenant, plan.code, e["term_start"]):
            raise DomainError(ErrorCode.INVALID_STATE, "the term is settled and closed", "eventDate",
                              message_zh="本期已结算关闭，不再受理申请")
        enrolment, claim = enrolment_value(e, member), claim_value(i)
        history = await history_of(tenant, plan, i.member_id, e["term_start"], i.event_date, i.case_ref)
        problems = claim_refusals(plan, enrolment, claim, submitted_on=on, history=history)
        if problems:
            raise _refused(problems)
        benefit = benefit_for(tenant, plan, enrolment, claim, history)
        claim_id = await insert_claim(tenant, e, i, benefit, source=source, actor=actor, stay_key=None)
        await workflow_open(tenant, CLAIM, claim_id, int(e["org_unit_id"]), actor,
                            payload={"plan": plan.code, "kind": i.kind, "source": source})
        for d in i.documents:
            await add_document(tenant, actor, claim_id, d)
        await audit_record(tenant, actor, "mutual_aid.claim.submit", "MutualAidClaim", claim_id,
                           {"plan": plan.code, "kind": i.kind, "source": source, "documents": len(i.documents)})
    return claim_id


async def insert_claim(tenant: TenantContext, e: dict[str, Any], i: ClaimInput, benefit: Any, *, source: str,
                       actor: Actor, stay_key: str | None) -> int:
    rows = await raw(
        "INSERT INTO mutual_aid_claim (tenant_id, org_unit_id, member_id, enrolment_id, plan_code, term_start, kind, "
        "event_date, admitted_on, discharged_on, hospital_enc, covered_cost_fen, own_cost_fen, deductible_fen, "
        "excess_bed_fen, non_insured_fen, tier, case_ref, amount_fen, breakdown, capped_by, source, stay_key, "
        "created_by, created_by_name, created_at, graded_on, treatment_ended_on) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, "
        "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
        tenant.id, e["org_unit_id"], e["member_id"], e["id"], e["plan_code"], e["term_start"], i.kind, i.event_date,
        i.admitted_on, i.discharged_on, pii_encrypt(i.hospital, TABLE, "hospital", tenant.id) if i.hospital else "",
        i.covered_cost_fen, i.own_cost_fen, i.deductible_fen, i.excess_bed_fen, i.non_insured_fen, i.tier, i.case_ref,
        benefit.amount_fen, breakdown_json(benefit), benefit.capped_by, source, stay_key, actor.user_id,
        actor.username[:150], utcnow(), i.graded_on, i.treatment_ended_on)
    return int(rows[0]["id"])


def breakdown_json(benefit: Any) -> str:
    return json.dumps([{"label_zh": x.label_zh, "amount_fen": x.amount_fen, "note_zh": x.note_zh}
                       for x in benefit.items], ensure_ascii=False)


def breakdown_of(c: dict[str, Any]) -> list[dict[str, Any]]:
    value = c["breakdown"]
    return json.loads(value) if isinstance(value, str) else list(value or [])


def hospital_of(tenant: TenantContext, c: dict[str, Any]) -> str:
    return pii_decrypt(c["hospital_enc"], TABLE, "hospital", tenant.id) if c["hospital_enc"] else ""


async def add_document(tenant: TenantContext, actor: Actor, claim_id: int, d: Document) -> int:
    """Store one checked document (the caller validated it and holds the transaction)."""
    name = (d.filename or "file").replace("/", "_").replace("\\", "_")[:200]
    rows = await raw("INSERT INTO mutual_aid_claim_document (tenant_id, claim_id, kind, filename, content_type, size, "
                     "sha256, created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
                     tenant.id, claim_id, d.kind, name, sniff(d.content), len(d.content),
                     hashlib.sha256(d.content).hexdigest(), actor.user_id, utcnow())
    doc_id = int(rows[0]["id"])
    # Written before the transaction commits: a failed write leaves no row pointing at nothing.
    files.store("mutual_aid").store_stream(iter([d.content]), "claim_document", tenant.id, doc_id)
    return doc_id


async def load(tenant: TenantContext, claim_id: int) -> dict[str, Any] | None:
    rows = await raw(CLAIMS_SQL + " AND c.id = {}", tenant.id, claim_id)
    return rows[0] if rows else None


async def step(tenant: TenantContext, principal: Principal, actor: Actor, claim_id: int, action: str, *,
               reasons: list[str] | None = None, expected_version: int | None = None) -> None:
    await workflow_step(tenant, CLAIM, claim_id, action, actor=actor, principal=principal, reasons=reasons or [],
                        expected_version=expected_version)


# -- guards and effects of the claim machine ---------------------------------------------------------


async def _recheck(ctx: Any, c: dict[str, Any]) -> tuple[Plan, Enrolment, Claim, History, list[tuple[str, str]]]:
    plan = plan_for(ctx.tenant, c["plan_code"])
    rows = await raw("SELECT * FROM mutual_aid_enrolment WHERE tenant_id = {} AND id = {}" + for_update(), ctx.tenant.id,
                     c["enrolment_id"])
    member = await get_member(ctx.tenant, int(c["member_id"]))
    enrolment, claim = enrolment_value(rows[0], member), claim_value(c)
    history = await history_of(ctx.tenant, plan, int(c["member_id"]), c["term_start"], c["event_date"], c["case_ref"],
                               exclude_id=int(c["id"]))
    # the deadline counts from when the claim was made, not from when it is reviewed
    made_on = as_utc(c["created_at"]).astimezone(CHINA).date()
    return plan, enrolment, claim, history, claim_refusals(plan, enrolment, claim, submitted_on=made_on, history=history)


async def check_refusals(ctx: Any) -> list[Any]:
    c = await load(ctx.tenant, ctx.case.case_id)
    assert c is not None
    *_, problems = await _recheck(ctx, c)
    out: list[Any] = [_refused([p]) for p in problems]
    if c["source"] != "automatic":
        docs = await raw("SELECT count(*) AS n FROM mutual_aid_claim_document WHERE tenant_id = {} AND claim_id = {}",
                         ctx.tenant.id, c["id"])
        if not int(docs[0]["n"]):
            out.append(DomainError(ErrorCode.NOT_ELIGIBLE, "the claim has no documents", "documents", "缺少申请材料"))
    return out


async def approval_refusals(ctx: Any) -> list[Any]:
    c = await load(ctx.tenant, ctx.case.case_id)
    assert c is not None
    out: list[Any] = []
    if ctx.principal is None:
        return out
    if c["created_by"] is not None and c["created_by"] == ctx.actor.user_id:
        out.append(DomainError(ErrorCode.SELF_APPROVAL, "the person who entered a claim cannot approve it", "id",
                               "经办人不能审批本人经办的申请"))
    approvers = roles_for("mutual_aid.approve")
    path = c["unit_path"]
    if not any(g.role in approvers and path.startswith(g.org_unit_path) and path != g.org_unit_path
               for g in ctx.principal.grants):
        out.append(DomainError(ErrorCode.FORBIDDEN, "a claim is approved by a union above the claim's unit", "id",
                               "互助保障申请须由上级工会审批"))
    return out


async def reserve(ctx: Any) -> None:
    """Recompute the benefit against the member's other approved claims (the enrolment row is locked,
    so two approvals for one member queue) and hold it on the plan's fund at the root union."""
    c = await load(ctx.tenant, ctx.case.case_id)
    assert c is not None
    await lock_caps(ctx.tenant, c["plan_code"], exclusive=False)
    plan, enrolment, claim, history, problems = await _recheck(ctx, c)
    if problems:
        raise _refused(problems)
    benefit = benefit_for(ctx.tenant, plan, enrolment, claim, history)
    if benefit.amount_fen <= 0:
        raise DomainError(ErrorCode.CAP_EXCEEDED, "nothing is left under the plan's caps", "id",
                          "已达给付上限，本次无可给付金额", extensions={"cappedBy": benefit.capped_by})
    root, _ = await plan_accounts(ctx.tenant, plan, ())
    # Maker and checker as the ledger sees them: the one who entered it and the approver.
    maker, approved_by = Actor(c["created_by"], c["created_by_name"] or "clerk"), ctx.actor.user_id
    try:
        res_id = await ledger_reserve(
            ctx.tenant, maker, unit=root, fund=plan.fund, amount_fen=benefit.amount_fen, expense_code=EXPENSE_CODE,
            key=f"mutual-aid-claim:{c['id']}", memo=f"{plan.name_zh} {plan.claim_kind_label(c['kind'])}",
            source_type="mutual_aid_claim", source_id=str(c["id"]), approved_by=approved_by)
    except DomainError as exc:
        if exc.code is ErrorCode.INSUFFICIENT_FUNDS:
            raise DomainError(ErrorCode.INSUFFICIENT_FUNDS, "the plan's fund cannot cover the claim", "id",
                              f"{plan.name_zh}互助金可用余额不足{benefit.amount_fen / 100:,.2f}元，不能审批") from None
        raise
    await raw("UPDATE mutual_aid_claim SET amount_fen = {}, breakdown = {}, capped_by = {}, reservation_id = {} "
              "WHERE tenant_id = {} AND id = {}", benefit.amount_fen, breakdown_json(benefit), benefit.capped_by,
              res_id, ctx.tenant.id, c["id"])
    ctx.payload["amount_fen"] = benefit.amount_fen


async def pay(ctx: Any) -> None:
    c = await load(ctx.tenant, ctx.case.case_id)
    assert c is not None and c["reservation_id"] is not None
    plan = plan_for(ctx.tenant, c["plan_code"])
    # Automatic claims share their file chunk's reservation: each pays its own part of it.
    shared = c["source"] == "automatic"
    entry = await ledger_post_reservation(ctx.tenant, ctx.actor, int(c["reservation_id"]),
                                          key=f"mutual-aid-claim:{c['id']}", amount_fen=int(c["amount_fen"]) if shared else None,
                                          final=not shared, memo=f"{plan.name_zh}给付")
    await raw("UPDATE mutual_aid_claim SET entry_id = {} WHERE tenant_id = {} AND id = {}", entry, ctx.tenant.id, c["id"])
    ctx.payload["entry_id"] = entry


async def cancel_refusals(ctx: Any) -> list[Any]:
    c = await load(ctx.tenant, ctx.case.case_id)
    assert c is not None
    if c["source"] == "automatic":
        # its money is held with the rest of its file's chunk, and the ledger releases a reservation whole
        return [DomainError(ErrorCode.INVALID_STATE, "an automatic claim shares its file's reservation and cannot "
                            "be cancelled; pay it and reverse the payment", "id",
                            "免申即享的申请不能撤销审批；如有误，请给付后冲正")]
    return []


async def void(ctx: Any) -> None:
    c = await load(ctx.tenant, ctx.case.case_id)
    assert c is not None and c["reservation_id"] is not None
    await ledger_void_reservation(ctx.tenant, ctx.actor, int(c["reservation_id"]), reason="; ".join(ctx.reasons)[:500])
    # it holds nothing any more (HOLDS)
    await raw("UPDATE mutual_aid_claim SET reservation_id = NULL WHERE tenant_id = {} AND id = {}", ctx.tenant.id, c["id"])

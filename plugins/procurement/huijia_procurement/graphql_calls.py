"""GraphQL of calls, questions, complaints and sealed bids.

A bid's price and documents appear only once the call's tender deadline has passed (the service
layer refuses earlier reads with INVALID_STATE, whoever asks); an organisation's login sees the
published calls, their questions and answers, and only its own bids.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    Info,
    Node,
    UserError,
    for_query,
    perm,
    raw,
    run_mutation,
    scope_clause,
)
from huijia_procurement import bids, calls
from huijia_procurement.common import is_social_org
from huijia_procurement.graphql import ServiceNeed, _decode, _gid, _pk, resolve_need
from huijia_procurement.workflow import STATES_ZH

MAX_LIST = 500
_CALLS = ("SELECT c.*, o.path AS unit_path, w.state, w.version FROM procurement_call c "
          "JOIN org_unit o ON o.id = c.org_unit_id AND o.tenant_id = c.tenant_id "
          "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'procurement' "
          "AND w.case_type = 'call' AND w.case_id = c.id WHERE c.tenant_id = {}")


async def _questions(tenant: Any, keys: list[Any]) -> list[Any]:
    found = await calls.questions_of(tenant, [int(k) for k in keys])
    return [found.get(int(k), []) for k in keys]


@strawberry.type(description="A question on a call and the union's answer (every bidder sees them; the asker "
                             "is not shown).")
class CallQuestion:
    id: strawberry.ID
    question: str
    answer: str
    asked_at: dt.datetime
    answered_at: dt.datetime | None


@strawberry.type(description="A bidder's complaint against an award and the approver's resolution. Staff of the "
                             "call's union see every complaint, an organisation's login its own.")
class CallComplaint:
    id: strawberry.ID
    org_id: strawberry.ID
    org_name: str
    text: str = strawberry.field(description="What the bidder complains of.")
    outcome: str = strawberry.field(description="Empty while open | dismissed | upheld.")
    resolution: str = strawberry.field(description="The approver's reasons for the outcome.")
    created_at: dt.datetime
    decided_at: dt.datetime | None


def complaint(r: dict[str, Any]) -> CallComplaint:
    return CallComplaint(id=_gid("CallComplaint", r["id"]), org_id=_gid("SocialOrg", r["org_id"]),
                         org_name=r["org_name"], text=r["text"], outcome=r["outcome"] or "",
                         resolution=r["resolution"] or "", created_at=r["created_at"], decided_at=r["decided_at"])


@strawberry.type(description="A call for proposals (征集/招标) on its workflow.")
class ProcurementCall(Node):
    id: strawberry.ID
    org_unit_id: strawberry.ID
    title: str
    category: str
    description: str
    budget_fen: BigInt
    area_code: str
    state: str = strawberry.field(description="draft | enquiries | bidding | evaluation | standstill | complaint | "
                                              "awarded | contracted | cancelled | unsuccessful.")
    state_label: str
    version: int = strawberry.field(description="Steps taken; pass it back as expectedVersion.")
    enquiry_days: int
    tender_days: int
    standstill_days: int
    published_at: dt.datetime | None
    enquiry_end: dt.datetime | None
    tender_end: dt.datetime | None = strawberry.field(description="Bids are sealed until this moment.")
    standstill_end: dt.datetime | None
    award_bid_id: strawberry.ID | None
    award_reasons: list[str]
    need_id: strawberry.ID | None = strawberry.field(description="The need-list project the call buys, if any.")
    _pk: strawberry.Private[int]
    _unit_path: strawberry.Private[str]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> ProcurementCall:
        from huijia_procurement.common import json_value

        return cls(id=_gid("ProcurementCall", r["id"]), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   title=r["title"], category=r["category"], description=r["description"],
                   budget_fen=int(r["budget_fen"]), area_code=r["area_code"] or "", state=r["state"],
                   state_label=STATES_ZH.get(r["state"], r["state"]), version=int(r["version"]),
                   enquiry_days=int(r["enquiry_days"]), tender_days=int(r["tender_days"]),
                   standstill_days=int(r["standstill_days"]), published_at=r["published_at"],
                   enquiry_end=r["enquiry_end"], tender_end=r["tender_end"], standstill_end=r["standstill_end"],
                   award_bid_id=_gid("Bid", r["award_bid_id"]) if r["award_bid_id"] else None,
                   award_reasons=list(json_value(r["award_reasons"]) or []),
                   need_id=_gid("ServiceNeed", r["need_id"]) if r["need_id"] else None, _pk=int(r["id"]),
                   _unit_path=r["unit_path"])

    @strawberry.field(description="Questions and answers of the enquiry period, oldest first.")
    async def questions(self, info: Info) -> list[CallQuestion]:
        rows = await info.context.loader("procurement.call_questions", _questions).load(self._pk)
        return [CallQuestion(id=_gid("CallQuestion", r["id"]), question=r["question"], answer=r["answer"],
                             asked_at=r["asked_at"], answered_at=r["answered_at"]) for r in rows]

    @strawberry.field(description="The need-list project the call buys, for staff who may read it (null otherwise).")
    async def need(self, info: Info) -> ServiceNeed | None:
        _, principal = info.context.authenticated()
        if self.need_id is None or not principal.can("procurement.read"):
            return None
        return await resolve_need(info, _pk(self.need_id, "ServiceNeed", "needId"))

    @strawberry.field(description="Complaints against the award with their text and resolution, oldest first (an "
                                  "organisation's login: its own).")
    async def complaints(self, info: Info) -> list[CallComplaint]:
        tenant, principal = info.context.authenticated()
        rows = await calls.complaints_of(tenant, principal, {"id": self._pk, "unit_path": self._unit_path})
        return [complaint(r) for r in rows]


async def resolve_call(info: Info, pk: int) -> ProcurementCall | None:
    tenant, principal = info.context.authenticated()
    call = await calls.load(tenant, pk)
    if call is None or not calls.may_see(principal, call):
        return None
    return ProcurementCall.from_row(call)


@strawberry.type(description="A bid document, listed only once the call's bids are open (after the tender "
                             "deadline), like the file itself.")
class BidDocument:
    id: strawberry.ID
    filename: str
    content_type: str
    size: BigInt
    download_url: str = strawberry.field(description="GET with the bearer token; 409 while the bids are sealed.")


@strawberry.type(description="A bid as staff read it after the tender deadline (price decrypted then).")
class Bid:
    id: strawberry.ID
    org_id: strawberry.ID
    org_name: str
    has_own_union: bool
    price_fen: BigInt
    submitted_at: dt.datetime
    document_ids: list[strawberry.ID] = strawberry.field(description="Download: GET /procurement/bid-documents/<n>, "
                                                                     "n the id's number.")
    documents: list[BidDocument]


@strawberry.type(description="An organisation's own bid; the price shows once the call is past its deadline.")
class MyBid:
    id: strawberry.ID
    call_id: strawberry.ID
    submitted_at: dt.datetime
    price_fen: BigInt | None
    documents: list[BidDocument] = strawberry.field(description="Its documents, once the call is past its deadline "
                                                                "(empty before).")


async def _docs(tenant: Any, bid_ids: list[int]) -> dict[int, list[BidDocument]]:
    """Documents of bids the caller was already allowed to open (the callers check the seal)."""
    if not bid_ids:
        return {}
    ids = ", ".join(str(int(i)) for i in bid_ids)
    rows = await raw(f"SELECT id, bid_id, filename, content_type, size FROM procurement_bid_document "
                     f"WHERE tenant_id = {{}} AND bid_id IN ({ids}) ORDER BY id", tenant.id)
    out: dict[int, list[BidDocument]] = {}
    for r in rows:
        out.setdefault(int(r["bid_id"]), []).append(BidDocument(
            id=_gid("BidDocument", r["id"]), filename=r["filename"], content_type=r["content_type"],
            size=int(r["size"]), download_url=f"/procurement/bid-documents/{int(r['id'])}"))
    return out


@strawberry.type
class CallQuery:
    @strawberry.field(description=perm("procurement.read", "Calls of the unions in your subtree; for an "
                                       "organisation's login (procurement.org.self), every published call. Newest "
                                       "first, at most 500."))
    @for_query
    async def procurement_calls(self, info: Info, state: str | None = None) -> list[ProcurementCall]:
        tenant, principal = info.context.authenticated()
        if is_social_org(principal):
            cond, args = "w.state <> 'draft'", []
        else:
            tenant, principal = info.context.require("procurement.read")
            cond, args = scope_clause(principal, "procurement.read", "c.org_unit_id", tenant.id)
        sql, params = _CALLS + f" AND {cond}", [tenant.id, *args]
        if state is not None:
            sql += " AND w.state = {}"
            params.append(state[:16])
        rows = await raw(sql + f" ORDER BY c.id DESC LIMIT {MAX_LIST}", *params)
        return [ProcurementCall.from_row(r) for r in rows]

    @strawberry.field(description=perm("procurement.read", "One call (an organisation's login: a published one)."))
    @for_query
    async def procurement_call(self, info: Info, id: strawberry.ID) -> ProcurementCall | None:
        return await resolve_call(info, _pk(id, "ProcurementCall", "id"))

    @strawberry.field(description=perm("procurement.read", "The bids on a call with their prices: refused "
                                       "(INVALID_STATE, extensions.sealedUntil) until the tender deadline has "
                                       "passed, for every role."))
    @for_query
    async def procurement_call_bids(self, info: Info, call_id: strawberry.ID) -> list[Bid]:
        tenant, principal = info.context.authenticated()
        _, rows = await bids.bids_of_call(tenant, principal, _pk(call_id, "ProcurementCall", "callId"))
        docs = await _docs(tenant, [int(r["id"]) for r in rows])
        return [Bid(id=_gid("Bid", r["id"]), org_id=_gid("SocialOrg", r["org_id"]), org_name=r["org_name"],
                    has_own_union=bool(r["has_own_union"]), price_fen=r["price_fen"], submitted_at=r["submitted_at"],
                    document_ids=[d.id for d in docs.get(int(r["id"]), [])], documents=docs.get(int(r["id"]), []))
                for r in rows]

    @strawberry.field(description=perm("procurement.org.self", "Your organisation's bids, newest first."))
    @for_query
    async def procurement_my_bids(self, info: Info) -> list[MyBid]:
        tenant, principal = info.context.require("procurement.org.self")
        rows = await bids.my_bids(tenant, principal)
        # the seal covers a bid's documents for its own bidder too: listed once the price shows
        docs = await _docs(tenant, [int(r["id"]) for r in rows if r["price_fen"] is not None])
        return [MyBid(id=_gid("Bid", r["id"]), call_id=_gid("ProcurementCall", r["call_id"]),
                      submitted_at=r["submitted_at"], price_fen=r["price_fen"], documents=docs.get(int(r["id"]), []))
                for r in rows]


@strawberry.input(description="A new call for proposals (a draft until an approver publishes it).")
class CallCreateInput:
    org_unit_id: strawberry.ID
    title: str
    category: str
    budget_fen: BigInt
    description: str | None = None
    need_id: strawberry.ID | None = None
    area_code: str | None = None
    enquiry_days: int = 5
    tender_days: int = 10
    standstill_days: int = 5


@strawberry.enum(description="Steps staff take on a call (the periods' ends are the system's).")
class CallStep(enum.Enum):
    PUBLISH = "publish"
    FAIL = "fail"
    CANCEL = "cancel"
    DISMISS = "dismiss"
    UPHOLD = "uphold"


@strawberry.input(description="A bid document: a PDF, JPEG or PNG, base64.")
class BidDocumentInput:
    filename: str
    content_base64: str


@strawberry.type
class CallPayload:
    call: ProcurementCall | None = None
    errors: list[UserError]


@strawberry.type
class ComplaintPayload:
    complaint: CallComplaint | None = None
    call: ProcurementCall | None = None
    errors: list[UserError]


@strawberry.type
class QuestionPayload:
    question: CallQuestion | None = None
    errors: list[UserError]


@strawberry.type
class BidPayload:
    bid: MyBid | None = None
    errors: list[UserError]


def _question(r: dict[str, Any]) -> CallQuestion:
    return CallQuestion(id=_gid("CallQuestion", r["id"]), question=r["question"], answer=r["answer"],
                        asked_at=r["asked_at"], answered_at=r["answered_at"])


@strawberry.type
class CallMutation:
    @strawberry.mutation(description=perm("procurement.call.draft", "Draft a call; its budget is capped per project "
                                          "and its text checked against the negative list."))
    async def procurement_call_create(self, info: Info, input: CallCreateInput) -> CallPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.call.draft")
            row = await calls.create(
                tenant, principal, info.context.actor, unit_id=_pk(input.org_unit_id, "OrgUnit", "orgUnitId"),
                title=input.title, category=input.category, description=input.description or "",
                budget_fen=int(input.budget_fen),
                need_id=_pk(input.need_id, "ServiceNeed", "needId") if input.need_id else None,
                area_code=input.area_code, enquiry_days=input.enquiry_days, tender_days=input.tender_days,
                standstill_days=input.standstill_days)
            return {"call": ProcurementCall.from_row(row)}

        return await run_mutation(CallPayload, work)

    @strawberry.mutation(description=perm("procurement.call.publish", "Take a step on a call: publish "
                                          "(procurement.call.publish), cancel (with reasons), and after the deadline "
                                          "fail, dismiss or uphold a complaint (procurement.call.award, with reasons)."))
    async def procurement_call_step(self, info: Info, call_id: strawberry.ID, step: CallStep,
                                    reasons: list[str] | None = None,
                                    expected_version: int | None = None) -> CallPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            row = await calls.step(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                   step.value, list(reasons or []), expected_version=expected_version)
            return {"call": ProcurementCall.from_row(row)}

        return await run_mutation(CallPayload, work)

    @strawberry.mutation(description=perm("procurement.call.award", "Award the call to a bid, with reasons; the "
                                          "standstill period for complaints starts."))
    async def procurement_call_award(self, info: Info, call_id: strawberry.ID, bid_id: strawberry.ID,
                                     reasons: list[str], expected_version: int | None = None) -> CallPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.call.award")
            row = await calls.step(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                   "award", reasons, payload={"bid_id": _pk(bid_id, "Bid", "bidId")},
                                   expected_version=expected_version)
            return {"call": ProcurementCall.from_row(row)}

        return await run_mutation(CallPayload, work)

    @strawberry.mutation(description=perm("procurement.org.self", "Ask a question during the enquiry period "
                                          "(approved organisations)."))
    async def procurement_question_ask(self, info: Info, call_id: strawberry.ID, question: str) -> QuestionPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.self")
            r = await calls.ask(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"), question)
            return {"question": _question(r)}

        return await run_mutation(QuestionPayload, work)

    @strawberry.mutation(description=perm("procurement.call.draft", "Answer a question (before the tender deadline)."))
    async def procurement_question_answer(self, info: Info, question_id: strawberry.ID, answer: str) -> QuestionPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.call.draft")
            r = await calls.answer(tenant, principal, info.context.actor,
                                   _pk(question_id, "CallQuestion", "questionId"), answer)
            return {"question": _question(r)}

        return await run_mutation(QuestionPayload, work)

    @strawberry.mutation(description=perm("procurement.org.self", "Complain about an award during the standstill "
                                          "(a bidder of the call); the call pauses until staff decide."))
    async def procurement_complaint_file(self, info: Info, call_id: strawberry.ID, text: str) -> CallPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.self")
            pk = _pk(call_id, "ProcurementCall", "callId")
            await calls.complain(tenant, principal, info.context.actor, pk, text)
            row = await calls.load(tenant, pk)
            assert row is not None
            return {"call": ProcurementCall.from_row(row)}

        return await run_mutation(CallPayload, work)

    @strawberry.mutation(description=perm("procurement.call.award", "Decide the call's open complaint with a "
                                          "resolution (required, kept with it): uphold (the award is withdrawn, back "
                                          "to evaluation) or dismiss (the standstill starts again)."))
    async def procurement_complaint_resolve(self, info: Info, complaint_id: strawberry.ID, uphold: bool,
                                            resolution: str) -> ComplaintPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.call.award")
            r = await calls.resolve_complaint(tenant, principal, info.context.actor,
                                              _pk(complaint_id, "CallComplaint", "complaintId"), uphold, resolution)
            row = await calls.load(tenant, int(r["call_id"]))
            assert row is not None
            return {"complaint": complaint(r), "call": ProcurementCall.from_row(row)}

        return await run_mutation(ComplaintPayload, work)

    @strawberry.mutation(description=perm("procurement.org.self", "Place (or replace, before the deadline) your "
                                          "organisation's sealed bid: a price within the call's budget and 1 to 10 "
                                          "documents."))
    async def procurement_bid_submit(self, info: Info, call_id: strawberry.ID, price_fen: BigInt,
                                     documents: list[BidDocumentInput]) -> BidPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.self")
            docs = [bids.Document(d.filename, _decode(d.content_base64)) for d in documents]
            r = await bids.submit(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                  int(price_fen), docs)
            return {"bid": MyBid(id=_gid("Bid", r["id"]), call_id=_gid("ProcurementCall", r["call_id"]),
                                 submitted_at=dt.datetime.now(dt.UTC), price_fen=None, documents=[])}

        return await run_mutation(BidPayload, work)


"""GraphQL of contracts: signing with milestones, deliveries, acceptance, payment and evaluations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    Info,
    Node,
    UserError,
    for_query,
    perm,
    raw,
    run_mutation,
    scope_clause,
)
from huijia_procurement import calls, contracts
from huijia_procurement.common import is_social_org, json_value, own_org
from huijia_procurement.graphql import _gid, _pk
from huijia_procurement.graphql_calls import CallPayload, ProcurementCall


async def _children(tenant: Any, table: str, keys: list[Any]) -> list[list[dict[str, Any]]]:
    ids = ", ".join(str(int(k)) for k in keys)
    rows = await raw(f"SELECT * FROM {table} WHERE tenant_id = {{}} AND contract_id IN ({ids}) ORDER BY id", tenant.id)
    out: dict[int, list[dict[str, Any]]] = {int(k): [] for k in keys}
    for r in rows:
        out[int(r["contract_id"])].append(r)
    return [out[int(k)] for k in keys]


async def _milestones(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _children(tenant, "procurement_milestone", keys)


async def _evaluations(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _children(tenant, "procurement_evaluation", keys)


@strawberry.type(description="A payment milestone: pending -> delivered -> accepted -> paid; closed when the "
                             "contract was terminated before paying it.")
class Milestone:
    id: strawberry.ID
    seq: int
    title: str
    deliverable: str
    percent: int
    amount_fen: BigInt
    status: str
    delivery_note: str
    delivered_at: dt.datetime | None
    accepted_at: dt.datetime | None
    paid_at: dt.datetime | None
    entry_id: strawberry.ID | None = strawberry.field(description="The ledger entry of the payment.")


def milestone(r: dict[str, Any]) -> Milestone:
    return Milestone(id=_gid("Milestone", r["id"]), seq=int(r["seq"]), title=r["title"], deliverable=r["deliverable"],
                     percent=int(r["percent"]), amount_fen=int(r["amount_fen"]), status=r["status"],
                     delivery_note=r["delivery_note"], delivered_at=r["delivered_at"], accepted_at=r["accepted_at"],
                     paid_at=r["paid_at"], entry_id=_gid("LedgerEntry", r["entry_id"]) if r["entry_id"] else None)


@strawberry.type(description="A mid-term or final evaluation of a contract.")
class ContractEvaluation:
    id: strawberry.ID
    kind: str = strawberry.field(description="midterm | final.")
    score: int
    comments: str
    created_at: dt.datetime


def evaluation(r: dict[str, Any]) -> ContractEvaluation:
    return ContractEvaluation(id=_gid("ContractEvaluation", r["id"]), kind=r["kind"], score=int(r["score"]),
                              comments=r["comments"], created_at=r["created_at"])


@strawberry.type(description="A service contract with the awarded organisation (its whole value reserved at signing).")
class Contract(Node):
    id: strawberry.ID
    call_id: strawberry.ID
    org_id: strawberry.ID
    org_unit_id: strawberry.ID
    value_fen: BigInt
    reservation_id: strawberry.ID | None
    signed_at: dt.datetime
    status: str = strawberry.field(description="active | terminated.")
    termination_reasons: list[str]
    terminated_at: dt.datetime | None
    released_fen: BigInt = strawberry.field(description="What the termination released from the reservation back to "
                                                        "the fund (0 while active).")
    _pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Contract:
        return cls(id=_gid("Contract", r["id"]), call_id=_gid("ProcurementCall", r["call_id"]),
                   org_id=_gid("SocialOrg", r["org_id"]), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   value_fen=int(r["value_fen"]),
                   reservation_id=_gid("Reservation", r["reservation_id"]) if r["reservation_id"] else None,
                   signed_at=r["signed_at"], status=r["status"] or "active",
                   termination_reasons=list(json_value(r["termination_reasons"]) or []),
                   terminated_at=r["terminated_at"], released_fen=int(r["released_fen"] or 0), _pk=int(r["id"]))

    @strawberry.field(description="Payment milestones in order.")
    async def milestones(self, info: Info) -> list[Milestone]:
        return [milestone(r) for r in await info.context.loader("procurement.milestones", _milestones).load(self._pk)]

    @strawberry.field(description="Mid-term and final evaluations.")
    async def evaluations(self, info: Info) -> list[ContractEvaluation]:
        return [evaluation(r) for r in await info.context.loader("procurement.evaluations", _evaluations).load(self._pk)]


async def resolve_contract(info: Info, pk: int) -> Contract | None:
    tenant, principal = info.context.authenticated()
    try:
        return Contract.from_row(await contracts.visible(tenant, principal, pk))
    except DomainError:  # not found for this caller: node(id) answers null
        return None


@strawberry.type
class ContractQuery:
    @strawberry.field(description=perm("procurement.read", "Contracts of the unions in your subtree; for an "
                                       "organisation's login (procurement.org.self), its own. Newest first, at most 500."))
    @for_query
    async def procurement_contracts(self, info: Info) -> list[Contract]:
        tenant, principal = info.context.authenticated()
        if is_social_org(principal):
            org = await own_org(tenant, principal)
            cond, args = "k.org_id = {}", [int(org["id"]) if org else 0]
        else:
            tenant, principal = info.context.require("procurement.read")
            cond, args = scope_clause(principal, "procurement.read", "k.org_unit_id", tenant.id)
        rows = await raw(f"SELECT k.* FROM procurement_contract k WHERE k.tenant_id = {{}} AND {cond} "
                         "ORDER BY k.id DESC LIMIT 500", tenant.id, *args)
        return [Contract.from_row(r) for r in rows]

    @strawberry.field(description=perm("procurement.read", "One contract (an organisation's login: its own)."))
    @for_query
    async def procurement_contract(self, info: Info, id: strawberry.ID) -> Contract | None:
        return await resolve_contract(info, _pk(id, "Contract", "id"))


@strawberry.input(description="A payment milestone of a new contract.")
class MilestoneInput:
    title: str
    deliverable: str = strawberry.field(description="What is delivered, e.g. 12 legal talks reaching 1,500 workers.")
    percent: int = strawberry.field(description="Share of the value; the milestones' shares add up to 100.")


@strawberry.type
class MilestonePayload:
    milestone: Milestone | None = None
    errors: list[UserError]


@strawberry.type
class EvaluationPayload:
    evaluation: ContractEvaluation | None = None
    score_bp: int | None = strawberry.field(default=None, description="The organisation's new performance score.")
    errors: list[UserError]


@strawberry.type
class ContractPayload:
    contract: Contract | None = None
    errors: list[UserError]


@strawberry.type
class ContractMutation:
    @strawberry.mutation(description=perm("procurement.contract.terminate", "Terminate a contract that is not fully "
                                          "paid, with reasons: its unpaid milestones are closed and the rest of the "
                                          "reservation is voided back to the fund (payments made stand)."))
    async def procurement_contract_terminate(self, info: Info, contract_id: strawberry.ID,
                                             reasons: list[str]) -> ContractPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.contract.terminate")
            row = await contracts.terminate(tenant, principal, info.context.actor,
                                            _pk(contract_id, "Contract", "contractId"), reasons)
            return {"contract": Contract.from_row(row)}

        return await run_mutation(ContractPayload, work)

    @strawberry.mutation(description=perm("procurement.contract.sign", "Sign the contract of an awarded call: its "
                                          "milestones' percentages must add up to 100; the whole value is reserved "
                                          "from the union's fund (the call's drafter cannot sign)."))
    async def procurement_contract_sign(self, info: Info, call_id: strawberry.ID, milestones: list[MilestoneInput],
                                        expected_version: int | None = None) -> CallPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.contract.sign")
            specs = contracts.check_milestones([contracts.MilestoneSpec(m.title, m.deliverable, m.percent)
                                                for m in milestones])
            row = await calls.step(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                   "sign", [], payload={"milestones_input": [s.__dict__ for s in specs]},
                                   expected_version=expected_version)
            return {"call": ProcurementCall.from_row(row)}

        return await run_mutation(CallPayload, work)

    @strawberry.mutation(description=perm("procurement.org.self", "Report a milestone's delivery (the contracted "
                                          "organisation)."))
    async def procurement_milestone_deliver(self, info: Info, milestone_id: strawberry.ID, note: str) -> MilestonePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.self")
            return {"milestone": milestone(await contracts.deliver(tenant, principal, info.context.actor,
                                                                   _pk(milestone_id, "Milestone", "milestoneId"), note))}

        return await run_mutation(MilestonePayload, work)

    @strawberry.mutation(description=perm("procurement.contract.accept", "Accept a delivered milestone."))
    async def procurement_milestone_accept(self, info: Info, milestone_id: strawberry.ID) -> MilestonePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.contract.accept")
            return {"milestone": milestone(await contracts.accept(tenant, principal, info.context.actor,
                                                                  _pk(milestone_id, "Milestone", "milestoneId")))}

        return await run_mutation(MilestonePayload, work)

    @strawberry.mutation(description=perm("procurement.contract.pay", "Pay an accepted milestone from the contract's "
                                          "reservation (idempotent: a repeat returns the first payment)."))
    async def procurement_milestone_pay(self, info: Info, milestone_id: strawberry.ID) -> MilestonePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.contract.pay")
            return {"milestone": milestone(await contracts.pay(tenant, principal, info.context.actor,
                                                               _pk(milestone_id, "Milestone", "milestoneId")))}

        return await run_mutation(MilestonePayload, work)

    @strawberry.mutation(description=perm("procurement.contract.accept", "Record the mid-term or final evaluation "
                                          "(0 to 100); it moves the organisation's performance score."))
    async def procurement_contract_evaluate(self, info: Info, contract_id: strawberry.ID, kind: str, score: int,
                                            comments: str | None = None) -> EvaluationPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.contract.accept")
            r = await contracts.evaluate(tenant, principal, info.context.actor, _pk(contract_id, "Contract", "contractId"),
                                         kind, score, comments or "")
            org = await raw("SELECT score_bp FROM procurement_org WHERE tenant_id = {} AND id = {}", tenant.id, r["org_id"])
            return {"evaluation": evaluation(r), "score_bp": int(org[0]["score_bp"])}

        return await run_mutation(EvaluationPayload, work)

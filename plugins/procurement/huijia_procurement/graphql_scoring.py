"""GraphQL of the evaluation panel: appointment, the no-conflict declaration, scores and the ranking."""

from __future__ import annotations

from typing import Any

import strawberry

from core.sdk import DomainError, ErrorCode, Info, UserError, for_query, perm, run_mutation
from huijia_procurement import calls, scoring
from huijia_procurement.graphql import _gid, _pk


@strawberry.type(description="A seat on a call's evaluation panel.")
class PanelMember:
    user_id: strawberry.ID
    username: str
    declared: bool = strawberry.field(description="Whether the evaluator has made the conflict-of-interest declaration.")
    conflict: bool = strawberry.field(description="A declared conflict: the evaluator is recused.")


@strawberry.type(description="A user an approver may appoint to a call's panel: active, holding the evaluator "
                             "role (procurement.evaluate) at the call's union or above.")
class EligibleEvaluator:
    user_id: strawberry.ID
    username: str
    display_name: str


@strawberry.type(description="A weighted scoring criterion of the call.")
class ScoringCriterion:
    code: str
    label: str
    weight_bp: int


@strawberry.type(description="One evaluator's weighted total for a bid (basis points of 100).")
class EvaluatorTotal:
    evaluator_id: strawberry.ID
    total_bp: int
    outlier: bool = strawberry.field(description="Far from the panel's median (setting outlier_points).")


@strawberry.type(description="A bid's place in the ranking.")
class RankedBid:
    bid_id: strawberry.ID
    org_id: strawberry.ID
    org_name: str
    has_own_union: bool
    price_fen: int
    panel_bp: int = strawberry.field(description="The panel's mean of the evaluators' weighted totals.")
    performance_bp: int = strawberry.field(description="The organisation's performance score from past evaluations.")
    total_bp: int = strawberry.field(description="Panel and performance blended (setting performance_weight_bp).")
    rank: int
    won_tie_by_union: bool = strawberry.field(description="Ranked above an equal total for having its own union.")
    evaluator_totals: list[EvaluatorTotal]


@strawberry.type(description="The ranking of a call's bids, open after the tender deadline.")
class CallResults:
    criteria: list[ScoringCriterion]
    complete: bool = strawberry.field(description="Every seated evaluator has scored every bid.")
    bids: list[RankedBid]


@strawberry.type
class ScoringQuery:
    @strawberry.field(description=perm("procurement.read", "A call's evaluation panel."))
    @for_query
    async def procurement_call_panel(self, info: Info, call_id: strawberry.ID) -> list[PanelMember]:
        tenant, principal = info.context.require("procurement.read")
        call = await calls.visible(tenant, principal, _pk(call_id, "ProcurementCall", "callId"))
        return [PanelMember(user_id=_gid("User", m["user_id"]), username=m["username"],
                            declared=m["declared_at"] is not None, conflict=bool(m["conflict"]))
                for m in await scoring.members(tenant, int(call["id"]))]

    @strawberry.field(description=perm("procurement.call.award", "Whom you may appoint to a call's panel (the "
                                       "picker; at most 200, those on the panel left out), optionally matching "
                                       "`search` in the username or name."))
    @for_query
    async def procurement_eligible_evaluators(self, info: Info, call_id: strawberry.ID,
                                              search: str | None = None) -> list[EligibleEvaluator]:
        tenant, principal = info.context.require("procurement.call.award")
        rows = await scoring.eligible_evaluators(tenant, principal, _pk(call_id, "ProcurementCall", "callId"), search)
        return [EligibleEvaluator(user_id=_gid("User", r["id"]), username=r["username"],
                                  display_name=r["display_name"] or "") for r in rows]

    @strawberry.field(description=perm("procurement.read", "The ranking of a call's bids with outliers shown: "
                                       "sealed (INVALID_STATE) until the tender deadline; an evaluator sees it only "
                                       "after declaring no conflict."))
    @for_query
    async def procurement_call_results(self, info: Info, call_id: strawberry.ID) -> CallResults:
        tenant, principal = info.context.require("procurement.read")
        pk = _pk(call_id, "ProcurementCall", "callId")
        call = await calls.visible(tenant, principal, pk)
        if not principal.can("procurement.read", call["unit_path"]):
            raise DomainError(ErrorCode.FORBIDDEN, "not allowed: procurement.read")
        await scoring.require_declared(tenant, principal, pk)
        r = await scoring.results(tenant, call)
        return CallResults(
            criteria=[ScoringCriterion(code=c.code, label=c.label_zh, weight_bp=c.weight_bp) for c in r.criteria],
            complete=r.complete,
            bids=[RankedBid(bid_id=_gid("Bid", b.bid_id), org_id=_gid("SocialOrg", b.org_id), org_name=b.org_name,
                            has_own_union=b.has_own_union, price_fen=b.price_fen, panel_bp=b.panel_bp,
                            performance_bp=b.performance_bp, total_bp=b.total_bp, rank=b.rank,
                            won_tie_by_union=b.won_tie_by_union,
                            evaluator_totals=[EvaluatorTotal(evaluator_id=_gid("User", u), total_bp=t,
                                                             outlier=u in b.outliers)
                                              for u, t in sorted(b.evaluator_totals.items())])
                  for b in r.bids])


@strawberry.input(description="Points (0 to 100) for one criterion.")
class CriterionScoreInput:
    criterion: str
    points: int


@strawberry.type
class PanelPayload:
    member: PanelMember | None = None
    errors: list[UserError]


@strawberry.type
class ScorePayload:
    scored: bool = False
    errors: list[UserError]


def _member(r: dict[str, Any], username: str = "") -> PanelMember:
    return PanelMember(user_id=_gid("User", r["user_id"]), username=username, declared=r["declared_at"] is not None,
                       conflict=bool(r["conflict"]))


@strawberry.type
class ScoringMutation:
    @strawberry.mutation(description=perm("procurement.call.award", "Appoint an eligible evaluator to a call's "
                                          "panel (see procurementEligibleEvaluators; anyone else: NOT_FOUND)."))
    async def procurement_panel_appoint(self, info: Info, call_id: strawberry.ID, user_id: strawberry.ID) -> PanelPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.call.award")
            r = await scoring.appoint(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                      _pk(user_id, "User", "userId"))
            return {"member": _member(r)}

        return await run_mutation(PanelPayload, work)

    @strawberry.mutation(description=perm("procurement.read", "As an evaluator, declare whether you have a conflict "
                                          "of interest with the bidders (once; a conflict recuses you)."))
    async def procurement_panel_declare(self, info: Info, call_id: strawberry.ID, no_conflict: bool) -> PanelPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            r = await scoring.declare(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                      no_conflict)
            return {"member": _member(r, principal.username)}

        return await run_mutation(PanelPayload, work)

    @strawberry.mutation(description=perm("procurement.read", "As a declared evaluator, score a bid on every "
                                          "criterion (again to correct, until the award)."))
    async def procurement_score_submit(self, info: Info, call_id: strawberry.ID, bid_id: strawberry.ID,
                                       scores: list[CriterionScoreInput]) -> ScorePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.authenticated()
            points: dict[str, int] = {}
            for s in scores:
                if s.criterion in points:
                    raise DomainError(ErrorCode.INVALID_INPUT, f"criterion {s.criterion!r} is scored twice", "scores")
                points[s.criterion] = s.points
            await scoring.score(tenant, principal, info.context.actor, _pk(call_id, "ProcurementCall", "callId"),
                                _pk(bid_id, "Bid", "bidId"), points)
            return {"scored": True}

        return await run_mutation(ScorePayload, work)

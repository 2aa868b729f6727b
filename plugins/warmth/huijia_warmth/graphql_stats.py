"""The warmth capability's statistics: covered against eligible by group and org unit, money spent
against budget, and the national report's top-level figures (hardship / key groups / model workers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    for_query,
    from_global_id,
    in_subtree,
    perm,
    raw,
    scope_clause,
    to_global_id,
)
from huijia_warmth.graphql import _CAMPAIGNS

# The national report's three headings: archived hardship households, the key groups, model workers.
HARDSHIP, MODEL = "hardship_household", "model_worker"


@strawberry.type(description="Covered against eligible for one target group at one org unit.")
class WarmthCoverage:
    group: str
    org_unit_id: strawberry.ID
    eligible: int = strawberry.field(description="On the list, plus those targeting finds and the list lacks.")
    covered: int = strawberry.field(description="Given their benefit.")
    paid_fen: BigInt  # type: ignore[valid-type]


@strawberry.type(description="One budget's money: reserved at approval, spent by the distribution.")
class WarmthBudgetUse:
    org_unit_id: strawberry.ID
    budget_fen: BigInt  # type: ignore[valid-type]
    spent_fen: BigInt  # type: ignore[valid-type]
    reservation_status: str | None


@strawberry.type(description="The national report's top-level figures: people given a benefit.")
class WarmthNationalFigures:
    total: int
    hardship: int = strawberry.field(description="困难职工: archived hardship households.")
    key_groups: int = strawberry.field(description="重点群体: every other group but model workers.")
    model_workers: int = strawberry.field(description="劳动模范.")


@strawberry.type(description="A campaign's statistics.")
class WarmthStats:
    coverage: list[WarmthCoverage]
    budgets: list[WarmthBudgetUse]
    budget_fen: BigInt  # type: ignore[valid-type]
    spent_fen: BigInt  # type: ignore[valid-type]
    figures: WarmthNationalFigures


def figures(counts: dict[str, int]) -> WarmthNationalFigures:
    hardship, model = counts.get(HARDSHIP, 0), counts.get(MODEL, 0)
    total = sum(counts.values())
    return WarmthNationalFigures(total=total, hardship=hardship, key_groups=total - hardship - model,
                                 model_workers=model)


@strawberry.type
class WarmthStatsQuery:
    @strawberry.field(description=perm("warmth.read", "A campaign's statistics: coverage by group and org unit, money "
                                                      "spent against budget, the national report's figures."))
    @for_query
    async def warmth_stats(self, info: Info, campaign_id: strawberry.ID) -> WarmthStats:
        from huijia_warmth.targeting import ELIGIBLE, candidates

        tenant, principal = info.context.require("warmth.read")
        pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
        rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
        if not rows or not in_subtree(principal, "warmth.read", rows[0]["unit_path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
        listed = await raw("SELECT group_code, org_unit_id, COUNT(*) AS n, COUNT(paid_at) AS paid, "
                           "COALESCE(SUM(CASE WHEN entry_id IS NOT NULL THEN amount_fen END), 0) AS fen "
                           "FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {} "
                           "GROUP BY group_code, org_unit_id", tenant.id, pk)
        cells: dict[tuple[str, int], list[int]] = {(r["group_code"], r["org_unit_id"]): [int(r["n"]), int(r["paid"]),
                                                                                          int(r["fen"])] for r in listed}
        if rows[0]["state"] in ("draft", "submitted", "approved"):
            # Before distribution, eligible includes those targeting would still add.
            for (group, unit, outcome), n in (await candidates(tenant, pk)).counts.items():
                if outcome == ELIGIBLE:
                    cells.setdefault((group, unit), [0, 0, 0])[0] += n
        budgets = await raw("SELECT b.org_unit_id, b.budget_fen, r.posted_fen, r.status FROM warmth_campaign_budget b "
                            "LEFT JOIN ledger_reservation r ON r.tenant_id = b.tenant_id AND r.id = b.reservation_id "
                            "WHERE b.tenant_id = {} AND b.campaign_id = {} ORDER BY b.id", tenant.id, pk)
        covered: dict[str, int] = {}
        for (group, _), (_, paid, _) in cells.items():
            covered[group] = covered.get(group, 0) + paid
        return WarmthStats(
            coverage=[WarmthCoverage(group=g, org_unit_id=strawberry.ID(to_global_id("OrgUnit", u)), eligible=v[0],
                                     covered=v[1], paid_fen=v[2]) for (g, u), v in sorted(cells.items())],
            budgets=[WarmthBudgetUse(org_unit_id=strawberry.ID(to_global_id("OrgUnit", b["org_unit_id"])),
                                     budget_fen=b["budget_fen"], spent_fen=int(b["posted_fen"] or 0),
                                     reservation_status=b["status"]) for b in budgets],
            budget_fen=sum(int(b["budget_fen"]) for b in budgets),
            spent_fen=sum(int(b["posted_fen"] or 0) for b in budgets),
            figures=figures(covered))

    @strawberry.field(description=perm("warmth.read", "The national report's figures for the campaigns in your subtree "
                                                      "that started in a year: people given a benefit."))
    @for_query
    async def warmth_national_figures(self, info: Info, year: int) -> WarmthNationalFigures:
        tenant, principal = info.context.require("warmth.read")
        if not 2000 <= year <= 2100:
            raise DomainError(ErrorCode.INVALID_INPUT, "year must be 2000 to 2100", "year", "年份不正确")
        scope, params = scope_clause(principal, "warmth.read", "c.org_unit_id", tenant.id)
        rows = await raw("SELECT b.group_code, COUNT(*) AS n FROM warmth_beneficiary b JOIN warmth_campaign c ON "
                         "c.tenant_id = b.tenant_id AND c.id = b.campaign_id WHERE b.tenant_id = {} AND "
                         f"b.paid_at IS NOT NULL AND c.starts_on >= {{}} AND c.starts_on < {{}} AND {scope} "
                         "GROUP BY b.group_code", tenant.id, dt.date(year, 1, 1), dt.date(year + 1, 1, 1), *params)
        return figures({r["group_code"]: int(r["n"]) for r in rows})


__all__: list[Any] = ["WarmthStatsQuery"]

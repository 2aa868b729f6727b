"""A member's cover (申工社's 保障查询): the plans they hold, shares, cover dates, what the plan paid and
what is left under its caps. Looked up by ID number through core's blind index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.sdk import TenantContext, raw
from huijia_mutual_aid.interface import Plan
from huijia_mutual_aid.plans import plans_for
from huijia_mutual_aid.rules import ids_in


@dataclass(frozen=True)
class Cover:
    enrolment: dict[str, Any]
    plan: Plan
    active: bool
    paid_in_term_fen: int
    paid_in_year_fen: int

    def left(self, cap: int | None, used: int) -> int | None:
        return None if cap is None else max(cap - used, 0)

    @property
    def term_left_fen(self) -> int | None:
        return self.left(self.plan.cap_per_term_fen, self.paid_in_term_fen)

    @property
    def year_left_fen(self) -> int | None:
        return self.left(self.plan.cap_per_year_fen, self.paid_in_year_fen)


async def covers_of(tenant: TenantContext, member_ids: list[int], on: dt.date) -> dict[int, list[Cover]]:
    """Every member's current and future enrolments (cover not yet ended on ``on``), with approved and
    paid claims counted against the caps; three queries for any number of members."""
    if not member_ids:
        return {}
    plans = plans_for(tenant)
    rows = await raw(f"SELECT * FROM mutual_aid_enrolment WHERE tenant_id = {{}} AND member_id {ids_in(member_ids)} "
                     "AND cover_to >= {} ORDER BY member_id, plan_code, term_start", tenant.id, on)
    spent = await raw(
        "SELECT c.enrolment_id, coalesce(sum(c.amount_fen), 0) AS term, coalesce(sum(CASE WHEN c.event_date >= {} "
        "AND c.event_date <= {} THEN c.amount_fen ELSE 0 END), 0) AS yr FROM mutual_aid_claim c JOIN workflow_case w "
        "ON w.tenant_id = c.tenant_id AND w.capability = 'mutual_aid' AND w.case_type = 'claim' AND w.case_id = c.id "
        f"WHERE c.tenant_id = {{}} AND c.member_id {ids_in(member_ids)} AND w.state IN ('approved', 'paid') "
        "GROUP BY c.enrolment_id", dt.date(on.year, 1, 1), dt.date(on.year, 12, 31), tenant.id)
    by_enrolment = {int(r["enrolment_id"]): (int(r["term"]), int(r["yr"])) for r in spent}
    out: dict[int, list[Cover]] = {m: [] for m in member_ids}
    for r in rows:
        plan = plans.get(r["plan_code"])
        if plan is None:  # a plan the tenant no longer runs
            continue
        term, year = by_enrolment.get(int(r["id"]), (0, 0))
        ended = plan.cap_per_term_fen is not None and term >= plan.cap_per_term_fen
        active = r["cover_from"] <= on <= r["cover_to"] and not ended
        out[int(r["member_id"])].append(Cover(r, plan, active, term, year))
    return out

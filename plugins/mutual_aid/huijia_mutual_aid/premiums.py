"""Premiums: an enrolment's premium for its term, posted to the plan's fund (``mutual_aid.<plan>``).

The fund is held by the tenant's root union (the scheme: 市职保会, 中互会's office). One ledger entry per
enrolment and term (Dr 102 bank / Cr 408 other income in the plan's fund), keyed by both, so a retry
or a second click cannot post twice; the payers' parts (Shanghai: district 12 元 + city 12 元) are
recorded beside it, each with the union at that level above the member's unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    EntrySpec,
    ErrorCode,
    Line,
    Principal,
    TenantContext,
    audit_record,
    get_unit,
    ledger_account_ids,
    ledger_mutual_aid_fund,
    ledger_post,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)
from huijia_mutual_aid.interface import Plan
from huijia_mutual_aid.plans import plan_for
from huijia_mutual_aid.rules import ids_in

CASH, INCOME = "102", "408"
# A plan's payer level -> the org unit levels that pay it (the nearest such union above the member's unit;
# the root when there is none, as in a province-level city such as Shanghai, whose 市总 is the root).
LEVELS = {"grassroots": ("grassroots",), "district": ("county",), "county": ("county",), "city": ("city",),
          "province": ("province",)}
MAX_UNITS_PER_CALL = 5000


async def root_unit(tenant: TenantContext) -> dict[str, Any]:
    rows = await raw("SELECT * FROM org_unit WHERE tenant_id = {} AND parent_id IS NULL ORDER BY id LIMIT 1", tenant.id)
    return rows[0]


async def plan_accounts(tenant: TenantContext, plan: Plan, codes: tuple[str, ...]) -> tuple[dict[str, Any], list[int]]:
    """The root union and its accounts ``codes`` in the plan's fund (the fund is created on first use)."""
    await ledger_mutual_aid_fund(tenant, plan.code, plan.name_zh[:100])
    root = await root_unit(tenant)
    return root, await ledger_account_ids(tenant, [(root["id"], plan.fund, c) for c in codes])


async def _payer_units(tenant: TenantContext, plan: Plan, unit: dict[str, Any], root: dict[str, Any]) -> dict[str, int]:
    ancestors = [int(x) for x in unit["path"].strip("/").split("/") if x]
    rows = await raw(f"SELECT id, level FROM org_unit WHERE tenant_id = {{}} AND id {ids_in(ancestors)}", tenant.id)
    level_of = {int(r["id"]): r["level"] for r in rows}
    out = {}
    for payer in plan.payers or ():
        wanted = LEVELS.get(payer.level, (payer.level,))
        # nearest first: the path lists the root first
        found = next((a for a in reversed(ancestors) if level_of.get(a) in wanted), None)
        out[payer.level] = found if found is not None else int(root["id"])
    return out


async def pay_premiums(tenant: TenantContext, principal: Principal, actor: Actor, *, plan_code: str, unit_id: int,
                       on: dt.date) -> list[dict[str, Any]]:
    """Post the premiums of unit ``unit_id``'s enrolments in the plan's term containing ``on`` that are not
    posted yet; return every premium row of those enrolments (posted now or before).

    :raises DomainError: NOT_FOUND (plan, unit outside the caller's reach), FORBIDDEN (may read only),
        NOT_ELIGIBLE when the unit has no enrolment in the term.
    """
    plan = plan_for(tenant, plan_code)
    unit = await get_unit(tenant, unit_id)
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId", message_zh="单位不存在")
    require_in_subtree(principal, "mutual_aid.premium", unit["path"], what="org unit", field="orgUnitId",
                       read_action="mutual_aid.read")
    term_start, _ = plan.term.bounds(on)
    enrolments = await raw("SELECT id, shares, premium_fen FROM mutual_aid_enrolment WHERE tenant_id = {} AND "
                           "org_unit_id = {} AND plan_code = {} AND term_start = {} ORDER BY id LIMIT {}",
                           tenant.id, unit_id, plan.code, term_start, MAX_UNITS_PER_CALL)
    if not enrolments:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "the unit has no enrolment in this term", "orgUnitId",
                          message_zh="本单位本期没有参保记录")
    root, (cash, income) = await plan_accounts(tenant, plan, (CASH, INCOME))
    payers = await _payer_units(tenant, plan, unit, root)
    done = {int(r["enrolment_id"]) for r in await raw(
        "SELECT DISTINCT enrolment_id FROM mutual_aid_premium WHERE tenant_id = {} AND enrolment_id "
        f"{ids_in([int(e['id']) for e in enrolments])} AND term_start = {{}}", tenant.id, term_start)}
    posted = 0
    for e in enrolments:
        if int(e["id"]) in done:
            continue
        amount = int(e["premium_fen"])
        # each payer pays its part of every share; without payers the unit union pays it all
        parts = [(p.level, payers[p.level], p.amount_fen * int(e["shares"])) for p in plan.payers] or \
            [("grassroots", unit_id, amount)]
        # The entry commits on its own (the chain links it after commit); the rows follow, and a retry
        # after a failure between the two gets the same entry back and writes the rows.
        entry = await ledger_post(tenant, EntrySpec(
            key=f"sys:mutual_aid:premium:{e['id']}:{term_start.isoformat()}", kind="system", entry_date=on,
            lines=[Line(cash, amount), Line(income, -amount)], memo=f"{plan.name_zh}保费 {term_start.year}",
            source_type="mutual_aid_enrolment", source_id=str(e["id"]), created_by=actor.user_id))
        async with transaction():
            for level, payer_unit, part in parts:
                await raw("INSERT INTO mutual_aid_premium (tenant_id, org_unit_id, enrolment_id, plan_code, term_start, "
                          "level, payer_unit_id, amount_fen, entry_id, created_by, created_at) VALUES ({}, {}, {}, {}, {}, "
                          "{}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING", tenant.id, unit_id, e["id"], plan.code,
                          term_start, level, payer_unit, part, entry.entry_id, actor.user_id, utcnow())
        posted += 1
    if posted:
        await audit_record(tenant, actor, "mutual_aid.premium.post", "OrgUnit", unit_id,
                           {"plan": plan.code, "term_start": term_start.isoformat(), "enrolments": posted})
    return await raw("SELECT * FROM mutual_aid_premium WHERE tenant_id = {} AND org_unit_id = {} AND plan_code = {} "
                     "AND term_start = {} ORDER BY enrolment_id, level", tenant.id, unit_id, plan.code, term_start)

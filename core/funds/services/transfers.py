"""Transfers between levels, levy intake (拨缴), the small-payer refund and the yearly special fund allocation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.actor import SYSTEM, Actor
from core.audit.services import record
from core.context import TenantContext
from core.errors import DomainError, ErrorCode
from core.funds import chart, posting
from core.funds.chart import CASH
from core.funds.posting import EntrySpec, Line, TransferRow
from core.funds.services.accounts import (
    APP,
    Resolved,
    _memo,
    _post_audited,
    clean_amount,
    clean_date,
    get_fund,
    stored_key,
    today,
)
from core.funds.services.manual import (
    _create_draft,
    _must_wait,
)

# ---------------------------------------------------------------------------------------------
# Transfers between levels
# ---------------------------------------------------------------------------------------------


def _is_ancestor(upper: dict[str, Any], lower: dict[str, Any]) -> bool:
    return lower["path"].startswith(upper["path"]) and upper["id"] != lower["id"]


@dataclass(frozen=True)
class TransferResult:
    entry_id: int | None
    direction: str
    draft_id: int | None = None


async def transfer(tenant: TenantContext, actor: Actor, *, from_unit: dict[str, Any], to_unit: dict[str, Any],
                   fund: str, amount_fen: int, key: str, memo: str | None = None,
                   entry_date: dt.date | None = None, origin: str = APP) -> TransferResult:
    """上解 (to an ancestor) or 补助下级 (to a descendant): both sides in one entry.

    Up:   payer Dr 221 应付上级经费 / Cr 102;  receiver Dr 102 / Cr 132 应收下级经费.
    Down: payer Dr 506 补助下级支出 / Cr 102;  receiver Dr 102 / Cr 403 上级补助收入.

    Up settles what the payer owes (221); the engine refuses paying up more than is owed. Above the
    approval threshold the transfer waits for an approver as a draft.
    """
    amount_fen = clean_amount(amount_fen)
    key = stored_key(key, origin)
    entry_date = clean_date(entry_date)
    if from_unit["id"] == to_unit["id"]:
        raise DomainError(ErrorCode.INVALID_INPUT, "a transfer needs two different org units", "toOrgUnitId")
    if _is_ancestor(to_unit, from_unit):
        direction, kind, entry_kind = "up", "remit", chart.TRANSFER_UP
        codes = (("221", amount_fen), (CASH, -amount_fen), (CASH, amount_fen), ("132", -amount_fen))
    elif _is_ancestor(from_unit, to_unit):
        direction, kind, entry_kind = "down", "grant", chart.TRANSFER_DOWN
        codes = (("506", amount_fen), (CASH, -amount_fen), (CASH, amount_fen), ("403", -amount_fen))
    else:
        raise DomainError(ErrorCode.INVALID_HIERARCHY,
                          "transfers go between a unit and one of its ancestors or descendants", "toOrgUnitId")
    f = await get_fund(tenant, fund)
    units = (from_unit, from_unit, to_unit, to_unit)
    resolved = [Resolved(u, f, c, None) for u, (c, _) in zip(units, codes, strict=True)]
    default_memo = "上解上级经费" if direction == "up" else "补助下级"
    spec = EntrySpec(key=key, kind=entry_kind, entry_date=entry_date, memo=_memo(memo) or default_memo,
                     lines=[Line(0, a) for _, a in codes], created_by=actor.user_id,
                     transfers=[TransferRow(kind, direction, from_unit["id"], to_unit["id"], f["id"], amount_fen)])
    if await _must_wait(tenant, key, amount_fen):
        return TransferResult(None, direction, await _create_draft(tenant, actor, spec, resolved, amount_fen))
    done = await _post_audited(tenant, actor, spec, resolved, f"ledger.transfer.{direction}",
                               {"from": from_unit["id"], "to": to_unit["id"], "fund": f["code"], "amount_fen": amount_fen})
    return TransferResult(done.entry_id, direction)


# ---------------------------------------------------------------------------------------------
# Levy intake (拨缴) and the small-payer refund
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevyResult:
    entry_id: int
    levy_fen: int
    grassroots_fen: int
    upward_fen: int
    rule: str
    to_unit_id: int


async def record_levy(tenant: TenantContext, actor: Actor, *, unit: dict[str, Any], parent: dict[str, Any],
                      period_start: dt.date, period_end: dt.date, payroll_fen: int, levy_fen: int | None,
                      key: str, upward_settled: bool = True, entry_date: dt.date | None = None,
                      origin: str = APP) -> LevyResult:
    """A grassroots union's 2 % payroll levy, split by hook ``fund_levy_split`` (general fund).

    Settled (税务代征, the default): the collector pays each level its share directly:
        union Dr 102 / Cr 402 (its share);  parent Dr 102 / Cr 402 (upward share).
    Accrued: the union receives the whole levy and owes the upward share, settled later by 上解:
        union Dr 102 (all) / Cr 402 (its share) / Cr 221;  parent Dr 132 / Cr 402.
    """
    from core.interface import LevyInfo, LevySplit
    from core.plugins import hooks_for

    key = stored_key(key, origin)
    entry_date = clean_date(entry_date)
    payroll_fen = clean_amount(payroll_fen, "payrollFen", allow_zero=True)
    if levy_fen is None:
        levy_fen = payroll_fen * 2 // 100
    levy_fen = clean_amount(levy_fen, "levyFen")
    if levy_fen > payroll_fen:
        raise DomainError(ErrorCode.INVALID_INPUT, f"levyFen ({levy_fen}) cannot exceed payrollFen ({payroll_fen}): the "
                          "levy is a share of the payroll", "levyFen")
    if period_end < period_start:
        raise DomainError(ErrorCode.INVALID_INPUT, "periodEnd is before periodStart", "periodEnd")
    if unit["level"] != "grassroots":
        raise DomainError(ErrorCode.INVALID_INPUT, "the levy is recorded for a grassroots union", "orgUnitId")
    info = LevyInfo(org_unit_id=unit["id"], period_start=period_start, period_end=period_end,
                    payroll_fen=payroll_fen, levy_fen=levy_fen, region_code=await region_code_of(tenant, unit))
    split = hooks_for(tenant).fund_levy_split(tenant=tenant, levy=info)
    if not isinstance(split, LevySplit):
        raise DomainError(ErrorCode.PLUGIN_CONFIG, "no plugin answered fund_levy_split", "levyFen")
    try:
        split.check_covers(info)
    except ValueError as exc:
        raise DomainError(ErrorCode.PLUGIN_CONFIG, str(exc), "levyFen") from None
    g, u = split.grassroots_fen, split.upward_fen
    f = await get_fund(tenant, chart.GENERAL)
    items: list[tuple[dict[str, Any], str, int]] = []
    transfers: list[TransferRow] = []
    if upward_settled:
        if g:
            items += [(unit, CASH, g), (unit, "402", -g)]
        if u:
            items += [(parent, CASH, u), (parent, "402", -u)]
            transfers.append(TransferRow("levy", "up", unit["id"], parent["id"], f["id"], u))
    else:
        items.append((unit, CASH, levy_fen))
        if g:
            items.append((unit, "402", -g))
        if u:
            items += [(unit, "221", -u), (parent, "132", u), (parent, "402", -u)]
    spec = EntrySpec(key=key, kind=chart.LEVY, entry_date=entry_date,
                     memo=f"拨缴经费 {period_start.isoformat()}~{period_end.isoformat()}",
                     source_type="levy", source_id=f"{unit['id']}:{period_start.isoformat()}",
                     lines=[Line(0, a) for _, _, a in items], created_by=actor.user_id, transfers=transfers)
    resolved = [Resolved(un, f, c, None) for un, c, _ in items]
    done = await _post_audited(tenant, actor, spec, resolved, "ledger.levy",
                               {"unit": unit["id"], "levy_fen": levy_fen, "grassroots_fen": g, "upward_fen": u,
                                "rule": split.rule, "settled": upward_settled})
    return LevyResult(done.entry_id, levy_fen, g, u, split.rule, parent["id"])


async def region_code_of(tenant: TenantContext, unit: dict[str, Any]) -> str | None:
    """The unit's own area code, else its nearest ancestor's: grassroots unions rarely have one of
    their own, and a province's per-region rules (levy split overrides) are keyed by area code."""
    if unit.get("area_code"):
        return unit["area_code"]
    from core.tenancy.queries import ancestors

    for upper in reversed(await ancestors(tenant, unit)):  # nearest first
        if upper.get("area_code"):
            return upper["area_code"]
    return None


@dataclass(frozen=True)
class RefundResult:
    entry_id: int | None
    eligible: bool
    upward_paid_fen: int
    draft_id: int | None = None


async def upward_paid(tenant: TenantContext, unit_id: int, start: dt.date, end: dt.date) -> dict[int, int]:
    """What a union sent upward (levy shares and 上解) between two dates, by receiving unit."""
    from core.dbutil import raw

    rows = await raw(
        "SELECT to_unit_id, SUM(amount_fen) AS total FROM ledger_transfer WHERE tenant_id = {} AND from_unit_id = {} "
        "AND direction = 'up' AND kind IN ('levy', 'remit') AND entry_date >= {} AND entry_date <= {} "
        "GROUP BY to_unit_id", tenant.id, unit_id, start, end)
    return {r["to_unit_id"]: int(r["total"]) for r in rows if r["total"]}


async def small_payer_refund(tenant: TenantContext, actor: Actor, *, unit: dict[str, Any], policy_year: int,
                             is_soe: bool = False, is_budget_funded: bool = False, claims_micro_refund: bool = False,
                             staff_count: int | None = None, entry_date: dt.date | None = None,
                             authorize: Any = None) -> RefundResult:
    """小额缴费工会全额返还: the levels that received a small union's upward payments over the policy
    year (10-01 .. 09-30) pay them all back (Dr 506 / Cr 102 at each; union Dr 102 / Cr 403 上级补助收入-回拨).
    Eligibility is hook ``fund_small_payer_refund``. Once per union and policy year."""
    from core.interface import SmallPayerInfo
    from core.plugins import hooks_for

    if not isinstance(policy_year, int) or not 2000 <= policy_year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "policyYear must be a year between 2000 and 2100", "policyYear")
    if staff_count is not None:
        staff_count = int(clean_amount(staff_count, "staffCount", allow_zero=True))
    if unit["level"] != "grassroots":
        raise DomainError(ErrorCode.INVALID_INPUT, "the refund is for grassroots unions", "orgUnitId")
    start, end = dt.date(policy_year, 10, 1), dt.date(policy_year + 1, 9, 30)
    entry_date = clean_date(entry_date)
    if entry_date <= end:
        raise DomainError(ErrorCode.INVALID_STATE, f"policy year {policy_year} runs until {end.isoformat()}",
                          "policyYear")
    by_receiver = await upward_paid(tenant, unit["id"], start, end)
    total = sum(by_receiver.values())
    payer = SmallPayerInfo(org_unit_id=unit["id"], policy_year=policy_year, upward_paid_fen=total, is_soe=is_soe,
                           is_budget_funded=is_budget_funded, claims_micro_refund=claims_micro_refund,
                           staff_count=staff_count)
    eligible = bool(hooks_for(tenant).fund_small_payer_refund(tenant=tenant, payer=payer))
    if not eligible:
        raise DomainError(ErrorCode.NOT_ELIGIBLE,
                          f"not eligible for the small-payer refund ({total} fen paid upward in policy year "
                          f"{policy_year})", "orgUnitId")
    if total <= 0:
        raise DomainError(ErrorCode.INVALID_STATE, "nothing was paid upward in that policy year", "policyYear")
    from core.tenancy.queries import units_by_ids

    receivers = {u["id"]: u for u in await units_by_ids(tenant, sorted(by_receiver)) if u}
    if authorize is not None:
        authorize(list(receivers.values()))  # the paying levels: the caller checks its permissions
    f = await get_fund(tenant, chart.GENERAL)
    items: list[tuple[dict[str, Any], str, int]] = [(unit, CASH, total), (unit, "403", -total)]
    transfers = []
    for rid, amount in sorted(by_receiver.items()):
        if amount > 0:
            items += [(receivers[rid], "506", amount), (receivers[rid], CASH, -amount)]
            transfers.append(TransferRow("refund", "down", rid, unit["id"], f["id"], amount))
    legacy = await _legacy_entry(tenant, f"small-payer-refund:{unit['id']}:{policy_year}", chart.REFUND,
                                 "small_payer_refund", f"{unit['id']}:{policy_year}")
    if legacy is not None:  # refunded before keys had namespaces
        return RefundResult(legacy, True, total)
    spec = EntrySpec(key=posting.sys_key("small-payer-refund", unit["id"], policy_year), kind=chart.REFUND,
                     entry_date=entry_date,
                     memo=f"小额缴费工会全额返还 {policy_year}年度", source_type="small_payer_refund",
                     source_id=f"{unit['id']}:{policy_year}", lines=[Line(0, a) for _, _, a in items],
                     created_by=actor.user_id, transfers=transfers)
    resolved = [Resolved(un, f, c, None) for un, c, _ in items]
    if await _must_wait(tenant, spec.key, total):
        return RefundResult(None, True, total, await _create_draft(tenant, actor, spec, resolved, total))
    done = await _post_audited(tenant, actor, spec, resolved, "ledger.small_payer_refund",
                               {"unit": unit["id"], "policy_year": policy_year, "amount_fen": total})
    return RefundResult(done.entry_id, True, total)


async def _legacy_entry(tenant: TenantContext, key: str, kind: str, source_type: str, source_id: str) -> int | None:
    """An entry the ledger posted under a bare system key, before keys had namespaces: counted only
    if it is what that key meant (kind and source), so a client entry that took the key is ignored."""
    from core.dbutil import raw

    rows = await raw("SELECT id FROM ledger_entry WHERE tenant_id = {} AND idempotency_key = {} AND kind = {} AND "
                     "source_type = {} AND source_id = {}", tenant.id, key, kind, source_type, source_id)
    return rows[0]["id"] if rows else None


# ---------------------------------------------------------------------------------------------
# Special fund allocation (yearly)
# ---------------------------------------------------------------------------------------------


def check_allocation_year(year: Any) -> int:
    """Only a year that has ended (China time): until then income can still arrive, and a run
    would allocate a share of part of the year."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "year must be between 2000 and 2100", "year")
    if year >= today().year:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{year} has not ended; the special fund is allocated for a past "
                          "year", "year")
    return year


async def allocate_special_fund(tenant: TenantContext, year: int, actor: Actor = SYSTEM,
                                progress: Any = None) -> dict[str, Any]:
    """Move ``ratio`` of each unit's year income (4xx of the general fund, less 403 grants from above,
    which the granting level already counted) into the hardship special fund:
    general Dr 311 / Cr 102; hardship Dr 102 / Cr 311.

    Every run recomputes, per unit, what is due now against what the ledger shows allocated for
    the year so far (allocation entries less their reversals) and posts only the difference. So a
    second run after late levies tops up, a unit skipped for lack of cash is retried, and a rerun
    with nothing new posts nothing. The key of a top-up names how many allocation entries (and
    reversals of them) the unit has for the year (``sys:special-allocation:<year>:<unit>:<n>``): two
    runs racing on the same state post it once, and a run after a reversal gets a fresh key. Dated
    12-31 of the year, or today if that December is closed. An over-allocation (income reversed after
    the run) is reported, never taken back automatically."""
    from core.dbutil import raw
    from core.plugins import hooks_for

    year = check_allocation_year(year)
    bp = hooks_for(tenant).fund_special_allocation_ratio(tenant=tenant, year=year)
    if not isinstance(bp, int) or isinstance(bp, bool) or not 0 <= bp <= 10000:
        raise DomainError(ErrorCode.PLUGIN_CONFIG, f"fund_special_allocation_ratio gave {bp!r}; expected 0..10000 bp",
                          "year")
    general = await get_fund(tenant, chart.GENERAL)
    hardship = await get_fund(tenant, chart.HARDSHIP)
    rows = await raw(
        "SELECT org_unit_id, -SUM(amount_fen) AS income FROM ledger_posting WHERE tenant_id = {} AND fund_id = {} "
        "AND code IN ('401','402','404','405','406','407','408') AND entry_date >= {} AND entry_date <= {} "
        "GROUP BY org_unit_id ORDER BY org_unit_id", tenant.id, general["id"], dt.date(year, 1, 1),
        dt.date(year, 12, 31))
    # What was allocated for the year so far: the hardship cash moved by allocation entries (only the
    # ledger writes that kind; a client cannot) and by reversals of them.
    done_rows = await raw(
        "SELECT p.org_unit_id, SUM(p.amount_fen) AS allocated, COUNT(*) AS n FROM ledger_posting p JOIN ledger_entry e ON "
        "e.id = p.entry_id AND e.tenant_id = p.tenant_id WHERE p.tenant_id = {} AND p.fund_id = {} AND p.code = {} "
        "AND e.source_type = 'special_allocation' AND e.source_id LIKE {} AND (e.kind = {} OR (e.kind = {} AND "
        "e.reverses_id IN (SELECT id FROM ledger_entry WHERE tenant_id = {} AND kind = {}))) GROUP BY p.org_unit_id",
        tenant.id, hardship["id"], CASH, f"{year}:%", chart.ALLOCATION, chart.REVERSAL, tenant.id, chart.ALLOCATION)
    allocated = {r["org_unit_id"]: int(r["allocated"] or 0) for r in done_rows}
    seen = {r["org_unit_id"]: int(r["n"] or 0) for r in done_rows}  # one hardship-cash posting per entry
    december_closed = bool(await raw("SELECT id FROM ledger_period WHERE tenant_id = {} AND period = {}", tenant.id,
                                     f"{year:04d}-12"))
    entry_date = today() if december_closed else dt.date(year, 12, 31)
    from core.tenancy.queries import units_by_ids

    units = {u["id"]: u for u in await units_by_ids(tenant, [r["org_unit_id"] for r in rows]) if u}
    posted, already, skipped, over, total = 0, 0, [], [], 0
    for i, r in enumerate(rows):
        due = max(int(r["income"] or 0), 0) * bp // 10000
        so_far = allocated.get(r["org_unit_id"], 0)
        amount = due - so_far
        if progress is not None:
            await progress(i + 1, len(rows))
        if amount < 0:
            over.append({"org_unit_id": r["org_unit_id"], "due_fen": due, "allocated_fen": so_far})
            continue
        if amount == 0:
            already += 1 if due else 0
            continue
        unit = units[r["org_unit_id"]]
        memo = f"{year}年度计提解困脱困专项资金 ({bp / 100:.2f}%)" + (" 补提" if so_far else "")
        spec = EntrySpec(key=posting.sys_key("special-allocation", year, unit["id"], seen.get(unit["id"], 0)),
                         kind=chart.ALLOCATION,
                         entry_date=entry_date, memo=memo, source_type="special_allocation",
                         source_id=f"{year}:{unit['id']}",
                         lines=[Line(0, amount), Line(0, -amount), Line(0, amount), Line(0, -amount)],
                         created_by=actor.user_id)
        resolved = [Resolved(unit, general, "311", None), Resolved(unit, general, CASH, None),
                    Resolved(unit, hardship, CASH, None), Resolved(unit, hardship, "311", None)]
        try:
            done = await _post_audited(tenant, actor, spec, resolved)
        except DomainError as exc:
            # Insufficient cash, or a racing run saw other income: nothing was allocated for this
            # unit by this attempt, so the next run tries again.
            skipped.append({"org_unit_id": unit["id"], "code": exc.code.value, "message": exc.message})
            continue
        if done.created:
            posted += 1
            total += amount
        else:
            already += 1
    summary = {"year": year, "ratio_bp": bp, "posted": posted, "already_done": already, "allocated_fen": total,
               "skipped": skipped[:100], "over_allocated": over[:100]}
    if posted or skipped or over:
        await record(tenant, actor, "ledger.special_allocation", "LedgerYear", year, summary)
    return summary

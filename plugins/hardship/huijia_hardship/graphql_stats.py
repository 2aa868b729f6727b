"""GraphQL dashboard of the hardship capability (as the national system has it, and more): archives
and aid by main cause and by the unions under a unit, exits (脱困) and returns (返困) month by month,
and the hardship special fund's money by union level read from the ledger (帮扶资金向基层倾斜).

Everything is for one unit's subtree, which must be inside the caller's ``hardship.read`` subtree
(NOT_FOUND otherwise); by default the caller's own (highest) unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    for_query,
    from_global_id,
    get_unit,
    ledger_fund_by_level,
    on_postgres,
    perm,
    raw,
    require_in_subtree,
    to_global_id,
    utcnow,
)

LEVELS_ZH = {"province": "省级", "city": "地市级", "county": "区县级", "industry": "产业", "grassroots": "基层"}
FUND = "hardship"
_PAID = ("(SELECT coalesce(sum(g.amount_fen), 0) FROM hardship_grant g JOIN workflow_case gw ON "
         "gw.tenant_id = g.tenant_id AND gw.capability = 'hardship' AND gw.case_type = 'grant' AND "
         "gw.case_id = g.id AND gw.state = 'paid' WHERE g.tenant_id = a.tenant_id AND g.archive_id = a.id)")


@strawberry.type(description="Archives and the aid paid to them, for one group.")
class HardshipGroupStat:
    key: str = strawberry.field(description="The group: a main cause ('' when none was given).")
    archives: int
    paid_fen: BigInt  # type: ignore[valid-type]


@strawberry.type(description="Archives and aid under one union directly below the unit asked about (or the unit "
                             "itself, for archives held at it).")
class HardshipUnitStat:
    unit_id: strawberry.ID
    unit_name: str
    archives: int
    open_archives: int = strawberry.field(description="Not exited, cancelled, rejected or lapsed.")
    paid_fen: BigInt  # type: ignore[valid-type]


@strawberry.type(description="Exits (脱困) and returns (返困) taken in one month.")
class HardshipMonthStat:
    month: str = strawberry.field(description="YYYY-MM.")
    exits: int
    returns: int


@strawberry.type(description="The hardship special fund's money at one level of union.")
class HardshipFundLevel:
    level: str = strawberry.field(description="province | city | county | industry | grassroots.")
    level_label: str
    balance_fen: BigInt = strawberry.field(description="On the fund's asset accounts.")  # type: ignore[valid-type]
    reserved_fen: BigInt = strawberry.field(description="Held for approved, unpaid grants.")  # type: ignore[valid-type]
    spent_fen: BigInt = strawberry.field(description="Spent in the year (grants down left out).")  # type: ignore[valid-type]


@strawberry.type(description="The hardship dashboard of one unit's subtree.")
class HardshipDashboard:
    unit_id: strawberry.ID
    by_cause: list[HardshipGroupStat]
    by_unit: list[HardshipUnitStat]
    exits_and_returns: list[HardshipMonthStat]
    fund_by_level: list[HardshipFundLevel]


def _month_starts(months: int, today: dt.date) -> list[str]:
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


async def dashboard(tenant: Any, principal: Any, unit_pk: int | None, months: int, year: int) -> HardshipDashboard:
    if unit_pk is None:
        paths = sorted(principal.scope_paths("hardship.read"), key=len)
        if not paths:
            raise DomainError(ErrorCode.FORBIDDEN, "not allowed: hardship.read")
        rows = await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND path = {}", tenant.id, paths[0])
        unit_pk = int(rows[0]["id"]) if rows else 0
    unit = await get_unit(tenant, unit_pk)
    if unit is None:
        raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "unitId", "单位不存在，或您无权查看")
    require_in_subtree(principal, "hardship.read", unit["path"], what="org unit", field="unitId",
                       message_zh="单位不存在，或您无权查看")
    under = unit["path"] + "%"
    base = ("FROM hardship_archive a JOIN org_unit o ON o.tenant_id = a.tenant_id AND o.id = a.org_unit_id "
            "JOIN workflow_case w ON w.tenant_id = a.tenant_id AND w.capability = 'hardship' AND "
            "w.case_type = 'archive' AND w.case_id = a.id WHERE a.tenant_id = {} AND o.path LIKE {}")
    causes = await raw(f"SELECT a.main_cause AS k, count(*) AS n, coalesce(sum({_PAID}), 0) AS fen {base} "
                       "GROUP BY a.main_cause ORDER BY count(*) DESC, a.main_cause", tenant.id, under)
    # Each archive counts for the child union whose subtree holds it; those at the unit itself apart.
    units = await raw(
        "SELECT c.id, c.name, count(a.id) AS n, coalesce(sum(CASE WHEN a.id IS NULL OR w.state IN ('exited', "
        f"'cancelled', 'rejected', 'lapsed') THEN 0 ELSE 1 END), 0) AS open_n, coalesce(sum({_PAID}), 0) AS fen FROM org_unit c "
        "LEFT JOIN org_unit o ON o.tenant_id = c.tenant_id AND (o.path LIKE c.path || '%') "
        "LEFT JOIN hardship_archive a ON a.tenant_id = o.tenant_id AND a.org_unit_id = o.id "
        "LEFT JOIN workflow_case w ON w.tenant_id = a.tenant_id AND w.capability = 'hardship' AND "
        "w.case_type = 'archive' AND w.case_id = a.id "
        "WHERE c.tenant_id = {} AND c.parent_id = {} GROUP BY c.id, c.name ORDER BY c.name, c.id", tenant.id, unit_pk)
    own = await raw(f"SELECT count(*) AS n, coalesce(sum(CASE WHEN w.state IN ('exited', 'cancelled', 'rejected', "
                    f"'lapsed') THEN 0 ELSE 1 END), 0) AS open_n, coalesce(sum({_PAID}), 0) AS fen "
                    f"{base.replace('o.path LIKE {}', 'o.id = {}')}", tenant.id, unit_pk)
    by_unit = [HardshipUnitStat(unit_id=strawberry.ID(to_global_id("OrgUnit", unit_pk)), unit_name=unit["name"],
                                archives=int(own[0]["n"]), open_archives=int(own[0]["open_n"]),
                                paid_fen=int(own[0]["fen"]))]
    by_unit += [HardshipUnitStat(unit_id=strawberry.ID(to_global_id("OrgUnit", r["id"])), unit_name=r["name"],
                                 archives=int(r["n"]), open_archives=int(r["open_n"]), paid_fen=int(r["fen"]))
                for r in units]
    today = utcnow().date()
    labels = _month_starts(months, today)
    month = "to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM')" if on_postgres() else "strftime('%Y-%m', s.at)"
    steps = await raw(
        f"SELECT {month} AS m, s.transition AS t, count(*) AS n FROM workflow_step s JOIN hardship_archive a ON "
        "a.tenant_id = s.tenant_id AND a.id = s.case_id JOIN org_unit o ON o.tenant_id = a.tenant_id AND "
        "o.id = a.org_unit_id WHERE s.tenant_id = {} AND s.capability = 'hardship' AND s.case_type = 'archive' AND "
        "s.transition IN ('exit', 'return') AND s.at >= {} AND o.path LIKE {} GROUP BY 1, 2",
        tenant.id, dt.datetime(int(labels[0][:4]), int(labels[0][5:]), 1, tzinfo=dt.UTC), under)
    counts = {(r["m"], r["t"]): int(r["n"]) for r in steps}
    series = [HardshipMonthStat(month=m, exits=counts.get((m, "exit"), 0), returns=counts.get((m, "return"), 0))
              for m in labels]
    levels = await ledger_fund_by_level(tenant, FUND, year, [unit["path"]])
    return HardshipDashboard(
        unit_id=strawberry.ID(to_global_id("OrgUnit", unit_pk)),
        by_cause=[HardshipGroupStat(key=r["k"] or "", archives=int(r["n"]), paid_fen=int(r["fen"])) for r in causes],
        by_unit=by_unit, exits_and_returns=series,
        fund_by_level=[HardshipFundLevel(level=r["level"], level_label=LEVELS_ZH.get(r["level"], r["level"]),
                                         balance_fen=r["balance_fen"], reserved_fen=r["reserved_fen"],
                                         spent_fen=r["spent_fen"]) for r in levels])


@strawberry.type
class HardshipDashboardQuery:
    @strawberry.field(description=perm("hardship.read", "The hardship dashboard of a unit's subtree (default: the "
                                                        "caller's own unit): archives and aid by main cause and by "
                                                        "the unions below it, monthly exits and returns, and the "
                                                        "hardship special fund's money by level from the ledger."))
    @for_query
    async def hardship_dashboard(self, info: Info, unit_id: strawberry.ID | None = None,
                                 months: Annotated[int, strawberry.argument(
                                     description="Months of exits and returns, this one included (1 to 60).")] = 12,
                                 year: Annotated[int | None, strawberry.argument(
                                     description="The year of the fund's spending; default this year.")] = None,
                                 ) -> HardshipDashboard:
        tenant, principal = info.context.require("hardship.read")
        if not 1 <= months <= 60:
            raise DomainError(ErrorCode.INVALID_INPUT, "months must be 1 to 60", "months", "月份数须在1至60之间")
        year = year or utcnow().year
        if not 2000 <= year <= 2100:
            raise DomainError(ErrorCode.INVALID_INPUT, "year is out of range", "year", "年份不正确")
        pk = from_global_id(unit_id, "OrgUnit", "unitId")[1] if unit_id is not None else None
        return await dashboard(tenant, principal, pk, months, year)

"""Test set-up shared by the capability's tests: members made through the members service, enrolments
moved back in time (cover that started weeks ago), and money put into a plan's fund."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

PDF_B64 = "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKdHJhaWxlcjw8Pj4KJSVFT0YK"  # a minimal %PDF- file
PNG_NAMED_PDF = "aGVsbG8gd29ybGQ="  # "hello world": no PDF, JPEG or PNG whatever its name says
ENROL = """mutation($i: MutualAidEnrolInput!) { mutualAidEnrol(input: $i) {
  enrolments { id memberId } errors { field code message messageZh } } }"""
_seq = itertools.count(500)


async def add_members(t: Any, unit_code: str, n: int, *, born: str = "19800101", area: str = "310101",
                      phone: bool = False) -> list[tuple[str, str]]:
    """``n`` members of unit ``unit_code`` made through the members service: (GraphQL id, ID number)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.sdk import to_global_id
    from core.testing import synthetic_id_number
    from core.tenancy import queries as tenancy

    tenant = await t.context()
    out = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, unit_code)
        for _ in range(n):
            k = next(_seq)
            idn = synthetic_id_number(k, born=born, area=area)
            values = {"name": "参保人", "id_number": idn, "employer": "测试企业"}
            if phone:
                values["phone"] = f"139{k:08d}"
            row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None, values=values)
            out.append((to_global_id("Member", row["id"]), idn))
    return out


async def enrol(clerk: Any, unit_gid: str, plan: str, members: list[str], key: str, shares: int = 1) -> list[str]:
    body = await clerk.data(ENROL, {"i": {"plan": plan, "orgUnitId": unit_gid, "unitKind": "OTHER",
                                          "memberIds": members, "shares": shares, "batchKey": key}})
    got = body["mutualAidEnrol"]
    assert got["errors"] == [], got
    return [e["id"] for e in got["enrolments"]]


async def sql(t: Any, query: str, *args: Any) -> list[dict[str, Any]]:
    from core.sdk import raw, tenant_scope

    tenant = await t.context()
    with tenant_scope(tenant):
        return await raw(query, tenant.id, *args)


async def backdate(t: Any, plan: str, days: int) -> None:
    """Set-up only: the plan's enrolments in this tenant were made ``days`` ago (their cover started then)."""
    from core.sdk import raw, tenant_scope

    tenant = await t.context()
    with tenant_scope(tenant):
        await raw("UPDATE mutual_aid_enrolment SET cover_from = cover_from - {}::int WHERE tenant_id = {} AND "
                  "plan_code = {}", days, tenant.id, plan)


async def fund(t: Any, plan_code: str, name: str, fen: int, fund_code: str | None = None) -> None:
    """Put ``fen`` into the plan's fund at the root union (a manual entry, threshold raised for tests)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, ensure_mutual_aid_fund, set_manual_threshold
    from core.tenancy import queries as tenancy

    tenant = await t.context()
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 1_000_000_000_000)
        code = fund_code or f"mutual_aid.{plan_code}"
        if fund_code is None:
            await ensure_mutual_aid_fund(tenant, plan_code, name)
        root = await tenancy.root_unit(tenant)
        result = await create_manual_entry(
            tenant, Actor(None, "test"), refs=[AccountRef(org_unit_id=root["id"], fund=code, code="102"),
                                               AccountRef(org_unit_id=root["id"], fund=code, code="403")],
            amounts=[fen, -fen], key=f"ma-fund-{t.code}-{code}-{fen}", memo="互助金")
        assert result.entry_id is not None


async def cash(t: Any, fund_code: str) -> tuple[int, int]:
    """(balance, reserved) of a fund's bank account at the root union, fen."""
    rows = await sql(t, "SELECT a.balance_fen, a.reserved_fen FROM ledger_account a JOIN ledger_fund f ON f.id = a.fund_id "
                        "JOIN org_unit o ON o.id = a.org_unit_id WHERE a.tenant_id = {} AND f.code = {} AND a.code = '102' "
                        "AND o.parent_id IS NULL", fund_code)
    return (int(rows[0]["balance_fen"]), int(rows[0]["reserved_fen"])) if rows else (0, 0)


def days_ago(n: int) -> str:
    from core.sdk import utcnow

    return (utcnow().date() - dt.timedelta(days=n)).isoformat()

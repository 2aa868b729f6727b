"""Test set-up shared by the capability's tests (members made through the members service, enrolments
moved back in time, money put into a plan's fund), and its share of core's query budgets (a pytest
plugin, entry point ``pytest11``)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

PDF_B64 = "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKdHJhaWxlcjw8Pj4KJSVFT0YK"  # a minimal %PDF- file
PNG_NAMED_PDF = "aGVsbG8gd29ybGQ="  # "hello world": no PDF, JPEG or PNG whatever its name says
ENROL = """mutation($i: MutualAidEnrolInput!) { mutualAidEnrol(input: $i) {
  enrolments { id memberId } errors { field code message messageZh } } }"""
_seq = itertools.count(500)


MEMBER = """mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { code message } } }"""
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(n: int, born: str = "19800101", area: str = "310101") -> str:
    """A well-formed resident ID number (GB 11643 check digit) that belongs to nobody in particular."""
    body = f"{area}{born}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


async def add_members(clerk: Any, unit_gid: str, n: int, *, born: str = "19800101", area: str = "310101",
                      phone: bool = False) -> list[tuple[str, str]]:
    """``n`` members of a grassroots union, made through the API by a clerk there: (GraphQL id, ID number)."""
    out = []
    for _ in range(n):
        k = next(_seq)
        idn = id_number(k, born=born, area=area)
        values = {"name": "参保人", "idNumber": idn, "orgUnitId": unit_gid, "employer": "测试企业"}
        if phone:
            values["phone"] = f"139{k:08d}"
        made = (await clerk.data(MEMBER, {"i": values}))["memberCreate"]
        assert made["errors"] == [], made
        out.append((made["member"]["id"], idn))
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


async def fund(t: Any, plan_code: str, name: str, fen: int) -> None:
    """Put ``fen`` into the plan's fund at the root union (Dr 102 bank / Cr 403 上级补助收入)."""
    from core.sdk import (
        EntrySpec,
        Line,
        ledger_account_ids,
        ledger_mutual_aid_fund,
        ledger_post,
        raw,
        tenant_scope,
    )

    tenant = await t.context()
    with tenant_scope(tenant):
        await ledger_mutual_aid_fund(tenant, plan_code, name)
        root = (await raw("SELECT id FROM org_unit WHERE tenant_id = {} AND parent_id IS NULL", tenant.id))[0]["id"]
        bank, grant = await ledger_account_ids(tenant, [(root, f"mutual_aid.{plan_code}", "102"),
                                                        (root, f"mutual_aid.{plan_code}", "403")])
        await ledger_post(tenant, EntrySpec(key=f"sys:test-fund:{plan_code}:{fen}", kind="system",
                                            entry_date=dt.date.today(), lines=[Line(bank, fen), Line(grant, -fen)],
                                            memo="互助金"))


async def cash(t: Any, fund_code: str) -> tuple[int, int]:
    """(balance, reserved) of a fund's bank account at the root union, fen."""
    rows = await sql(t, "SELECT a.balance_fen, a.reserved_fen FROM ledger_account a JOIN ledger_fund f ON f.id = a.fund_id "
                        "JOIN org_unit o ON o.id = a.org_unit_id WHERE a.tenant_id = {} AND f.code = {} AND a.code = '102' "
                        "AND o.parent_id IS NULL", fund_code)
    return (int(rows[0]["balance_fen"]), int(rows[0]["reserved_fen"])) if rows else (0, 0)


def days_ago(n: int) -> str:
    """``n`` days before today on China's calendar, the one claims are checked on."""
    from huijia_mutual_aid.rules import china_today

    return (china_today() - dt.timedelta(days=n)).isoformat()


async def seed_claims(province: Any) -> dict[str, Any]:
    """100 enrolments and 100 claims at the province's grassroots union, each claim on the claim machine,
    every tenth with two documents (so the page's documents vary). Rows are written directly: the
    province has no province plugin, hence no plan to enrol through; the list reads what is stored."""
    from core.sdk import SYSTEM, raw, tenant_scope, utcnow, workflow_open
    from huijia_mutual_aid.workflow import CLAIM

    tenant, unit = province.ctx, province.grassroots["id"]
    today = utcnow().date()
    with tenant_scope(tenant):
        for i in range(100):
            e = await raw("INSERT INTO mutual_aid_enrolment (tenant_id, org_unit_id, plan_code, member_id, term_start, "
                          "shares, cover_from, cover_to, premium_fen, batch_key, created_at) VALUES ({}, {}, 'budget', {}, "
                          "{}, 1, {}, {}, 100, 'budget', now()) RETURNING id", tenant.id, unit, 900_000 + i,
                          dt.date(today.year, 1, 1), dt.date(today.year, 1, 2), dt.date(today.year, 12, 31))
            c = await raw("INSERT INTO mutual_aid_claim (tenant_id, org_unit_id, member_id, enrolment_id, plan_code, "
                          "term_start, kind, event_date, amount_fen, breakdown, source, created_at) VALUES ({}, {}, {}, {}, "
                          "'budget', {}, 'hospital_stay', {}, 100, {}, 'unit', now()) RETURNING id", tenant.id, unit,
                          900_000 + i, e[0]["id"], dt.date(today.year, 1, 1), today,
                          '[{"label_zh": "住院津贴", "amount_fen": 100, "note_zh": ""}]')
            await workflow_open(tenant, CLAIM, int(c[0]["id"]), unit, SYSTEM)
            for _ in range(2 if i % 10 == 0 else 0):
                await raw("INSERT INTO mutual_aid_claim_document (tenant_id, claim_id, kind, filename, content_type, size, "
                          "sha256, created_at) VALUES ({}, {}, 'invoice', 'a.pdf', 'application/pdf', 10, '', now())",
                          tenant.id, c[0]["id"])
    return {}


async def _seeded_enrolments(province: Any) -> dict[str, Any]:
    # the claims' seeder made 100 enrolments too; seed once whichever field is measured first
    from core.sdk import raw, tenant_scope

    with tenant_scope(province.ctx):
        n = await raw("SELECT count(*) AS n FROM mutual_aid_enrolment WHERE tenant_id = {} AND plan_code = 'budget'",
                      province.ctx.id)
    return {} if int(n[0]["n"]) >= 100 else await seed_claims(province)


async def _seeded_claims(province: Any) -> dict[str, Any]:
    from core.sdk import raw, tenant_scope

    with tenant_scope(province.ctx):
        n = await raw("SELECT count(*) AS n FROM mutual_aid_claim WHERE tenant_id = {} AND plan_code = 'budget'",
                      province.ctx.id)
    return {} if int(n[0]["n"]) >= 100 else await seed_claims(province)


def pytest_huijia_query_budgets() -> dict[str, Any]:
    """Core's query-count check of the capability's connection fields: a page of claims reads its
    documents in one query and its timelines' steps in another; enrolments are one row each."""
    return {
        "Query.mutualAidClaims": ({"queries": 6, "why": "tenant, token, count, page, the page's documents, "
                                                "the page's timeline steps"},
                                  _seeded_claims, {}),
        "Query.mutualAidEnrolments": ({"queries": 4, "why": "tenant, token, count, page"}, _seeded_enrolments, {}),
    }


pytest_huijia_query_budgets = pytest.hookimpl(optionalhook=True)(pytest_huijia_query_budgets)

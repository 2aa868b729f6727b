"""Helpers for the funds tests: a fresh org subtree per test, GraphQL snippets, balances and row counts."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from core.graphql.base import to_global_id
from tests.fixtures.api import PASSWORD, Api, Persona, login

_n = itertools.count(1)

ERR = "errors { field code message }"
ENTRY_FIELDS = "id kind memo entryDate idempotencyKey sourceType sourceId totalFen chainSeq postings { code side amountFen signedAmountFen account { id } orgUnit { code } fund { code } }"

ENTRY_CREATE = f"""mutation($i: LedgerEntryInput!) {{ ledgerEntryCreate(input: $i) {{
  entry {{ {ENTRY_FIELDS} }} draft {{ id status totalFen createdById }} {ERR} }} }}"""

ACCOUNTS = """query($f: LedgerAccountFilter) { ledgerAccounts(filter: $f, first: 100) { totalCount nodes {
  id code type normalBalance noNegative balanceFen debitBalanceFen reservedFen availableFen fund { code } orgUnit { code } } } }"""

TRANSFER = f"""mutation($i: LedgerTransferInput!) {{ ledgerTransfer(input: $i) {{ direction entry {{ {ENTRY_FIELDS} }} {ERR} }} }}"""

REVERSE = f"""mutation($i: LedgerEntryReverseInput!) {{ ledgerEntryReverse(input: $i) {{
  entry {{ id kind reverses {{ id }} postings {{ code signedAmountFen }} }} {ERR} }} }}"""

RESERVE = f"""mutation($i: ReservationInput!) {{ reservationCreate(input: $i) {{
  reservation {{ id status amountFen postedFen remainingFen account {{ id availableFen reservedFen }} }} {ERR} }} }}"""

RES_POST = f"""mutation($i: ReservationPostInput!) {{ reservationPost(input: $i) {{
  reservation {{ id status amountFen postedFen remainingFen }} entry {{ id kind postings {{ code signedAmountFen }} }} {ERR} }} }}"""

RES_VOID = f"""mutation($id: ID!) {{ reservationVoid(id: $id, reason: "no longer needed") {{
  reservation {{ id status remainingFen }} {ERR} }} }}"""


def key(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


@dataclass
class Tree:
    """A fresh subtree under the tenant root: city -> county -> two grassroots unions."""

    tenant: Any
    root: dict[str, Any]
    city: dict[str, Any]
    county: dict[str, Any]
    g1: dict[str, Any]
    g2: dict[str, Any]

    def id(self, name: str) -> str:
        return gid("OrgUnit", getattr(self, name)["id"])


async def make_tree(tenant_code: str = "shanghai") -> Tree:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    tenant = await tenancy.get_tenant(code=tenant_code)
    n = next(_n)
    actor = Actor(None, "test")
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        suffix = uuid.uuid4().hex[:6]
        city = await tenancy.create_unit(tenant, actor, parent_id=root["id"], code=f"ft-city-{n}-{suffix}",
                                         name=f"测试市总工会{n}", level="city")
        county = await tenancy.create_unit(tenant, actor, parent_id=city["id"], code=f"ft-county-{n}-{suffix}",
                                           name=f"测试区总工会{n}", level="county")
        g1 = await tenancy.create_unit(tenant, actor, parent_id=county["id"], code=f"ft-g1-{n}-{suffix}",
                                       name=f"测试企业工会甲{n}", level="grassroots")
        g2 = await tenancy.create_unit(tenant, actor, parent_id=county["id"], code=f"ft-g2-{n}-{suffix}",
                                       name=f"测试企业工会乙{n}", level="grassroots")
    return Tree(tenant, root, city, county, g1, g2)


async def user_with(api: Api, tenant_code: str, grants: list[tuple[str, dict[str, Any] | None]]) -> Persona:
    """A user with several role grants ((role, unit row or None for the root))."""
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    tenant = await tenancy.get_tenant(code=tenant_code)
    username = f"fu{next(_n)}_{uuid.uuid4().hex[:6]}"
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        await accounts.create_user(tenant, Actor(None, "test"), username=username, password=PASSWORD,
                                   grants=[(role, (unit or root)["id"]) for role, unit in grants])
    token = await login(api, tenant_code, username)
    return Persona(tenant_code, username, token, api.as_(token))


def line(unit: dict[str, Any], code: str, side: str, amount: int, fund: str = "general") -> dict[str, Any]:
    return {"orgUnitId": gid("OrgUnit", unit["id"]), "fund": fund, "code": code, "side": side, "amountFen": amount}


async def entry(p: Persona, postings: list[dict[str, Any]], k: str | None = None, **extra: Any) -> dict[str, Any]:
    body = await p.api.gql(ENTRY_CREATE, {"i": {"idempotencyKey": k or key(), "postings": postings, **extra}})
    assert "errors" not in body, body
    return body["data"]["ledgerEntryCreate"]


async def fund_cash(p: Persona, unit: dict[str, Any], amount: int, fund: str = "general", **extra: Any) -> dict[str, Any]:
    """Dr 102 / Cr 404 政府补助收入: money in."""
    r = await entry(p, [line(unit, "102", "DEBIT", amount, fund), line(unit, "404", "CREDIT", amount, fund)], **extra)
    assert r["errors"] == [], r
    return r


async def account(p: Persona, unit: dict[str, Any], code: str, fund: str = "general") -> dict[str, Any] | None:
    body = await p.api.gql(ACCOUNTS, {"f": {"orgUnitId": gid("OrgUnit", unit["id"]), "fund": fund, "code": code}})
    nodes = body["data"]["ledgerAccounts"]["nodes"]
    return nodes[0] if nodes else None


async def balance(p: Persona, unit: dict[str, Any], code: str, fund: str = "general") -> int:
    a = await account(p, unit, code, fund)
    return a["balanceFen"] if a else 0


async def counts(tenant: Any) -> dict[str, int]:
    """Row counts of the ledger tables for one tenant (to prove that a refusal wrote nothing)."""
    from core.context import tenant_scope
    from core.dbutil import raw

    out = {}
    with tenant_scope(tenant):
        for t in ("ledger_entry", "ledger_posting", "ledger_draft", "ledger_reservation", "ledger_transfer",
                  "ledger_budget", "ledger_period"):
            out[t] = (await raw(f"SELECT count(*) AS n FROM {t} WHERE tenant_id = {{}}", tenant.id))[0]["n"]
        out["balances"] = (await raw("SELECT COALESCE(SUM(ABS(balance_fen)) + SUM(reserved_fen), 0) AS n FROM "
                                     "ledger_account WHERE tenant_id = {}", tenant.id))[0]["n"]
    return out


async def integrity(tenant: Any) -> None:
    from core.context import tenant_scope
    from core.funds.chain import verify
    from core.funds.integrity import check

    with tenant_scope(tenant):
        c = await check(tenant)
        assert c.ok, c.problems
        v = await verify(tenant)
        assert v.ok, v.problems


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def function_or_statements(module: Any) -> Any:
    """A fixture running each test twice: with ``module``'s server-side function (PostgreSQL) and with
    its statement path (what SQLite, Citus and an unmigrated database use), asserting which one runs."""
    import pytest

    @pytest.fixture(params=["function", "statements"])
    async def path(request: Any, api: Any, monkeypatch: Any) -> str:
        from core.funds.sql import ledger_tx

        monkeypatch.setattr(module, "PG_FUNCTION", request.param == "function")
        async with ledger_tx() as db:
            assert await module._function_ready(db) is (request.param == "function")
        return str(request.param)

    return path

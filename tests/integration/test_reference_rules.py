"""The rules the UI shows come from the API: the org levels with the levels allowed below each, and the chart of accounts."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from core.funds.chart import CHART
from core.tenancy.services import check_level
from tests.fixtures.api import persona, unique, units_by_code

LEVELS = "{ orgLevels { level childLevels } }"
CHART_Q = "{ chartOfAccounts { code name type noNegative normalBalance } }"
CREATE = """mutation($in: OrgUnitCreateInput!) { orgUnitCreate(input: $in) { orgUnit { id level } errors { field code } } }"""


def _allowed(level: str, parent: str) -> bool:
    try:
        check_level(level, parent)
    except DomainError:
        return False
    return True


async def test_org_levels_are_the_servers_rule(sh_admin):
    rules = (await sh_admin.api.gql(LEVELS))["data"]["orgLevels"]
    assert [r["level"] for r in rules] == ["PROVINCE", "CITY", "COUNTY", "INDUSTRY", "GRASSROOTS"]
    by_level = {r["level"]: r["childLevels"] for r in rules}
    assert by_level["GRASSROOTS"] == []
    assert by_level["INDUSTRY"] == ["GRASSROOTS"]
    assert "PROVINCE" not in {c for cs in by_level.values() for c in cs}
    for parent, children in by_level.items():
        for level in by_level:
            assert (level in children) == _allowed(level.lower(), parent.lower()), (parent, level)


async def test_org_levels_match_what_create_accepts(sh_admin):
    """Under a city: every listed child level is accepted, and an unlisted one is refused."""
    api = sh_admin.api
    rules = {r["level"]: r["childLevels"] for r in (await api.gql(LEVELS))["data"]["orgLevels"]}
    root = (await units_by_code(api))["sh"]["id"]
    city = (await api.gql(CREATE, {"in": {"parentId": root, "code": unique("lv-"), "name": "规则测试市总工会", "level": "CITY"}}))
    city_id = city["data"]["orgUnitCreate"]["orgUnit"]["id"]
    for level in ["PROVINCE", "CITY", "COUNTY", "INDUSTRY", "GRASSROOTS"]:
        body = await api.gql(CREATE, {"in": {"parentId": city_id, "code": unique("lv-"), "name": "规则测试工会", "level": level}})
        payload = body["data"]["orgUnitCreate"]
        if level in rules["CITY"]:
            assert payload["errors"] == [], (level, payload)
        else:
            assert payload["orgUnit"] is None and payload["errors"][0]["code"] == "INVALID_HIERARCHY", (level, payload)


async def test_chart_of_accounts_is_the_ledgers_chart(api):
    finance = await persona(api, "shanghai", "finance")
    chart = (await finance.api.gql(CHART_Q))["data"]["chartOfAccounts"]
    assert [a["code"] for a in chart] == sorted(CHART)
    for a in chart:
        d = CHART[a["code"]]
        assert (a["name"], a["type"].lower(), a["noNegative"], a["normalBalance"].lower()) == (d.name, d.type, d.no_negative, d.normal_balance)
    bank = next(a for a in chart if a["code"] == "102")
    assert bank == {"code": "102", "name": "银行存款", "type": "ASSET", "noNegative": True, "normalBalance": "DEBIT"}


@pytest.mark.parametrize("query", [LEVELS, CHART_Q])
async def test_a_worker_gets_neither(api, query):
    worker = await persona(api, "shanghai", "worker")
    body = await worker.api.gql(query)
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

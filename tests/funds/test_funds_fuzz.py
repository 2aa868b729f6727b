"""Schemathesis over the ledger's GraphQL fields only, as a finance officer and as an approver (the
roles that reach the write paths): no 5xx, no masked internal error, no raw database text."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.integration.test_fuzz import RAW_DB_MARKERS, graphql_schema, live_server  # noqa: F401 (fixtures)

LEDGER_FIELDS = ("funds", "ledger", "reservation", "budget", "levy", "smallPayer", "specialAllocation", "fund",
                 "trialBalance", "fundStatement", "expenditureStructure", "grassrootsShare", "hierarchyFlows")


@pytest.fixture(scope="session")
async def ledger_headers(live_server):  # noqa: F811
    from tests.fixtures.api import PASSWORD, make_user

    out = {}
    for role in ("finance", "approver"):
        username = await make_user("shanghai", role)
        async with httpx.AsyncClient(base_url=live_server) as c:
            r = await c.post("/graphql", json={"query": "mutation($u: String!, $p: String!) { login(tenantCode: \"shanghai\", username: $u, password: $p) { token } }",
                                               "variables": {"u": username, "p": PASSWORD}})
        out[role] = {"Authorization": f"Bearer {r.json()['data']['login']['token']}"}
    return out


def test_ledger_fields_survive_fuzzing(graphql_schema, ledger_headers):  # noqa: F811
    operations = [r.ok() for r in graphql_schema.get_all_operations()]
    fuzzed = []
    for operation in operations:
        name = operation.label.split(".", 1)[1]
        if not name.startswith(LEDGER_FIELDS):
            continue
        for role, headers in ledger_headers.items():
            @given(case=operation.as_strategy())
            @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                      database=None)
            def check(case):
                response = case.call(headers=headers, timeout=30)
                assert response.status_code < 500, (operation.label, role, response.text[:500])
                for marker in RAW_DB_MARKERS:
                    assert marker not in response.text, (operation.label, role, marker, response.text[:500])

            check()
        fuzzed.append(operation.label)
    assert len(fuzzed) >= 30, fuzzed

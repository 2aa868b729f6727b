"""The execution shortcuts (core/graphql/execution.py) give exactly what graphql-core's standard
path gives, for every shape of selection they may take or refuse."""

from __future__ import annotations

import pytest

QUERIES = [
    "{ orgUnits(first: 100) { totalCount nodes { id code name level areaCode active depth createdAt parent { name } } } }",
    "{ orgUnits(first: 100) { nodes { __typename id parent { __typename id code level parent { name } } } } }",
    "{ orgUnits(first: 100) { nodes { a: name b: name level ...F } } } fragment F on OrgUnit { code areaCode }",
    "{ orgUnits(first: 100) { edges { cursor node { id name parent { id } } } pageInfo { hasNextPage endCursor } } }",
    "{ orgUnits(first: 100) { nodes { id ancestors { code level } children { code } } } }",
    "{ orgUnits(first: 100) { nodes { name @include(if: false) code @skip(if: true) level } } }",
    "{ orgUnits(first: 7, orderBy: {field: NAME, direction: DESC}) { nodes { name areaCode parent { areaCode } } } }",
    "{ me { user { username grants { role orgUnit { code parent { code } } } } tenant { code plugins } permissions } }",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_fast_and_standard_execution_agree(api, sh_admin, query):
    from core.accounts.services import authenticate
    from core.context import tenant_scope
    from core.graphql.base import Context
    from core.graphql.schema import build_schema, schema

    standard = build_schema(fast=False)
    tenant, principal = await authenticate(sh_admin.token)
    with tenant_scope(tenant):
        fast = await schema.execute(query, context_value=Context("t", tenant, principal))
        slow = await standard.execute(query, context_value=Context("t", tenant, principal))
    assert fast.errors is None and slow.errors is None, (fast.errors, slow.errors)
    assert fast.data == slow.data


async def test_the_list_shortcut_is_taken_and_compiled_once(api, sh_admin, monkeypatch):
    import core.graphql.execution as execution

    compiled: list[object] = []
    original = execution._compile
    monkeypatch.setattr(execution, "_compile", lambda spec: compiled.append(spec) or original(spec))
    monkeypatch.setattr(execution, "_COMPILED", {})
    for _ in range(3):
        body = await sh_admin.api.gql("{ orgUnits(first: 100) { nodes { id name level parent { name } } } }")
        assert len(body["data"]["orgUnits"]["nodes"]) > 10
    assert len(compiled) == 2  # the node shape and the parent shape, once each across requests

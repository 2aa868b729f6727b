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


MEMBER_QUERIES = [
    # The list staff open most: plain-resolver fields (tags, workStatusLabel) and the prefetched union.
    "{ members(first: 100) { nodes { id name idNumberMasked phoneMasked workStatus tags { code label } orgUnit { name } } } }",
    "{ members(first: 100) { totalCount pageInfo { hasNextPage } nodes { name workStatusLabel stateLabel gender age "
    "tags { label } orgUnit { code parent { name } } } } }",
    "{ members(first: 100) { edges { cursor node { name orgUnit { name level } tags { code } } } } }",
    "{ members(first: 100) { nodes { name household { id } orgUnit { name ancestors { code } } } } }",
]


async def _members_with_tags(sh_admin) -> None:
    from tests.members.members_helpers import create_member

    statuses = ["ON_DUTY", "RETIRED", "MIGRANT_WORKER"]
    tags = [[], ["model_worker"], ["outdoor_worker", "new_employment"]]
    for i in range(12):
        await create_member(sh_admin, "sh-huangpu-bailian", name=f"快路{i}", phone=f"1391234{i:04d}",
                            workStatus=statuses[i % 3], tags=tags[i % 3])


async def test_fast_and_standard_execution_agree_on_members(api, sh_admin, monkeypatch):
    import core.graphql.execution as execution
    from core.accounts.services import authenticate
    from core.context import tenant_scope
    from core.graphql.base import Context
    from core.graphql.schema import build_schema, schema

    await _members_with_tags(sh_admin)
    built: list[bool] = []
    original = execution._build

    def recording(spec, src, memo):
        result = original(spec, src, memo)
        built.append(result is not execution._FALLBACK)
        return result

    monkeypatch.setattr(execution, "_build", recording)
    standard = build_schema(fast=False)
    tenant, principal = await authenticate(sh_admin.token)
    for n, query in enumerate(MEMBER_QUERIES):
        built.clear()
        with tenant_scope(tenant):
            fast = await schema.execute(query, context_value=Context("t", tenant, principal))
            slow = await standard.execute(query, context_value=Context("t", tenant, principal))
        assert fast.errors is None and slow.errors is None, (query, fast.errors, slow.errors)
        assert fast.data == slow.data, query
        nodes = fast.data["members"].get("nodes") or fast.data["members"]["edges"]
        assert len(nodes) >= 12
        if n == 0:  # every row built by the shortcut, tags and the union included (the others may
            # fall back: units with no prefetched parent, generic edges)
            assert len(built) >= 12 and all(built), query

"""Every capability's data stays in its province. One sample of every Node type (core's and every
installed capability's, made through the GraphQL API in Shanghai with every capability enabled) is
invisible to Beijing's staff, with every capability enabled there too, through every list field and every
id-taking query field; and a raw SELECT without a tenant filter under Beijing's setting reads none of
Shanghai's rows, only row-level security standing in between. test_tenant_isolation walks core's objects
of a province's own making; this walk gives the capabilities' tables rows first, so it is not empty for
them. It runs on plain PostgreSQL and on a Citus cluster (make test-citus), where the fence is the
transaction-local tenant setting reaching the shards."""

from __future__ import annotations

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.fixtures.subtree_walk import (
    INSIDE_PLACE,
    SAMPLES,
    STAFF_ROLES,
    TENANT,
    WalkContext,
    calls_for,
    every_capability_enabled,
    list_fields,
    listed_ids,
    node_types,
    refused,
)

OTHER = "beijing"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.fixture(autouse=True)
def _jobs_run_in_process(in_process_jobs):
    return None


@pytest.fixture(scope="module")
async def walk(api):
    from core.graphql.schema import schema

    async with every_capability_enabled() as capabilities, every_capability_enabled(OTHER):
        with runner.jobs_in_process():
            ctx = WalkContext(api)
            samples = {t: await SAMPLES[t](ctx, INSIDE_PLACE) for t in node_types(schema) if t in SAMPLES}
            walkers = {role: await persona(api, OTHER, role) for role in STAFF_ROLES}
            owner = await ctx.who("tenant_admin", "sh")
            await runner.drain_local()
        yield {"samples": samples, "walkers": walkers, "owner": owner, "capabilities": capabilities,
               "makers": [owner, *ctx.personas.values()]}


async def test_every_list_field_shows_another_province_nothing_of_the_capabilities(walk):
    from core.graphql.schema import schema

    samples, walkers = walk["samples"], walk["walkers"]
    made = set(samples.values())
    lists = list_fields(schema)
    assert "testcapItems" in {f for f, _ in lists}
    leaks, seen_by_owner = [], set()
    for name, text in lists:
        for role, p in walkers.items():
            body = await p.api.gql(text, expect_status=None)
            if listed_ids(name, body) & made:
                leaks.append((name, role, sorted(listed_ids(name, body) & made)))
        seen_by_owner |= listed_ids(name, await walk["owner"].api.gql(text, expect_status=None)) & made
    assert leaks == []
    # Control: the province's own admin sees them through the same lists, the capabilities' among them.
    assert len(seen_by_owner) >= 5, seen_by_owner
    assert samples["TestcapItem"] in seen_by_owner


async def test_every_id_taking_query_field_refuses_another_provinces_capability_objects(walk):
    from core.graphql.schema import schema

    samples, walkers = walk["samples"], walk["walkers"]
    assert "testcap" in walk["capabilities"] and "TestcapItem" in samples
    # Control: someone in Shanghai (its admin, or the sample's maker: an export is its creator's) reads
    # each sample by id, so a refusal below is the fence at work.
    for type_name, gid in samples.items():
        assert [p for p in walk["makers"] if (await p.api.gql(NODE, {"id": gid}))["data"]["node"]], type_name
    leaks, checked = [], 0
    for type_name, gid in samples.items():
        for role, p in walkers.items():
            node = (await p.api.gql(NODE, {"id": gid}, expect_status=None)).get("data") or {}
            if node.get("node"):
                leaks.append(("node", type_name, role, str(node)[:200]))
        # Every query field taking an id, as Beijing's admin (who holds every read permission there).
        admin = walkers["tenant_admin"]
        for call in calls_for(schema, gid):
            if call.kind != "query":
                continue
            problem = refused(call, await admin.api.gql(call.text, call.variables, expect_status=None), {gid})
            checked += 1
            if problem:
                leaks.append((call.field, type_name, "tenant_admin", problem[:300]))
    assert leaks == [], "\n".join(str(x) for x in leaks[:60])
    assert checked >= len(samples) * 10


async def test_a_raw_select_under_another_tenant_reads_none_of_the_capabilities_rows(walk):
    """No WHERE tenant_id: only row-level security stands between Beijing and Shanghai's rows."""
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.registry import get_registry
    from core.tenancy.services import get_tenant

    sh, bj = await get_tenant(code=TENANT), await get_tenant(code=OTHER)
    tables = sorted({r["table_name"] for r in await raw(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = 'public'")})
    sampled = {info.table for name, (info, _, _) in get_registry().nodes.items() if name in walk["samples"]}
    assert "testcap_item" in sampled or any(t.startswith("testcap") for t in sampled), sampled
    with tenant_scope(sh):
        # Control: every sampled table holds Shanghai's rows.
        empty = [t for t in sorted(sampled) if not (await raw(f"SELECT count(*) AS n FROM {t}"))[0]["n"]]
        assert empty == []
    with tenant_scope(bj):
        for table in tables:
            rows = await raw(f"SELECT DISTINCT tenant_id FROM {table}")
            assert {r["tenant_id"] for r in rows} <= {bj.id}, table
            assert (await raw(f"SELECT count(*) AS n FROM {table} WHERE tenant_id = {{}}", sh.id))[0]["n"] == 0, table

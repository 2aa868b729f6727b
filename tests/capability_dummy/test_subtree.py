"""The test capability keeps the subtree rule with the SDK's guard, as a real capability must: a
district's staff read and create items only in their own district.

Its own province ``captree`` (root, two districts, a grassroots union under each) enables the
capability; everything goes through GraphQL and the CSV route against PostgreSQL.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.fixtures.api import persona

MANIFEST = """
code = "captree"
name = "树形测试总工会"
province_code = "96"
plugins = []
capabilities = ["testcap"]

[[units]]
code = "ct"
name = "树形测试总工会"
level = "province"

[[units]]
code = "ct-east"
parent = "ct"
name = "东区总工会"
level = "county"

[[units]]
code = "ct-east-a"
parent = "ct-east"
name = "东区甲工会"
level = "grassroots"

[[units]]
code = "ct-west"
parent = "ct"
name = "西区总工会"
level = "county"

[[units]]
code = "ct-west-a"
parent = "ct-west"
name = "西区甲工会"
level = "grassroots"
"""

CREATE = """mutation($u: ID!, $t: String!, $a: BigInt!) {
  testcapItemCreate(orgUnitId: $u, title: $t, amountFen: $a) { item { id title orgUnitId } errors { field code message } }
}"""
ITEM = "query($id: ID!) { testcapItem(id: $id) { id title } }"
NODE = "query($id: ID!) { node(id: $id) { ... on TestcapItem { id title } } }"
ITEMS = "{ testcapItems { id title } }"


@pytest.fixture(scope="module")
async def captree(app, tmp_path_factory):
    from core.tenancy.manifest import SyncReport, parse_manifest, sync_manifest

    path = tmp_path_factory.mktemp("captree") / "captree.toml"
    path.write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    await sync_manifest(parse_manifest(path), SyncReport())
    return "captree"


async def _unit(code: str) -> str:
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy.services import get_tenant, get_unit_by_code

    tenant = await get_tenant(code="captree")
    with tenant_scope(tenant):
        return to_global_id("OrgUnit", (await get_unit_by_code(tenant, code))["id"])


async def _create(who, unit_code: str, title: str) -> dict:
    body = await who.api.gql(CREATE, {"u": await _unit(unit_code), "t": title, "a": 100})
    assert "errors" not in body, body
    return body["data"]["testcapItemCreate"]


async def _count() -> int:
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code="captree")
    with tenant_scope(tenant):
        return (await raw("SELECT count(*) AS n FROM testcap_item WHERE tenant_id = {}", tenant.id))[0]["n"]


@pytest.fixture(scope="module")
async def east_clerk(api, captree):
    return await persona(api, "captree", "clerk", "ct-east")


@pytest.fixture(scope="module")
async def west_clerk(api, captree):
    return await persona(api, "captree", "clerk", "ct-west")


async def test_a_district_clerk_cannot_create_an_item_in_a_sibling_district_or_above_it(east_clerk):
    before = await _count()
    for unit in ("ct-west-a", "ct-west", "ct"):
        payload = await _create(east_clerk, unit, "越界")
        assert payload["item"] is None, unit
        # Outside what the clerk may read, the unit does not exist for them.
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("orgUnitId", "NOT_FOUND")], unit
    assert await _count() == before
    # Control: the same call inside the district succeeds, at the district and below it.
    for unit in ("ct-east", "ct-east-a"):
        payload = await _create(east_clerk, unit, "本区")
        assert payload["errors"] == [] and payload["item"]["orgUnitId"] == await _unit(unit)
    assert await _count() == before + 2


async def test_a_district_clerk_cannot_read_a_sibling_districts_items(api, captree, east_clerk, west_clerk, client):
    west = (await _create(west_clerk, "ct-west-a", "西区的"))["item"]
    east = (await _create(east_clerk, "ct-east-a", "东区的"))["item"]
    # By id and through node(id): nothing, not even an error that would confirm it exists.
    for query, name in ((ITEM, "testcapItem"), (NODE, "node")):
        body = await east_clerk.api.gql(query, {"id": west["id"]})
        assert body["data"][name] is None and "errors" not in body, (name, body)
        assert (await east_clerk.api.gql(query, {"id": east["id"]}))["data"][name]["title"] == "东区的"
    # The list and the CSV export keep only the district's own.
    titles = {i["title"] for i in (await east_clerk.api.gql(ITEMS))["data"]["testcapItems"]}
    assert "东区的" in titles and "西区的" not in titles
    csv = await client.get("/testcap/items.csv", headers={"authorization": f"Bearer {east_clerk.token}"})
    assert csv.status_code == 200 and "东区的" in csv.text and "西区的" not in csv.text
    # A grant at the root covers both districts.
    root = await persona(api, "captree", "auditor")
    titles = {i["title"] for i in (await root.api.gql(ITEMS))["data"]["testcapItems"]}
    assert {"东区的", "西区的"} <= titles
    assert (await root.api.gql(ITEM, {"id": west["id"]}))["data"]["testcapItem"]["title"] == "西区的"


async def test_a_reader_without_write_is_forbidden_and_a_role_without_the_capabilitys_actions_sees_nothing(api, captree):
    before = await _count()
    auditor = await persona(api, "captree", "auditor", "ct-east")  # testcap.read, not testcap.write
    payload = await _create(auditor, "ct-east-a", "只读")
    assert payload["item"] is None and [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    finance = await persona(api, "captree", "finance", "ct-east")  # neither
    payload = await _create(finance, "ct-east-a", "财务")
    assert payload["item"] is None and [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    body = await finance.api.gql(ITEMS, expect_status=None)
    assert body["data"] is None or body["data"]["testcapItems"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await _count() == before


async def test_an_item_id_from_another_tenant_or_of_another_type_is_not_an_org_unit(east_clerk, captree):
    """orgUnitId takes only an OrgUnit of the caller's own province."""
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy.services import get_tenant, root_unit

    before = await _count()
    shanghai = await get_tenant(code="shanghai")
    with tenant_scope(shanghai):
        foreign = to_global_id("OrgUnit", (await root_unit(shanghai))["id"])
    own_item = (await _create(east_clerk, "ct-east-a", "类型"))["item"]["id"]
    for gid in (foreign, own_item, "not-an-id"):
        body = await east_clerk.api.gql(CREATE, {"u": gid, "t": "x", "a": 1})
        payload = body["data"]["testcapItemCreate"]
        assert payload["item"] is None and [(e["field"], e["code"]) for e in payload["errors"]] == [("orgUnitId", "NOT_FOUND")]
    assert await _count() == before + 1

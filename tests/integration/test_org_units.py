"""Org units through GraphQL: create, rename, move (paths stay right), deactivate, subtree, ancestors."""

from __future__ import annotations

import asyncio

from tests.fixtures.api import persona, unique, units_by_code

CREATE = """mutation($in: OrgUnitCreateInput!) { orgUnitCreate(input: $in) {
  orgUnit { id code name level depth parent { code } ancestors { code } } errors { field code message } } }"""
MOVE = """mutation($id: ID!, $p: ID!) { orgUnitMove(id: $id, newParentId: $p) {
  orgUnit { id depth parent { code } ancestors { code } } errors { field code message } } }"""
UNIT_BY_CODE = """query($f: OrgUnitFilter) { orgUnits(filter: $f, first: 100) { totalCount nodes { id code depth level active } } }"""


async def unit_id(api, code: str) -> str:
    units = await units_by_code(api)
    assert code in units, code
    return units[code]["id"]


async def create(api, parent_id: str, level: str, code: str | None = None, name: str = "测试工会") -> dict:
    body = await api.gql(CREATE, {"in": {"parentId": parent_id, "code": code or unique("u-"), "name": name, "level": level}})
    return body["data"]["orgUnitCreate"]


async def test_create_rename_move_deactivate(sh_admin):
    api = sh_admin.api
    root = await unit_id(api, "sh")
    district = (await create(api, root, "COUNTY"))["orgUnit"]
    g1 = (await create(api, district["id"], "GRASSROOTS", name="一号工会"))["orgUnit"]
    assert g1["depth"] == 2
    assert [a["code"] for a in g1["ancestors"]] == ["sh", district["code"]]

    renamed = await api.gql("""mutation($id: ID!) { orgUnitRename(id: $id, name: "新名称工会") { orgUnit { name } errors { code } } }""",
                            {"id": g1["id"]})
    assert renamed["data"]["orgUnitRename"] == {"orgUnit": {"name": "新名称工会"}, "errors": []}

    # Move the whole district subtree under the 建设交通 industry union: not allowed for a county.
    industry = await unit_id(api, "sh-jianshe")
    bad = (await api.gql(MOVE, {"id": district["id"], "p": industry}))["data"]["orgUnitMove"]
    assert bad["orgUnit"] is None and bad["errors"][0]["code"] == "INVALID_HIERARCHY"

    # Move a grassroots union to another district: its path and depth follow.
    other = (await create(api, root, "COUNTY"))["orgUnit"]
    moved = (await api.gql(MOVE, {"id": g1["id"], "p": other["id"]}))["data"]["orgUnitMove"]
    assert moved["errors"] == []
    assert [a["code"] for a in moved["orgUnit"]["ancestors"]] == ["sh", other["code"]]

    # Deactivating a unit with active children is refused; after the child goes, it works.
    refused = (await api.gql("""mutation($id: ID!) { orgUnitDeactivate(id: $id) { orgUnit { active } errors { code } } }""",
                             {"id": other["id"]}))["data"]["orgUnitDeactivate"]
    assert refused["errors"][0]["code"] == "CONFLICT"
    for target in (g1["id"], other["id"]):
        done = (await api.gql("""mutation($id: ID!) { orgUnitDeactivate(id: $id) { orgUnit { active } errors { code } } }""",
                              {"id": target}))["data"]["orgUnitDeactivate"]
        assert done == {"orgUnit": {"active": False}, "errors": []}
    # A deactivated unit takes no new children.
    dead = await create(api, other["id"], "GRASSROOTS")
    assert dead["errors"][0]["code"] == "INACTIVE"


async def test_moving_a_subtree_rewrites_every_descendant(sh_admin):
    api = sh_admin.api
    root = await unit_id(api, "sh")
    city_a = (await create(api, root, "CITY"))["orgUnit"]
    county = (await create(api, city_a["id"], "COUNTY"))["orgUnit"]
    leaves = [(await create(api, county["id"], "GRASSROOTS"))["orgUnit"] for _ in range(3)]
    city_b = (await create(api, root, "CITY"))["orgUnit"]
    moved = (await api.gql(MOVE, {"id": county["id"], "p": city_b["id"]}))["data"]["orgUnitMove"]
    assert moved["errors"] == [] and moved["orgUnit"]["depth"] == 2

    sub_b = (await api.gql(UNIT_BY_CODE, {"f": {"subtreeOf": city_b["id"]}}))["data"]["orgUnits"]
    assert {n["code"] for n in sub_b["nodes"]} == {city_b["code"], county["code"], *(leaf["code"] for leaf in leaves)}
    assert all(n["depth"] == 3 for n in sub_b["nodes"] if n["code"] in {leaf["code"] for leaf in leaves})
    sub_a = (await api.gql(UNIT_BY_CODE, {"f": {"subtreeOf": city_a["id"]}}))["data"]["orgUnits"]
    assert [n["code"] for n in sub_a["nodes"]] == [city_a["code"]]
    for leaf in leaves:
        node = (await api.gql("query($id: ID!) { orgUnit(id: $id) { ancestors { code } } }", {"id": leaf["id"]}))
        assert [a["code"] for a in node["data"]["orgUnit"]["ancestors"]] == ["sh", city_b["code"], county["code"]]

    # A unit cannot move under its own descendant.
    loop = (await api.gql(MOVE, {"id": city_b["id"], "p": leaves[0]["id"]}))["data"]["orgUnitMove"]
    assert loop["errors"][0]["code"] == "INVALID_HIERARCHY"


async def test_bad_input_is_typed_and_writes_nothing(sh_admin):
    api = sh_admin.api
    root = await unit_id(api, "sh")
    before = (await api.gql(UNIT_BY_CODE))["data"]["orgUnits"]["totalCount"]
    cases = [
        ({"parentId": root, "code": "bad code!", "name": "x", "level": "CITY"}, "INVALID_INPUT", "code"),
        ({"parentId": root, "code": unique("c"), "name": "", "level": "CITY"}, "INVALID_INPUT", "name"),
        ({"parentId": root, "code": unique("c"), "name": "x" * 201, "level": "CITY"}, "INVALID_INPUT", "name"),
        ({"parentId": root, "code": unique("c"), "name": "a\u0007b", "level": "CITY"}, "INVALID_INPUT", "name"),
        ({"parentId": root, "code": "sh-xuhui", "name": "重复", "level": "CITY"}, "DUPLICATE", "code"),
        ({"parentId": root, "code": unique("c"), "name": "x", "level": "PROVINCE"}, "INVALID_HIERARCHY", "level"),
        ({"parentId": root, "code": unique("c"), "name": "x", "level": "CITY", "areaCode": "31A"}, "INVALID_INPUT", "areaCode"),
        ({"parentId": "bm90LWEtcmVhbC1pZA==", "code": unique("c"), "name": "x", "level": "CITY"}, "NOT_FOUND", "parentId"),
        ({"parentId": "garbage", "code": unique("c"), "name": "x", "level": "CITY"}, "NOT_FOUND", "parentId"),
    ]
    for data, code, field in cases:
        payload = (await api.gql(CREATE, {"in": data}))["data"]["orgUnitCreate"]
        assert payload["orgUnit"] is None
        assert payload["errors"][0]["code"] == code, (data, payload)
        assert payload["errors"][0]["field"] == field, (data, payload)
    after = (await api.gql(UNIT_BY_CODE))["data"]["orgUnits"]["totalCount"]
    assert after == before


async def test_wrong_role_cannot_write_and_clerk_sees_only_subtree(api, sh_admin):
    clerk = await persona(api, "shanghai", "clerk", "sh-xuhui")
    body = await clerk.api.gql(UNIT_BY_CODE)
    codes = {n["code"] for n in body["data"]["orgUnits"]["nodes"]}
    assert "sh-xuhui" in codes and "sh-huangpu" not in codes and "sh" not in codes
    xuhui = await unit_id(clerk.api, "sh-xuhui")
    refused = await create(clerk.api, xuhui, "GRASSROOTS")
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    # A sub-unit admin cannot create above their grant.
    sub_admin = await persona(api, "shanghai", "tenant_admin", "sh-xuhui")
    root = await unit_id(sh_admin.api, "sh")
    refused = await create(sub_admin.api, root, "COUNTY")
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    ok = await create(sub_admin.api, xuhui, "GRASSROOTS")
    assert ok["errors"] == []


async def test_children_of_an_ancestor_list_only_the_callers_own_branch(api, sh_admin):
    # A district clerk reads the province root as a breadcrumb (ancestors, parent); walking down from
    # it must not list the other districts, which their grant does not reach.
    clerk = await persona(api, "shanghai", "clerk", "sh-xuhui")
    xuhui = await unit_id(clerk.api, "sh-xuhui")
    walk = """query($id: ID!) { node(id: $id) { ... on OrgUnit { code
      parent { code children { code } } ancestors { code children { code } } children { code } } } }"""
    seen = (await clerk.api.gql(walk, {"id": xuhui}))["data"]["node"]
    assert seen["parent"]["code"] == "sh" and [a["code"] for a in seen["ancestors"]] == ["sh"]
    assert [c["code"] for c in seen["parent"]["children"]] == ["sh-xuhui"]
    assert [c["code"] for c in seen["ancestors"][0]["children"]] == ["sh-xuhui"]
    # The province admin, whose grant is at the root, sees every district under it.
    root_children = (await sh_admin.api.gql(walk, {"id": xuhui}))["data"]["node"]["parent"]["children"]
    assert {"sh-xuhui", "sh-huangpu"} <= {c["code"] for c in root_children}


async def test_pagination_filter_and_order(sh_admin):
    api = sh_admin.api
    q = """query($after: String, $o: OrgUnitOrder) { orgUnits(first: 3, after: $after, orderBy: $o, filter: {level: GRASSROOTS}) {
      totalCount edges { cursor node { code } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await api.gql(q, {"after": after, "o": {"field": "CODE", "direction": "DESC"}}))["data"]["orgUnits"]
        seen += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    bad = await api.gql("{ orgUnits(first: 1000) { totalCount } }")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    bad = await api.gql('{ orgUnits(after: "!!") { totalCount } }')
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_list_parents_match_each_unit_across_pages_and_orders(api, sh_admin):
    # A list page carries each distinct parent once; every row must still get its own parent, in
    # either direction and on every page, including a parent outside a clerk's grant (a breadcrumb).
    q = """query($after: String, $o: OrgUnitOrder) { orgUnits(first: 4, after: $after, orderBy: $o) {
      totalCount nodes { id code parent { id code name } } pageInfo { hasNextPage endCursor } } }"""
    one = """query($id: ID!) { node(id: $id) { ... on OrgUnit { parent { id code name } } } }"""
    clerk = await persona(api, "shanghai", "clerk", "sh-xuhui")
    for who in (sh_admin.api, clerk.api):
        for direction in ("ASC", "DESC"):
            after, seen = None, []
            while True:
                page = (await who.gql(q, {"after": after, "o": {"field": "NAME", "direction": direction}}))["data"]["orgUnits"]
                for node in page["nodes"]:
                    alone = (await who.gql(one, {"id": node["id"]}))["data"]["node"]["parent"]
                    assert node["parent"] == alone, (node, alone)
                    seen.append(node["code"])
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            assert len(seen) == page["totalCount"] == len(set(seen))
    xuhui = (await clerk.api.gql(q, {"o": {"field": "CODE", "direction": "ASC"}}))["data"]["orgUnits"]["nodes"]
    assert next(n for n in xuhui if n["code"] == "sh-xuhui")["parent"]["code"] == "sh"


async def test_concurrent_moves_keep_paths_consistent(sh_admin):
    api = sh_admin.api
    root = await unit_id(api, "sh")
    a = (await create(api, root, "CITY"))["orgUnit"]
    b = (await create(api, root, "CITY"))["orgUnit"]
    counties = [(await create(api, a["id"], "COUNTY"))["orgUnit"] for _ in range(6)]
    await asyncio.gather(*[api.gql(MOVE, {"id": c["id"], "p": b["id"]}) for c in counties])
    sub_b = (await api.gql(UNIT_BY_CODE, {"f": {"subtreeOf": b["id"]}}))["data"]["orgUnits"]
    assert sub_b["totalCount"] == 7
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant
    from core.tenancy.tables import OrgUnit

    tenant = await get_tenant(code="shanghai")
    with tenant_scope(tenant):
        rows = await OrgUnit.select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.path, OrgUnit.depth).where(OrgUnit.tenant_id == tenant.id)
    by_id = {r["id"]: r for r in rows}
    for r in rows:  # every path is the parent's path plus the unit's own id
        if r["parent_id"]:
            parent = by_id[r["parent_id"]]
            assert r["path"] == f"{parent['path']}{r['id']}/" and r["depth"] == parent["depth"] + 1

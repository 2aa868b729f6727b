"""Part 2: service need lists (categories, the negative list of items, the budget cap per project)."""

from __future__ import annotations

import pytest

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATE = """mutation($u: ID!, $c: String!, $t: String!, $b: BigInt!, $d: String) {
  procurementNeedCreate(orgUnitId: $u, category: $c, title: $t, budgetFen: $b, description: $d) {
    need { id category categoryLabel title budgetFen orgUnitId } errors { field code message } }
}"""
EXCLUDE = """mutation($u: ID!, $t: String!, $r: String) {
  procurementExcludedAdd(orgUnitId: $u, term: $t, reason: $r) { item { term reason } errors { field code message } }
}"""
LIST = "{ procurementNeeds { id title } }"
ITEMS = "query($u: ID!) { procurementExcludedItems(orgUnitId: $u) { term } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on ServiceNeed { title } } }"


def _codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_clerk_lists_needs_by_category_within_the_cap(plugin_tenant, clerk) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.district_unit]
    made = (await clerk.data(CREATE, {"u": unit, "c": "legal_aid", "t": "法律知识进企业（12场，覆盖1500人）",
                                      "b": 3_000_000}))["procurementNeedCreate"]
    assert made["errors"] == [] and made["need"]["categoryLabel"] == "法律援助" and made["need"]["budgetFen"] == 3_000_000
    # exactly the Jiangmen cap (200,000 元) is allowed; one fen more is refused with the cap
    at_cap = (await clerk.data(CREATE, {"u": unit, "c": "care", "t": "困难职工子女托管", "b": 20_000_000}))
    assert at_cap["procurementNeedCreate"]["errors"] == []
    over = (await clerk.data(CREATE, {"u": unit, "c": "care", "t": "困难职工子女托管", "b": 20_000_001}))
    assert _codes(over["procurementNeedCreate"]) == [("budgetFen", "CAP_EXCEEDED")]
    assert made["need"]["id"] in [n["id"] for n in (await clerk.data(LIST))["procurementNeeds"]]
    assert (await clerk.data(NODE, {"id": made["need"]["id"]}))["node"]["title"].startswith("法律知识")


async def test_bad_needs_get_typed_errors(plugin_tenant, clerk, auditor) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    for variables, expected in (({"c": "sports_cars", "t": "x", "b": 1}, ("category", "INVALID_INPUT")),
                                ({"c": "care", "t": " ", "b": 1}, ("title", "INVALID_INPUT")),
                                ({"c": "care", "t": "x", "b": 0}, ("budgetFen", "INVALID_INPUT")),
                                ({"c": "care", "t": "x", "b": -5}, ("budgetFen", "INVALID_INPUT"))):
        body = (await clerk.data(CREATE, {"u": unit, **variables}))["procurementNeedCreate"]
        assert body["need"] is None and _codes(body) == [expected], variables
    read_only = (await auditor.data(CREATE, {"u": unit, "c": "care", "t": "x", "b": 1}))["procurementNeedCreate"]
    assert [e["code"] for e in read_only["errors"]] == ["FORBIDDEN"]


async def test_the_negative_list_reaches_down_the_tree(plugin_tenant, clerk, roles) -> None:
    root = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    district = plugin_tenant.unit_ids[plugin_tenant.district_unit]
    # the tenant's own term (no guarantees of a provider's financing) applies everywhere
    body = (await clerk.data(CREATE, {"u": district, "c": "care", "t": "为服务机构提供融资担保", "b": 100}))
    assert _codes(body["procurementNeedCreate"]) == [("title", "NOT_ELIGIBLE")]
    added = (await clerk.data(EXCLUDE, {"u": root, "t": "宴请", "r": "不得列支"}))["procurementExcludedAdd"]
    assert added["errors"] == [] and added["item"] == {"term": "宴请", "reason": "不得列支"}
    in_text = (await clerk.data(CREATE, {"u": district, "c": "culture", "t": "职工联谊", "b": 100,
                                         "d": "含年终宴请一次"}))["procurementNeedCreate"]
    assert _codes(in_text) == [("title", "NOT_ELIGIBLE")]
    assert "宴请" in [i["term"] for i in (await clerk.data(ITEMS, {"u": district}))["procurementExcludedItems"]]
    # a term set at the district does not bind the root
    district_clerk = (await roles.at("clerk", district=True)).api
    assert (await district_clerk.data(EXCLUDE, {"u": district, "t": "旅游"}))["procurementExcludedAdd"]["errors"] == []
    assert (await clerk.data(CREATE, {"u": root, "c": "culture", "t": "职工疗休养旅游", "b": 100}))[
        "procurementNeedCreate"]["errors"] == []
    blocked = (await clerk.data(CREATE, {"u": district, "c": "culture", "t": "职工疗休养旅游", "b": 100}))
    assert _codes(blocked["procurementNeedCreate"]) == [("title", "NOT_ELIGIBLE")]


async def test_subtree_and_tenant_fences(api, plugin_tenant, clerk, roles, tmp_path) -> None:
    root = plugin_tenant.unit_ids[plugin_tenant.root_unit]
    district_clerk = (await roles.at("clerk", district=True)).api
    above = (await district_clerk.data(CREATE, {"u": root, "c": "care", "t": "x", "b": 1}))["procurementNeedCreate"]
    assert [e["code"] for e in above["errors"]] == ["NOT_FOUND"]
    mine = (await clerk.data(CREATE, {"u": root, "c": "care", "t": "省级项目", "b": 1}))["procurementNeedCreate"]
    assert mine["need"]["id"] not in [n["id"] for n in (await district_clerk.data(LIST))["procurementNeeds"]]
    other = await create_plugin_tenant(["procurement"], tmp_path)
    outsider = (await persona(api, other.code, "clerk", other.root_unit)).api
    assert (await outsider.data(NODE, {"id": mine["need"]["id"]}))["node"] is None
    assert (await outsider.data(CREATE, {"u": root, "c": "care", "t": "x", "b": 1}))[
        "procurementNeedCreate"]["errors"][0]["code"] == "NOT_FOUND"
    assert mine["need"]["id"] not in [n["id"] for n in (await outsider.data(LIST))["procurementNeeds"]]

"""Member search: name prefix, exact ID/phone through the blind index, subtree, state, work status,
tags, pagination, and bad input."""

from __future__ import annotations

import pytest

from core.db import pinyin_key
from tests.members.members_helpers import MEMBERS, create_member, make_id, unit_gid


@pytest.fixture(scope="module")
async def people(sh_admin):
    made = {}
    made["a"] = await create_member(sh_admin, "sh-pudong-dianqi", name="欧阳搜索甲", phone="13811110001",
                                    tags=["model_worker", "outdoor_worker"], workStatus="ON_DUTY")
    made["b"] = await create_member(sh_admin, "sh-pudong-zhangjiang", name="欧阳搜索乙", phone="13811110002",
                                    tags=["outdoor_worker"], workStatus="MIGRANT_WORKER")
    made["c"] = await create_member(sh_admin, "sh-xuhui-kuaidi", name="欧阳搜索丙", phone="13811110003",
                                    tags=["new_employment"])
    made["d_id"] = make_id()
    made["d"] = await create_member(sh_admin, "sh-pudong-dianqi", name="Ouyang Search", idNumber=made["d_id"])
    return made


async def names(p, flt, first=50, order=None):
    res = await p.api.gql(MEMBERS, {"f": flt, "first": first, "o": order})
    assert "errors" not in res, res
    return [n["name"] for n in res["data"]["members"]["nodes"]], res["data"]["members"]


async def test_name_prefix_and_order(sh_admin, people):
    found, conn = await names(sh_admin, {"namePrefix": "欧阳搜索"})
    # Name order is pinyin order (丙 bing, 甲 jia, 乙 yi), not code points (丙 乙 甲).
    assert found == sorted(found, key=pinyin_key) and set(found) >= {"欧阳搜索甲", "欧阳搜索乙", "欧阳搜索丙"}
    found, _ = await names(sh_admin, {"namePrefix": "欧阳搜索甲"})
    assert found == ["欧阳搜索甲"]
    # Latin names match case-insensitively, ignoring spaces.
    found, _ = await names(sh_admin, {"namePrefix": "ouyangs"})
    assert found == ["Ouyang Search"]
    desc, _ = await names(sh_admin, {"namePrefix": "欧阳搜索"}, order={"field": "NAME", "direction": "DESC"})
    assert desc == sorted(desc, key=pinyin_key, reverse=True)


async def test_exact_id_and_phone(sh_admin, people):
    found, _ = await names(sh_admin, {"idNumber": people["d_id"]})
    assert found == ["Ouyang Search"]
    found, _ = await names(sh_admin, {"idNumber": people["d_id"].lower()[:17] + people["d_id"][17].lower()})
    assert found == ["Ouyang Search"]
    found, _ = await names(sh_admin, {"phone": "+86 138 1111 0002"})
    assert found == ["欧阳搜索乙"]
    found, _ = await names(sh_admin, {"idNumber": make_id()})
    assert found == []


async def test_subtree_unit_state_status_tags(sh_admin, people):
    pudong = await unit_gid(sh_admin, "sh-pudong")
    found, _ = await names(sh_admin, {"subtreeOf": pudong, "namePrefix": "欧阳"})
    assert set(found) == {"欧阳搜索甲", "欧阳搜索乙"}
    found, _ = await names(sh_admin, {"orgUnitId": await unit_gid(sh_admin, "sh-pudong-dianqi"), "namePrefix": "欧阳"})
    assert found == ["欧阳搜索甲"]
    found, _ = await names(sh_admin, {"tags": ["outdoor_worker"], "namePrefix": "欧阳"})
    assert set(found) == {"欧阳搜索甲", "欧阳搜索乙"}
    found, _ = await names(sh_admin, {"tags": ["outdoor_worker", "model_worker"], "namePrefix": "欧阳"})
    assert found == ["欧阳搜索甲"]
    found, _ = await names(sh_admin, {"workStatuses": ["MIGRANT_WORKER"], "namePrefix": "欧阳"})
    assert found == ["欧阳搜索乙"]
    found, _ = await names(sh_admin, {"states": ["LEFT"], "namePrefix": "欧阳"})
    assert found == []


async def test_pagination(sh_admin, people):
    _, first = await names(sh_admin, {"namePrefix": "欧阳搜索"}, first=2)
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    res = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "欧阳搜索"}, "first": 2, "after": first["pageInfo"]["endCursor"]})
    rest = res["data"]["members"]
    assert len(rest["nodes"]) == 1 and not rest["pageInfo"]["hasNextPage"]


@pytest.mark.parametrize("flt,field", [
    ({"idNumber": "1234"}, "idNumber"),
    ({"phone": "13abc"}, "phone"),
    ({"namePrefix": "x" * 51}, "namePrefix"),
    ({"namePrefix": "a\u0000"}, "namePrefix"),
    ({"subtreeOf": "bm9wZQ=="}, "subtreeOf"),
])
async def test_bad_filters_are_typed_errors(sh_admin, flt, field):
    res = await sh_admin.api.gql(MEMBERS, {"f": flt}, expect_status=None)
    assert res["errors"][0]["extensions"]["code"] in ("INVALID_INPUT", "NOT_FOUND")
    assert res["_status"] < 500


async def test_member_tags_include_plugin_tags(sh_admin, bj_admin):
    sh = await sh_admin.api.gql("{ memberTags { code label } }")
    codes = {t["code"] for t in sh["data"]["memberTags"]}
    assert {"model_worker", "new_employment", "outdoor_worker"} <= codes and "jingka" not in codes
    bj = await bj_admin.api.gql("{ memberTags { code label } }")
    assert "jingka" in {t["code"] for t in bj["data"]["memberTags"]}


async def test_total_count_is_capped_and_says_so(sh_admin, people, monkeypatch):
    from core.members import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    res = await sh_admin.api.gql("query($f: MemberFilter) { members(filter: $f, first: 1) { totalCount totalCountIsExact } }",
                                 {"f": {"namePrefix": "欧阳搜索"}})
    assert res["data"]["members"] == {"totalCount": 2, "totalCountIsExact": False}
    res = await sh_admin.api.gql("query($f: MemberFilter) { members(filter: $f, first: 1) { totalCount totalCountIsExact } }",
                                 {"f": {"namePrefix": "欧阳搜索甲"}})
    assert res["data"]["members"] == {"totalCount": 1, "totalCountIsExact": True}


async def test_rare_states_are_found(sh_admin):
    m = await create_member(sh_admin, "sh-pudong-dianqi", name="状态查询")
    await sh_admin.api.gql("mutation($id: ID!) { memberLeave(id: $id) { errors { code } } }", {"id": m["id"]})
    found, _ = await names(sh_admin, {"states": ["LEFT"], "namePrefix": "状态"})
    assert found == ["状态查询"]


async def test_tag_only_count_matches_the_full_count(sh_admin, people, monkeypatch):
    from core.members import queries

    q = "query($f: MemberFilter) { members(filter: $f, first: 1) { totalCount } }"
    fast = (await sh_admin.api.gql(q, {"f": {"tags": ["outdoor_worker"]}}))["data"]["members"]["totalCount"]
    monkeypatch.setattr(queries, "_tag_only", lambda *a: False)
    slow = (await sh_admin.api.gql(q, {"f": {"tags": ["outdoor_worker"]}}))["data"]["members"]["totalCount"]
    assert fast == slow >= 2

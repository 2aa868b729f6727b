"""Member lists in name order sort by pinyin, as Chinese readers expect (阿 陈 李 刘 王 张 赵 周), not
by code point: on PostgreSQL through ICU's zh collation, on SQLite through core.db's zh_pinyin
collation. Paging by key keeps that order across pages, both directions."""

from __future__ import annotations

import sqlite3

from core.db import SQLITE_NAME_COLLATION, _PinyinConnection, pinyin_key
from tests.members.members_helpers import create_member, make_id, unit_gid

PINYIN = ["阿强", "陈静", "李娜", "刘洋", "王芳", "张伟", "赵敏", "周杰"]
UNIT_CREATE = """mutation($in: OrgUnitCreateInput!) { orgUnitCreate(input: $in) { orgUnit { id } errors { code } } }"""
Q = """query($f: MemberFilter, $n: Int, $after: String, $o: MemberOrder) { members(filter: $f, first: $n, after: $after,
  orderBy: $o) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }"""


async def _walk(api, flt, direction, n=3, only=None):
    """Names in list order; ``only`` keeps the members with those ids (other tests add people with
    the same common names to the province)."""
    names, after = [], None
    while True:
        page = (await api.gql(Q, {"f": flt, "n": n, "after": after, "o": {"field": "NAME", "direction": direction}}))
        page = page["data"]["members"]
        names += [e["node"]["name"] for e in page["edges"] if only is None or e["node"]["id"] in only]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        after = page["pageInfo"]["endCursor"]


async def test_member_list_sorts_names_by_pinyin_across_pages(sh_admin):
    made = await sh_admin.api.gql(UNIT_CREATE, {"in": {"parentId": await unit_gid(sh_admin, "sh-huangpu"),
                                                       "code": "sh-huangpu-pinyin", "name": "拼音排序测试工会",
                                                       "level": "GRASSROOTS"}})
    assert made["data"]["orgUnitCreate"]["errors"] == []
    unit = made["data"]["orgUnitCreate"]["orgUnit"]["id"]
    assert sorted(PINYIN) != PINYIN  # code-point order is not what people expect here
    ours = set()
    for i, name in enumerate(reversed(PINYIN)):
        m = await create_member(sh_admin, "sh-huangpu-pinyin", name=name, idNumber=make_id(birth="19720101", area="310115", seq=900 + i))
        ours.add(m["id"])
    flt = {"orgUnitId": unit}
    assert await _walk(sh_admin.api, flt, "ASC") == PINYIN
    assert await _walk(sh_admin.api, flt, "DESC") == PINYIN[::-1]
    # Unfiltered too (the province-wide list uses its own index): our names keep their relative order.
    assert await _walk(sh_admin.api, {"namePrefix": None}, "ASC", 100, only=ours) == PINYIN


def test_sqlite_collation_sorts_names_by_pinyin():
    db = sqlite3.connect(":memory:", factory=_PinyinConnection)
    db.execute("CREATE TABLE t (name TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(n,) for n in reversed(PINYIN + ["Alice", "𠀀甲"])])
    rows = [r[0] for r in db.execute(f"SELECT name FROM t ORDER BY name COLLATE {SQLITE_NAME_COLLATION}, rowid")]
    assert rows == ["Alice", *PINYIN, "𠀀甲"]  # Latin first; characters outside GB 2312 last


def test_pinyin_key_orders_common_surnames():
    surnames = ["安", "白", "蔡", "邓", "范", "高", "黄", "金", "孔", "林", "马", "潘", "钱", "任", "孙", "唐", "万", "徐",
                "杨", "郑"]
    backwards = surnames[::-1]
    assert sorted(backwards, key=pinyin_key) == surnames

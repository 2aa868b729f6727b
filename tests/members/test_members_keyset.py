"""Member lists page by key: walking every page gives each member exactly once, in order, for both
directions; cursors carry no personal data; old offset cursors and bad cursors still behave."""

from __future__ import annotations

import base64

import pytest

from tests.members.members_helpers import create_member, make_id, unit_gid

pytestmark = pytest.mark.slow  # minutes, not seconds: left out of make test-fast

UNIT_CREATE = """mutation($in: OrgUnitCreateInput!) { orgUnitCreate(input: $in) { orgUnit { id } errors { code } } }"""

Q = """query($after: String, $o: MemberOrder, $f: MemberFilter) { members(first: 7, after: $after, orderBy: $o, filter: $f) {
  totalCount edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }"""


async def _walk(api, order, flt=None):
    seen, after = [], None
    while True:
        page = (await api.gql(Q, {"after": after, "o": order, "f": flt}))["data"]["members"]
        seen += [(e["node"]["id"], e["node"]["name"], e["cursor"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


async def test_keyset_pages_cover_every_member_once_in_order(api, sh_admin):
    # Same names on purpose: ties on the sort key must not lose or repeat rows across pages.
    # A union of its own: the walk covers every member of the list it pages through, and the province
    # as a whole grows with every other test's imports.
    made = await sh_admin.api.gql(UNIT_CREATE, {"in": {"parentId": await unit_gid(sh_admin, "sh-huangpu"),
                                                       "code": "sh-huangpu-keyset", "name": "分页测试工会",
                                                       "level": "GRASSROOTS"}})
    assert made["data"]["orgUnitCreate"]["errors"] == []
    flt = {"orgUnitId": made["data"]["orgUnitCreate"]["orgUnit"]["id"]}
    for i, name in enumerate(["王芳", "王芳", "李娜", "张伟", "王芳", "刘洋", "陈静", "李娜"] * 2):
        await create_member(sh_admin, "sh-huangpu-keyset", name=name, idNumber=make_id(seq=700 + i))
    for order in ({"field": "NAME", "direction": "ASC"}, {"field": "NAME", "direction": "DESC"},
                  {"field": "CREATED", "direction": "ASC"}, {"field": "CREATED", "direction": "DESC"}):
        seen, total = await _walk(sh_admin.api, order, flt)
        ids = [s[0] for s in seen]
        assert len(ids) == len(set(ids)) == total == 16, order
        if order["field"] == "CREATED":
            from core.graphql.base import from_global_id

            pks = [from_global_id(i)[1] for i in ids]
            assert pks == sorted(pks, reverse=order["direction"] == "DESC")
        for _, name, cursor in seen:  # cursors are opaque and hold no names
            assert name not in base64.b64decode(cursor).decode()


async def test_bad_cursor_is_a_typed_error(sh_admin):
    body = await sh_admin.api.gql(Q, {"after": "!!!", "o": None})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    forged = base64.b64encode(b"mcursor:3:999999999").decode()  # a row that is not in the list
    body = await sh_admin.api.gql(Q, {"after": forged, "o": None})
    assert "errors" not in body

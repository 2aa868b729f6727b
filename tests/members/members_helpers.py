"""Shared helpers for the members tests: valid ID numbers, personas, GraphQL snippets."""

from __future__ import annotations

import itertools
from typing import Any

from core.pii.idcard import check_char

_seq = itertools.count(1)


def make_id(birth: str = "19850612", area: str = "310101", seq: int | None = None, male: bool = True) -> str:
    """A valid GB 11643 number; distinct on each call unless ``seq`` is given."""
    n = next(_seq) if seq is None else seq
    s = (n * 2 + (1 if male else 0)) % 1000
    body = f"{area}{birth}{s:03d}"
    # vary the birth day as well so that numbers stay unique past 500 calls
    if seq is None and n >= 500:
        day = 1 + (n // 500) % 28
        body = f"{area}{birth[:6]}{day:02d}{s:03d}"
    return body + check_char(body)


def bad_checksum(valid: str) -> str:
    last = valid[-1]
    return valid[:-1] + ("0" if last != "0" else "1")


async def unit_gid(api_persona: Any, code: str) -> str:
    from core.graphql.base import to_global_id
    from core.tenancy.context import tenant_scope
    from core.tenancy.services import get_tenant, get_unit_by_code

    tenant = await get_tenant(code=api_persona.tenant)
    with tenant_scope(tenant):
        unit = await get_unit_by_code(tenant, code)
    return to_global_id("OrgUnit", unit["id"])


MEMBER_FIELDS = """id name gender birthYear age idNumberMasked phoneMasked employer workStatus workStatusLabel state
  joinedOn version tags { code label } orgUnit { code name }"""

CREATE = """mutation($input: MemberCreateInput!) { memberCreate(input: $input) {
  member { %s } errors { field code message } } }""" % MEMBER_FIELDS

UPDATE = """mutation($id: ID!, $input: MemberUpdateInput!) { memberUpdate(id: $id, input: $input) {
  member { %s } errors { field code message } } }""" % MEMBER_FIELDS

MEMBERS = """query($f: MemberFilter, $first: Int, $after: String, $o: MemberOrder) {
  members(filter: $f, first: $first, after: $after, orderBy: $o) { totalCount pageInfo { hasNextPage endCursor }
  nodes { %s } } }""" % MEMBER_FIELDS

REVEAL = """mutation($id: ID!, $f: RevealField!, $r: String!) { memberReveal(id: $id, field: $f, reason: $r) {
  value errors { field code message } } }"""


async def create_member(p: Any, unit_code: str, **fields: Any) -> dict[str, Any]:
    unit = await unit_gid(p, unit_code)
    body = {"name": fields.pop("name", "张三"), "idNumber": fields.pop("idNumber", None) or make_id(), "orgUnitId": unit, **fields}
    res = await p.api.gql(CREATE, {"input": body})
    payload = res["data"]["memberCreate"]
    assert payload["errors"] == [], payload
    return payload["member"]

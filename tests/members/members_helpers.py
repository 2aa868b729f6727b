"""Shared helpers for the members tests: valid ID numbers, personas, GraphQL snippets."""

from __future__ import annotations

import itertools
from typing import Any

from core.pii.idcard import check_char

_seq = itertools.count(1)


def make_id(birth: str = "19850612", area: str = "310101", seq: int | None = None, male: bool = True) -> str:
    """A valid GB 11643 number; distinct on each call unless ``seq`` is given (500 per birth date,
    then the next day)."""
    import datetime as dt

    n = next(_seq) if seq is None else seq
    born = dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:8])) + dt.timedelta(days=n // 500)
    if born > dt.date.today():
        born = dt.date(1950, 1, 1) + dt.timedelta(days=n // 500 % 20000)
    s = (n % 500) * 2 + (1 if male else 0)
    body = f"{area}{born:%Y%m%d}{s:03d}"
    return body + check_char(body)


def bad_checksum(valid: str) -> str:
    last = valid[-1]
    return valid[:-1] + ("0" if last != "0" else "1")


async def unit_gid(api_persona: Any, code: str) -> str:
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy.services import get_tenant, get_unit_by_code

    tenant = await get_tenant(code=api_persona.tenant)
    with tenant_scope(tenant):
        unit = await get_unit_by_code(tenant, code)
    return to_global_id("OrgUnit", unit["id"])


MEMBER_FIELDS = """id name gender birthYear age idNumberMasked phoneMasked employer workStatus workStatusLabel state
  joinedOn version tags { code label } orgUnit { code name }"""

CREATE = f"""mutation($input: MemberCreateInput!) {{ memberCreate(input: $input) {{
  member {{ {MEMBER_FIELDS} }} errors {{ field code message }} }} }}"""

UPDATE = f"""mutation($id: ID!, $input: MemberUpdateInput!) {{ memberUpdate(id: $id, input: $input) {{
  member {{ {MEMBER_FIELDS} }} errors {{ field code message }} }} }}"""

MEMBERS = f"""query($f: MemberFilter, $first: Int, $after: String, $o: MemberOrder) {{
  members(filter: $f, first: $first, after: $after, orderBy: $o) {{ totalCount pageInfo {{ hasNextPage endCursor }}
  nodes {{ {MEMBER_FIELDS} }} }} }}"""

REVEAL = """mutation($id: ID!, $f: MemberRevealField!, $r: String!) { memberReveal(id: $id, field: $f, reason: $r) {
  value errors { field code message } } }"""


async def create_member(p: Any, unit_code: str, **fields: Any) -> dict[str, Any]:
    unit = await unit_gid(p, unit_code)
    body = {"name": fields.pop("name", "张三"), "idNumber": fields.pop("idNumber", None) or make_id(), "orgUnitId": unit, **fields}
    res = await p.api.gql(CREATE, {"input": body})
    payload = res["data"]["memberCreate"]
    assert payload["errors"] == [], payload
    return payload["member"]


IMPORT = """query($id: ID!) { memberImport(id: $id) { id status filename format encoding totalRows validRows errorRows
  wouldCreate wouldUpdate wouldLeaveUnchanged committedThroughRow batchesCommitted created updated unchanged failed
  fileError { code message row column } columns { field column }
  errors(first: 100) { totalCount nodes { row column code message } } previewJob { status } commitJob { status } } }"""

COMMIT = """mutation($id: ID!, $allow: Boolean!) { memberImportCommit(id: $id, allowErrors: $allow) {
  memberImport { id status } errors { field code message } } }"""

HEADER = "姓名,身份证号码,所属工会,手机号码,工作单位,工作状态,会员标签,入会日期"


def roster_csv(rows: list[list[str]], header: str = HEADER, encoding: str = "utf-8") -> bytes:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header.split(","))
    w.writerows(rows)
    return out.getvalue().encode(encoding)


async def upload(p: Any, content: bytes, filename: str = "名册.csv", expect: int | None = 201) -> dict[str, Any]:
    from core.jobs import runner

    r = await p.api.client.post("/imports", params={"filename": filename}, content=content,
                                headers={"authorization": f"Bearer {p.token}"})
    if expect is not None:
        assert r.status_code == expect, r.text
    await runner.drain_local()
    body = r.json()
    body["_status"] = r.status_code
    return body


async def import_state(p: Any, gid: str) -> dict[str, Any]:
    res = await p.api.gql(IMPORT, {"id": gid})
    assert "errors" not in res, res
    return res["data"]["memberImport"]


async def commit(p: Any, gid: str, allow: bool = False) -> dict[str, Any]:
    from core.jobs import runner

    res = await p.api.gql(COMMIT, {"id": gid, "allow": allow})
    await runner.drain_local(120)
    return res["data"]["memberImportCommit"]


async def make_tenant(prefix: str, label: str = "测试") -> tuple[Any, str]:
    """A fresh tenant (Fujian's province code) with one grassroots union; returns it and the union's code."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy
    from tests.fixtures.api import unique

    code = unique(prefix)
    tenant = await tenancy.create_tenant(Actor(None, "test"), code=code, name=f"{label}{code}", province_code="35",
                                         root_area_code="350000")
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        await tenancy.create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=f"{code}-g",
                                  name=f"{label}基层工会", level="grassroots", area_code="350102")
    return tenant, f"{code}-g"

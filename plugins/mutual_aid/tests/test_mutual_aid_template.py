"""Enrolment from the fixed Excel template (download it, fill it in, upload it: every bad row reported with its
row number, nothing stored while one stands, the ratio checked as for any batch), and new hires added to an
enrolled unit within the plan's days of joining; against the real database through GraphQL and HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
from typing import Any

import pytest

from core.testing import create_plugin_tenant, persona, synthetic_id_number
from huijia_mutual_aid.rules import china_today

pytestmark = pytest.mark.asyncio(loop_scope="session")

PLAN = "shanghai_group_accident"  # 75 % of a unit, all of one with 10 or fewer; new hires within 60 days
TEMPLATE = "/mutual_aid/enrolment-template"
UPLOAD = """mutation($i: MutualAidEnrolTemplateInput!) { mutualAidEnrolFromTemplate(input: $i) {
  enrolments { id memberId shares premiumFen } errors { field code message messageZh extensions } } }"""
ENROL = """mutation($i: MutualAidEnrolInput!) { mutualAidEnrol(input: $i) {
  enrolments { id } errors { code messageZh extensions } } }"""
_seq = itertools.count(700)


async def add_member(t: Any, name: str, joined_days_ago: int = 0) -> tuple[str, str, int]:
    """A member of the grassroots unit: (GraphQL id, ID number, pk)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.sdk import to_global_id
    from core.tenancy import queries as tenancy

    tenant = await t.context()
    idn = synthetic_id_number(next(_seq), area="310101")
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                  values={"name": name, "id_number": idn, "employer": "测试企业",
                                          "joined_on": china_today() - dt.timedelta(days=joined_days_ago)})
    return to_global_id("Member", row["id"]), idn, int(row["id"])


def workbook(rows: list[list[Any]], header: tuple[str, ...] = ("身份证号", "姓名", "份数")) -> str:
    from core.sdk import XlsxStreamWriter

    out = io.BytesIO()
    with XlsxStreamWriter(out, "名单") as book:
        book.header(header)
        for r in rows:
            book.row(r)
    return base64.b64encode(out.getvalue()).decode()


async def stored(t: Any) -> int:
    from core.sdk import raw, tenant_scope

    tenant = await t.context()
    with tenant_scope(tenant):
        rows = await raw("SELECT count(*) AS n FROM mutual_aid_enrolment WHERE tenant_id = {} AND plan_code = {}",
                         tenant.id, PLAN)
    return int(rows[0]["n"])


@pytest.fixture(name="w", scope="module")
async def fx_world(api, tmp_path_factory) -> dict[str, Any]:
    t = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_template"))
    staff = [await add_member(t, f"职工{i}") for i in range(4)]
    return {"t": t, "clerk": (await persona(api, t.code, "clerk", t.root_unit)).api, "unit": t.unit_ids[t.grassroots_unit],
            "staff": staff}


def upload(w: dict[str, Any], content: str, key: str = "tpl") -> dict[str, Any]:
    return {"i": {"plan": PLAN, "orgUnitId": w["unit"], "unitKind": "OTHER", "batchKey": key, "contentBase64": content}}


async def get(api: Any, url: str) -> Any:
    return await api.client.get(url, headers={"authorization": f"Bearer {api.token}"} if api.token else {})


async def test_the_template_downloads_with_its_header_for_a_clerk_only(api, w) -> None:
    from core.sdk import xlsx_rows

    got = await get(w["clerk"], f"{TEMPLATE}/{PLAN}")
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in got.headers["content-disposition"]
    assert xlsx_rows(got.content, max_rows=10) == [(1, ["身份证号", "姓名", "份数"])]
    assert (await get(w["clerk"], f"{TEMPLATE}/no_such_plan")).status_code == 404
    assert (await get(w["clerk"].as_(""), f"{TEMPLATE}/{PLAN}")).status_code == 401
    finance = (await persona(api, w["t"].code, "finance")).api
    assert (await get(finance, f"{TEMPLATE}/{PLAN}")).status_code == 403


async def test_every_bad_row_is_reported_with_its_number_and_nothing_is_stored(w) -> None:
    (_, a, _), (_, b, _), (_, c, _), _ = w["staff"]
    stranger = synthetic_id_number(999, area="310101")
    content = workbook([[a, "职工0", 2], ["12345", "某人", 2], [stranger, "路人", 2], [b, "别人", 2], [c, "职工2", 5],
                        [None, None, None], [a, "职工0", 2]])
    got = (await w["clerk"].data(UPLOAD, upload(w, content)))["mutualAidEnrolFromTemplate"]
    assert got["enrolments"] == []
    assert [(e["extensions"]["row"], e["code"], e["messageZh"]) for e in got["errors"]] == [
        (3, "INVALID_INPUT", "第3行：身份证号码应为18位（旧版为15位）"),
        (4, "NOT_ELIGIBLE", "第4行：本单位没有该身份证号的会员"),
        (5, "NOT_ELIGIBLE", "第5行：姓名与身份证号不符"),
        (6, "INVALID_INPUT", "第6行：份数须在1至3份之间"),
        (8, "NOT_ELIGIBLE", "第8行：与第2行重复，重复参保无效")]
    assert stranger not in str(got) and await stored(w["t"]) == 0
    # not the template at all
    wrong = (await w["clerk"].data(UPLOAD, upload(w, workbook([[a, 1]], header=("证件", "份")))))["mutualAidEnrolFromTemplate"]
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("content", "INVALID_INPUT")]
    junk = (await w["clerk"].data(UPLOAD, upload(w, base64.b64encode(b"a,b\n").decode())))["mutualAidEnrolFromTemplate"]
    assert [(e["field"], e["code"]) for e in junk["errors"]] == [("content", "INVALID_INPUT")]


async def test_a_short_template_fails_the_ratio_and_a_full_one_enrols_the_unit(w) -> None:
    rows = [[idn, f"职工{i}", 2] for i, (_, idn, _) in enumerate(w["staff"])]
    short = (await w["clerk"].data(UPLOAD, upload(w, workbook(rows[:3]))))["mutualAidEnrolFromTemplate"]
    assert [e["messageZh"] for e in short["errors"]] == ["参保人数3人，未达到本单位符合条件会员4人的100%（至少4人）"]
    assert await stored(w["t"]) == 0
    full = (await w["clerk"].data(UPLOAD, upload(w, workbook(rows))))["mutualAidEnrolFromTemplate"]
    assert full["errors"] == [] and sorted((e["shares"], e["premiumFen"]) for e in full["enrolments"]) == [(2, 2000)] * 4
    # the same template again: every row is a member already enrolled, named by its row
    again = (await w["clerk"].data(UPLOAD, upload(w, workbook(rows), key="tpl2")))["mutualAidEnrolFromTemplate"]
    assert [e["extensions"]["row"] for e in again["errors"]] == [2, 3, 4, 5]
    assert {e["messageZh"] for e in again["errors"]} == {f"第{n}行：已参加本计划" for n in (2, 3, 4, 5)}
    assert await stored(w["t"]) == 4


async def test_an_enrolled_unit_adds_only_new_hires_within_the_plans_days(w) -> None:
    from core.sdk import raw, tenant_scope

    t = w["t"]
    tenant = await t.context()
    with tenant_scope(tenant):  # set-up: the unit enrolled 100 days ago
        await raw("UPDATE mutual_aid_enrolment SET created_at = created_at - interval '100 days' WHERE tenant_id = {} "
                  "AND plan_code = {}", tenant.id, PLAN)
    recent, late, old = (await add_member(t, "新职工", 30), await add_member(t, "新职工", 70), await add_member(t, "老职工", 120))

    def one(member: str, key: str) -> dict[str, Any]:
        return {"i": {"plan": PLAN, "orgUnitId": w["unit"], "unitKind": "OTHER", "memberIds": [member], "shares": 2,
                      "batchKey": key}}

    refused = (await w["clerk"].data(ENROL, one(late[0], "h1")))["mutualAidEnrol"]
    assert [e["messageZh"] for e in refused["errors"]] == [
        f"已超过入职后60天的补充参保期限（{(china_today() - dt.timedelta(days=70)).isoformat()}入职）"]
    refused = (await w["clerk"].data(ENROL, one(old[0], "h2")))["mutualAidEnrol"]
    enrolled_on = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    assert [e["messageZh"] for e in refused["errors"]] == [
        f"本单位已于{enrolled_on.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()}参保，期中只可补充此后入职的会员"]
    ok = (await w["clerk"].data(ENROL, one(recent[0], "h3")))["mutualAidEnrol"]
    assert ok["errors"] == [] and len(ok["enrolments"]) == 1
    assert await stored(t) == 5

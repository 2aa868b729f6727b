"""Unit enrolment through GraphQL against the real database: ratio, shares, duplicates, other units and tenants, roles."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from core.testing import create_plugin_tenant, persona, synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")

ENROL = """mutation($i: MutualAidEnrolInput!) { mutualAidEnrol(input: $i) {
  enrolments { id planCode memberId shares coverFrom coverTo premiumFen }
  errors { field code message messageZh extensions } } }"""
_seq = itertools.count(300)


async def add_members(t, unit_code: str, n: int) -> list[str]:
    """``n`` members of unit ``unit_code``, made through the members service; their GraphQL ids."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.sdk import to_global_id
    from core.tenancy import queries as tenancy

    tenant = await t.context()
    ids = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, unit_code)
        for _ in range(n):
            row = await create_member(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                      values={"name": "参保人", "id_number": synthetic_id_number(next(_seq), area="310101"),
                                              "employer": "测试企业"})
            ids.append(to_global_id("Member", row["id"]))
    return ids


async def stored(t, plan: str) -> int:
    from core.sdk import raw, tenant_scope

    tenant = await t.context()
    with tenant_scope(tenant):
        rows = await raw("SELECT count(*) AS n FROM mutual_aid_enrolment WHERE tenant_id = {} AND plan_code = {}",
                         tenant.id, plan)
    return int(rows[0]["n"])


@pytest.fixture(name="sh", scope="module")
async def fx_sh(api, tmp_path_factory) -> dict[str, Any]:
    t = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_enrol"))
    clerk = (await persona(api, t.code, "clerk", t.root_unit)).api
    return {"t": t, "clerk": clerk, "unit": t.unit_ids[t.grassroots_unit],
            "staff": await add_members(t, t.grassroots_unit, 4)}


def batch(sh, members, plan="shanghai_group_accident", shares=2, key="b1") -> dict[str, Any]:
    return {"i": {"plan": plan, "orgUnitId": sh["unit"], "unitKind": "OTHER", "memberIds": members, "shares": shares,
                  "batchKey": key}}


def reasons(payload) -> list[str]:
    return [e["messageZh"] for e in payload["errors"]]


async def test_a_small_unit_must_enrol_everyone_and_a_short_batch_stores_nothing(sh) -> None:
    got = (await sh["clerk"].data(ENROL, batch(sh, sh["staff"][:3])))["mutualAidEnrol"]
    assert got["enrolments"] == [] and {e["code"] for e in got["errors"]} == {"NOT_ELIGIBLE"}
    assert reasons(got) == ["参保人数3人，未达到本单位符合条件会员4人的100%（至少4人）"]
    assert await stored(sh["t"], "shanghai_group_accident") == 0


async def test_more_shares_than_the_plan_allows_are_refused(sh) -> None:
    got = (await sh["clerk"].data(ENROL, batch(sh, sh["staff"], shares=4)))["mutualAidEnrol"]
    assert "每人参保份数须在1至3份之间" in reasons(got)
    assert await stored(sh["t"], "shanghai_group_accident") == 0


async def test_a_full_batch_is_enrolled_with_premiums_due_and_cover_from_the_next_day(sh) -> None:
    got = (await sh["clerk"].data(ENROL, batch(sh, sh["staff"], shares=2)))["mutualAidEnrol"]
    assert got["errors"] == [] and len(got["enrolments"]) == 4
    first = got["enrolments"][0]
    assert first["shares"] == 2 and first["premiumFen"] == 2000 and first["coverFrom"] > "2000-01-01"
    assert first["coverTo"].endswith("-12-31")
    # enrolling a member again is a duplicate, and a new hire must take the unit's number of shares
    hire = await add_members(sh["t"], sh["t"].grassroots_unit, 1)
    again = (await sh["clerk"].data(ENROL, batch(sh, [sh["staff"][0], *hire], shares=3, key="b2")))["mutualAidEnrol"]
    assert "已参加本计划" in reasons(again) and "本计划要求同一单位参保人员份数相同" in reasons(again)
    ok = (await sh["clerk"].data(ENROL, batch(sh, hire, shares=2, key="b3")))["mutualAidEnrol"]
    assert ok["errors"] == [] and await stored(sh["t"], "shanghai_group_accident") == 5


async def test_a_duplicate_is_void_where_the_plan_allows_one_share(sh) -> None:
    one = sh["staff"][0]
    got = (await sh["clerk"].data(ENROL, batch(sh, [one, one], plan="shanghai_class_a", shares=1)))["mutualAidEnrol"]
    assert reasons(got) == ["重复参保无效"]
    assert await stored(sh["t"], "shanghai_class_a") == 0


async def test_members_of_another_unit_or_tenant_are_refused(api, sh, tmp_path_factory) -> None:
    t = sh["t"]
    other = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_other"))
    foreign = await add_members(other, other.grassroots_unit, 1)
    got = (await sh["clerk"].data(ENROL, batch(sh, foreign, plan="shanghai_class_b", shares=1)))["mutualAidEnrol"]
    assert reasons(got) == ["不是本单位会员"]
    # the unit's own members put forward by another unit (here the district union above it)
    at_district = {**batch(sh, sh["staff"], plan="shanghai_class_b", shares=1)["i"], "orgUnitId": t.unit_ids[t.district_unit]}
    got = (await sh["clerk"].data(ENROL, {"i": at_district}))["mutualAidEnrol"]
    assert reasons(got).count("不是本单位会员") == 4
    # and the other tenant's unit does not exist for this clerk
    theirs = {**batch(sh, foreign, plan="shanghai_class_b", shares=1)["i"], "orgUnitId": other.unit_ids[other.grassroots_unit]}
    refused = (await sh["clerk"].data(ENROL, {"i": theirs}))["mutualAidEnrol"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    assert await stored(sh["t"], "shanghai_class_b") == 0 and await stored(other, "shanghai_class_b") == 0


async def test_an_approver_reads_but_may_not_enrol_and_an_unknown_plan_is_not_found(api, sh) -> None:
    approver = (await persona(api, sh["t"].code, "approver", sh["t"].root_unit)).api
    got = (await approver.data(ENROL, batch(sh, sh["staff"], plan="shanghai_class_b", shares=1)))["mutualAidEnrol"]
    assert [e["code"] for e in got["errors"]] == ["FORBIDDEN"]
    unknown = (await sh["clerk"].data(ENROL, batch(sh, sh["staff"], plan="nope", shares=1)))["mutualAidEnrol"]
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("plan", "NOT_FOUND")]
    empty = (await sh["clerk"].data(ENROL, batch(sh, [], plan="shanghai_class_b", shares=1)))["mutualAidEnrol"]
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("memberIds", "INVALID_INPUT")]


async def test_two_clerks_enrolling_the_same_members_at_once_store_them_once(api, tmp_path_factory) -> None:
    import asyncio

    t = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_race"))
    staff = await add_members(t, t.grassroots_unit, 3)
    one, two = [(await persona(api, t.code, "clerk", t.root_unit)).api for _ in range(2)]
    sh = {"unit": t.unit_ids[t.grassroots_unit]}
    results = await asyncio.gather(*(c.data(ENROL, batch(sh, staff, plan="shanghai_class_b", shares=1, key=k))
                                     for c, k in ((one, "r1"), (two, "r2"))))
    payloads = [r["mutualAidEnrol"] for r in results]
    assert sorted(len(p["enrolments"]) for p in payloads) == [0, 3]
    loser = next(p for p in payloads if not p["enrolments"])
    assert {e["code"] for e in loser["errors"]} <= {"DUPLICATE", "NOT_ELIGIBLE"} and loser["errors"]
    assert await stored(t, "shanghai_class_b") == 3

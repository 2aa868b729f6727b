"""The capability's share of core's subtree walk (a pytest plugin, entry point ``pytest11``): how to
make a SocialOrg, a ServiceNeed and a ProcurementCall at a place, through the API only."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

_seq = itertools.count(1)
_run = random.Random().randrange(100_000)

APPLY = """mutation($i: SocialOrgApplyInput!) { procurementOrgApply(input: $i) { org { id } errors { code message } } }"""
NEED = """mutation($u: ID!) { procurementNeedCreate(orgUnitId: $u, category: "care", title: "巡查样本", budgetFen: 100) {
  need { id } errors { code message } } }"""
CALL = """mutation($i: CallCreateInput!) { procurementCallCreate(input: $i) { call { id } errors { code message } } }"""


def _data(body: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload[key]


async def make_org(ctx: Any, place: dict[str, str]) -> str:
    from huijia_procurement.credit_code import check_char

    who = await ctx.who("social_org", place["unit"])
    body = f"52310101MJ{(_run * 1000 + next(_seq)) % 10_000_000:07d}"
    made = await who.api.gql(APPLY, {"i": {"name": "巡查社会组织", "creditCode": body + check_char(body),
                                           "registrationNo": "沪民证字样本", "registrationAuthority": "上海市民政局",
                                           "serviceAreas": ["3101"]}})
    return _data(made, "procurementOrgApply", "org")["id"]


async def make_need(ctx: Any, place: dict[str, str]) -> str:
    clerk = await ctx.who("clerk", place["unit"])
    return _data(await clerk.api.gql(NEED, {"u": await ctx.unit_gid(place["unit"])}), "procurementNeedCreate", "need")["id"]


async def make_call(ctx: Any, place: dict[str, str]) -> str:
    clerk = await ctx.who("clerk", place["unit"])
    made = await clerk.api.gql(CALL, {"i": {"orgUnitId": await ctx.unit_gid(place["unit"]), "title": "巡查样本项目",
                                            "category": "care", "budgetFen": 100}})
    return _data(made, "procurementCallCreate", "call")["id"]


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_subtree_samples() -> dict[str, Any]:
    return {"SocialOrg": make_org, "ServiceNeed": make_need, "ProcurementCall": make_call}


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_subtree_unscoped() -> dict[str, str]:
    # Its union's subtree guards it (contracts.visible; tests/test_procurement_contracts.py walks it
    # from a district), but a contract exists only after a call's real-time deadlines have passed,
    # which the walk's province (no sandbox acceleration) cannot wait for.
    return {"Contract": "made only at the end of a call's timeline, which runs in days on the walk's province"}

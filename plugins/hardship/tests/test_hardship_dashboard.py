"""The hardship dashboard through GraphQL on PostgreSQL: archives and paid aid by main cause and by
the unions below a unit, monthly exits and returns, and the special fund's money by union level as
the ledger has it; only inside the caller's subtree, never another province's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, archived, household_at

from core.testing import create_plugin_tenant, persona

SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }
"""
ROOT_FUND, GRASSROOTS_FUND = 10_000_000, 2_000_000
DASH = """query($u: ID, $m: Int) { hardshipDashboard(unitId: $u, months: $m) { unitId
  byCause { key archives paidFen } byUnit { unitId unitName archives openArchives paidFen }
  exitsAndReturns { month exits returns } fundByLevel { level levelLabel balanceFen reservedFen spentFen } } }"""
PROPOSE = """mutation($i: HardshipGrantInput!) { hardshipGrantPropose(input: $i) { grant { id amountFen }
  errors { code message } } }"""
GSTEP = """mutation($id: ID!, $a: HardshipGrantAction!) { hardshipGrantStep(id: $id, action: $a) {
  grant { state } errors { code message } } }"""
STEP = """mutation($id: ID!, $a: HardshipAction!, $r: [String!]) { hardshipArchiveStep(id: $id, action: $a, reasons: $r) {
  archive { state } errors { code message } } }"""


@dataclass
class World:
    code: str
    root: str
    district: str
    grassroots: str
    clerk: Any
    approver: Any
    finance: Any
    district_approver: Any
    outsider: Any
    other_tenant: Any


@pytest.fixture(scope="module")
async def world(api, app, tmp_path_factory) -> World:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.tenancy import services as tenancy

    made = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hsdash"), SETTINGS)
    tenant = await made.context()
    actor = Actor(None, "test")
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, actor, 1_000_000_000)
        root = await tenancy.root_unit(tenant)
        grassroots = await tenancy.get_unit_by_code(tenant, made.grassroots_unit)
        for unit, fen in ((root, ROOT_FUND), (grassroots, GRASSROOTS_FUND)):
            await create_manual_entry(
                tenant, actor, refs=[AccountRef(org_unit_id=unit["id"], fund="hardship", code="102"),
                                     AccountRef(org_unit_id=unit["id"], fund="hardship", code="403")],
                amounts=[fen, -fen], key=f"hsdash-{made.code}-{unit['id']}", memo="帮扶资金")
        await tenancy.create_unit(tenant, actor, parent_id=root["id"], code=f"{made.code}-g2",
                                  name=f"{made.code} 直属企业工会", level="grassroots")
    other = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hsdash2"), SETTINGS)
    return World(made.code, made.unit_ids[made.root_unit], made.unit_ids[made.district_unit],
                 made.unit_ids[made.grassroots_unit], (await persona(api, made.code, "clerk")).api,
                 (await persona(api, made.code, "approver")).api, (await persona(api, made.code, "finance")).api,
                 (await persona(api, made.code, "approver", made.district_unit)).api,
                 (await persona(api, made.code, "approver", f"{made.code}-g2")).api,
                 (await persona(api, other.code, "approver")).api)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


async def archive(w: World, cause: str) -> str:
    _, household = await household_at(w.clerk, w.grassroots)
    body = await w.clerk.gql(ARCHIVE, {"i": archive_input(household, mainCause=cause, finances={
        "monthlyIncomeFen": 120_000, "monthlyRigidExpenseFen": 50_000})})
    gid = ok(body, "hardshipArchiveCreate")["archive"]["id"]
    await archived(w.clerk, w.approver, w.code, gid)
    return gid


async def test_the_dashboard_counts_causes_units_exits_and_the_fund_by_level(world):
    w = world
    ill = await archive(w, "illness")
    out = await archive(w, "disability")
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"aidType": "LIVING", "archiveId": ill}}), "hardshipGrantPropose")
    paid = int(grant["grant"]["amountFen"])
    assert paid > 0
    ok(await w.approver.gql(GSTEP, {"id": grant["grant"]["id"], "a": "APPROVE"}), "hardshipGrantStep")
    ok(await w.finance.gql(GSTEP, {"id": grant["grant"]["id"], "a": "PAY"}), "hardshipGrantStep")
    ok(await w.approver.gql(STEP, {"id": out, "a": "EXIT", "r": ["已再就业，收入稳定"]}), "hardshipArchiveStep")
    ok(await w.clerk.gql(STEP, {"id": out, "a": "RETURN", "r": ["再次失业"]}), "hardshipArchiveStep")
    ok(await w.approver.gql(STEP, {"id": out, "a": "REJECT", "r": ["核实后不符合"]}), "hardshipArchiveStep")

    body = await w.approver.gql(DASH, {"m": 3})
    assert "errors" not in body, body
    d = body["data"]["hardshipDashboard"]
    assert d["unitId"] == w.root  # the caller's own unit by default
    causes = {c["key"]: c for c in d["byCause"]}
    assert causes["illness"] == {"key": "illness", "archives": 1, "paidFen": paid}
    assert causes["disability"] == {"key": "disability", "archives": 1, "paidFen": 0}
    units = {u["unitId"]: u for u in d["byUnit"]}
    assert units[w.district]["archives"] == 2 and units[w.district]["openArchives"] == 1, (d, units)
    assert units[w.district]["paidFen"] == paid
    assert units[w.root]["archives"] == 0  # none held at the root itself
    assert len(d["exitsAndReturns"]) == 3
    assert d["exitsAndReturns"][-1]["exits"] == 1 and d["exitsAndReturns"][-1]["returns"] == 1
    assert sum(m["exits"] for m in d["exitsAndReturns"][:-1]) == 0
    levels = {lv["level"]: lv for lv in d["fundByLevel"]}
    assert levels["province"]["balanceFen"] == ROOT_FUND and levels["province"]["spentFen"] == 0
    assert levels["grassroots"] == {"level": "grassroots", "levelLabel": "基层", "reservedFen": 0,
                                    "balanceFen": GRASSROOTS_FUND - paid, "spentFen": paid}

    # The district's approver sees the district's subtree only: no province-level money.
    district = (await w.district_approver.gql(DASH, {}))["data"]["hardshipDashboard"]
    assert district["unitId"] == w.district
    assert {lv["level"] for lv in district["fundByLevel"]} == {"grassroots"}
    assert sum(c["archives"] for c in district["byCause"]) == 2


async def test_the_dashboard_refuses_units_outside_the_subtree_and_bad_input(world):
    w = world
    for who in (w.outsider, w.district_approver, w.other_tenant):
        body = await who.gql(DASH, {"u": w.root})
        assert body["data"] is None or body["data"]["hardshipDashboard"] is None
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body
    body = await w.approver.gql(DASH, {"m": 0})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    # The unions below the outsider's own unit: nothing of the district's archives.
    own = (await w.outsider.gql(DASH, {}))["data"]["hardshipDashboard"]
    assert own["byCause"] == [] and all(u["archives"] == 0 for u in own["byUnit"])

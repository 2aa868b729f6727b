"""Aid grants through GraphQL against PostgreSQL: the amount rule and its breakdown, yearly caps
across grants, maker-checker, escalation, and the money: reserved from the paying union's hardship
fund on approval, posted on payment, voided on cancellation, refused from an empty fund."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, archived, household_at

from core.testing import PASSWORD, create_plugin_tenant, login, persona, unique

# 低保 1,000 元 a month; escalation lowered so the tests reach it with the default caps.
SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }

[settings.hardship]
escalate_province_fen = 1200000
escalate_national_fen = 1800000
prior_aid_counts_as_income = true
"""
FUNDED_FEN = 10_000_000  # 100,000 元 in the root union's hardship fund

GRANT = """id state version amountFen capFen usedBeforeFen escalation ruleVersion breakdown { labelZh amountFen }"""
PROPOSE = f"""mutation($i: HardshipGrantInput!) {{ hardshipGrantPropose(input: $i) {{
  grant {{ {GRANT} }} errors {{ field code message messageZh extensions }} }} }}"""
GSTEP = f"""mutation($id: ID!, $a: HardshipGrantAction!, $r: [String!], $n: String) {{
  hardshipGrantStep(id: $id, action: $a, reasons: $r, nationalApprovalRef: $n) {{
    grant {{ {GRANT} }} errors {{ field code message messageZh }} }} }}"""
QUOTE = """query($i: HardshipGrantInput!) { hardshipAidQuote(input: $i) {
  amountFen capFen usedFen allowedFen refusals ruleVersion breakdown { labelZh amountFen } } }"""


@dataclass
class World:
    code: str
    grassroots: str
    district: str
    root: str
    clerk: Any
    approver: Any
    district_approver: Any
    finance: Any


@pytest.fixture(scope="module")
async def world(api, app, tmp_path_factory) -> World:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.tenancy import services as tenancy

    made = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("grants"), SETTINGS)
    tenant = await made.context()
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 1_000_000_000)
        root = await tenancy.root_unit(tenant)
        result = await create_manual_entry(
            tenant, Actor(None, "test"), refs=[AccountRef(org_unit_id=root["id"], fund="hardship", code="102"),
                                               AccountRef(org_unit_id=root["id"], fund="hardship", code="403")],
            amounts=[FUNDED_FEN, -FUNDED_FEN], key=f"hardship-test-{made.code}", memo="帮扶资金")
        assert result.entry_id is not None
    return World(made.code, made.unit_ids[made.grassroots_unit], made.unit_ids[made.district_unit],
                 made.unit_ids[made.root_unit],
                 (await persona(api, made.code, "clerk")).api, (await persona(api, made.code, "approver")).api,
                 (await persona(api, made.code, "approver", made.district_unit)).api,
                 (await persona(api, made.code, "finance")).api)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


def refused(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"], payload
    return payload["errors"][0]


async def archived_household(w: World, income: int = 120_000) -> tuple[str, str]:
    """(household id, archive id) of a 深度困难 household, archived."""
    _, household = await household_at(w.clerk, w.grassroots)
    body = await w.clerk.gql(ARCHIVE, {"i": archive_input(household, finances={
        "monthlyIncomeFen": income, "monthlyRigidExpenseFen": 50_000})})
    archive = body["data"]["hardshipArchiveCreate"]["archive"]["id"]
    await archived(w.clerk, w.approver, w.code, archive)
    return household, archive


async def cash(w: World, unit: str = "root") -> int:
    """The hardship fund's bank balance at a union (fen)."""
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy import services as tenancy

    tenant = await tenancy.get_tenant(code=w.code)
    with tenant_scope(tenant):
        u = await tenancy.root_unit(tenant)
        rows = await raw("SELECT balance_fen, reserved_fen FROM ledger_account WHERE tenant_id = {} AND org_unit_id = {} "
                         "AND fund_id = (SELECT id FROM ledger_fund WHERE tenant_id = {} AND code = 'hardship') "
                         "AND code = '102'", tenant.id, u["id"], tenant.id)
    return rows[0]["balance_fen"] - rows[0]["reserved_fen"] if rows else 0


async def test_a_living_grant_is_quoted_proposed_approved_and_paid_from_the_fund(world):
    w = world
    _, archive = await archived_household(w)
    quote = (await w.clerk.gql(QUOTE, {"i": {"aidType": "LIVING", "archiveId": archive}}))["data"]["hardshipAidQuote"]
    # 深度困难: 10 months of the 1,000 元 低保.
    assert quote["amountFen"] == 1_000_000 and quote["breakdown"] == [{"labelZh": "10个月低保标准", "amountFen": 1_000_000}]
    before = await cash(w)
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "LIVING", "archiveId": archive,
                                                 "requestedFen": 600_000}}), "hardshipGrantPropose")["grant"]
    assert (grant["state"], grant["amountFen"], grant["escalation"]) == ("proposed", 600_000, "")
    assert await cash(w) == before  # nothing reserved before approval
    approved = ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")["grant"]
    assert approved["state"] == "approved" and await cash(w) == before - 600_000
    assert refused(await w.clerk.gql(GSTEP, {"id": grant["id"], "a": "PAY"}), "hardshipGrantStep")["code"] == "FORBIDDEN"
    paid = ok(await w.finance.gql(GSTEP, {"id": grant["id"], "a": "PAY"}), "hardshipGrantStep")["grant"]
    assert paid["state"] == "paid" and await cash(w) == before - 600_000
    assert refused(await w.finance.gql(GSTEP, {"id": grant["id"], "a": "PAY"}), "hardshipGrantStep")["code"] == \
        "INVALID_TRANSITION"


async def test_an_amount_over_the_yearly_cap_is_refused_with_the_cap_and_what_was_used(world):
    w = world
    _, archive = await archived_household(w)
    first = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "MEDICAL", "archiveId": archive,
                                                 "medicalCostFen": 1_000_000}}), "hardshipGrantPropose")["grant"]
    assert first["amountFen"] == 1_000_000 and first["capFen"] == 2_000_000
    quote = (await w.clerk.gql(QUOTE, {"i": {"aidType": "MEDICAL", "archiveId": archive,
                                            "medicalCostFen": 1_500_000}}))["data"]["hardshipAidQuote"]
    assert (quote["usedFen"], quote["allowedFen"]) == (1_000_000, 1_000_000)
    err = refused(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "MEDICAL", "archiveId": archive,
                                                    "medicalCostFen": 1_500_000}}), "hardshipGrantPropose")
    assert err["code"] == "CAP_EXCEEDED"
    assert err["extensions"] == {"capFen": 2_000_000, "usedFen": 1_000_000, "allowedFen": 1_000_000}
    assert "今年已救助10,000.00元" in err["messageZh"]
    # A rejected grant no longer counts against the cap.
    ok(await w.approver.gql(GSTEP, {"id": first["id"], "a": "REJECT", "r": ["票据不全"]}), "hardshipGrantStep")
    again = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "MEDICAL", "archiveId": archive,
                                                 "medicalCostFen": 1_500_000}}), "hardshipGrantPropose")["grant"]
    assert again["usedBeforeFen"] == 0 and again["amountFen"] == 1_500_000


async def test_a_grant_from_an_empty_fund_is_refused_at_approval(world):
    w = world
    _, archive = await archived_household(w)
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"aidType": "TRAINING", "archiveId": archive, "requestedFen": 100_000,
                                                 "payingUnitId": w.district}}), "hardshipGrantPropose")["grant"]
    err = refused(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")
    assert err["code"] == "INSUFFICIENT_FUNDS" and "帮扶专项资金可用余额不足" in err["messageZh"]
    grants = (await w.clerk.gql("query($a: ID!) { hardshipGrants(archiveId: $a) { id state } }", {"a": archive}))
    assert grants["data"]["hardshipGrants"] == [{"id": grant["id"], "state": "proposed"}]


async def test_the_proposer_cannot_approve(world, api):
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    w = world
    _, archive = await archived_household(w)
    tenant = await tenancy.get_tenant(code=w.code)
    name = unique("maker_")
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        await accounts.create_user(tenant, Actor(None, "test"), username=name, password=PASSWORD,
                                   grants=[("clerk", root["id"]), ("approver", root["id"])])
    both = api.as_(await login(api, w.code, name))
    grant = ok(await both.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": archive, "requestedFen": 50_000}}),
               "hardshipGrantPropose")["grant"]
    assert refused(await both.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")["code"] == \
        "SELF_APPROVAL"
    assert ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")


async def test_large_grants_escalate_to_the_province_and_the_national_federation(world):
    w = world
    _, archive = await archived_household(w)
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "MEDICAL", "archiveId": archive,
                                                 "medicalCostFen": 1_300_000}}), "hardshipGrantPropose")["grant"]
    assert grant["escalation"] == "province"
    err = refused(await w.district_approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")
    assert err["code"] == "FORBIDDEN" and "省总工会" in err["messageZh"]
    ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")
    _, archive2 = await archived_household(w)
    big = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "MEDICAL", "archiveId": archive2,
                                               "medicalCostFen": 1_900_000}}), "hardshipGrantPropose")["grant"]
    assert big["escalation"] == "national"
    err = refused(await w.approver.gql(GSTEP, {"id": big["id"], "a": "APPROVE"}), "hardshipGrantStep")
    assert err["field"] == "nationalApprovalRef"
    assert ok(await w.approver.gql(GSTEP, {"id": big["id"], "a": "APPROVE", "n": "总工办批〔2026〕8号"}),
              "hardshipGrantStep")["grant"]["state"] == "approved"


async def test_two_approvers_racing_on_one_grant_reserve_once(world, api):
    w = world
    _, archive = await archived_household(w)
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": archive, "requestedFen": 70_000}}),
               "hardshipGrantPropose")["grant"]
    other = (await persona(api, w.code, "approver")).api
    before = await cash(w)
    bodies = await asyncio.gather(w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}),
                                  other.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}),
                                  other.gql(GSTEP, {"id": grant["id"], "a": "REJECT", "r": ["重复"]}))
    codes = sorted((b["data"]["hardshipGrantStep"]["errors"] or [{"code": "ok"}])[0]["code"] for b in bodies)
    assert codes == ["INVALID_TRANSITION", "INVALID_TRANSITION", "ok"], bodies
    state = next(b["data"]["hardshipGrantStep"]["grant"]["state"] for b in bodies
                 if not b["data"]["hardshipGrantStep"]["errors"])
    assert await cash(w) == (before - 70_000 if state == "approved" else before)


async def test_cancelling_an_approved_grant_releases_the_money(world):
    w = world
    _, archive = await archived_household(w)
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": archive, "requestedFen": 80_000}}),
               "hardshipGrantPropose")["grant"]
    before = await cash(w)
    ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")
    assert await cash(w) == before - 80_000
    assert refused(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "CANCEL"}), "hardshipGrantStep")["field"] == \
        "reasons"
    ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "CANCEL", "r": ["职工已调离"]}), "hardshipGrantStep")
    assert await cash(w) == before


async def test_temporary_relief_without_an_archive_is_capped_per_person(world):
    w = world
    _, household = await household_at(w.clerk, w.grassroots)
    people = await w.clerk.gql("query($id: ID!) { node(id: $id) { ... on Household { people { id } } } }",
                               {"id": household})
    person = people["data"]["node"]["people"][0]["id"]
    err = refused(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "LIVING", "householdId": household}}),
                  "hardshipGrantPropose")
    assert err["code"] == "NOT_ELIGIBLE"  # 先建档后帮扶: only 临时救助 goes without an archive
    err = refused(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TEMPORARY", "householdId": household,
                                                    "requestedFen": 200_000}}), "hardshipGrantPropose")
    assert err["field"] == "personId"
    base = {"aidType": "TEMPORARY", "householdId": household, "personId": person, "areaCode": "110105"}
    ok(await w.clerk.gql(PROPOSE, {"i": {**base, "requestedFen": 200_000}}), "hardshipGrantPropose")
    err = refused(await w.clerk.gql(PROPOSE, {"i": {**base, "requestedFen": 200_000}}), "hardshipGrantPropose")
    assert err["code"] == "CAP_EXCEEDED" and err["extensions"]["allowedFen"] == 100_000


async def test_aid_needs_an_archived_case_and_the_callers_subtree(world, api, tmp_path_factory):
    w = world
    _, household = await household_at(w.clerk, w.grassroots)
    body = await w.clerk.gql(ARCHIVE, {"i": archive_input(household)})
    applied = body["data"]["hardshipArchiveCreate"]["archive"]["id"]
    err = refused(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": applied,
                                                    "requestedFen": 1000}}), "hardshipGrantPropose")
    assert err["code"] == "INVALID_STATE"
    _, archive = await archived_household(w)
    auditor = (await persona(api, w.code, "auditor")).api
    assert refused(await auditor.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": archive,
                                                     "requestedFen": 1000}}), "hardshipGrantPropose")["code"] == "FORBIDDEN"
    other = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("grants2"), SETTINGS)
    stranger = (await persona(api, other.code, "tenant_admin")).api
    err = refused(await stranger.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": archive,
                                                     "requestedFen": 1000}}), "hardshipGrantPropose")
    assert err["code"] == "NOT_FOUND"
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": archive, "requestedFen": 1000}}),
               "hardshipGrantPropose")["grant"]
    stranger_approver = (await persona(api, other.code, "approver")).api
    assert refused(await stranger_approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}),
                   "hardshipGrantStep")["code"] == "NOT_FOUND"


RECHECK = """mutation($id: ID!, $f: HardshipFinancesInput!) { hardshipArchiveRecheck(id: $id, finances: $f) {
  previous { category } current { category } errors { code message } } }"""


async def test_paid_aid_counts_as_income_at_the_re_check(world):
    w = world
    _, archive = await archived_household(w)  # 700 元 a head: 深度困难
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "MEDICAL", "archiveId": archive,
                                                 "medicalCostFen": 1_100_000}}), "hardshipGrantPropose")["grant"]
    ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")
    ok(await w.finance.gql(GSTEP, {"id": grant["id"], "a": "PAY"}), "hardshipGrantStep")
    # 11,000 元 paid this year is 916 元 a month more: 1,616 元 a head, no longer below 低保.
    same = {"monthlyIncomeFen": 120_000, "monthlyRigidExpenseFen": 50_000}
    rechecked = ok(await w.clerk.gql(RECHECK, {"id": archive, "f": same}), "hardshipArchiveRecheck")
    assert (rechecked["previous"]["category"], rechecked["current"]["category"]) == ("deep", "relative")


QUERIES = """query($t: HardshipTier) {
  due: hardshipArchives(dueForRecheck: true) { totalCount }
  never: hardshipArchives(neverAided: true, tier: $t, first: 100) { nodes { id } }
  stale: hardshipArchives(notUpdatedMonths: 12) { totalCount }
  hardshipStats { byCategory { key archives paidFen } byState { key archives } paidByAidType { key archives paidFen } }
}"""


async def test_queries_and_dashboards_count_what_the_national_system_counts(world, api, tmp_path_factory):
    w = world
    _, aided = await archived_household(w)
    _, idle = await archived_household(w)
    grant = ok(await w.clerk.gql(PROPOSE, {"i": {"payingUnitId": w.root, "aidType": "TRAINING", "archiveId": aided,
                                                 "requestedFen": 30_000}}), "hardshipGrantPropose")["grant"]
    ok(await w.approver.gql(GSTEP, {"id": grant["id"], "a": "APPROVE"}), "hardshipGrantStep")
    ok(await w.finance.gql(GSTEP, {"id": grant["id"], "a": "PAY"}), "hardshipGrantStep")
    data = (await w.clerk.gql(QUERIES, {"t": "GRASSROOTS"}))["data"]
    never = {n["id"] for n in data["never"]["nodes"]}
    assert idle in never and aided not in never
    assert data["due"]["totalCount"] == 0 and data["stale"]["totalCount"] == 0  # all re-verified just now
    training = {s["key"]: s for s in data["hardshipStats"]["paidByAidType"]}["training"]
    assert training["archives"] >= 1 and training["paidFen"] >= 30_000
    assert {s["key"] for s in data["hardshipStats"]["byState"]} >= {"archived"}
    deep = {s["key"]: s for s in data["hardshipStats"]["byCategory"]}["deep"]
    assert deep["archives"] >= 2 and deep["paidFen"] >= 30_000
    # Another province's auditor sees none of it.
    elsewhere = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("stats"), SETTINGS)
    stranger = (await persona(api, elsewhere.code, "auditor")).api
    assert (await stranger.gql(QUERIES, {"t": None}))["data"]["hardshipStats"]["byCategory"] == []

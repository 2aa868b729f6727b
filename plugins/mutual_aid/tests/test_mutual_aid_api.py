"""The mutual_aid capability through the real app (huijia.testing: a fresh database, tenants enabling it)."""

from __future__ import annotations

import pytest

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

PLANS = """{ mutualAidPlans { code nameZh fund premiumPerShareFen payers { level amountFen } maxShares equalShares
  termKind termNumber termStartsOn termEndsOn coverAfterDays claimDeadline capPerYearFen capPerTermFen
  claimKinds { code label } minRatioBp minRatioByUnitKind { unitKind minRatioBp } smallUnitStaff smallUnitRatioBp
  newHireDays retireesExcluded disabilityGradingDay disabilityKinds } }"""
ESTIMATE = """query($i: MutualAidEstimateInput!) { mutualAidBenefitEstimate(input: $i) {
  amountFen cappedBy items { label amountFen note } } }"""


@pytest.fixture(name="shanghai_clerk", scope="module")
async def fx_shanghai_clerk(api, tmp_path_factory):
    t = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_sh"))
    assert t.capabilities == ("mutual_aid",)
    return (await persona(api, t.code, "clerk", t.root_unit)).api


@pytest.fixture(name="fujian_t", scope="module")
async def fx_fujian(api, tmp_path_factory):
    return await create_plugin_tenant(["fujian", "mutual_aid"], tmp_path_factory.mktemp("ma_fj"))


async def test_a_clerk_lists_the_provinces_plans_with_their_rules(shanghai_clerk) -> None:
    plans = {p["code"]: p for p in (await shanghai_clerk.data(PLANS))["mutualAidPlans"]}
    assert set(plans) == {"shanghai_class_a", "shanghai_class_b", "shanghai_group_accident"}
    a = plans["shanghai_class_a"]
    assert a["premiumPerShareFen"] == 2400 and a["payers"] == [{"level": "district", "amountFen": 1200},
                                                               {"level": "city", "amountFen": 1200}]
    assert a["fund"] == "mutual_aid.shanghai_class_a" and a["termKind"] == "calendar_year" and a["coverAfterDays"] == 1
    g = plans["shanghai_group_accident"]
    assert (g["maxShares"], g["equalShares"], g["minRatioBp"], g["smallUnitStaff"], g["smallUnitRatioBp"],
            g["newHireDays"]) == (3, True, 7500, 10, 10000, 60)
    # The day-180 rule, which the claim forms ask the grading dates for.
    assert (g["disabilityGradingDay"], g["disabilityKinds"]) == (180, ["accidental_death_disability"])
    assert (a["disabilityGradingDay"], a["disabilityKinds"]) == (None, [])


async def test_fujian_lists_its_city_plans_with_term_dates_deadline_and_ratios(api, fujian_t) -> None:
    finance = (await persona(api, fujian_t.code, "finance", fujian_t.root_unit)).api
    plans = {p["code"]: p for p in (await finance.data(PLANS))["mutualAidPlans"]}
    t21 = plans["xiamen_term21"]
    assert (t21["termKind"], t21["termNumber"], t21["claimDeadline"]) == ("period", 21, "2027-08-31")
    assert {(r["unitKind"], r["minRatioBp"]) for r in t21["minRatioByUnitKind"]} == {
        ("government", 8000), ("institution", 8000), ("state_owned", 8000)}
    assert t21["minRatioBp"] == 5000 and t21["retireesExcluded"] is True
    assert plans["fuzhou_medical"]["capPerTermFen"] == 5_000_000


async def test_the_estimate_itemises_the_formula_and_shows_the_cap_that_cut_it(api, fujian_t) -> None:
    clerk = (await persona(api, fujian_t.code, "clerk", fujian_t.root_unit)).api
    stay = {"plan": "xiamen_term16", "kind": "hospital_stay", "eventDate": "2021-06-01", "admittedOn": "2021-06-01",
            "dischargedOn": "2021-06-11", "ownCostFen": 3_000_000, "nonInsuredFen": 500_000, "excessBedFen": 100_000,
            "deductibleFen": 100_000}
    got = (await clerk.data(ESTIMATE, {"i": stay}))["mutualAidBenefitEstimate"]
    assert got["amountFen"] == 460_000 and got["cappedBy"] is None
    assert sum(i["amountFen"] for i in got["items"]) == 460_000 and got["items"][0]["label"] == "个人负担医疗费用"
    near_cap = (await clerk.data(ESTIMATE, {"i": {**stay, "paidInTermFen": 19_800_000}}))["mutualAidBenefitEstimate"]
    assert near_cap["amountFen"] == 200_000 and near_cap["cappedBy"] == "term"
    assert near_cap["items"][-1]["label"] == "本期给付上限"


@pytest.mark.parametrize(("change", "said", "code"), [
    ({"plan": "no_such_plan"}, "no mutual-aid plan", "NOT_FOUND"),
    ({"kind": "illness_death"}, "pays no claim of kind", "INVALID_INPUT"),
    ({"ownCostFen": -1}, "ownCostFen", "INVALID_INPUT"),
    ({"ownCostFen": 10**13}, "ownCostFen", "INVALID_INPUT"),
    ({"shares": 2}, "shares", "INVALID_INPUT"),
    ({"admittedOn": "2021-06-12"}, "admission first", "INVALID_INPUT"),
    ({"tier": 0}, "tier", "INVALID_INPUT"),
])
async def test_bad_estimates_get_typed_errors(api, fujian_t, change, said, code) -> None:
    clerk = (await persona(api, fujian_t.code, "clerk", fujian_t.root_unit)).api
    stay = {"plan": "fuzhou_medical", "kind": "hospital_stay", "eventDate": "2021-06-01", "admittedOn": "2021-06-01",
            "dischargedOn": "2021-06-11", "coveredCostFen": 100_000, **change}
    body = await clerk.gql(ESTIMATE, {"i": stay})
    assert body["data"] is None or body["data"]["mutualAidBenefitEstimate"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == code and said in error["message"], body
    assert error["extensions"]["messageZh"], body


async def test_a_plan_without_a_rule_for_the_kind_is_not_eligible(shanghai_clerk) -> None:
    # Class A declares no claim kind (its benefit schedule is not sourced): refused before the hook
    body = await shanghai_clerk.gql(ESTIMATE, {"i": {"plan": "shanghai_class_a", "kind": "hospital_stay",
                                                    "eventDate": "2026-06-01"}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_worker_may_not_read_plans(api, fujian_t) -> None:
    worker = (await persona(api, fujian_t.code, "worker", fujian_t.root_unit)).api
    body = await worker.gql(PLANS)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_a_tenant_without_the_capability_gets_capability_not_enabled(api, tmp_path) -> None:
    other = await create_plugin_tenant([], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    body = await outsider.api.gql(PLANS)
    assert body["errors"][0]["extensions"]["code"] == "CAPABILITY_NOT_ENABLED", body


async def test_the_capability_alone_offers_no_plans(plugin_tenant, clerk) -> None:
    # plans come from the province plugins; the capability by itself declares none
    assert plugin_tenant.capabilities == ("mutual_aid",)
    assert (await clerk.data(PLANS))["mutualAidPlans"] == []

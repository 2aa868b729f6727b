"""Levy rules: a province's per-region split reaches grassroots unions (which have no area code of
their own) through their nearest ancestor's code, and a levy cannot exceed its payroll."""

from __future__ import annotations

import uuid

from tests.funds.helpers import codes, counts, key, make_tree

LEVY = """mutation($i: LevyInput!) { levyRecord(input: $i) { levyFen grassrootsFen upwardFen rule
  errors { code field message } } }"""


def _levy(unit_gid: str, payroll: int, **extra) -> dict:
    return {"i": {"orgUnitId": unit_gid, "periodStart": "2025-01-01", "periodEnd": "2025-01-31", "payrollFen": payroll,
                  "idempotencyKey": key("levy"), **extra}}


async def test_fujian_region_override_applies_to_grassroots_union_through_nearest_ancestor_area_code(api, fj_finance):
    from core.actor import Actor
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy import services as tenancy

    tenant = await tenancy.get_tenant(code="fujian")
    actor = Actor(None, "test")
    with tenant_scope(tenant):
        gulou = await tenancy.get_unit_by_code(tenant, "fj-fuzhou-gulou")  # area code 350102
        xiamen = await tenancy.get_unit_by_code(tenant, "fj-xiamen")  # 350200
        s = uuid.uuid4().hex[:6]
        under_gulou = await tenancy.create_unit(tenant, actor, parent_id=gulou["id"], code=f"fj-g-{s}",
                                                name=f"鼓楼某企业工会{s}", level="grassroots")
        # Two levels without codes: the search goes past the county to the city.
        county = await tenancy.create_unit(tenant, actor, parent_id=xiamen["id"], code=f"fj-c-{s}",
                                           name=f"某区总工会{s}", level="county")
        under_xiamen = await tenancy.create_unit(tenant, actor, parent_id=county["id"], code=f"fj-g2-{s}",
                                                 name=f"厦门某企业工会{s}", level="grassroots")
    assert under_gulou["area_code"] is None and under_xiamen["area_code"] is None
    from core.tenancy.tables import Tenant

    original = dict(tenant.settings)
    manifest_hash = (await Tenant.select(Tenant.manifest_hash).where(Tenant.id == tenant.id).first())["manifest_hash"]
    overrides = {"350102": 8000, "350200": 7000}
    await tenancy.update_tenant(actor, tenant, name=tenant.name, plugins=list(tenant.plugins),
                                settings={**original, "fujian": {**dict(original.get("fujian") or {}),
                                                                 "levy_grassroots_bp_by_region": overrides}},
                                manifest_hash=manifest_hash)
    try:
        r = (await fj_finance.api.gql(LEVY, _levy(to_global_id("OrgUnit", under_gulou["id"]), 1_000_000)))["data"]["levyRecord"]
        assert r["errors"] == [], r
        assert (r["levyFen"], r["grassrootsFen"], r["upwardFen"]) == (20_000, 16_000, 4_000) and "8000bp" in r["rule"]
        r = (await fj_finance.api.gql(LEVY, _levy(to_global_id("OrgUnit", under_xiamen["id"]), 1_000_000)))["data"]["levyRecord"]
        assert r["errors"] == [], r
        assert (r["grassrootsFen"], r["upwardFen"]) == (14_000, 6_000) and "7000bp" in r["rule"]
        # A union in a region without an override keeps the province default (60 %).
        t = await make_tree("fujian")
        r = (await fj_finance.api.gql(LEVY, _levy(t.id("g1"), 1_000_000)))["data"]["levyRecord"]
        assert (r["grassrootsFen"], r["upwardFen"]) == (12_000, 8_000) and "6000bp" in r["rule"]
    finally:
        fresh = await tenancy.get_tenant(code="fujian")
        await tenancy.update_tenant(actor, fresh, name=fresh.name, plugins=list(fresh.plugins), settings=original,
                                    manifest_hash=manifest_hash)


async def test_levy_larger_than_its_payroll_is_refused_and_writes_nothing(api, sh_finance):
    t = await make_tree()
    before = await counts(t.tenant)
    r = (await sh_finance.api.gql(LEVY, _levy(t.id("g1"), 10_000, levyFen=10_001)))["data"]["levyRecord"]
    assert codes(r) == ["INVALID_INPUT"] and r["errors"][0]["field"] == "levyFen", r
    r = (await sh_finance.api.gql(LEVY, _levy(t.id("g1"), 0, levyFen=1)))["data"]["levyRecord"]
    assert codes(r) == ["INVALID_INPUT"], r
    assert await counts(t.tenant) == before
    # Equal to the payroll is odd but not impossible (a levy paid for a tiny payroll in arrears).
    r = (await sh_finance.api.gql(LEVY, _levy(t.id("g1"), 10_000, levyFen=10_000)))["data"]["levyRecord"]
    assert r["errors"] == [] and r["levyFen"] == 10_000


TRANSFER = """mutation($i: LedgerTransferInput!) { ledgerTransfer(input: $i) { entry { id } errors { code field message } } }"""


async def _remit(p, t, amount: int) -> dict:
    body = await p.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"),
                                            "amountFen": amount, "idempotencyKey": key()}})
    return body["data"]["ledgerTransfer"]


async def test_remitting_a_share_the_collector_already_paid_is_refused_and_221_never_goes_negative(api, sh_finance):
    from tests.funds.helpers import balance, entry, integrity, line

    t = await make_tree()
    # Settled mode: the collector paid the county its 8,000 directly; g1 owes nothing upward.
    r = (await sh_finance.api.gql(LEVY, _levy(t.id("g1"), 1_000_000)))["data"]["levyRecord"]
    assert r["errors"] == [] and r["upwardFen"] == 8_000
    before = await counts(t.tenant)
    again = await _remit(sh_finance, t, 8_000)
    assert codes(again) == ["INSUFFICIENT_FUNDS"] and "221" in again["errors"][0]["message"], again
    assert await counts(t.tenant) == before
    assert await balance(sh_finance, t.g1, "221") == 0
    # A manual entry cannot do it either.
    manual = await entry(sh_finance, [line(t.g1, "221", "DEBIT", 1), line(t.g1, "102", "CREDIT", 1)])
    assert codes(manual) == ["INSUFFICIENT_FUNDS"]
    # Accrued mode: g1 owes 4,000 and may remit exactly that, not a fen more.
    r = (await sh_finance.api.gql(LEVY, _levy(t.id("g1"), 500_000, upwardSettled=False, levyFen=10_000)))["data"]["levyRecord"]
    assert r["errors"] == [] and r["upwardFen"] == 4_000
    assert codes(await _remit(sh_finance, t, 4_001)) == ["INSUFFICIENT_FUNDS"]
    assert (await _remit(sh_finance, t, 4_000))["errors"] == []
    assert await balance(sh_finance, t.g1, "221") == 0 and await balance(sh_finance, t.county, "132") == 0
    await integrity(t.tenant)


async def test_concurrent_remittances_settle_what_is_owed_exactly_once(api, sh_finance):
    import asyncio

    from tests.funds.helpers import balance, integrity

    t = await make_tree()
    r = (await sh_finance.api.gql(LEVY, _levy(t.id("g1"), 500_000, upwardSettled=False, levyFen=10_000)))["data"]["levyRecord"]
    assert r["errors"] == [] and r["upwardFen"] == 4_000
    results = await asyncio.gather(*[_remit(sh_finance, t, 4_000) for _ in range(6)])
    assert sorted(tuple(codes(x)) for x in results) == [()] + [("INSUFFICIENT_FUNDS",)] * 5
    assert await balance(sh_finance, t.g1, "221") == 0
    assert await balance(sh_finance, t.g1, "102") == 6_000
    await integrity(t.tenant)

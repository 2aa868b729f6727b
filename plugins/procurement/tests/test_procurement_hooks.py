"""The capability's hooks, answered by a province-like plugin enabled for the tenant: procurement_eligibility
(a province refuses a bidder) and procurement_criteria (a province's own weighted criteria)."""

from __future__ import annotations

import dataclasses

import pytest

from core.sdk import DomainError, from_global_id, hookimpl, tenant_scope
from huijia_procurement import bids, calls, scoring
from huijia_procurement.interface import Criterion, Refusal

from .helpers import new_org, published_call

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def province():
    """Register a plugin under a test name for the duration of the test; yields a function enabling it."""
    from core.plugins import get_plugin_manager

    pm = get_plugin_manager()
    names: list[str] = []

    def enable(plugin: object, tenant):
        name = f"procurement_test_{len(names)}"
        pm.register(plugin, name=name)
        names.append(name)
        return dataclasses.replace(tenant, plugins=(*tenant.plugins, name))

    yield enable
    for name in names:
        pm.unregister(name=name)


async def test_hook_procurement_eligibility(api, fast, staff, province) -> None:
    from core.accounts.services import authenticate

    seen = []

    class ServiceAreas:
        @hookimpl
        def procurement_eligibility(self, tenant, org, call):
            seen.append((org.credit_code, call.area_code))
            if not any(call.area_code.startswith(a) for a in org.service_areas):
                return Refusal("the organisation does not serve the call's area", "该组织的服务区域不含项目所在地")
            return None

    near, _ = await new_org(api, fast, staff["approver"], serviceAreas=["440703"])
    far, _ = await new_org(api, fast, staff["approver"], serviceAreas=["110105"])
    call = await published_call(staff["clerk"], staff["approver"], fast, areaCode="440703")
    pk = from_global_id(call["id"])[1]
    docs = [bids.Document("方案.pdf", b"%PDF-1.4 plan")]
    for who, allowed in ((far, False), (near, True)):
        base, principal = await authenticate(who.token)
        tenant = province(ServiceAreas(), base)
        with tenant_scope(tenant):
            if allowed:
                made = await bids.submit(tenant, principal, principal_actor(principal), pk, 1000, docs)
                assert made["call_id"] == pk
            else:
                with pytest.raises(DomainError) as caught:
                    await bids.submit(tenant, principal, principal_actor(principal), pk, 1000, docs)
                assert caught.value.code.value == "NOT_ELIGIBLE" and caught.value.message_zh == "该组织的服务区域不含项目所在地"
    assert [area for _, area in seen] == ["440703", "440703"]
    # without the province plugin the far organisation may bid
    base, principal = await authenticate(far.token)
    with tenant_scope(base):
        assert (await bids.submit(base, principal, principal_actor(principal), pk, 1000, docs))["call_id"] == pk


def principal_actor(principal):
    from core.sdk import Actor

    return Actor(principal.user_id, principal.username)


async def test_hook_procurement_criteria(fast, staff, province) -> None:
    class Fujian:
        @hookimpl
        def procurement_criteria(self, tenant, call):
            return [Criterion("need", "需求契合度", 6000), Criterion("cost", "经费合理性", 4000)]

    class Broken:
        @hookimpl
        def procurement_criteria(self, tenant, call):
            return [Criterion("need", "需求契合度", 6000)]

    call = await published_call(staff["clerk"], staff["approver"], fast)
    base = await fast.context()
    with tenant_scope(base):
        row = await calls.load(base, from_global_id(call["id"])[1])
        assert [c.code for c in scoring.criteria_for(base, row)] == ["targeting", "breadth", "innovation",
                                                                      "demonstration", "professionalism"]
        assert [(c.code, c.weight_bp) for c in scoring.criteria_for(province(Fujian(), base), row)] == \
            [("need", 6000), ("cost", 4000)]
        with pytest.raises(DomainError) as caught:
            scoring.criteria_for(province(Broken(), base), row)
        assert caught.value.code.value == "PLUGIN_CONFIG"

"""The ledger asks the tenant's plugins: fund_levy_split, fund_special_allocation_ratio,
fund_small_payer_refund, and tells them on_ledger_entry_posted. Driven through the services with a
tenant that enables the test suite's dummy plugin (its answers differ from every real province's)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

from core.actor import Actor
from core.context import tenant_scope
from core.errors import DomainError, ErrorCode
from core.funds import services
from core.plugins import register_test_plugin, validate_plugin_settings
from tests.funds.helpers import make_tree

ACTOR = Actor(None, "hook-test")


def _dummy():
    name = "huijia_tests_dummy_plugin"
    module = sys.modules.get(name)
    if module is None:
        path = Path(__file__).resolve().parents[1] / "plugins_dummy" / "dummy_plugin.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture
def dummy():
    module = _dummy()
    module.EVENTS.clear()
    unregister = register_test_plugin(module)
    yield module
    unregister()
    module.EVENTS.clear()


async def _tenant_with_dummy(tree, settings=None):
    t = tree.tenant
    plugins = tuple(t.plugins) + ("dummy",)
    # The province's enabled capabilities keep their settings beside the plugins'.
    clean = validate_plugin_settings(t.code, list(plugins), {**dict(t.settings), "dummy": settings or {}},
                                     capabilities=t.capabilities)
    return dataclasses.replace(t, plugins=plugins, settings=clean)


async def test_ledger_uses_the_tenants_plugins(api, dummy):
    tree = await make_tree("beijing")
    tenant = await _tenant_with_dummy(tree, {"refused_org_unit_ids": [tree.g2["id"]], "special_allocation_bp": 1234})
    with tenant_scope(tenant):
        # Levy: the dummy splits 50/50 with the odd fen going upward.
        levy = await services.record_levy(tenant, ACTOR, unit=tree.g1, parent=tree.county,
                                          period_start=dt.date(2021, 1, 1), period_end=dt.date(2021, 1, 31),
                                          payroll_fen=50_050, levy_fen=None, key="hook-levy",
                                          entry_date=dt.date(2021, 2, 1))
        assert (levy.levy_fen, levy.grassroots_fen, levy.upward_fen) == (1_001, 500, 501)
        assert levy.rule == "dummy 50/50, remainder upward"
        # The notification reached the plugin, after commit, with the entry id.
        assert ("on_ledger_entry_posted", tenant.code, levy.entry_id) in dummy.EVENTS
        # Special fund: the dummy's 12.34 % of the year's income (2021: 500 at g1, 501 at the county).
        summary = await services.allocate_special_fund(tenant, 2021)
        assert summary["ratio_bp"] == 1234 and summary["allocated_fen"] == 500 * 1234 // 10000 + 501 * 1234 // 10000
        # Small-payer refund: the dummy refuses g2 outright and defers on g1 to the national rule.
        await services.record_levy(tenant, ACTOR, unit=tree.g2, parent=tree.county, period_start=dt.date(2022, 1, 1),
                                   period_end=dt.date(2022, 1, 31), payroll_fen=100_000, levy_fen=None,
                                   key="hook-levy-2", entry_date=dt.date(2022, 2, 1))
        await services.record_levy(tenant, ACTOR, unit=tree.g1, parent=tree.county, period_start=dt.date(2022, 1, 1),
                                   period_end=dt.date(2022, 1, 31), payroll_fen=100_000, levy_fen=None,
                                   key="hook-levy-3", entry_date=dt.date(2022, 2, 1))
        with pytest.raises(DomainError) as refused:
            await services.small_payer_refund(tenant, ACTOR, unit=tree.g2, policy_year=2021)
        assert refused.value.code is ErrorCode.NOT_ELIGIBLE
        ok = await services.small_payer_refund(tenant, ACTOR, unit=tree.g1, policy_year=2021)
        assert ok.eligible and ok.upward_paid_fen == 1_000
    # The same units seen by a tenant without the dummy get the national rules.
    plain = tree.tenant
    with tenant_scope(plain):
        national = await services.record_levy(plain, ACTOR, unit=tree.g1, parent=tree.county,
                                              period_start=dt.date(2021, 3, 1), period_end=dt.date(2021, 3, 31),
                                              payroll_fen=50_050, levy_fen=None, key="hook-levy-plain",
                                              entry_date=dt.date(2021, 4, 1))
        assert (national.grassroots_fen, national.upward_fen) == (601, 400)

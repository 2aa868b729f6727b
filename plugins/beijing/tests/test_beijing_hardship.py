"""Beijing with the hardship capability: its own 低保 lines drive the national classification and aid
rules (Beijing adds no hardship rules of its own)."""

from __future__ import annotations

import dataclasses

import huijia_hardship.plugin
from huijia_hardship.interface import AidRequest, HouseholdFacts
from huijia_hardship.plugin import classify

import huijia_beijing.plugin
import huijia_mutual_aid.plugin
from core.context import TenantContext
from core.plugins import available_plugins, build_plugin_manager, hooks_for, validate_plugin_settings

PM = build_plugin_manager([huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_beijing.plugin], trace=False)


def tenant() -> TenantContext:
    validated = validate_plugin_settings("beijing", ["beijing"], {}, available=available_plugins(PM))
    return TenantContext(id=11, code="beijing", name="北京市总工会", province_code="11", plugins=("beijing",),
                         settings=validated, capabilities=("hardship",))


def test_beijings_dibao_line_decides_the_national_categories():
    t = tenant()
    hooks = hooks_for(t, PM)
    line = hooks.hardship_dibao_line(tenant=t, region_code="110105", year=2024)
    assert line == 145_000  # 1,450 元 a month

    def category(monthly_income_fen: int) -> str:
        facts = HouseholdFacts(region_code="110105", year=2024, household_size=2, monthly_income_fen=monthly_income_fen,
                               monthly_rigid_expense_fen=20_000, dibao_line_fen=line)
        return classify(t, facts).category

    assert category(300_000) == "deep"  # (3,000 − 200) ÷ 2 = 1,400 < 1,450
    assert category(310_000) == "relative"  # 1,450: not below 低保, below 2,900
    assert category(600_000) == "none"  # 2,900: not below twice 低保


def test_national_aid_defaults_apply_with_beijings_line():
    t = tenant()
    req = AidRequest(aid_type="living", category="deep", region_code="110105", year=2024, dibao_line_fen=145_000,
                     household_size=2)
    quote = hooks_for(t, PM).aid_amount(tenant=t, request=req)
    assert quote.amount_fen == 10 * 145_000 and quote.rule_version.startswith("settings")
    relative = hooks_for(t, PM).aid_amount(tenant=t, request=dataclasses.replace(req, category="relative"))
    assert relative.amount_fen == 8 * 145_000

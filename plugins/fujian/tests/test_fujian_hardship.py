"""Fujian's hardship aid with the scheme's own numbers: 深度 living 10 months of 低保 and medical the
whole own share (20,000 元 and more escalates to the province, 50,000 to the national federation);
相对 living 8 months, medical 80 % capped at 16,000 元, one aid type a year; 意外致困 15 % of the costs
capped at 10,000 元."""

from __future__ import annotations

from typing import Any

import huijia_hardship.plugin
from huijia_hardship.interface import AidRequest
from huijia_hardship.settings import HardshipSettings

import huijia_fujian.plugin
import huijia_mutual_aid.plugin
import huijia_warmth.plugin
from core.context import TenantContext
from core.plugins import available_plugins, build_plugin_manager, hooks_for, validate_plugin_settings
from huijia_fujian import rules

PM = build_plugin_manager([huijia_hardship.plugin, huijia_warmth.plugin, huijia_mutual_aid.plugin, huijia_fujian.plugin], trace=False)
FUZHOU_DIBAO = 90_000  # 900 元 a month, for the arithmetic


def tenant() -> TenantContext:
    validated = validate_plugin_settings("fujian", ["fujian"], {}, available=available_plugins(PM))
    return TenantContext(id=35, code="fujian", name="福建省总工会", province_code="35", plugins=("fujian",),
                         settings=validated, capabilities=("hardship",))


def ask(**kw: Any):
    t = tenant()
    req = AidRequest(**{"aid_type": "medical", "category": "deep", "region_code": "350102", "year": 2025,
                        "dibao_line_fen": FUZHOU_DIBAO, "household_size": 3, **kw})
    return hooks_for(t, PM).aid_amount(tenant=t, request=req)


def test_living_aid_is_10_months_for_deep_and_8_for_relative():
    assert ask(aid_type="living").amount_fen == 10 * FUZHOU_DIBAO
    assert ask(aid_type="living", category="relative").amount_fen == 8 * FUZHOU_DIBAO
    assert ask(aid_type="living", dibao_line_fen=None).refusals


def test_medical_aid_by_category():
    deep = ask(medical_cost_fen=6_000_000)  # the whole own share, no cap: escalation decides who approves
    assert (deep.amount_fen, deep.cap_fen) == (6_000_000, None)
    relative = ask(category="relative", medical_cost_fen=1_500_000)
    assert relative.amount_fen == 1_200_000 and relative.breakdown[0].label_zh == "自付医疗费用的80%"
    capped = ask(category="relative", medical_cost_fen=3_000_000)
    assert (capped.amount_fen, capped.cap_fen) == (1_600_000, 1_600_000)
    accident = ask(category="accident", medical_cost_fen=5_000_000)  # 15 % = 7,500 元
    assert accident.amount_fen == 750_000
    assert ask(category="accident", medical_cost_fen=9_000_000).amount_fen == 1_000_000


def test_the_rest_falls_to_the_capability_settings():
    training = ask(aid_type="training", requested_fen=200_000)
    assert training.rule_version.startswith("settings") and training.cap_fen == 300_000
    assert rules.hardship_aid("education", "deep", FUZHOU_DIBAO, 0, living_months={}, medical_bp={},
                              medical_cap={}) is None


def test_escalation_thresholds_and_one_type_for_relative_are_hardship_settings():
    s = HardshipSettings(single_type_categories=["relative"])
    assert (s.escalate_province_fen, s.escalate_national_fen) == (2_000_000, 5_000_000)
    assert s.single_type_categories == ["relative"]

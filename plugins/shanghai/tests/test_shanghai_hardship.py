"""Shanghai's hardship aid (沪工总权〔2019〕19号), with the notice's own numbers: living aid 5,000 元 a
household a year; university 10 months of 低保, high school half of that; medical 90 % of the own cost
up to 10,000 元 and 70 % above, capped at 20,000 元 a person a year."""

from __future__ import annotations

from typing import Any

import huijia_hardship.plugin
import pytest
from huijia_hardship.interface import AidRequest

import huijia_mutual_aid.plugin
import huijia_shanghai.plugin
from core.context import TenantContext
from core.plugins import available_plugins, build_plugin_manager, hooks_for, validate_plugin_settings
from huijia_shanghai import rules

PLUGINS = [huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_shanghai.plugin]
DIBAO_2024 = 151_000  # Shanghai's 2024 line, 1,510 元 a month


@pytest.fixture(name="pm", scope="module")
def fx_pm():
    return build_plugin_manager(PLUGINS, trace=False)


def tenant(pm, settings: dict[str, Any] | None = None) -> TenantContext:
    validated = validate_plugin_settings("shanghai", ["shanghai"], settings or {}, available=available_plugins(pm))
    return TenantContext(id=31, code="shanghai", name="上海市总工会", province_code="31", plugins=("shanghai",),
                         settings=validated, capabilities=("hardship",))


def ask(pm, t: TenantContext, **kw: Any):
    req = AidRequest(**{"aid_type": "medical", "category": "deep", "region_code": "310104", "year": 2024,
                        "dibao_line_fen": DIBAO_2024, "household_size": 3, **kw})
    return hooks_for(t, pm).aid_amount(tenant=t, request=req)


def test_medical_aid_is_90_percent_to_10000_and_70_percent_above():
    assert rules.tiered_medical_aid(800_000, 1_000_000, 9000, 7000, 2_000_000) == [("10,000元以内自付部分的90%", 720_000)]
    # 15,000 元 own cost: 9,000 + 3,500 = 12,500 元.
    items = rules.tiered_medical_aid(1_500_000, 1_000_000, 9000, 7000, 2_000_000)
    assert sum(a for _, a in items) == 1_250_000
    # 30,000 元: 9,000 + 14,000 = 23,000 元, capped at 20,000 元.
    items = rules.tiered_medical_aid(3_000_000, 1_000_000, 9000, 7000, 2_000_000)
    assert items[-1] == ("超过每人每年上限部分不予救助", -300_000) and sum(a for _, a in items) == 2_000_000


def test_school_aid_is_ten_months_of_dibao_and_half_for_high_school():
    assert rules.school_aid("university", False, DIBAO_2024, 10, 5000) == [("10个月低保标准", 1_510_000)]
    assert rules.school_aid("high_school", False, DIBAO_2024, 10, 5000)[0][1] == 755_000
    assert rules.school_aid("compulsory", True, DIBAO_2024, 10, 5000)[0][1] == 755_000  # a disabled child
    assert rules.school_aid("compulsory", False, DIBAO_2024, 10, 5000) is None


def test_hook_aid_amount_answers_with_the_notices_figures(pm):
    t = tenant(pm)
    medical = ask(pm, t, medical_cost_fen=3_000_000)
    assert (medical.amount_fen, medical.cap_fen, medical.per_person) == (2_000_000, 2_000_000, True)
    assert medical.rule_version == "沪工总权〔2019〕19号"
    living = ask(pm, t, aid_type="living")
    assert (living.amount_fen, living.cap_fen, living.per_person) == (500_000, 500_000, False)
    school = ask(pm, t, aid_type="education", school_level="university")
    assert school.amount_fen == 1_510_000 and [i.label_zh for i in school.breakdown] == ["10个月低保标准"]
    # 相对困难 households are outside this notice.
    assert ask(pm, t, aid_type="living", category="relative").refusals
    # Types the notice does not cover fall to the capability's settings (职业培训 3,000 元).
    training = ask(pm, t, aid_type="training", requested_fen=250_000)
    assert training.rule_version.startswith("settings") and training.cap_fen == 300_000


def test_shanghai_figures_are_settings(pm):
    t = tenant(pm, {"shanghai": {"hardship_living_fen": 600_000, "hardship_medical_cap_fen": 2_500_000}})
    assert ask(pm, t, aid_type="living").amount_fen == 600_000
    assert ask(pm, t, medical_cost_fen=3_000_000).amount_fen == 2_300_000

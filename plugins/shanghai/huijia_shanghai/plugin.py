"""Shanghai's hook implementations: thin adapters from settings to :mod:`huijia_shanghai.rules`."""

from __future__ import annotations

import importlib.metadata
from typing import Any

from core.sdk import FieldProblem, MemberInfo, PluginInfo, TenantContext, hookimpl
from huijia_mutual_aid.interface import Benefit, Claim, Enrolment, Plan
from huijia_shanghai import mutual_aid, rules
from huijia_shanghai.settings import NAME, ShanghaiSettings, for_tenant

PLUGIN = PluginInfo(
    name=NAME,
    province_code="31",
    version=importlib.metadata.version("huijia-shanghai"),
    min_core="0.1.0",
    max_core="0.1",
    settings_schema=ShanghaiSettings,
    # It implements the hardship and mutual_aid capabilities' hooks without declaring them in
    # ``capabilities``: that declaration would make every tenant enabling this plugin enable them too,
    # and a province may run those schemes elsewhere. The hooks are only called where the capability
    # is enabled.
    # Written against core's 0.1 hooks; a 0.x host with a newer minor still loads it.
    contracts={"huijia.core": "0.1", "hardship": "1.1", "mutual_aid": "1.0"},
)

RULE_VERSION = "沪工总权〔2019〕19号"


@hookimpl
def hardship_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    return rules.dibao_line(for_tenant(tenant).dibao, region_code, year)


@hookimpl
def member_validate(tenant: TenantContext, member: MemberInfo) -> list[FieldProblem]:
    required = for_tenant(tenant).phone_required_tags
    if not set(member.tags) & set(required):
        return []
    return rules.phone_problems(member.tags, member.phone, required, _tag_labels(tenant))


@hookimpl
def register_mutual_aid_plans(tenant: TenantContext) -> list[Plan]:
    return mutual_aid.plans()


@hookimpl
def mutual_aid_benefit(plan: Plan, enrolment: Enrolment, claim: Claim) -> Benefit | None:
    return mutual_aid.benefit(plan, enrolment, claim)


def _tag_labels(tenant: TenantContext) -> dict[str, str]:
    """Tag code -> Chinese label as this tenant shows it (core tags plus every plugin's)."""
    from core.sdk import tag_vocabulary

    return {code: tag.label_zh for code, tag in tag_vocabulary(tenant).tags.items()}


@hookimpl
def aid_amount(tenant: TenantContext, request: Any) -> Any:
    """沪工总权〔2019〕19号: 深度困难 only; living, school and medical aid. Other types: the national rule."""
    from huijia_hardship.interface import AidItem, AidQuote

    s = for_tenant(tenant)
    aid_type = request.aid_type
    if aid_type not in ("living", "education", "medical"):
        return None
    if request.category != "deep":
        return AidQuote(0, None, (), RULE_VERSION, refusals=("上海市帮扶标准仅适用于深度困难职工家庭",))
    if aid_type == "living":
        return AidQuote(s.hardship_living_fen, s.hardship_living_fen,
                        (AidItem("生活救助（每户每年）", s.hardship_living_fen),), RULE_VERSION)
    if aid_type == "education":
        dibao = request.dibao_line_fen
        if dibao is None:
            return AidQuote(0, None, (), RULE_VERSION, refusals=("当年低保标准未设置，无法计算助学金额",))
        items = rules.school_aid(request.school_level, request.disabled_child, dibao,
                                 s.hardship_university_months, s.hardship_high_school_bp)
        if items is None:
            return None
        total = sum(a for _, a in items)
        return AidQuote(total, total, tuple(AidItem(label, a) for label, a in items), RULE_VERSION, per_person=True)
    items = rules.tiered_medical_aid(request.medical_cost_fen, s.hardship_medical_tier_fen,
                                     s.hardship_medical_low_bp, s.hardship_medical_high_bp, s.hardship_medical_cap_fen)
    return AidQuote(sum(a for _, a in items), s.hardship_medical_cap_fen,
                    tuple(AidItem(label, a) for label, a in items), RULE_VERSION, per_person=True)

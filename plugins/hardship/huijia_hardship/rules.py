"""The national default rules: pure functions of plain values (no tenant, no I/O)."""

from __future__ import annotations

from huijia_hardship.interface import (
    ACCIDENT,
    DEEP,
    NONE,
    RELATIVE,
    AidItem,
    AidQuote,
    AidRequest,
    Classification,
    HouseholdFacts,
)
from huijia_hardship.settings import AidRule

BASIS = 10_000
RULE_VERSION = "national-2026.1"


def classify(facts: HouseholdFacts, *, relative_multiplier_bp: int = 20_000, accident_cost_ratio_bp: int = 8_000,
             migrant_min_months: int = 12, rule_version: str = RULE_VERSION) -> Classification:
    """深度困难 when (income − rigid expenses) ÷ 12 ÷ members is below the 低保 line; 相对困难 below
    ``relative_multiplier_bp`` of it; 意外致困 after a major accident or when the year's hardship costs
    exceed ``accident_cost_ratio_bp`` of the year's income. 农民工 also need ``migrant_min_months``
    of employment."""
    reasons: list[str] = []
    if facts.migrant and facts.employment_months < migrant_min_months:
        return Classification(NONE, (f"农民工须在城镇连续务工满{migrant_min_months}个月",), rule_version)
    if facts.dibao_line_fen is None:
        return Classification(NONE, ("所在地区当年低保标准未设置，无法认定",), rule_version)
    pc = facts.monthly_per_capita_fen
    if pc < facts.dibao_line_fen:
        return Classification(DEEP, ("家庭月人均可支配收入（扣除刚性支出）低于当地低保标准",), rule_version)
    if pc * BASIS < facts.dibao_line_fen * relative_multiplier_bp:
        reasons.append(f"家庭月人均可支配收入（扣除刚性支出）低于当地低保标准的{relative_multiplier_bp / BASIS:g}倍")
        return Classification(RELATIVE, tuple(reasons), rule_version)
    yearly_income = facts.monthly_income_fen * 12
    if facts.accident:
        return Classification(ACCIDENT, ("因重大灾害或意外事故致伤、致残、致死",), rule_version)
    if facts.yearly_hardship_cost_fen * BASIS > yearly_income * accident_cost_ratio_bp:
        return Classification(ACCIDENT, (f"当年致困支出超过家庭年收入的{accident_cost_ratio_bp // 100}%",), rule_version)
    return Classification(NONE, ("家庭月人均可支配收入不低于认定标准，且无意外致困情形",), rule_version)


def exclusions(facts: HouseholdFacts) -> list[str]:
    """The national exclusions: why a household cannot be archived whatever its income."""
    out = []
    if facts.homes >= 2:
        out.append("家庭拥有两套及以上住房")
    if facts.business_owner:
        out.append("家庭成员经商办企业或雇用他人")
    if facts.public_school_fee_fen and facts.private_school_fee_fen > 2 * facts.public_school_fee_fen:
        out.append("子女就读收费超过公办学校两倍的民办学校")
    if facts.study_abroad_self_paid:
        out.append("子女自费出国留学")
    if facts.civil_check_failed:
        out.append("民政家庭经济状况核对未通过")
    return out


def apply_exclusions(result: Classification, found: list[str]) -> Classification:
    if not found:
        return result
    return Classification(NONE, (*result.reasons, *found), result.rule_version, excluded=True,
                          exclusions=tuple(found))


AID_RULE_VERSION = "settings-2026.1"


def quote_from_rule(req: AidRequest, rule: AidRule, *, rule_version: str = AID_RULE_VERSION) -> AidQuote:
    """A grant by the settings' rule for its type: months of 低保 (keyed by category, or by school
    level for 子女助学), or a share of the cost, or a fixed sum, or what was asked for; then the cap."""
    items: list[AidItem] = []
    refusals: list[str] = []
    if rule.months_of_dibao:
        key = req.school_level if req.aid_type == "education" else req.category
        months = rule.months_of_dibao.get(key or "")
        if months is None:
            refusals.append("该困难类别或学段不适用此项救助")
            amount = 0
        elif req.dibao_line_fen is None:
            refusals.append("所在地区当年低保标准未设置，无法计算")
            amount = 0
        else:
            amount = months * req.dibao_line_fen
            items.append(AidItem(f"{months}个月低保标准", amount))
    elif rule.cost_ratio_bp is not None:
        amount = req.medical_cost_fen * rule.cost_ratio_bp // BASIS
        items.append(AidItem(f"自付费用的{rule.cost_ratio_bp / 100:g}%", amount))
    elif rule.fixed_fen is not None:
        amount = rule.fixed_fen
        items.append(AidItem("定额救助", amount))
    else:
        amount = req.requested_fen or 0
        items.append(AidItem("申请金额", amount))
    if rule.cap_fen is not None and amount > rule.cap_fen:
        items.append(AidItem("超过年度上限部分不予救助", rule.cap_fen - amount))
        amount = rule.cap_fen
    return AidQuote(amount, rule.cap_fen, tuple(items), rule_version, per_person=rule.per_person,
                    refusals=tuple(refusals))

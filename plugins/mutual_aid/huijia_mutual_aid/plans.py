"""The tenant's plans, collected from the province plugins, and a claim's payable benefit."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.sdk import DomainError, ErrorCode, TenantContext, hooks_for
from huijia_mutual_aid.interface import Claim, Enrolment, History, Plan
from huijia_mutual_aid.rules import CappedBenefit, apply_caps
from huijia_mutual_aid.settings import for_tenant


def plans_for(tenant: TenantContext) -> dict[str, Plan]:
    """Every plan the tenant's province plugins offer, by code, less those its settings disable.

    :raises DomainError: PLUGIN_CONFIG when two plugins declare one code (its fund would be shared).
    """
    settings = for_tenant(tenant)
    disabled = set(settings.disabled_plans)
    plans: dict[str, Plan] = {}
    for batch in hooks_for(tenant).register_mutual_aid_plans(tenant=tenant):
        for plan in batch or ():
            if plan.code in plans:
                raise DomainError(ErrorCode.PLUGIN_CONFIG, f"mutual-aid plan {plan.code!r} is declared twice")
            if plan.code in disabled:
                continue
            changes: dict[str, Any] = {}
            if plan.code in settings.claim_within_days:
                changes["claim_within_days"] = settings.claim_within_days[plan.code]
            if plan.code in settings.waiting_days:
                changes["cover_after_days"] = settings.waiting_days[plan.code]
            if plan.code in settings.new_hire_days:
                changes["enrolment"] = dataclasses.replace(plan.enrolment,
                                                           new_hire_days=settings.new_hire_days[plan.code])
            plans[plan.code] = dataclasses.replace(plan, **changes) if changes else plan
    return plans


def plan_for(tenant: TenantContext, code: str, field: str = "plan") -> Plan:
    plan = plans_for(tenant).get(code)
    if plan is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no mutual-aid plan {code!r}", field, message_zh="没有该互助保障计划")
    return plan


def benefit_for(tenant: TenantContext, plan: Plan, enrolment: Enrolment, claim: Claim,
                history: History, hook: Any = None) -> CappedBenefit:
    """The province's formula through ``mutual_aid_benefit``, then the plan's caps. A batch passes the
    tenant's ``hooks_for(tenant).mutual_aid_benefit`` as ``hook``, looked up once.

    :raises DomainError: NOT_ELIGIBLE when no plugin answers for the plan.
    """
    hook = hook or hooks_for(tenant).mutual_aid_benefit
    benefit = hook(tenant=tenant, plan=plan, enrolment=enrolment, claim=claim, history=history)
    if benefit is None:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, f"no benefit rule for plan {plan.code!r} and kind {claim.kind!r}",
                          "kind", message_zh="本计划没有该类事项的给付规则")
    return apply_caps(plan, benefit, history)


def benefits_for(tenant: TenantContext, plan: Plan, cases: list[tuple[Enrolment, Claim, History]]) -> list[CappedBenefit]:
    """``benefit_for`` for many claims: the province's batch hook (``mutual_aid_benefits``) when it has
    one, else its per-claim hook for each; then the plan's caps, each claim with its own history.

    :raises DomainError: NOT_ELIGIBLE when no plugin answers for one of the claims.
    """
    if not cases:
        return []
    hooks = hooks_for(tenant)
    answers = hooks.mutual_aid_benefits(tenant=tenant, plan=plan, cases=cases)
    if answers is None:
        one = hooks.mutual_aid_benefit
        answers = [one(tenant=tenant, plan=plan, enrolment=e, claim=c, history=h) for e, c, h in cases]
    elif len(answers) != len(cases):
        raise DomainError(ErrorCode.PLUGIN_CONFIG, f"mutual_aid_benefits answered {len(answers)} of {len(cases)} claims")
    out = []
    for (_, claim, history), benefit in zip(cases, answers, strict=True):
        if benefit is None:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, f"no benefit rule for plan {plan.code!r} and kind {claim.kind!r}",
                              "kind", message_zh="本计划没有该类事项的给付规则")
        out.append(apply_caps(plan, benefit, history))
    return out

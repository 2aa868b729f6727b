"""Shanghai's hook implementations: thin adapters from settings to :mod:`huijia_shanghai.rules`."""

from __future__ import annotations

import importlib.metadata

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
    # It implements the mutual_aid capability's hooks without declaring capabilities=("mutual_aid",): that
    # declaration would make every tenant enabling this plugin enable mutual_aid too, and a province may
    # run its mutual-aid schemes elsewhere. The hooks are only called where the capability is enabled.
    # Written against core's 0.1 hooks; a 0.x host with a newer minor still loads it.
    contracts={"huijia.core": "0.1", "mutual_aid": "1.0"},
)


@hookimpl
def region_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
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

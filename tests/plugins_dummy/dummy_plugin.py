"""A dummy plugin implementing every hook (netbox's ``dummy_plugin``, datasette's ``my_plugin``).

Its answers are deliberately unlike any real province's, and come from its settings, so a test can
tell that (a) the hook reached this plugin, (b) the tenant's settings reached it, and (c) a tenant
that does not enable it never sees it. When a hook is added to ``core/hookspecs.py``, implement it
here too; ``test_dummy_implements_every_hook`` fails until you do.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.context import TenantContext
from core.hookspecs import hookimpl
from core.interface import (
    EntryInfo,
    FieldProblem,
    LevyInfo,
    LevySplit,
    MemberInfo,
    PluginInfo,
    ProblemCode,
    SmallPayerInfo,
    TagInfo,
)
from core.plugins import tenant_settings

NAME = "dummy"

# Notifications received, as (hook, tenant code, object id). Tests clear it; it never holds PII.
EVENTS: list[tuple[str, str, int | None]] = []


class DummySettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    # Region prefix the dummy answers 低保 questions for; anything else defers to the next plugin.
    region_prefix: str = "99"
    dibao_fen: int = 99_900
    special_allocation_bp: int = 1234
    refused_org_unit_ids: list[int] = msgspec.field(default_factory=lambda: [13])
    forbidden_name: str = "测试"


PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.0.1",
    min_core="0.1",
    max_core=None,
    settings_schema=DummySettings,
)


def _s(tenant: TenantContext) -> DummySettings:
    return tenant_settings(tenant, NAME, DummySettings)


async def dummy_job(ctx: Any, *ids: int) -> str:
    # ctx is core.jobs.runner.JobContext: the runner has already loaded and scoped ctx.tenant.
    return f"dummy job ran for tenant {ctx.tenant.code} with {list(ids)}"


dummy_job.job_name = "dummy.job"  # type: ignore[attr-defined]


@hookimpl
def register_member_tags(tenant: TenantContext) -> list[TagInfo]:
    return [TagInfo("dummy_tag", "测试标签")]


@hookimpl
def register_jobs() -> list[Any]:
    return [dummy_job]


# The start-up (capability host) hooks: a province plugin normally has nothing to register; the
# capability in tests/capability_dummy exercises them for real (test_hook_register_graphql etc.).


@hookimpl
def register_hookspecs() -> list[Any]:
    return []


@hookimpl
def register_piccolo_apps() -> list[str]:
    return []


@hookimpl
def register_graphql() -> list[Any]:
    return []


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {}


@hookimpl
def register_cron() -> list[Any]:
    return []


@hookimpl
def register_cli() -> list[Any]:
    return []


@hookimpl
def register_capabilities() -> list[Any]:
    return []


@hookimpl
def register_startup_checks() -> list[Any]:
    return []


@hookimpl
def register_routes() -> list[Any]:
    return []


@hookimpl
def register_shutdown() -> list[Any]:
    return []


@hookimpl
def register_demo_data() -> list[Any]:
    return []


@hookimpl
def region_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    s = _s(tenant)
    return s.dibao_fen if region_code.startswith(s.region_prefix) else None


@hookimpl
def member_validate(tenant: TenantContext, member: MemberInfo) -> list[FieldProblem]:
    if member.name == _s(tenant).forbidden_name:
        return [FieldProblem("name", ProblemCode.NOT_ALLOWED, "测试插件：此姓名不允许使用")]
    return []


@hookimpl
def fund_levy_split(tenant: TenantContext, levy: LevyInfo) -> LevySplit:
    # Half each, the odd fen going upward: the opposite remainder rule to the national default.
    grassroots = levy.levy_fen // 2
    return LevySplit(grassroots, levy.levy_fen - grassroots, rule="dummy 50/50, remainder upward")


@hookimpl
def fund_special_allocation_ratio(tenant: TenantContext, year: int) -> int:
    return _s(tenant).special_allocation_bp


@hookimpl
def fund_small_payer_refund(tenant: TenantContext, payer: SmallPayerInfo) -> bool | None:
    # Refuse listed units outright; defer on everyone else so the national rule decides.
    return False if payer.org_unit_id in _s(tenant).refused_org_unit_ids else None


@hookimpl
def on_member_joined(tenant: TenantContext, member: MemberInfo) -> None:
    EVENTS.append(("on_member_joined", tenant.code, member.id))


@hookimpl
async def on_ledger_entry_posted(tenant: TenantContext, entry: EntryInfo) -> None:
    # async, like a real notification that awaits enqueue(...); core.plugins.notify awaits it.
    EVENTS.append(("on_ledger_entry_posted", tenant.code, entry.id))


@hookimpl
def register_encrypted_columns() -> list[Any]:
    return []


@hookimpl
def register_file_stores() -> list[Any]:
    return []


@hookimpl
def register_sms_gateways() -> list[Any]:
    return []



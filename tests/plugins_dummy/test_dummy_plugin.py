"""One ``test_hook_<name>`` per hook, run through the dummy plugin (datasette style).

Each test checks three things: the tenant that enables the dummy gets the dummy's answer (or its
contribution to a collected list), the answer reflects the tenant's settings, and a tenant that does
not enable the dummy gets the built-in national behaviour only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
from types import ModuleType, SimpleNamespace

import pluggy
import pytest

from core import hookspecs
from core.context import TenantContext
from core.hookspecs import hookimpl
from core.interface import (
    EntryInfo,
    LevyInfo,
    MemberInfo,
    PostingInfo,
    ProblemCode,
    SmallPayerInfo,
)
from core.plugins import get_plugin_manager, hooks_for, notify, register_test_plugin

VALID_ID = "11010519491231002X"  # GB 11643 example whose check digit holds (DOMAIN.md §8)


def _levy(levy_fen: int) -> LevyInfo:
    return LevyInfo(
        org_unit_id=7,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 1, 31),
        payroll_fen=levy_fen * 50,
        levy_fen=levy_fen,
    )


def test_dummy_implements_every_hook(dummy: ModuleType) -> None:
    spec_pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    spec_pm.add_hookspecs(hookspecs)
    hooks = {name for name in vars(spec_pm.hook) if not name.startswith("_")}
    implemented = {caller.name for caller in get_plugin_manager().get_hookcallers(dummy) or ()}
    assert hooks == implemented


def test_hook_register_member_tags(
    dummy: ModuleType, tenant_dummy: TenantContext, tenant_plain: TenantContext
) -> None:
    with_dummy = [
        t.code for tags in hooks_for(tenant_dummy).register_member_tags(tenant=tenant_dummy) for t in tags
    ]
    plain = [
        t.code for tags in hooks_for(tenant_plain).register_member_tags(tenant=tenant_plain) for t in tags
    ]
    assert "dummy_tag" in with_dummy
    assert "dummy_tag" not in plain
    # The national tags are there for both: a province adds tags, it cannot hide the national ones.
    assert set(plain) <= set(with_dummy)
    assert "new_employment" in plain


def test_hook_register_jobs(dummy: ModuleType, tenant_dummy: TenantContext) -> None:
    # Not tenant-scoped: the worker collects every installed plugin's jobs once at start-up.
    jobs = [job for batch in get_plugin_manager().hook.register_jobs() for job in batch]
    assert dummy.dummy_job in jobs
    assert all(inspect.iscoroutinefunction(job) for job in jobs)
    assert all(getattr(job, "job_name", job.__name__) for job in jobs)
    ctx = SimpleNamespace(tenant=tenant_dummy, job_id=1, attempt=1)  # the shape of JobContext
    assert asyncio.run(dummy.dummy_job(ctx, 3, 4)) == "dummy job ran for tenant dummyland with [3, 4]"


def test_hook_region_dibao_line(dummy: ModuleType, make_tenant) -> None:
    tenant = make_tenant(
        "dummyland",
        ("dummy",),
        {"dummy": {"dibao_fen": 77_700}, "builtin": {"dibao": {"110000": {"2024": 50_000}}}},
    )
    hooks = hooks_for(tenant)
    assert hooks.region_dibao_line(tenant=tenant, region_code="990101", year=2024) == 77_700
    # The dummy defers outside its prefix, so the built-in plugin answers from the tenant's table.
    assert hooks.region_dibao_line(tenant=tenant, region_code="110105", year=2024) == 50_000
    assert hooks.region_dibao_line(tenant=tenant, region_code="120000", year=2024) is None


def test_hook_member_validate(
    dummy: ModuleType, tenant_dummy: TenantContext, tenant_plain: TenantContext
) -> None:
    # Bad check digit (last char of a valid number changed) AND the dummy's forbidden name.
    member = MemberInfo(id=None, org_unit_id=1, name="测试", id_number=VALID_ID[:-1] + "1")
    problems = [
        p
        for batch in hooks_for(tenant_dummy).member_validate(tenant=tenant_dummy, member=member)
        for p in batch
    ]
    assert {(p.field, p.code) for p in problems} == {
        ("name", ProblemCode.NOT_ALLOWED),
        ("id_number", ProblemCode.CHECKSUM),
    }
    plain = [
        p
        for batch in hooks_for(tenant_plain).member_validate(tenant=tenant_plain, member=member)
        for p in batch
    ]
    assert [(p.field, p.code) for p in plain] == [("id_number", ProblemCode.CHECKSUM)]
    assert all(p.message_zh for p in problems)


def test_hook_fund_levy_split(
    dummy: ModuleType, tenant_dummy: TenantContext, tenant_plain: TenantContext
) -> None:
    levy = _levy(1001)  # odd, so the two remainder rules must disagree on the odd fen
    mine = hooks_for(tenant_dummy).fund_levy_split(tenant=tenant_dummy, levy=levy)
    national = hooks_for(tenant_plain).fund_levy_split(tenant=tenant_plain, levy=levy)
    mine.check_covers(levy)
    national.check_covers(levy)
    assert (mine.grassroots_fen, mine.upward_fen) == (500, 501)
    # 60 % of 1001 is 600.6 fen: the national rule rounds the upward 400.4 down and keeps 601 at the base.
    assert (national.grassroots_fen, national.upward_fen) == (601, 400)


def test_hook_fund_special_allocation_ratio(
    dummy: ModuleType, make_tenant, tenant_plain: TenantContext
) -> None:
    tenant = make_tenant("dummyland", ("dummy",), {"dummy": {"special_allocation_bp": 250}})
    assert hooks_for(tenant).fund_special_allocation_ratio(tenant=tenant, year=2025) == 250
    national = hooks_for(tenant_plain).fund_special_allocation_ratio(tenant=tenant_plain, year=2025)
    assert national == 500  # the documented [I] national default, 5 %


def test_hook_fund_small_payer_refund(
    dummy: ModuleType, tenant_dummy: TenantContext, tenant_plain: TenantContext
) -> None:
    small = SmallPayerInfo(org_unit_id=13, policy_year=2024, upward_paid_fen=500_000)
    other = SmallPayerInfo(org_unit_id=14, policy_year=2024, upward_paid_fen=500_000)
    dummy_hooks = hooks_for(tenant_dummy)
    # Unit 13 is refused by the dummy even though the national rule would refund it ...
    assert dummy_hooks.fund_small_payer_refund(tenant=tenant_dummy, payer=small) is False
    assert hooks_for(tenant_plain).fund_small_payer_refund(tenant=tenant_plain, payer=small) is True
    # ... and for other units the dummy defers, so the national rule decides.
    assert dummy_hooks.fund_small_payer_refund(tenant=tenant_dummy, payer=other) is True


async def test_hook_on_member_joined(
    dummy: ModuleType, tenant_dummy: TenantContext, tenant_plain: TenantContext
) -> None:
    member = MemberInfo(id=42, org_unit_id=1, name="张三", phone="13800000000")
    await notify(tenant_dummy, "on_member_joined", member=member)
    await notify(tenant_plain, "on_member_joined", member=member)
    assert dummy.EVENTS == [("on_member_joined", "dummyland", 42)]


def _entry() -> EntryInfo:
    return EntryInfo(
        id=5,
        key="levy:7:2025-01",
        posted_at=dt.datetime(2025, 2, 1, 9, 0, tzinfo=dt.UTC),
        memo="拨缴经费",
        postings=(
            PostingInfo(account_id=1, account_code="101", org_unit_id=7, fund="general", amount_fen=1001),
            PostingInfo(account_id=2, account_code="402", org_unit_id=7, fund="general", amount_fen=-1001),
        ),
    )


async def test_hook_on_ledger_entry_posted(
    dummy: ModuleType, tenant_dummy: TenantContext, tenant_plain: TenantContext
) -> None:
    await notify(tenant_plain, "on_ledger_entry_posted", entry=_entry())
    # The dummy's implementation is async: calling the hook directly only creates the coroutine ...
    (pending,) = hooks_for(tenant_dummy).on_ledger_entry_posted(tenant=tenant_dummy, entry=_entry())
    assert dummy.EVENTS == []
    pending.close()
    # ... notify() is what awaits it.
    await notify(tenant_dummy, "on_ledger_entry_posted", entry=_entry())
    assert dummy.EVENTS == [("on_ledger_entry_posted", "dummyland", 5)]


async def test_notify_survives_a_failing_plugin(
    dummy: ModuleType,
    make_tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        @hookimpl
        async def on_ledger_entry_posted(self, entry: EntryInfo) -> None:
            raise RuntimeError("external system down")

    unregister = register_test_plugin(Broken(), "broken")
    try:
        tenant = make_tenant("both", ("dummy", "broken"))
        with caplog.at_level(logging.ERROR, logger="huijia.plugins"):
            await notify(tenant, "on_ledger_entry_posted", entry=_entry())  # does not raise
    finally:
        unregister()
    assert dummy.EVENTS == [("on_ledger_entry_posted", "both", 5)]
    assert "on_ledger_entry_posted" in caplog.text and "Broken.on_ledger_entry_posted" in caplog.text


async def test_notify_is_only_for_notifications(tenant_dummy: TenantContext) -> None:
    with pytest.raises(ValueError, match="on_"):
        await notify(tenant_dummy, "region_dibao_line", region_code="990101", year=2025)

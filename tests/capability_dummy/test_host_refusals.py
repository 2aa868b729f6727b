"""Bad plugins and bad manifests stop start-up, naming the plugin and what is wrong.

Each case builds its own plugin manager (nothing here touches the process's), the way start-up does:
``build_plugin_manager`` then ``Registry.check()`` (``core.bootstrap.startup_checks``) and the schema
build; a manifest is checked by ``tenants sync`` and again by start-up for every stored tenant.
"""

from __future__ import annotations

import textwrap
from types import SimpleNamespace
from typing import Any

import pytest

from core.interface import PluginInfo
from core.plugins import PluginConfigError, PluginError, build_plugin_manager, discover_plugins
from core.registry import build_registry
from core.sdk import hookimpl
from tests.capability_dummy import plugin as testcap
from tests.capability_dummy import province as testprov


def fake(name: str, *, capabilities: tuple[str, ...] = (), **hooks: Any) -> SimpleNamespace:
    return SimpleNamespace(
        PLUGIN=PluginInfo(name=name, province_code=None, version="0.0.1", min_core="0.1", capabilities=capabilities),
        **hooks,
    )


def registry_of(*plugins: object):
    return build_registry(build_plugin_manager([*discover_plugins(), *plugins], trace=False))


def test_a_hook_no_registered_spec_declares_is_refused_naming_the_plugin() -> None:
    @hookimpl
    def hardship_level(tenant: Any) -> int:
        return 1

    with pytest.raises(PluginError, match=r"plugin 'typo'.*hardship_level"):
        build_plugin_manager([fake("typo", hardship_level=hardship_level)], trace=False)


def test_a_province_plugin_implementing_a_capability_hook_without_the_capability_installed_is_refused() -> None:
    # testprov implements testcap_item_limit; without the testcap plugin no spec declares it.
    with pytest.raises(PluginError, match=r"plugin 'testprov'.*testcap_item_limit"):
        build_plugin_manager([testprov], trace=False)


def test_a_province_plugin_with_the_wrong_arguments_for_a_capability_hook_is_refused() -> None:
    @hookimpl
    def testcap_item_limit(tenant: Any, year: int) -> int:  # the spec has no `year`
        return 1

    with pytest.raises(PluginError, match=r"(?s)plugin 'badprov'.*testcap_item_limit.*year"):
        build_plugin_manager([testcap, fake("badprov", capabilities=("testcap",),
                                            testcap_item_limit=testcap_item_limit)], trace=False)


def test_a_province_plugin_serving_a_capability_nobody_provides_is_refused() -> None:
    with pytest.raises(PluginError, match=r"plugin 'lonely': serves capability 'hardship'"):
        registry_of(fake("lonely", capabilities=("hardship",))).check()


def test_two_plugins_defining_the_same_graphql_field_are_refused_naming_both() -> None:
    import strawberry

    from core.graphql.schema import build_schema
    from core.interface import GraphQLContribution

    @strawberry.type
    class Clash:
        @strawberry.field
        def testcap_items(self) -> int:
            return 1

    @hookimpl
    def register_graphql() -> list[Any]:
        return [GraphQLContribution(query=[Clash])]

    registry = registry_of(testcap, testprov, fake("clash", register_graphql=register_graphql))
    with pytest.raises(PluginError, match=r"plugin 'clash': Query field 'testcapItems' is already defined by plugin 'testcap'"):
        build_schema(registry=registry)


def test_a_plugin_redefining_a_core_field_is_refused() -> None:
    import strawberry

    from core.graphql.schema import build_schema
    from core.interface import GraphQLContribution

    @strawberry.type
    class Steal:
        @strawberry.field
        def me(self) -> int:
            return 1

    @hookimpl
    def register_graphql() -> list[Any]:
        return [GraphQLContribution(query=[Steal])]

    with pytest.raises(PluginError, match=r"plugin 'steal': Query field 'me' is already defined by plugin 'core.accounts'"):
        build_schema(registry=registry_of(fake("steal", register_graphql=register_graphql)))


def test_two_plugins_defining_the_same_permission_are_refused_naming_both() -> None:
    @hookimpl
    def register_permissions() -> dict[str, Any]:
        return {"testcap.read": ["worker"]}

    registry = registry_of(testcap, testprov, fake("grabby", register_permissions=register_permissions))
    with pytest.raises(PluginError, match=r"plugin 'grabby': permission 'testcap.read' is already defined by plugin 'testcap'"):
        registry.check()


def test_a_plugin_redefining_a_core_permission_or_naming_an_unknown_role_is_refused() -> None:
    @hookimpl
    def register_permissions() -> dict[str, Any]:
        return {"member.reveal": ["clerk"]}

    with pytest.raises(PluginError, match=r"plugin 'widen': permission 'member.reveal' is already defined by plugin 'core.accounts'"):
        registry_of(fake("widen", register_permissions=register_permissions)).check()

    bad = fake("odd")
    bad.register_permissions = hookimpl(lambda: {"odd.read": ["janitor"]})
    with pytest.raises(PluginError, match=r"plugin 'odd': permission 'odd.read': unknown role 'janitor'"):
        registry_of(bad).check()


def test_jobs_are_namespaced_by_plugin_and_a_duplicate_name_is_refused() -> None:
    async def count(ctx: Any) -> None:  # claims testcap's job name ...
        return None

    count.job_name = "testcap.count"  # type: ignore[attr-defined]
    registry = registry_of(testcap, testprov, fake("copycat", register_jobs=hookimpl(lambda: [count])))
    # ... but lands in its own namespace, so testcap's job is untouched.
    assert registry.jobs["testcap.count"] is testcap.count_items
    assert registry.jobs["copycat.testcap.count"] is count

    async def sync_a(ctx: Any) -> None:
        return None

    async def sync_b(ctx: Any) -> None:
        return None

    sync_a.job_name = sync_b.job_name = "sync"  # type: ignore[attr-defined]
    twice = registry_of(fake("twice", register_jobs=hookimpl(lambda: [sync_a, sync_b])))
    with pytest.raises(PluginError, match=r"plugin 'twice': job 'twice.sync' collides with a job of plugin 'twice'"):
        twice.check()


def test_a_plugin_job_colliding_with_a_core_job_is_refused() -> None:
    # Before the host, bootstrap checked fn.__name__ but registered under job_name, so a plugin could
    # silently replace a core job. Now a plugin named "member" cannot claim core's "member.import.commit".
    async def preview(ctx: Any) -> None:
        return None

    preview.job_name = "import.commit"  # type: ignore[attr-defined]
    registry = registry_of(fake("member", register_jobs=hookimpl(lambda: [preview])))
    with pytest.raises(PluginError, match=r"plugin 'member': job 'member.import.commit' collides with a core job"):
        registry.check()


def test_two_plugins_providing_the_same_capability_are_refused() -> None:
    from core.interface import CapabilityInfo

    twin = fake("twin", register_capabilities=hookimpl(lambda: [CapabilityInfo("testcap", "重复")]))
    with pytest.raises(PluginError, match=r"plugin 'twin': capability 'testcap' is already provided by plugin 'testcap'"):
        registry_of(testcap, testprov, twin).check()


def test_two_plugins_adding_the_same_cli_command_are_refused() -> None:
    import argparse

    from core.cli import add_registered_commands

    again = fake("again", register_cli=hookimpl(lambda: [testcap.add_commands]))
    registry = registry_of(testcap, testprov, again)
    sub = argparse.ArgumentParser().add_subparsers()
    with pytest.raises(PluginError, match=r"plugin 'again': cannot add its commands.*testcap"):
        add_registered_commands(sub, registry)


# -------------------------------------------------------------------------
# Manifests
# -------------------------------------------------------------------------


def test_a_manifest_enabling_a_province_plugin_without_its_capability_is_refused() -> None:
    registry = registry_of(testcap, testprov)
    with pytest.raises(PluginConfigError, match=r"tenant 'x': plugin 'testprov': serves capability 'testcap', which the tenant does not enable"):
        registry.validate_tenant("x", ["testprov"], [])
    registry.validate_tenant("x", ["testprov"], ["testcap"])  # both: fine


def test_an_unknown_capability_in_a_manifest_is_refused() -> None:
    registry = registry_of(testcap, testprov)
    with pytest.raises(PluginConfigError, match=r"tenant 'x': plugin 'hardship': unknown capability \(known: [^)]*testcap[^)]*\)"):
        registry.validate_tenant("x", [], ["hardship"])


def test_a_capability_plugin_listed_under_plugins_is_refused() -> None:
    with pytest.raises(PluginConfigError, match=r"plugin 'testcap': is a capability plugin"):
        registry_of(testcap, testprov).validate_tenant("x", ["testcap"], ["testcap"])


BAD = """
code = "{code}"
name = "坏清单"
province_code = "93"
plugins = {plugins}
capabilities = {capabilities}

[[units]]
code = "{code}-root"
name = "坏清单"
level = "province"
"""


@pytest.mark.parametrize(
    ("plugins", "capabilities", "problem"),
    [
        (["testprov"], [], "plugin 'testprov': serves capability 'testcap', which the tenant does not enable"),
        ([], ["hardship"], "plugin 'hardship': unknown capability"),
    ],
)
async def test_tenants_sync_refuses_a_bad_capability_manifest_and_writes_nothing(
    app, tmp_path, plugins, capabilities, problem
) -> None:
    from core.tenancy.manifest import ManifestError, sync_all
    from core.tenancy.services import get_tenant

    code = f"bad{len(plugins)}{len(capabilities)}"
    (tmp_path / f"{code}.toml").write_text(
        textwrap.dedent(BAD.format(code=code, plugins=plugins, capabilities=capabilities)).replace("'", '"'),
        encoding="utf-8",
    )
    with pytest.raises(ManifestError, match=problem.replace("(", r"\(")):
        await sync_all(tmp_path)
    assert await get_tenant(code=code) is None


async def test_start_up_refuses_a_stored_tenant_whose_capabilities_became_invalid(app, monkeypatch) -> None:
    """A tenant row that names a capability no longer installed stops start-up (nothing serves
    half-configured): startup_checks validates every stored tenant against the registry."""
    from core import bootstrap
    from core.context import TenantContext
    from core.tenancy import queries

    ghost = TenantContext(id=999_999, code="ghostland", name="ghost", province_code="94", capabilities=("gone",))
    real = await queries.list_tenants(include_platform=True)

    async def with_ghost(include_platform: bool = False) -> list[TenantContext]:
        return [*real, ghost]

    monkeypatch.setattr(queries, "list_tenants", with_ghost)
    with pytest.raises(PluginConfigError, match=r"tenant 'ghostland': plugin 'gone': unknown capability"):
        await bootstrap.startup_checks()

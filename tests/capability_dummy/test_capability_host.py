"""The capability host, proven with the test capability (tests/capability_dummy) through the real app.

Two provinces enable the capability (``capland`` with the province plugin ``testprov``, ``capother``
without it); Shanghai does not. Everything goes through GraphQL against PostgreSQL with RLS.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.fixtures.api import persona
from tests.integration.test_tenant_isolation import (
    _tenant_tables,
    assert_id_fields_refuse,
    assert_node_walk_finds_nothing,
    foreign_node_ids,
)

CREATE = """mutation($u: ID!, $t: String!, $a: BigInt!) {
  testcapItemCreate(orgUnitId: $u, title: $t, amountFen: $a) { item { id title amountFen } errors { field code message } }
}"""
ITEMS = "{ testcapItems { id title amountFen } }"
ME = "{ me { tenant { code capabilities { code label } } permissions } }"

MANIFEST = """
code = "{code}"
name = "{code} 总工会"
province_code = "{province}"
plugins = {plugins}
capabilities = ["testcap"]
{settings}

[[units]]
code = "{code}-root"
name = "{code} 总工会"
level = "province"
area_code = "{province}0000"
"""


async def _sync(tmp: Path, code: str, province: str, plugins: list[str], settings: str = "") -> None:
    from core.tenancy.manifest import SyncReport, parse_manifest, sync_manifest

    path = tmp / f"{code}.toml"
    path.write_text(textwrap.dedent(MANIFEST.format(code=code, province=province, plugins=plugins,
                                                    settings=settings)), encoding="utf-8")
    await sync_manifest(parse_manifest(path), SyncReport())


@pytest.fixture(scope="module")
async def captenants(app, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("capmanifests")
    await _sync(tmp, "capland", "91", ["testprov"], '[settings.testprov]\nitem_limit_fen = 7000')
    await _sync(tmp, "capother", "92", [])
    return ("capland", "capother")


@pytest.fixture(scope="module")
async def cap_admin(api, captenants):
    return await persona(api, "capland", "tenant_admin")


@pytest.fixture(scope="module")
async def other_admin(api, captenants):
    return await persona(api, "capother", "tenant_admin")


async def root_gid(tenant_code: str) -> str:
    """The global id of a province's root unit (items belong to an org unit)."""
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy.services import get_tenant, root_unit

    tenant = await get_tenant(code=tenant_code)
    with tenant_scope(tenant):
        return to_global_id("OrgUnit", (await root_unit(tenant))["id"])


async def _create(who, title: str, amount: int) -> dict:
    """testcapItemCreate at ``who``'s province root."""
    return await who.api.gql(CREATE, {"u": await root_gid(who.tenant), "t": title, "a": amount})


def _payload(body, name="testcapItemCreate"):
    assert "errors" not in body, body
    return body["data"][name]


async def test_capability_fields_refuse_a_tenant_that_has_not_enabled_it(sh_admin):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    # Counted rather than assumed empty: the subtree walk enables every installed capability on
    # Shanghai while it runs, and its sample items stay behind once the capability is off again.
    shanghai = await get_tenant(code="shanghai")
    with tenant_scope(shanghai):
        before = (await raw("SELECT count(*) AS n FROM testcap_item"))[0]["n"]
    body = await sh_admin.api.gql(ITEMS, expect_status=None)
    assert body["data"] is None or body["data"].get("testcapItems") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["CAPABILITY_NOT_ENABLED"]
    payload = _payload(await _create(sh_admin, "偷偷", 100))
    assert payload["item"] is None
    assert [e["code"] for e in payload["errors"]] == ["CAPABILITY_NOT_ENABLED"]
    with tenant_scope(shanghai):
        assert (await raw("SELECT count(*) AS n FROM testcap_item"))[0]["n"] == before


async def test_capability_fields_work_for_a_tenant_that_enables_it(cap_admin):
    created = _payload(await _create(cap_admin, "第一件", 6000))
    assert created["errors"] == [] and created["item"]["amountFen"] == 6000
    items = (await cap_admin.api.gql(ITEMS))["data"]["testcapItems"]
    assert created["item"] in items
    node = await cap_admin.api.gql("query($id: ID!) { node(id: $id) { ... on TestcapItem { title } } }",
                                   {"id": created["item"]["id"]})
    assert node["data"]["node"] == {"title": "第一件"}


async def test_hook_register_hookspecs(cap_admin, other_admin):
    """The capability's own hook reaches the province plugin for capland (limit 7000 from its
    settings) and not for capother, which enables the capability but not the province plugin."""
    refused = _payload(await _create(cap_admin, "太多", 8000))
    assert refused["item"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("amountFen", "INVALID_INPUT")]
    assert "7000" in refused["errors"][0]["message"]
    allowed = _payload(await _create(other_admin, "默认上限", 8000))
    assert allowed["errors"] == []


def test_province_hooks_of_a_capability_run_only_for_tenants_enabling_both(captenants):
    from core.context import TenantContext
    from core.plugins import hooks_for, validate_plugin_settings

    def tenant(plugins, capabilities):
        settings = validate_plugin_settings("t", plugins, {}, capabilities=capabilities)
        return TenantContext(id=1, code="t", name="t", province_code="99", plugins=tuple(plugins),
                             capabilities=tuple(capabilities), settings=settings)

    both = tenant(["testprov"], ["testcap"])
    assert hooks_for(both).testcap_item_limit(tenant=both) == 5000  # testprov's default setting
    capability_only = tenant([], ["testcap"])
    assert hooks_for(capability_only).testcap_item_limit(tenant=capability_only) is None
    # A province plugin enabled without its capability (start-up refuses such a manifest) is not
    # called either: the capability's hooks answer nothing where the capability is off.
    plugin_only = TenantContext(id=1, code="t", name="t", province_code="99", plugins=("testprov",))
    assert hooks_for(plugin_only).testcap_item_limit(tenant=plugin_only) is None


async def test_me_lists_the_enabled_capabilities_and_their_actions(cap_admin, sh_admin):
    mine = (await cap_admin.api.gql(ME))["data"]["me"]
    assert mine["tenant"]["capabilities"] == [{"code": "testcap", "label": "测试能力"}]
    assert {"testcap.read", "testcap.write"} <= set(mine["permissions"])
    shanghai = (await sh_admin.api.gql(ME))["data"]["me"]
    # the demo manifest enables other capabilities (hardship, mutual_aid ...), never the test one
    assert "testcap" not in {c["code"] for c in shanghai["tenant"]["capabilities"]}
    assert not {p for p in shanghai["permissions"] if p.startswith("testcap.")}


async def test_hook_register_permissions(api, captenants):
    """The capability's actions join the one permission table: a finance user is refused."""
    from core.permissions import Role, roles_for

    assert roles_for("testcap.write") == frozenset({Role.TENANT_ADMIN, Role.CLERK})
    with pytest.raises(KeyError, match="unknown action 'testcap.delete'"):
        roles_for("testcap.delete")
    finance = await persona(api, "capland", "finance")
    payload = _payload(await _create(finance, "x", 1))
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    clerk = await persona(api, "capland", "clerk")
    assert _payload(await _create(clerk, "经办", 1))["errors"] == []


async def test_capability_rows_are_isolated_by_rls_and_the_automatic_walks(cap_admin, other_admin):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    _payload(await _create(other_admin, "别人的", 10))
    # The catalog walk of the isolation tests finds the capability's table, fenced like core's.
    tables = await _tenant_tables()
    assert "testcap_item" in tables
    flags = await raw("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'testcap_item'")
    assert flags == [{"relrowsecurity": True, "relforcerowsecurity": True}]
    capland = await get_tenant(code="capland")
    with tenant_scope(capland):
        seen = await raw("SELECT DISTINCT tenant_id FROM testcap_item")  # no WHERE: RLS alone
    assert {r["tenant_id"] for r in seen} == {capland.id}
    assert (await raw("SELECT count(*) AS n FROM testcap_item"))[0]["n"] == 0  # no tenant: nothing
    # The registry-driven walks reach the capability's Node type and by-id field.
    foreign = await foreign_node_ids("capother")
    assert foreign["TestcapItem"]
    assert "TestcapItem" in await assert_node_walk_finds_nothing(cap_admin, foreign)
    walked = await assert_id_fields_refuse(cap_admin, [g for gids in foreign.values() for g in gids])
    assert "testcapItem" in walked


async def test_hook_register_graphql(captenants):
    """The capability is in the schema only when installed: built with and without it."""
    from core.graphql.schema import build_schema
    from core.plugins import build_plugin_manager, discover_plugins
    from core.registry import build_registry
    from tests.capability_dummy import plugin, province

    without = build_schema(registry=build_registry(build_plugin_manager(discover_plugins(), trace=False))).as_str()
    with_it = build_schema(registry=build_registry(
        build_plugin_manager([*discover_plugins(), plugin, province], trace=False))).as_str()
    for name in ("testcapItems", "testcapItem(", "testcapItemCreate(", "type TestcapItem implements Node"):
        assert name not in without and name in with_it, name
    assert "orgUnits" in without and "orgUnits" in with_it


async def test_hook_register_jobs_namespaces_a_plugin_job(cap_admin, captenants):
    """The capability's job "count" is registered as "testcap.count" and runs under a real arq worker."""
    from core.context import tenant_scope
    from core.jobs.runner import REGISTRY, enqueue, get_job, install_jobs
    from core.tenancy.services import get_tenant
    from tests.capability_dummy import plugin
    from tests.integration.test_jobs import run_worker_burst

    install_jobs()
    assert REGISTRY["testcap.count"] is plugin.count_items and "count" not in REGISTRY
    capland = await get_tenant(code="capland")
    job_id = await enqueue(capland, "testcap.count")
    await run_worker_burst()
    with tenant_scope(capland):
        row = await get_job(capland, job_id)
    assert row["status"] == "succeeded", row
    result = row["result"] if isinstance(row["result"], dict) else __import__("json").loads(row["result"])
    assert result["items"] >= 1
    assert ("job", "capland") in plugin.RAN


async def test_hook_register_cron(captenants):
    from core.jobs.worker import worker_settings
    from tests.capability_dummy import plugin

    names = [c.name for c in worker_settings()["cron_jobs"]]
    assert "testcap.cron.count" in names and "funds.cron.chain" in names and "members.cron.purge" in names
    # The cron function enqueues per tenant enabling the capability (capland, capother and any other
    # test's province that enables it), not others.
    from core.sdk import list_tenants

    enabling = [t.code for t in await list_tenants() if "testcap" in t.capabilities]
    assert {"capland", "capother"} <= set(enabling)
    assert all("testcap" not in t.capabilities for t in await list_tenants() if t.code in ("shanghai", "fujian"))
    assert await plugin.cron_count({}) == len(enabling)
    from tests.integration.test_jobs import run_worker_burst

    await run_worker_burst()  # leave the queue empty for the next test


def test_hook_register_cli() -> None:
    from core.cli import build_parser, main
    from tests.capability_dummy import plugin

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"testcap", "ledger", "keys", "migrate"} <= set(commands)
    plugin.RAN.clear()
    assert main(["testcap"]) == 0
    assert plugin.RAN == [("cli", None)]


def test_hook_register_piccolo_apps() -> None:
    import piccolo_conf

    apps = piccolo_conf.APP_REGISTRY.apps
    assert apps[: 1] == ["core.tenancy.piccolo_app"]
    assert "tests.capability_dummy.piccolo_app" in apps
    assert piccolo_conf.APP_REGISTRY.get_app_config("testcap").table_classes[0]._meta.tablename == "testcap_item"


def test_hook_register_capabilities() -> None:
    from core.registry import get_registry

    caps = get_registry().capabilities
    assert caps["testcap"].label_zh == "测试能力" and caps["testcap"].plugin == "testcap"
    # other installed capability plugins (mutual_aid ...) provide their own codes
    assert get_registry().capabilities_of["testcap"] == ("testcap",)
    assert all(name == "testcap" or "testcap" not in codes for name, codes in get_registry().capabilities_of.items())


async def test_hook_register_startup_checks(app) -> None:
    from core.plugins import build_plugin_manager
    from core.registry import build_registry, get_registry
    from core.sdk import hookimpl

    registered = {(plugin, fn.__name__) for plugin, fn in get_registry().startup_checks}
    assert ("core.members", "check_index_keys") in registered

    class Refuses:
        @hookimpl
        def register_startup_checks(self):
            async def needs_config() -> None:
                raise RuntimeError("refused: the refusing plugin's key is missing")

            return [needs_config]

    pm = build_plugin_manager([], trace=False)
    pm.register(Refuses(), name="refuses")
    with pytest.raises(RuntimeError, match="refusing plugin's key"):
        for _plugin, check in build_registry(pm).startup_checks:
            await check()


TENANT_CREATE = """mutation($code: String!, $caps: [String!]!, $plugins: [String!]!) {
  tenantCreate(input: {code: $code, name: "新省", provinceCode: "95", plugins: $plugins, capabilities: $caps}) {
    tenant { code capabilities { code label } } errors { field code message }
  }
}"""


async def test_tenant_create_enables_capabilities_and_refuses_bad_ones(operator):
    ok = (await operator.api.gql(TENANT_CREATE, {"code": "capnew", "caps": ["testcap"], "plugins": ["testprov"]}))
    payload = ok["data"]["tenantCreate"]
    assert payload["errors"] == []
    assert payload["tenant"]["capabilities"] == [{"code": "testcap", "label": "测试能力"}]
    unknown = (await operator.api.gql(TENANT_CREATE, {"code": "capbad1", "caps": ["nope"], "plugins": []}))
    errors = unknown["data"]["tenantCreate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("capabilities", "PLUGIN_CONFIG")]
    assert "unknown capability" in errors[0]["message"]
    missing = (await operator.api.gql(TENANT_CREATE, {"code": "capbad2", "caps": [], "plugins": ["testprov"]}))
    errors = missing["data"]["tenantCreate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("capabilities", "PLUGIN_CONFIG")]
    assert "serves capability 'testcap'" in errors[0]["message"]


async def test_hook_register_routes(client, cap_admin, sh_admin, api, captenants):
    """A capability's HTTP route is mounted beside /graphql and refuses tenants without it."""
    from core.registry import get_registry

    paths = {p for h in get_registry().routes for p in h.paths}
    assert {"/testcap/items.csv", "/imports", "/public/testcap/{tenant_code:str}/count"} <= paths
    _payload(await _create(cap_admin, "导出", 3))
    ok = await client.get("/testcap/items.csv", headers={"authorization": f"Bearer {cap_admin.token}"})
    assert ok.status_code == 200 and "导出,3" in ok.text
    assert "别人的" not in ok.text  # capother's row
    # The plugin's handler does not check the capability: the host's fence around its routes does.
    refused = await client.get("/testcap/items.csv", headers={"authorization": f"Bearer {sh_admin.token}"})
    assert refused.status_code == 403
    assert refused.json()["error"] == {"code": "CAPABILITY_NOT_ENABLED", "message": "this province has not enabled testcap",
                                       "messageZh": "本省未启用此功能"}
    anonymous = await client.get("/testcap/items.csv")
    assert anonymous.status_code == 401
    # A public route naming the province: a province without the capability looks like no province.
    public = await client.get("/public/testcap/capland/count")
    assert public.status_code == 200 and public.json()["items"] >= 1
    for code in ("shanghai", "atlantis"):
        hidden = await client.get(f"/public/testcap/{code}/count")
        assert hidden.status_code == 404, code
        assert hidden.json()["error"]["code"] == "NOT_FOUND"


async def test_hook_register_shutdown(captenants):
    from core.registry import get_registry
    from tests.capability_dummy import plugin

    registered = {(p, fn.__name__) for p, fn in get_registry().shutdown}
    assert {("core.funds", "wait_background"), ("testcap", "shutdown")} <= registered
    plugin.RAN.clear()
    for _plugin, stop in get_registry().shutdown:  # what the app's lifespan does on exit
        await stop()
    assert plugin.RAN == [("shutdown", None)]

"""Plugin settings per tenant through GraphQL: read, versioned update, validation, roles, isolation,
optimistic concurrency, and how `huijia tenants sync` treats API edits.

Each test syncs its own province from a manifest in a temporary directory (Shanghai's plugin, a
district and a grassroots union), so editing settings here never changes the demo provinces that
other tests rely on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from core.tenancy.manifest import sync_all
from tests.fixtures.api import Persona, persona, unique

MANIFEST = """code = "{code}"
name = "测试{code}"
province_code = "31"
plugins = ["shanghai"]

[settings.shanghai]
phone_required_tags = {tags}

[settings.builtin]
levy_grassroots_bp = {bp}

[[units]]
code = "{code}-root"
name = "{root_name}"
level = "province"
area_code = "310000"

[[units]]
code = "{code}-d"
parent = "{code}-root"
name = "区总工会"
level = "county"
area_code = "310101"

[[units]]
code = "{code}-g"
parent = "{code}-d"
name = "基层工会"
level = "grassroots"
area_code = "310101"
"""

SETTINGS = """query { pluginSettings { plugin version settings source changedBy changedAt description jsonSchema
  fields { name type required default description } } }"""

HISTORY = """query($p: String!, $first: Int) { pluginSettingsHistory(plugin: $p, first: $first) { totalCount
  nodes { plugin version settings source changedBy changedKeys createdAt } } }"""

UPDATE = """mutation($p: String!, $s: JSON!, $v: Int!) { pluginSettingsUpdate(plugin: $p, settings: $s, expectedVersion: $v) {
  pluginSettings { plugin version settings source changedBy } errors { field code message } } }"""

REVERT = """mutation($p: String!, $to: Int!, $v: Int!) { pluginSettingsRevert(plugin: $p, toVersion: $to, expectedVersion: $v) {
  pluginSettings { plugin version settings source } errors { field code message } } }"""

CREATE_MEMBER = """mutation($input: MemberCreateInput!) { memberCreate(input: $input) {
  member { id } errors { field code message } } }"""


def write_manifest(directory: Path, code: str, *, tags: str = '["new_employment"]', bp: int = 6000,
                   root_name: str | None = None) -> None:
    text = MANIFEST.format(code=code, tags=tags, bp=bp, root_name=root_name or f"测试{code}总工会")
    (directory / f"{code}.toml").write_text(text, encoding="utf-8")


async def province(tmp_path: Path, api: Any) -> tuple[str, Persona, Path]:
    """A fresh province synced from its own manifest, and its tenant_admin at the root."""
    code = unique("pset")
    directory = tmp_path / code
    directory.mkdir()
    write_manifest(directory, code)
    report = await sync_all(directory)
    assert report.created == [code]
    return code, await persona(api, code, "tenant_admin"), directory


async def settings_of(p: Persona, plugin: str) -> dict[str, Any]:
    body = await p.api.gql(SETTINGS)
    assert "errors" not in body, body
    return {s["plugin"]: s for s in body["data"]["pluginSettings"]}[plugin]


async def update(p: Persona, plugin: str, settings: Any, version: int) -> dict[str, Any]:
    body = await p.api.gql(UPDATE, {"p": plugin, "s": settings, "v": version})
    assert "errors" not in body, body
    return body["data"]["pluginSettingsUpdate"]


async def history(p: Persona, plugin: str) -> dict[str, Any]:
    body = await p.api.gql(HISTORY, {"p": plugin, "first": 100})
    assert "errors" not in body, body
    return body["data"]["pluginSettingsHistory"]


async def create_courier(p: Persona, code: str, phone: str | None = None) -> dict[str, Any]:
    """A 新就业形态 member: Shanghai's plugin requires a mobile number for the tags in its settings."""
    from tests.members.members_helpers import make_id, unit_gid

    body = {"name": "王五", "idNumber": make_id(), "orgUnitId": await unit_gid(p, f"{code}-g"),
            "tags": ["new_employment"]}
    if phone:
        body["phone"] = phone
    res = await p.api.gql(CREATE_MEMBER, {"input": body})
    return res["data"]["memberCreate"]


async def test_admin_reads_settings_with_schema_and_manifest_version(tmp_path, api):
    code, admin, _ = await province(tmp_path, api)
    body = await admin.api.gql(SETTINGS)
    plugins = {s["plugin"]: s for s in body["data"]["pluginSettings"]}
    assert set(plugins) == {"builtin", "shanghai"}
    sh = plugins["shanghai"]
    assert sh["version"] == 1 and sh["source"] == "MANIFEST" and sh["changedBy"] == "tenants-sync"
    assert sh["settings"]["phone_required_tags"] == ["new_employment"]
    assert "310000" in sh["settings"]["dibao"]  # defaults filled in
    fields = {f["name"]: f for f in sh["fields"]}
    assert fields["phone_required_tags"]["type"] == "array<string>"
    assert fields["phone_required_tags"]["default"] == ["new_employment"] and not fields["phone_required_tags"]["required"]
    assert fields["dibao"]["type"] == "object<object<integer>>"
    assert sh["description"] and sh["jsonSchema"]["$defs"]["ShanghaiSettings"]["additionalProperties"] is False
    builtin = {f["name"]: f for f in plugins["builtin"]["fields"]}
    assert builtin["levy_grassroots_bp"]["default"] == 6000 and builtin["levy_grassroots_bp"]["description"]


async def test_update_is_versioned_audited_and_the_next_request_applies_it(tmp_path, api):
    from core.audit.tables import AuditRecord
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant

    code, admin, _ = await province(tmp_path, api)
    refused = await create_courier(admin, code)
    assert [e["field"] for e in refused["errors"]] == ["phone"]

    before = await settings_of(admin, "shanghai")
    new = {**before["settings"], "phone_required_tags": []}
    payload = await update(admin, "shanghai", new, before["version"])
    assert payload["errors"] == []
    assert payload["pluginSettings"]["version"] == 2 and payload["pluginSettings"]["source"] == "API"
    assert payload["pluginSettings"]["changedBy"] == admin.username
    assert payload["pluginSettings"]["settings"]["phone_required_tags"] == []

    # The very next request runs Shanghai's member hook with the new rule: no phone needed now.
    created = await create_courier(admin, code)
    assert created["errors"] == [] and created["member"]["id"]
    after = await settings_of(admin, "shanghai")
    assert after["version"] == 2 and after["settings"]["phone_required_tags"] == [] and after["changedAt"]

    hist = await history(admin, "shanghai")
    assert hist["totalCount"] == 2
    assert [(v["version"], v["source"], v["changedKeys"]) for v in hist["nodes"]] == [
        (2, "API", ["phone_required_tags"]), (1, "MANIFEST", [])]
    assert hist["nodes"][1]["settings"]["phone_required_tags"] == ["new_employment"]

    tenant = await get_tenant(code=code)
    with tenant_scope(tenant):
        audit = await AuditRecord.select().where(
            (AuditRecord.tenant_id == tenant.id) & (AuditRecord.action == "plugin_settings.update")
            & (AuditRecord.actor_name == admin.username)).first()
    changes = audit["changes"] if isinstance(audit["changes"], dict) else __import__("json").loads(audit["changes"])
    # Which keys changed, never their values.
    assert changes == {"plugin": "shanghai", "version": 2, "source": "api", "changed_keys": ["phone_required_tags"]}

    # Left-out keys take their defaults; an identical body records nothing.
    same = await update(admin, "shanghai", {"phone_required_tags": []}, 2)
    assert same["errors"] == [] and same["pluginSettings"]["version"] == 2


async def test_bad_value_is_a_typed_error_naming_the_dotted_key_and_keeps_the_old_settings(tmp_path, api):
    code, admin, _ = await province(tmp_path, api)
    before = await settings_of(admin, "shanghai")
    cases = [
        ({"dibao": {"310000": {"2024": "lots"}}}, "settings.dibao.310000.2024"),
        ({"dibao": {"31": {"2024": 100}}}, "settings.dibao.31"),
        ({"phone_required_tags": "new_employment"}, "settings.phone_required_tags"),
        ({"no_such_setting": 1}, "settings.no_such_setting"),
        (["not", "an", "object"], "settings"),
    ]
    for body, field in cases:
        payload = await update(admin, "shanghai", body, before["version"])
        assert payload["pluginSettings"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, "PLUGIN_CONFIG")], payload
    bp = await update(admin, "builtin", {"levy_grassroots_bp": 10001}, 1)
    assert [(e["field"], e["code"]) for e in bp["errors"]] == [("settings.levy_grassroots_bp", "PLUGIN_CONFIG")]
    after = await settings_of(admin, "shanghai")
    assert after["version"] == before["version"] and after["settings"] == before["settings"]
    assert (await history(admin, "shanghai"))["totalCount"] == 1
    # The rule in force is still the old one.
    assert [e["field"] for e in (await create_courier(admin, code))["errors"]] == ["phone"]


async def test_wrong_roles_are_refused(tmp_path, api):
    code, admin, _ = await province(tmp_path, api)
    refused = [
        await persona(api, code, "clerk"),
        await persona(api, code, "auditor"),
        await persona(api, code, "finance"),
        await persona(api, code, "tenant_admin", f"{code}-d"),  # an admin, but of a district
    ]
    for p in refused:
        payload = await update(p, "shanghai", {"phone_required_tags": []}, 1)
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"], (p.username, payload)
        for query, variables in ((SETTINGS, None), (HISTORY, {"p": "shanghai"})):
            body = await p.api.gql(query, variables)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await api.gql(UPDATE, {"p": "shanghai", "s": {}, "v": 1})
    assert anonymous["data"]["pluginSettingsUpdate"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert (await settings_of(admin, "shanghai"))["version"] == 1


async def test_another_tenants_plugin_and_history_are_unreachable(tmp_path, api, bj_admin):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    code, admin, _ = await province(tmp_path, api)
    await update(admin, "shanghai", {"phone_required_tags": ["sh_only_marker"]}, 1)
    # Beijing's admin names Shanghai's plugin: not enabled there, so it does not exist for them.
    payload = await update(bj_admin, "shanghai", {"phone_required_tags": []}, 2)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("plugin", "NOT_FOUND")]
    body = await bj_admin.api.gql(HISTORY, {"p": "shanghai"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    listed = (await bj_admin.api.gql(SETTINGS))["data"]["pluginSettings"]
    assert "shanghai" not in {s["plugin"] for s in listed}
    assert "sh_only_marker" not in str(listed)
    # RLS, the second fence: unfiltered SQL as Beijing sees none of the other tenant's versions.
    mine, beijing = await get_tenant(code=code), await get_tenant(code="beijing")
    with tenant_scope(beijing):
        rows = await raw("SELECT tenant_id, settings FROM plugin_settings_version")
    assert rows and {r["tenant_id"] for r in rows} == {beijing.id}
    with tenant_scope(mine):
        assert {r["tenant_id"] for r in await raw("SELECT tenant_id FROM plugin_settings_version")} == {mine.id}
    assert (await settings_of(admin, "shanghai"))["settings"]["phone_required_tags"] == ["sh_only_marker"]


async def test_a_plugin_the_tenant_does_not_enable_is_refused(tmp_path, api):
    _, admin, _ = await province(tmp_path, api)
    for plugin in ("fujian", "no_such_plugin"):
        payload = await update(admin, plugin, {}, 0)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("plugin", "NOT_FOUND")]
        body = await admin.api.gql(HISTORY, {"p": plugin})
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_concurrent_updates_with_the_same_expected_version_exactly_one_wins(tmp_path, api):
    _, admin, _ = await province(tmp_path, api)
    others = [await persona(api, admin.tenant, "tenant_admin") for _ in range(2)]
    editors = [admin, *others, admin, *others]
    payloads = await asyncio.gather(*[
        update(p, "shanghai", {"phone_required_tags": [f"tag_{i}"]}, 1) for i, p in enumerate(editors)])
    won = [p for p in payloads if not p["errors"]]
    lost = [p for p in payloads if p["errors"]]
    assert len(won) == 1 and won[0]["pluginSettings"]["version"] == 2
    assert all([(e["field"], e["code"]) for e in p["errors"]] == [("expectedVersion", "CONFLICT")] for p in lost)
    current = await settings_of(admin, "shanghai")
    assert current["version"] == 2 and current["settings"] == won[0]["pluginSettings"]["settings"]
    assert [v["version"] for v in (await history(admin, "shanghai"))["nodes"]] == [2, 1]
    # A stale version stays refused after the race.
    stale = await update(admin, "shanghai", {"phone_required_tags": []}, 1)
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]


async def test_revert_to_an_earlier_version_is_a_new_version_with_its_body(tmp_path, api):
    code, admin, _ = await province(tmp_path, api)
    await update(admin, "shanghai", {"phone_required_tags": []}, 1)
    body = await admin.api.gql(REVERT, {"p": "shanghai", "to": 1, "v": 2})
    payload = body["data"]["pluginSettingsRevert"]
    assert payload["errors"] == [] and payload["pluginSettings"]["version"] == 3
    assert payload["pluginSettings"]["settings"]["phone_required_tags"] == ["new_employment"]
    assert [e["field"] for e in (await create_courier(admin, code))["errors"]] == ["phone"]
    missing = (await admin.api.gql(REVERT, {"p": "shanghai", "to": 99, "v": 3}))["data"]["pluginSettingsRevert"]
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [("toVersion", "NOT_FOUND")]
    assert [v["version"] for v in (await history(admin, "shanghai"))["nodes"]] == [3, 2, 1]


async def test_sync_keeps_an_api_edit_while_the_manifest_settings_are_unchanged(tmp_path, api):
    code, admin, directory = await province(tmp_path, api)
    await update(admin, "shanghai", {"phone_required_tags": ["api_choice"]}, 1)
    again = await sync_all(directory)
    assert again.unchanged == [code]
    # The manifest changes elsewhere (a unit's name): the tenant is updated, its settings are not.
    write_manifest(directory, code, root_name="改名后的总工会")
    edited = await sync_all(directory)
    assert edited.updated == [code]
    current = await settings_of(admin, "shanghai")
    assert current["version"] == 2 and current["source"] == "API"
    assert current["settings"]["phone_required_tags"] == ["api_choice"]
    assert (await history(admin, "shanghai"))["totalCount"] == 2
    assert (await settings_of(admin, "builtin"))["version"] == 1


async def test_sync_applies_a_changed_manifest_over_an_api_edit_as_a_manifest_version(tmp_path, api):
    code, admin, directory = await province(tmp_path, api)
    await update(admin, "shanghai", {"phone_required_tags": []}, 1)
    assert (await create_courier(admin, code))["errors"] == []
    # Only the builtin table changes: Shanghai's API edit stays, builtin gets a manifest version.
    write_manifest(directory, code, bp=6500)
    assert (await sync_all(directory)).updated == [code]
    builtin = await settings_of(admin, "builtin")
    assert builtin["version"] == 2 and builtin["source"] == "MANIFEST" and builtin["settings"]["levy_grassroots_bp"] == 6500
    assert (await settings_of(admin, "shanghai"))["settings"]["phone_required_tags"] == []
    # Now Shanghai's own table changes in the manifest: it wins over the API edit.
    write_manifest(directory, code, bp=6500, tags='["new_employment", "model_worker"]')
    assert (await sync_all(directory)).updated == [code]
    sh = await settings_of(admin, "shanghai")
    assert sh["version"] == 3 and sh["source"] == "MANIFEST" and sh["changedBy"] == "tenants-sync"
    assert sh["settings"]["phone_required_tags"] == ["new_employment", "model_worker"]
    hist = await history(admin, "shanghai")
    assert [(v["version"], v["source"], v["changedKeys"]) for v in hist["nodes"]] == [
        (3, "MANIFEST", ["phone_required_tags"]), (2, "API", ["phone_required_tags"]), (1, "MANIFEST", [])]
    # The next request runs with the manifest's rule again.
    assert [e["field"] for e in (await create_courier(admin, code))["errors"]] == ["phone"]
    # And an API edit after that is kept by the next sync of the same manifest.
    await update(admin, "shanghai", {"phone_required_tags": []}, 3)
    write_manifest(directory, code, bp=6500, tags='["new_employment", "model_worker"]', root_name="再改名")
    assert (await sync_all(directory)).updated == [code]
    assert (await settings_of(admin, "shanghai"))["settings"]["phone_required_tags"] == []


async def test_another_process_sees_the_change_through_the_settings_version(tmp_path, api):
    """Simulate a second API process or worker that cached the tenant before the edit."""
    from core.accounts import services as accounts
    from core.plugins import tenant_settings
    from core.tenancy import services as tenancy
    from core.tenancy.cache import TENANTS
    from huijia_shanghai.settings import ShanghaiSettings

    code, admin, _ = await province(tmp_path, api)
    stale = await tenancy.get_tenant(code=code)
    await update(admin, "shanghai", {"phone_required_tags": ["fresh"]}, 1)
    # That process still holds the old context in its tenant cache (its auth cache entry expired).
    TENANTS[("id", stale.id)] = (__import__("time").monotonic(), stale)
    accounts._auth_cache.pop(admin.token, None)
    tenant, _ = await accounts.authenticate(admin.token)
    assert tenant.settings_version > stale.settings_version
    assert tenant_settings(tenant, "shanghai", ShanghaiSettings).phone_required_tags == ["fresh"]
    # A job start checks the version too.
    TENANTS[("id", stale.id)] = (__import__("time").monotonic(), stale)
    job_tenant = await tenancy.get_current_tenant(stale.id)
    assert tenant_settings(job_tenant, "shanghai", ShanghaiSettings).phone_required_tags == ["fresh"]
    # While nothing changes, the cached context (and its converted settings) is reused as is.
    assert await tenancy.get_current_tenant(stale.id) is job_tenant


SQLITE_SCRIPT = f'''
import asyncio, json, httpx
from core.app import create_app

async def main():
    app = create_app()
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            async def gql(query, variables=None, token=None):
                h = {{"authorization": "Bearer " + token}} if token else {{}}
                r = await c.post("/graphql", headers=h, json={{"query": query, "variables": variables or {{}}}})
                return r.json()
            login = 'mutation {{ login(tenantCode: "fujian", username: "admin", password: "huijia-demo") {{ token }} }}'
            token = (await gql(login))["data"]["login"]["token"]
            listed = (await gql({SETTINGS!r}, token=token))["data"]["pluginSettings"]
            fj = [s for s in listed if s["plugin"] == "fujian"][0]
            ok = (await gql({UPDATE!r}, {{"p": "fujian", "s": {{**fj["settings"], "levy_grassroots_bp": 7000}}, "v": fj["version"]}}, token))
            bad = (await gql({UPDATE!r}, {{"p": "fujian", "s": {{"levy_grassroots_bp_by_region": {{"3502": 1}}}}, "v": fj["version"] + 1}}, token))
            stale = (await gql({UPDATE!r}, {{"p": "fujian", "s": {{}}, "v": fj["version"]}}, token))
            hist = (await gql({HISTORY!r}, {{"p": "fujian", "first": 10}}, token))["data"]["pluginSettingsHistory"]
            print("RESULT " + json.dumps({{
                "before": fj["version"], "after": ok["data"]["pluginSettingsUpdate"]["pluginSettings"]["version"],
                "bad": [e["field"] for e in bad["data"]["pluginSettingsUpdate"]["errors"]],
                "stale": [e["code"] for e in stale["data"]["pluginSettingsUpdate"]["errors"]],
                "history": [(v["version"], v["source"]) for v in hist["nodes"]],
            }}))

asyncio.run(main())
'''


def test_settings_edit_works_on_the_embedded_sqlite_default(tmp_path):
    import json
    import subprocess
    import sys

    from tests.integration.test_embedded_default import _env

    env = _env(tmp_path)
    demo = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", SQLITE_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.split("RESULT ", 1)[1])
    assert result == {"before": 1, "after": 2, "bad": ["settings.levy_grassroots_bp_by_region.3502"],
                      "stale": ["CONFLICT"], "history": [[2, "API"], [1, "MANIFEST"]]}


async def test_tenant_create_records_version_one_from_the_api(api, operator):
    from tests.fixtures.api import login

    code = unique("psnew")
    # fujian serves the warmth capability, so a tenant enabling fujian enables warmth too
    body = await operator.api.gql(
        """mutation($i: TenantCreateInput!) { tenantCreate(input: $i) { tenant { code } errors { field code } } }""",
        {"i": {"code": code, "name": f"新省{code}", "provinceCode": "35", "plugins": ["fujian"], "capabilities": ["warmth"],
               "settings": {"fujian": {"levy_grassroots_bp": 6500}}, "adminUsername": "admin",
               "adminPassword": "correct-horse-battery"}})
    assert body["data"]["tenantCreate"]["errors"] == []
    admin = Persona(code, "admin", token := await login(api, code, "admin"), api.as_(token))
    fj = await settings_of(admin, "fujian")
    assert fj["version"] == 1 and fj["source"] == "API" and fj["changedBy"] == operator.username
    assert fj["settings"]["levy_grassroots_bp"] == 6500
    payload = await update(admin, "fujian", {**fj["settings"], "levy_grassroots_bp": 7000}, 1)
    assert payload["errors"] == [] and payload["pluginSettings"]["version"] == 2


async def test_a_tenant_synced_before_versioning_gets_version_one_from_its_unchanged_manifest(tmp_path, api):
    from core.actor import Actor
    from core.tenancy import services as tenancy
    from core.tenancy.manifest import parse_manifest

    code = unique("psold")
    write_manifest(tmp_path, code)
    m = parse_manifest(tmp_path / f"{code}.toml")
    # As an earlier sync left it: settings on the tenant, the manifest hash stored, no versions.
    await tenancy.create_tenant(Actor(None, "tenants-sync"), code=code, name=m.name, province_code=m.province_code,
                                plugins=m.plugins, settings=m.settings, manifest_hash=m.digest, record_settings=False)
    admin = await persona(api, code, "tenant_admin")
    assert (await settings_of(admin, "shanghai"))["version"] == 0
    assert (await sync_all(tmp_path)).unchanged == [code]
    sh = await settings_of(admin, "shanghai")
    assert sh["version"] == 1 and sh["source"] == "MANIFEST"
    # From then on an API edit survives the same manifest.
    await update(admin, "shanghai", {"phone_required_tags": []}, 1)
    write_manifest(tmp_path, code, root_name="改名")
    assert (await sync_all(tmp_path)).updated == [code]
    assert (await settings_of(admin, "shanghai"))["settings"]["phone_required_tags"] == []

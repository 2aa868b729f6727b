"""Attachment downloads through GET /hardship/attachments/<id> (the downloadUrl GraphQL gives):
the bytes as uploaded with their sniffed type and a safe attachment disposition, audited; refused
(404) outside the caller's subtree, for another tenant and without the capability; open to the
worker whose household the archive is; and re-encrypted by `huijia keys rotate`."""

from __future__ import annotations

import base64
import os
import random
from dataclasses import dataclass
from typing import Any

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, household_at

from core.testing import create_plugin_tenant, from_new_address, persona

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }
"""
ATTACH = """mutation($id: ID!, $k: HardshipAttachmentKind!, $f: String!, $b: String!) {
  hardshipAttachmentAdd(archiveId: $id, kind: $k, filename: $f, contentBase64: $b) {
    attachment { id contentType downloadUrl } errors { field code message } } }"""
LIST = """query($id: ID!) { hardshipArchive(id: $id) { attachments { id filename downloadUrl } } }"""
MEMBER = """mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { code message } } }"""
HOUSEHOLD = """mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code message } } }"""
REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token errors { field code message } } }"""
ISSUE = """mutation($m: ID!) { workerBindCodeIssue(memberId: $m) { code errors { field code message } } }"""
BIND = """mutation($c: String) { workerBind(code: $c) { worker { status } errors { field code message } } }"""


@dataclass
class World:
    code: str
    grassroots: str
    clerk: Any
    district_clerk: Any  # a clerk of the district: the grassroots union is in it
    outsider: Any  # a clerk of a union outside the district
    other_tenant: Any  # a clerk of another province with the capability
    no_capability: Any  # a clerk of a province without it


def _id_number() -> str:
    born = f"19{random.randint(60, 99)}0{random.randint(1, 9)}1{random.randint(0, 9)}"
    body = f"110105{born}{random.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@pytest.fixture(scope="module")
async def world(api, app, tmp_path_factory) -> World:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    made = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hsdl"), SETTINGS)
    tenant = await made.context()
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        await tenancy.create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=f"{made.code}-g2",
                                  name=f"{made.code} 直属企业工会", level="grassroots")
    other = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hsdl2"), SETTINGS)
    bare = await create_plugin_tenant([], tmp_path_factory.mktemp("hsdl3"), "")
    return World(made.code, made.unit_ids[made.grassroots_unit], (await persona(api, made.code, "clerk")).api,
                 (await persona(api, made.code, "clerk", made.district_unit)).api,
                 (await persona(api, made.code, "clerk", f"{made.code}-g2")).api,
                 (await persona(api, other.code, "clerk")).api, (await persona(api, bare.code, "clerk")).api)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


async def archive_with(w: World, household: str | None = None) -> str:
    if household is None:
        _, household = await household_at(w.clerk, w.grassroots)
    return ok(await w.clerk.gql(ARCHIVE, {"i": archive_input(household)}), "hardshipArchiveCreate")["archive"]["id"]


async def attach(w: World, archive: str, content: bytes, filename: str, kind: str = "OTHER") -> dict[str, Any]:
    body = await w.clerk.gql(ATTACH, {"id": archive, "k": kind, "f": filename, "b": base64.b64encode(content).decode()})
    return ok(body, "hardshipAttachmentAdd")["attachment"]


async def get(api: Any, url: str) -> Any:
    return await api.client.get(url, headers={"authorization": f"Bearer {api.token}"} if api.token else {})


async def audits(code: str, archive_pk: int) -> list[dict[str, Any]]:
    from core.context import tenant_scope
    from core.sdk import raw
    from core.tenancy.queries import get_tenant

    tenant = await get_tenant(code=code)
    with tenant_scope(tenant):
        return await raw("SELECT action, actor_name, changes FROM audit_record WHERE tenant_id = {} AND "
                         "target_type = 'HardshipArchive' AND target_id = {} ORDER BY id", tenant.id, str(archive_pk))


async def test_download_returns_the_bytes_with_their_type_and_is_audited(world):
    import json

    from core.graphql.base import from_global_id

    w = world
    archive = await archive_with(w)
    name = '帮扶申请书"; evil=1\r\n.pdf'
    att = await attach(w, archive, PDF, name, "APPLICATION_LETTER")
    assert att["downloadUrl"] == f"/hardship/attachments/{from_global_id(att['id'])[1]}"
    listed = (await w.clerk.gql(LIST, {"id": archive}))["data"]["hardshipArchive"]["attachments"]
    assert [a["downloadUrl"] for a in listed] == [att["downloadUrl"]]

    r = await get(w.district_clerk, att["downloadUrl"])
    assert r.status_code == 200, r.text
    assert r.content == PDF
    assert r.headers["content-type"].startswith("application/pdf")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"") and "\r" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 2 and "filename*=UTF-8''" in disposition
    assert r.headers["x-content-type-options"] == "nosniff"

    png = await attach(w, archive, PNG, "照片.png")
    r = await get(w.clerk, png["downloadUrl"])
    assert r.status_code == 200 and r.content == PNG and r.headers["content-type"].startswith("image/png")

    downloads = [a for a in await audits(w.code, from_global_id(archive)[1])
                 if a["action"] == "hardship.attachment.download"]
    assert len(downloads) == 2
    first = json.loads(downloads[0]["changes"]) if isinstance(downloads[0]["changes"], str) else downloads[0]["changes"]
    assert first["attachment_id"] == from_global_id(att["id"])[1] and first["as_worker"] is False


async def test_download_is_refused_outside_the_subtree_tenant_and_capability(world):
    w = world
    archive = await archive_with(w)
    url = (await attach(w, archive, PDF, "a.pdf"))["downloadUrl"]
    anonymous = type(w.clerk)(w.clerk.client)
    assert (await get(anonymous, url)).status_code == 401
    for who in (w.outsider, w.other_tenant):
        r = await get(who, url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", r.text
    # A province without the capability is stopped by the host's fence around the plugin's routes,
    # as its GraphQL fields are, before the handler looks anything up.
    r = await get(w.no_capability, url)
    assert r.status_code == 403 and r.json()["error"]["code"] == "CAPABILITY_NOT_ENABLED", r.text
    assert (await get(w.clerk, "/hardship/attachments/99999999")).status_code == 404
    assert (await get(w.clerk, f"/hardship/attachments/{2**63}")).status_code == 404
    # Nothing was audited for the refused attempts.
    from core.graphql.base import from_global_id

    assert [a["action"] for a in await audits(w.code, from_global_id(archive)[1])
            if a["action"] == "hardship.attachment.download"] == []


async def test_the_worker_of_the_household_downloads_and_another_worker_does_not(world, api):
    w = world
    idn, name = _id_number(), f"帮扶职工{random.randint(0, 9999)}"
    member = ok(await w.clerk.gql(MEMBER, {"i": {"name": name, "idNumber": idn, "orgUnitId": w.grassroots}}),
                "memberCreate")["member"]["id"]
    household = ok(await w.clerk.gql(HOUSEHOLD, {"m": member}), "householdCreate")["household"]["id"]
    url = (await attach(w, await archive_with(w, household), PDF, "a.pdf"))["downloadUrl"]

    async def worker(id_number: str, who: str) -> Any:
        phone = f"139{random.randint(0, 99_999_999):08d}"
        web = from_new_address(api)  # registrations are throttled per address
        reg = (await web.gql(REGISTER, {"i": {"tenantCode": w.code, "name": who, "idNumber": id_number,
                                              "phone": phone, "password": "worker-pass-123"}}))["data"]["workerRegister"]
        assert reg["errors"] == [], reg
        return web.as_(reg["token"])

    mine = await worker(idn, name)
    code = ok(await w.clerk.gql(ISSUE, {"m": member}), "workerBindCodeIssue")["code"]
    ok(await mine.gql(BIND, {"c": code}), "workerBind")
    stranger = await worker(_id_number(), "路人")
    assert (await get(stranger, url)).status_code == 404
    r = await get(mine, url)
    assert r.status_code == 200 and r.content == PDF


async def test_key_rotation_reaches_attachments(world, settings_override):
    from core.members import keys
    from core.registry import get_registry
    from core.sdk import files
    from core.settings import get_settings
    from core.tenancy.queries import get_tenant

    # Key rotation reaches the attachments: hardship registers its file area (register_file_stores).
    assert "hardship" in get_registry().file_stores
    w = world
    url = (await attach(w, await archive_with(w), PDF, "a.pdf"))["downloadUrl"]
    att_pk = int(url.rsplit("/", 1)[1])
    tenant = await get_tenant(code=w.code)
    path = files.store("hardship").path_for("attachment", tenant.id, att_pk)

    def key_of() -> str:
        return path.read_bytes().split(b".")[1].decode()

    before = key_of()
    settings_override(pii_keys=f"k9:{base64.b64encode(os.urandom(32)).decode()},{get_settings().pii_keys}")
    report = await keys.rotate(w.code)
    assert report.reencrypted.get("files.hardship.attachment", 0) >= 1 and not report.failed, report
    assert key_of() == "k9" != before
    r = await get(w.clerk, url)
    assert r.status_code == 200 and r.content == PDF
    assert (await keys.rotate(w.code)).total == 0  # nothing left: idempotent

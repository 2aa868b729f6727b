"""Data-key rotation covers stored files: `huijia keys rotate` re-encrypts roster uploads and export
files (stream to a temporary file, atomic rename) and the encrypted values kept in export filters,
and reports counts; files stay readable, a re-run does nothing, a damaged file is reported, not
fatal. Runs on a tenant of its own."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from typing import Any

import pytest

from core.jobs import runner
from core.members import filestore, keys
from core.pii import Keyring
from tests.fixtures.api import persona
from tests.members.members_helpers import commit, create_member, import_state, make_id, roster_csv, upload
from tests.members.members_helpers import make_tenant as _make_tenant

pytestmark = pytest.mark.slow  # minutes, not seconds: left out of make test-fast

DEV_KEY = b"huijia-dev-pii-key-32-bytes-long"
INDEX = b"huijia-dev-blind-index-key-32byt"
EXPORT_START = """mutation($f: MemberFilter) { memberExportStart(filter: $f, format: CSV) { memberExport { id } errors { code } } }"""
EXPORT = "query($id: ID!) { memberExport(id: $id) { status downloadUrl } }"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


async def make_tenant(prefix: str) -> tuple[Any, str]:
    return await _make_tenant(prefix, "文件轮换")


def first_key(kind: str, tenant_id: int, object_id: int) -> str:
    with open(filestore.path_for(kind, tenant_id, object_id), "rb") as f:
        return f.readline().split(b".")[1].decode()


async def filter_token(tenant: Any, export_id: int) -> str:
    import json

    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(tenant):
        value = (await raw("SELECT filter FROM member_export WHERE tenant_id = {} AND id = {}", tenant.id, export_id))[0]["filter"]
    return (json.loads(value) if isinstance(value, str) else value)["id_enc"]


async def test_rotate_reencrypts_uploads_exports_and_filters(api, pii_keyring, tmp_path):
    from core.graphql.base import from_global_id

    t, unit = await make_tenant("frot")
    p = await persona(api, t.code, "tenant_admin")
    idn = make_id(area="350102")
    await create_member(p, unit, name="文件甲", idNumber=idn, phone="13500002222")
    # A previewed (not committed) upload of two chunks, so chunk contexts and the last-chunk mark
    # are exercised, and a finished export filtered by ID number.
    rows = [[f"文件{i:05d}", make_id(area="350102"), unit, "", "某单位" * 20, "", "", ""] for i in range(5000)]
    content = roster_csv(rows)
    assert len(content) > filestore.CHUNK
    up = await upload(p, content)
    imp_gid = up["import"]["id"]
    imp_id = from_global_id(imp_gid)[1]
    assert (await import_state(p, imp_gid))["status"] == "PREVIEWED"
    started = await p.api.gql(EXPORT_START, {"f": {"idNumber": idn}})
    exp_gid = started["data"]["memberExportStart"]["memberExport"]["id"]
    exp_id = from_global_id(exp_gid)[1]
    await runner.drain_local()
    url = (await p.api.gql(EXPORT, {"id": exp_gid}))["data"]["memberExport"]["downloadUrl"]
    before = (await api.client.get(url, headers={"authorization": f"Bearer {p.token}"})).content
    assert "文件甲" in before.decode("utf-8-sig")
    assert first_key("imports", t.id, imp_id) == "dev1" == first_key("exports", t.id, exp_id)
    assert (await filter_token(t, exp_id)).startswith("v1.dev1.")
    # A damaged stored file (not one of ours) is reported, not fatal.
    damaged = filestore.path_for("exports", t.id, 999_999)
    damaged.write_text("v1.dev1.AAAA\n")

    k2 = os.urandom(32)
    new_ring = Keyring({"k2": k2, "dev1": DEV_KEY}, "k2", INDEX)
    pii_keyring(new_ring)
    report = await keys.rotate(t.code)
    assert report.reencrypted["files.imports"] == 1 and report.reencrypted["files.exports"] == 1
    assert report.reencrypted["member_export.filter"] == 1 and report.reencrypted["member.id_number_enc"] >= 1
    assert report.failed == {"files.exports": 1}
    assert first_key("imports", t.id, imp_id) == "k2" == first_key("exports", t.id, exp_id)
    assert (await filter_token(t, exp_id)).startswith("v1.k2.")
    assert not list(filestore.root().rglob("*.rotate"))  # no temporary file left behind
    damaged.unlink()
    again = await keys.rotate(t.code)
    assert again.total == 0 and not again.failed  # idempotent

    # Readable with the new key alone: the export downloads unchanged, the import commits (its
    # SHA-256 is checked against the preview's, so the plaintext is byte for byte the same).
    only_new = Keyring({"k2": k2}, "k2", INDEX)
    pii_keyring(only_new)
    after = (await api.client.get(url, headers={"authorization": f"Bearer {p.token}"})).content
    assert after == before
    assert (await commit(p, imp_gid))["errors"] == []
    done = await import_state(p, imp_gid)
    assert done["status"] == "COMMITTED" and done["created"] == 5000

    # Through the CLI: counts reported, back to the development key for the rest of the session.
    # The CLI finds the store under HUIJIA_DATA_DIR/members (the tests keep it in a temporary directory).
    (tmp_path / "members").symlink_to(filestore.root(), target_is_directory=True)
    env = {**os.environ, "HUIJIA_PII_KEYS": f"dev1:{base64.b64encode(DEV_KEY).decode()},k2:{base64.b64encode(k2).decode()}",
           "HUIJIA_LOG_LEVEL": "ERROR", "HUIJIA_DATA_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "core.cli", "keys", "rotate", "--tenant", t.code], env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "re-encrypted files.exports: 1" in run.stdout and "re-encrypted member_export.filter: 1" in run.stdout
    assert idn not in run.stdout + run.stderr
    pii_keyring(None)
    assert first_key("exports", t.id, exp_id) == "dev1"
    assert (await api.client.get(url, headers={"authorization": f"Bearer {p.token}"})).content == before


def test_reencrypt_does_not_resurrect_a_deleted_file(tmp_path, monkeypatch, members_file_root, pii_keyring):
    """A file deleted (committed, discarded, purged) while rotation copied it stays deleted."""
    members_file_root(tmp_path)
    old = Keyring({"dev1": DEV_KEY}, "dev1", INDEX)
    pii_keyring(old)
    filestore.store_stream(iter([b"x" * (filestore.CHUNK + 10)]), "imports", 7, 1)
    new = Keyring({"k2": os.urandom(32), "dev1": DEV_KEY}, "k2", INDEX)
    pii_keyring(new)
    real_replace = os.replace

    def deleted_meanwhile(src: Any, dst: Any) -> None:  # pragma: no cover - must not be reached
        raise AssertionError("renamed over a deleted file")

    path = filestore.path_for("imports", 7, 1)
    original_fsync = os.fsync

    def fsync_then_delete(fd: int) -> None:
        original_fsync(fd)
        path.unlink()  # the import is committed while the copy is being written

    monkeypatch.setattr(os, "fsync", fsync_then_delete)
    monkeypatch.setattr(os, "replace", deleted_meanwhile)
    assert filestore.reencrypt_stored("imports", 7, 1) is False
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "fsync", original_fsync)
    assert not path.exists() and not list(tmp_path.rglob("*.rotate"))
    assert filestore.reencrypt_stored("imports", 7, 2) is False  # never existed

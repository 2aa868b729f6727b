"""Upgrades from real older databases: every committed fixture (a `huijia backup` archive one release
made with tests/upgrade/make_fixture.py) is restored, migrated to this release's head, and checked:
row counts, every ledger balance, the audit and ledger chains and their anchored heads, a member's
decrypted values, and the stored files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.integration.drill import ENV, admin_url, create_db, drop_db, fetch, ok, owner_url

# The scratch databases are owned by the run's roles, which the run's database fixture creates.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("database")]

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("huijia-*.tar"))
# Tables a migration may legitimately add rows to (its own bookkeeping).
GROWS = {"migration"}


def test_every_release_has_its_fixture() -> None:
    assert FIXTURES, "tests/upgrade/fixtures holds no huijia-<version>.tar: run python -m tests.upgrade.make_fixture"
    for archive in FIXTURES:
        assert archive.with_suffix(".json").is_file(), f"{archive.name} has no expectations beside it"


@pytest.mark.parametrize("archive", FIXTURES, ids=[a.stem for a in FIXTURES])
async def test_upgrade_from_an_older_database_keeps_every_row_fen_chain_and_file(archive: Path, tmp_path: Path) -> None:
    from core.files import FileStore
    from core.members.personal import decrypt
    from core.ops.backup import read_manifest

    manifest = read_manifest(archive)
    expect = json.loads(archive.with_suffix(".json").read_text(encoding="utf-8"))
    db = f"huijia_upgrade_{archive.stem.replace('huijia-', '').replace('.', '_').replace('-', '_')}_{ENV.run_id}"
    data = tmp_path / "data"
    await create_db(db)
    try:
        await ok(db, data, "restore", str(archive), "--database-url", admin_url(db))
        await ok(db, data, "migrate", "--owner-url", owner_url(db))

        for table, count in manifest["table_counts"].items():
            now = (await fetch(db, f'SELECT count(*) AS n FROM "{table}"'))[0]["n"]
            assert now >= count if table in GROWS else now == count, table
        assert manifest["table_counts"]["member"] > 0 and manifest["table_counts"]["ledger_entry"] > 0
        assert manifest["table_counts"]["household"] > 0 and manifest["table_counts"]["member_import"] >= 2
        balances = {str(r["id"]): int(r["balance_fen"]) for r in await fetch(
            db, "SELECT id, balance_fen FROM ledger_account ORDER BY id")}
        assert balances == expect["balances"]
        heads = await fetch(db, "SELECT tenant_id, chain, seq, hash FROM chain_head ORDER BY tenant_id, chain")
        assert heads == manifest["chain_heads"]

        assert "BROKEN" not in await ok(db, data, "audit", "verify")
        await ok(db, data, "ledger", "verify")
        await ok(db, data, "ledger", "check")
        await ok(db, data, "files", "verify")

        tid = expect["tenant_id"]
        person = expect["member"]
        row = (await fetch(db, f"SELECT id_number_enc, phone_enc FROM member WHERE tenant_id = {int(tid)} "
                               f"AND name = '{person['name']}'"))[0]
        assert decrypt(row["id_number_enc"], "member", "id_number", tid) == person["id_number"]
        assert decrypt(row["phone_enc"], "member", "phone", tid) == person["phone"]

        members = FileStore("members", root=lambda: data / "members", context_prefix="")
        with members.open_stored("imports", tid, expect["kept_import"]) as f:
            assert hashlib.sha256(f.read()).hexdigest() == expect["kept_sha256"]
    finally:
        await drop_db(db)

"""The backup and restore drill: `huijia backup` while writes continue, `huijia restore` into a fresh
database and data directory, then the ledger, audit chains, anchored heads and every stored file check
out; and what a restore refuses (missing key, a database or data directory already in use)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.drill import (
    ENV,
    admin_url,
    app_url,
    create_db,
    demo_deployment,
    drop_db,
    fetch,
    huijia,
    ok,
    owner_url,
    plaintext,
)

# The scratch databases are owned by the run's roles, which the run's database fixture creates.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("database")]

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def source(tmp_path_factory: pytest.TempPathFactory) -> Any:
    async with demo_deployment("src", tmp_path_factory.mktemp("drill") / "src") as found:
        yield found


async def test_backup_during_writes_restores_one_consistent_snapshot(source: Any, tmp_path: Path,
                                                                     settings_override: Any) -> None:
    from core.ops.backup import backup

    db, data, tenants = source
    checkpoint = tmp_path / "audit.json"
    await ok(db, data, "audit", "checkpoint", "--tenant", "shanghai", "--out", str(checkpoint))
    ledger_checkpoint = tmp_path / "ledger.json"
    await ok(db, data, "ledger", "checkpoint", "--tenant", "shanghai", "--out", str(ledger_checkpoint))

    writes: list[asyncio.Task[Any]] = []

    async def write(n: int) -> tuple[int, str]:
        # A user created writes an account row and an audit record: both chains move on.
        return await huijia(db, data, "users", "create", "--tenant", "shanghai", "--username", f"during{n}",
                            "--role", "clerk", env={"HUIJIA_NEW_PASSWORD": "during-backup-pw-1"})

    async def after_snapshot() -> None:
        assert (await write(0))[0] == 0  # one write surely lands after the snapshot...
        writes.extend(asyncio.create_task(write(n)) for n in (1, 2))  # ...and more while it is copied

    archive = tmp_path / "backup.tar"
    settings_override(data_dir=data)
    manifest = await backup(archive, admin_url(db), after_snapshot=after_snapshot)
    assert all(code == 0 for code, _ in await asyncio.gather(*writes))

    users_now = (await fetch(db, "SELECT count(*) AS n FROM app_user"))[0]["n"]
    assert users_now == manifest["table_counts"]["app_user"] + 3
    assert manifest["data_key_ids"] and manifest["index_key_ids"]
    # Every registered area is in the backup; the drill wrote three files into three of them.
    from core.registry import get_registry

    assert set(manifest["file_areas"]) == set(get_registry().file_stores)
    assert {area: n for area, n in manifest["file_areas"].items() if n} == {"funds": 3, "hardship": 3, "members": 3}
    assert "HUIJIA_PII_KEYS" not in archive.read_bytes().decode("latin-1")

    target = f"huijia_drill_dst_{ENV.run_id}"
    restored = tmp_path / "restored"
    await create_db(target)
    try:
        out = await ok(target, restored, "restore", str(archive), "--database-url", admin_url(target))
        assert "match its manifest" in out
        await ok(target, restored, "migrate", "--owner-url", owner_url(target))
        assert (await fetch(target, "SELECT count(*) AS n FROM app_user"))[0]["n"] == manifest["table_counts"]["app_user"]
        assert not await fetch(target, "SELECT 1 FROM app_user WHERE username LIKE 'during%'")
        heads = await fetch(target, "SELECT tenant_id, chain, seq, hash FROM chain_head ORDER BY tenant_id, chain")
        assert heads == manifest["chain_heads"] and len(heads) >= 6

        assert "BROKEN" not in await ok(target, restored, "audit", "verify")
        await ok(target, restored, "audit", "verify", "--checkpoint", str(checkpoint))
        await ok(target, restored, "ledger", "verify", "--checkpoint", str(ledger_checkpoint))
        await ok(target, restored, "ledger", "check")
        out = await ok(target, restored, "files", "verify")
        assert "funds: 3 files decrypt" in out and "hardship: 3 files decrypt" in out and "members: 3 files" in out
        # The app role reads the restored rows (migrate granted it) and the files hold what was stored.
        code, out = await huijia(target, restored, "users", "create", "--tenant", "shanghai", "--username",
                                 "after", "--role", "clerk", env={"HUIJIA_NEW_PASSWORD": "after-restore-pw-1"})
        assert code == 0, out
        from core.files import FileStore

        st = FileStore("hardship", root=lambda: restored / "hardship")
        with st.open_stored("attachment", tenants["fujian"], 1) as f:
            assert f.read() == plaintext("hardship", tenants["fujian"], 1)
    finally:
        await drop_db(target)

    # Into a database that already holds data: refused, and that database is left as it was.
    before = await fetch(db, "SELECT count(*) AS n FROM audit_record")
    code, out = await huijia(db, tmp_path / "elsewhere", "restore", str(archive), "--database-url", admin_url(db))
    assert code == 2 and "already holds tables" in out
    assert await fetch(db, "SELECT count(*) AS n FROM audit_record") == before
    assert not (tmp_path / "elsewhere").exists()


async def test_restore_without_the_keys_names_the_missing_key_and_restores_nothing(source: Any, tmp_path: Path,
                                                                                   settings_override: Any) -> None:
    from core.ops.backup import backup

    db, data, _ = source
    archive = tmp_path / "backup.tar"
    settings_override(data_dir=data)
    manifest = await backup(archive, admin_url(db))
    needed = manifest["data_key_ids"][0]
    other = "k7:" + base64.b64encode(b"k" * 32).decode()

    target = f"huijia_drill_nokey_{ENV.run_id}"
    restored = tmp_path / "restored"
    await create_db(target)
    try:
        code, out = await huijia(target, restored, "restore", str(archive), "--database-url", admin_url(target),
                                 env={"HUIJIA_PII_KEYS": other})
        assert code == 2
        assert f"data key {needed!r} is not in HUIJIA_PII_KEYS" in out and "nothing was restored" in out
        assert await fetch(target, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
        assert not restored.exists() or not any(restored.iterdir())
        assert not list(tmp_path.glob(".huijia-restore-*"))

        # A data directory already holding files is refused as well, before the database is touched.
        restored.mkdir(exist_ok=True)
        (restored / "members").mkdir()
        code, out = await huijia(target, restored, "restore", str(archive), "--database-url", admin_url(target))
        assert code == 2 and "is not empty" in out
        assert await fetch(target, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
    finally:
        await drop_db(target)


async def test_backup_refuses_a_role_that_row_level_security_fences(source: Any, tmp_path: Path) -> None:
    db, data, _ = source
    code, out = await huijia(db, data, "backup", "--out", str(tmp_path / "b.tar"), "--database-url", app_url(db))
    assert code == 2 and "BYPASSRLS" in out
    assert not (tmp_path / "b.tar").exists()

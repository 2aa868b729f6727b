"""A province whole: `huijia province export` holds its rows and files and nothing of any other
province; `huijia province erase` (PIPL Art. 47) removes its rows and files and leaves the others'
chains, ledgers and files verifying."""

from __future__ import annotations

import json
import re
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.drill import ROOT, admin_url, app_url, demo_deployment, fetch, huijia, ok

# The scratch databases are owned by the run's roles, which the run's database fixture creates.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("database")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> Any:
    async with demo_deployment("prov", tmp_path_factory.mktemp("prov") / "data") as found:
        yield found


def _markers(code: str) -> set[str]:
    """The names and codes a province's manifest gives it and its units."""
    manifest = tomllib.loads((ROOT / "tenants" / f"{code}.toml").read_text(encoding="utf-8"))
    found = {manifest["code"], manifest["name"]}
    for unit in manifest.get("units", []):
        found |= {unit["code"], unit["name"]}
    return found


def _mentions(blob: str, marker: str) -> bool:
    """``marker`` as a word of its own: a code like "fj" also occurs by chance inside base64 tokens."""
    if not marker.isascii():
        return marker in blob
    return re.search(rf"(?<![A-Za-z0-9_-]){re.escape(marker)}(?![A-Za-z0-9_])", blob) is not None


async def _fingerprints(db: str, tenant_id: int) -> set[str]:
    """Values unique to one province's rows: its encrypted tokens, blind indexes and chain hashes."""
    found: set[str] = set()
    for sql in ("SELECT id_number_enc AS v FROM member WHERE tenant_id = {}",
                "SELECT encode(id_number_bidx, 'hex') AS v FROM member WHERE tenant_id = {}",
                "SELECT hash AS v FROM audit_record WHERE tenant_id = {}",
                "SELECT hash AS v FROM chain_head WHERE tenant_id = {}"):
        found |= {r["v"] for r in await fetch(db, sql.format(int(tenant_id))) if r["v"]}
    return found


async def test_a_province_export_holds_its_rows_and_files_and_nothing_of_another(deployment: Any, tmp_path: Path) -> None:
    db, data, tenants = deployment
    out = tmp_path / "shanghai.tar.gz"
    text = await ok(db, data, "province", "export", "--tenant", "shanghai", "--out", str(out),
                    "--database-url", admin_url(db))
    assert "shanghai:" in text
    with tarfile.open(out) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text(encoding="utf-8"))
    sh = tenants["shanghai"]
    members = (await fetch(db, f"SELECT count(*) AS n FROM member WHERE tenant_id = {sh}"))[0]["n"]
    assert manifest["table_counts"]["member"] == members > 0
    assert manifest["table_counts"]["ledger_entry"] > 0 and manifest["table_counts"]["audit_record"] > 0
    assert manifest["files"] == {"funds": 1, "hardship": 1, "members": 1}
    assert manifest["data_key_ids"]

    # Every row is the province's own.
    for path in (tmp_path / "x" / "data").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert (row["id"] if path.stem == "tenant" else row["tenant_id"]) == sh, path.name
    files = sorted(p.relative_to(tmp_path / "x" / "files").as_posix() for p in (tmp_path / "x" / "files").rglob("*.enc"))
    assert all(f.split("/")[2] == str(sh) for f in files) and len(files) == 3

    # Grep the whole export, files included, for the other provinces' names, codes and values.
    blob = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "x").rglob("*") if p.is_file())
    assert "上海市总工会" in blob and _mentions(blob, "shanghai")  # the grep finds what is there
    for other in ("fujian", "beijing"):
        leaked = {m for m in _markers(other) if _mentions(blob, m)}
        leaked |= {v for v in await _fingerprints(db, tenants[other]) if v in blob}
        assert not leaked, f"{other} in the shanghai export: {sorted(leaked)[:5]}"
        other_file = (data / "hardship" / "attachment" / str(tenants[other]) / "1.enc").read_text()
        assert other_file.splitlines()[0] not in blob
    own = await _fingerprints(db, sh)
    assert own and all(v in blob for v in own)


async def test_erasing_a_province_leaves_the_others_whole(deployment: Any, tmp_path: Path) -> None:
    db, data, tenants = deployment
    fj = tenants["fujian"]
    # Refused without the code repeated, and for a role that may not bypass the append-only guards.
    code, out = await huijia(db, data, "province", "erase", "--tenant", "fujian", "--confirm", "fj",
                             "--database-url", admin_url(db))
    assert code == 2 and "--confirm" in out
    code, out = await huijia(db, data, "province", "erase", "--tenant", "fujian", "--confirm", "fujian",
                             "--database-url", app_url(db))
    assert code == 2 and "superuser" in out
    assert (await fetch(db, f"SELECT count(*) AS n FROM member WHERE tenant_id = {fj}"))[0]["n"] > 0

    kept = {c: await _fingerprints(db, tenants[c]) for c in ("shanghai", "beijing")}
    out = await ok(db, data, "province", "erase", "--tenant", "fujian", "--confirm", "fujian",
                   "--database-url", admin_url(db))
    assert "fujian: erased" in out

    tables = [r["table_name"] for r in await fetch(
        db, "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'")]
    assert len(tables) > 30
    for table in tables:
        assert not await fetch(db, f'SELECT 1 FROM "{table}" WHERE tenant_id = {fj} LIMIT 1'), table
    assert not await fetch(db, "SELECT 1 FROM tenant WHERE code = 'fujian'")
    assert not list(data.glob(f"*/*/{fj}"))
    for c in ("shanghai", "beijing"):
        assert await _fingerprints(db, tenants[c]) == kept[c]
        assert (data / "hardship" / "attachment" / str(tenants[c]) / "1.enc").exists()

    audit = await ok(db, data, "audit", "verify")
    assert "fujian" not in audit and "shanghai: OK" in audit and "beijing: OK" in audit and "platform: OK" in audit
    ledger = await ok(db, data, "ledger", "verify")
    assert "fujian" not in ledger and "shanghai: OK" in ledger
    await ok(db, data, "ledger", "check")
    files = await ok(db, data, "files", "verify")
    assert "hardship: 2 files decrypt" in files
    # The platform's audit chain keeps the erasure (counts, never contents).
    rows = await fetch(db, "SELECT a.changes FROM audit_record a JOIN tenant t ON t.id = a.tenant_id "
                           "WHERE t.code = 'platform' AND a.action = 'tenant.erase'")
    assert len(rows) == 1
    changes = json.loads(rows[0]["changes"]) if isinstance(rows[0]["changes"], str) else rows[0]["changes"]
    assert changes["tenant"] == "fujian" and changes["rows"]["member"] > 0


async def test_an_erasure_that_would_leave_another_provinces_row_dangling_is_rolled_back(tmp_path: Path) -> None:
    from tests.integration.drill import execute

    async with demo_deployment("dangle", tmp_path / "data", demo=False) as (db, data, tenants):
        fj, bj = tenants["fujian"], tenants["beijing"]
        # A row of beijing pointing at a row of fujian (no code path makes one; a superuser can).
        await execute(db, f"UPDATE org_unit SET parent_id = (SELECT min(id) FROM org_unit WHERE tenant_id = {fj}) "
                          f"WHERE id = (SELECT max(id) FROM org_unit WHERE tenant_id = {bj})")
        units = (await fetch(db, f"SELECT count(*) AS n FROM org_unit WHERE tenant_id = {fj}"))[0]["n"]
        code, out = await huijia(db, data, "province", "erase", "--tenant", "fujian", "--confirm", "fujian",
                                 "--database-url", admin_url(db))
        assert code == 2 and "nothing was erased" in out and "org_unit.parent_id -> org_unit" in out
        assert (await fetch(db, f"SELECT count(*) AS n FROM org_unit WHERE tenant_id = {fj}"))[0]["n"] == units > 0
        assert await fetch(db, "SELECT 1 FROM tenant WHERE code = 'fujian'")
        assert (data / "hardship" / "attachment" / str(fj) / "1.enc").exists()

"""One province whole: ``huijia province export`` (its rows and files, for a move to another
deployment) and ``huijia province erase`` (PIPL Art. 47: its rows and files deleted, every other
province untouched and its chains still verifying).

Every tenant-owned table carries ``tenant_id`` (the house rule RLS relies on), so "the province's
rows" is exactly the rows with its ``tenant_id`` in every table that has the column, plus its own row
in ``tenant``. Its files are ``<area>/<kind>/<tenant id>/`` in every area registered through
``register_file_stores``. Personal data stays encrypted in both directions: the export carries the
tokens and encrypted files as stored, and names the key ids they need (the keys are moved, or not,
by the operator, never inside the export).

Both connect as a role that sees every tenant's rows. Erasure deletes from append-only tables
(audit records, ledger entries, chain heads), which their triggers refuse on purpose, so it needs a
superuser: it runs in one transaction with ``session_replication_role = replica`` (triggers and
foreign-key checks off for that transaction only, which is why every row of the province goes at
once and nothing of another is touched). Before it commits, every foreign key is checked by hand:
a row of another province still pointing at a deleted row rolls the whole erasure back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any

from core.ops.backup import (
    BackupError,
    _absolute,
    _file_key_id,
    _require_all_rows,
    _require_postgres,
    _sha256,
)

FORMAT = "huijia-province-export/1"


async def _tenant_tables(conn: Any) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.table_name FROM information_schema.columns c JOIN pg_tables t "
        "ON t.schemaname = c.table_schema AND t.tablename = c.table_name "
        "WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' ORDER BY c.table_name")
    return [r["table_name"] for r in rows]


async def _find_tenant(conn: Any, code: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM tenant WHERE code = $1", code)
    if row is None:
        raise BackupError(f"no tenant {code!r}")
    if code == "platform":
        raise BackupError("the platform tenant is not a province")
    return dict(row)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def _area_dirs(tenant_id: int) -> list[tuple[str, str, Path]]:
    """(area, kind, folder) of every folder holding the tenant's files."""
    from core.registry import get_registry

    found = []
    for area, st in sorted(get_registry().file_stores.items()):
        root = st.root()
        if root.is_dir():
            for kind_dir in sorted(p for p in root.iterdir() if p.is_dir()):
                folder = kind_dir / str(int(tenant_id))
                if folder.is_dir():
                    found.append((area, kind_dir.name, folder))
    return found


def _copy_files(tenant_id: int, dest: Path) -> tuple[dict[str, int], set[str]]:
    counts: dict[str, int] = {}
    keys: set[str] = set()
    for area, kind, folder in _area_dirs(tenant_id):
        for src in sorted(folder.glob("*.enc")):
            target = dest / area / kind / str(tenant_id) / src.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
            kid = _file_key_id(target)
            if kid:
                keys.add(kid)
            counts[area] = counts.get(area, 0) + 1
    return counts, keys


def _package(work: Path, out: Path, manifest: dict[str, Any]) -> None:
    manifest["checksums"] = {p.relative_to(work).as_posix(): _sha256(p) for p in sorted(work.rglob("*")) if p.is_file()}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    partial = out.with_name(out.name + ".part")
    with tarfile.open(partial, "w:gz") as tar:
        tar.add(work / "manifest.json", arcname="manifest.json")
        for rel in manifest["checksums"]:
            tar.add(work / rel, arcname=rel)
    os.replace(partial, out)


async def _dump_table(conn: Any, table: str, tenant_id: int, path: Path) -> int:
    """The tenant's rows of ``table`` as JSON lines, read through a cursor in pages; returns the count."""
    n = 0
    f = await asyncio.to_thread(open, path, "w", encoding="utf-8")
    try:
        cursor = await conn.cursor(f'SELECT * FROM "{table}" WHERE tenant_id = $1 ORDER BY 1', tenant_id)
        while rows := await cursor.fetch(1000):
            text = "".join(json.dumps(dict(r), default=_plain, ensure_ascii=False) + "\n" for r in rows)
            await asyncio.to_thread(f.write, text)
            n += len(rows)
    finally:
        await asyncio.to_thread(f.close)
    return n


async def export_province(code: str, out: Path, database_url: str) -> dict[str, Any]:
    """Write ``out`` (tar.gz): ``data/<table>.jsonl`` per tenant-owned table (one snapshot), the
    province's own ``tenant`` row, its files, and a manifest with counts, key ids and checksums."""
    import asyncpg

    from core.registry import get_registry

    _require_postgres(database_url)
    out = _absolute(out, make_parent=True)
    conn = await asyncpg.connect(database_url)
    try:
        await _require_all_rows(conn)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            tenant = await _find_tenant(conn, code)
            tid = int(tenant["id"])
            work = Path(tempfile.mkdtemp(prefix=".huijia-export-", dir=out.parent))
            try:
                data = work / "data"
                data.mkdir()
                counts: dict[str, int] = {}
                (data / "tenant.jsonl").write_text(json.dumps(tenant, default=_plain, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
                for table in await _tenant_tables(conn):
                    counts[table] = await _dump_table(conn, table, tid, data / f"{table}.jsonl")
                data_keys: set[str] = set()
                for col in get_registry().encrypted_columns:
                    if col.table in counts:
                        rows = await conn.fetch(f"SELECT DISTINCT split_part({col.column}, '.', 2) AS kid FROM "
                                                f"{col.table} WHERE tenant_id = $1 AND {col.column} LIKE 'v1.%'", tid)
                        data_keys.update(r["kid"] for r in rows)
                files, file_keys = await asyncio.to_thread(_copy_files, tid, work / "files")
                manifest = {"format": FORMAT, "tenant": code, "tenant_id": tid,
                            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                            "table_counts": counts, "files": files,
                            "data_key_ids": sorted(data_keys | file_keys)}
                await asyncio.to_thread(_package, work, out, manifest)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        await conn.close()
    return manifest


async def _dangling_references(conn: Any) -> list[str]:
    """``child.column -> parent`` for each single-column foreign key with a value its parent lacks."""
    fks = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS child, a.attname AS col, c.confrelid::regclass::text AS parent, "
        "af.attname AS pcol FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 AND c.connamespace = 'public'::regnamespace")
    found = []
    for fk in fks:
        bad = await conn.fetchval(
            f'SELECT 1 FROM {fk["child"]} x WHERE x."{fk["col"]}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM {fk["parent"]} p WHERE p."{fk["pcol"]}" = x."{fk["col"]}") LIMIT 1')
        if bad:
            found.append(f"{fk['child']}.{fk['col']} -> {fk['parent']}")
    return found


async def erase_province(code: str, database_url: str) -> dict[str, Any]:
    """Delete every row and file of province ``code``; return what was deleted (counts per table and area)."""
    import asyncpg

    _require_postgres(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            raise BackupError("erasing a province deletes from append-only tables, which only a superuser may do "
                              "(docs/operations.md, Erasing a province)")
        tenant = await _find_tenant(conn, code)
        tid = int(tenant["id"])
        counts: dict[str, int] = {}
        files: dict[str, int] = {}
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for table in await _tenant_tables(conn):
                status = await conn.execute(f'DELETE FROM "{table}" WHERE tenant_id = $1', tid)
                counts[table] = int(status.split()[-1])
            await conn.execute("DELETE FROM tenant WHERE id = $1", tid)
            # Foreign keys were not enforced above: refuse (roll back) if another province's row
            # pointed at one of the deleted rows, rather than leave it dangling.
            dangling = await _dangling_references(conn)
            if dangling:
                raise BackupError(f"refused, nothing was erased: rows of other provinces refer to {code}'s rows "
                                  f"({', '.join(dangling[:5])})")
            # The files go last, before the commit: if this stops half-way the rows are still there,
            # and running it again finishes.
            for area, _kind, folder in await asyncio.to_thread(_area_dirs, tid):
                files[area] = files.get(area, 0) + sum(1 for _ in folder.glob("*.enc"))
                await asyncio.to_thread(shutil.rmtree, folder)
    finally:
        await conn.close()
    return {"tenant": code, "tenant_id": tid, "rows": {t: n for t, n in counts.items() if n}, "files": files}

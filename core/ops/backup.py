"""`huijia backup` and `huijia restore`: one archive holding a consistent database snapshot and the
encrypted file stores, never the keys.

Backup opens a REPEATABLE READ transaction, exports its snapshot (``pg_export_snapshot``) and keeps it
open while ``pg_dump --snapshot`` dumps exactly that state, so writes that continue meanwhile are
either wholly in the archive or wholly out of it. In the same snapshot it records what a restore must
find again: row counts of every table, the anchored chain heads, the last migration of each app, and
the ids of the data and blind-index keys the stored tokens and files are under. The file areas
registered through ``register_file_stores`` are copied as they are (still encrypted) right after the
snapshot is taken. A file written after it is copied along harmlessly (no row refers to it).

Both sides connect as a role that sees every tenant's rows: a superuser, or a role with BYPASSRLS
(docs/operations.md, "Backup and restore"); the app role would see nothing under row-level security.

Restore checks everything before it changes anything: the archive's checksums, that every key id the
manifest names is loaded, that the target database has no table and the data directory holds no
file. Then ``pg_restore --single-transaction`` (all or nothing) and only after it commits are the
files moved in. Finally the restored counts and chain heads are compared with the manifest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "huijia-backup/1"
MANIFEST = "manifest.json"
DUMP = "db.dump"
FILES = "files"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------
# What the snapshot holds
# ---------------------------------------------------------------------------------------------


def _require_postgres(url: str) -> None:
    if not url.startswith(("postgresql://", "postgres://")):
        raise BackupError("backup and restore are for PostgreSQL (a postgresql:// URL); on the embedded SQLite "
                          "default, stop the server and copy HUIJIA_DATA_DIR whole")


async def _require_all_rows(conn: Any) -> None:
    sees_all = await conn.fetchval("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    if not sees_all:
        raise BackupError("the database role must be a superuser or have BYPASSRLS: under row-level security "
                          "it would see no tenant's rows (docs/operations.md, Backup and restore)")


async def _tables(conn: Any) -> list[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [r["tablename"] for r in rows]


async def snapshot_facts(conn: Any) -> dict[str, Any]:
    """Counts, chain heads, migrations and key ids, read in the caller's transaction."""
    from core.registry import get_registry

    tables = await _tables(conn)
    counts = {t: int(await conn.fetchval(f'SELECT count(*) FROM "{t}"')) for t in tables}
    heads: list[dict[str, Any]] = []
    if "chain_head" in counts:
        heads = [dict(r) for r in await conn.fetch(
            "SELECT tenant_id, chain, seq, hash FROM chain_head ORDER BY tenant_id, chain")]
    migrations: dict[str, str] = {}
    if "migration" in counts:
        for r in await conn.fetch("SELECT app_name, name FROM migration ORDER BY id"):
            migrations[r["app_name"]] = r["name"]
    data_keys: set[str] = set()
    for col in get_registry().encrypted_columns:
        if col.table not in counts:
            continue
        rows = await conn.fetch(f"SELECT DISTINCT split_part({col.column}, '.', 2) AS kid FROM {col.table} "
                                f"WHERE {col.column} LIKE 'v1.%'")
        data_keys.update(r["kid"] for r in rows)
    if "member_export" in counts:  # the encrypted ID number or phone an export was filtered by
        rows = await conn.fetch("SELECT DISTINCT split_part(v, '.', 2) AS kid FROM member_export, "
                                "LATERAL (VALUES (filter->>'id_enc'), (filter->>'phone_enc')) AS t(v) WHERE v LIKE 'v1.%'")
        data_keys.update(r["kid"] for r in rows)
    index_keys: set[str] = set()
    if "member_index_key" in counts:
        for r in await conn.fetch("SELECT key_id, next_key_id FROM member_index_key"):
            index_keys.update(k for k in (r["key_id"], r["next_key_id"]) if k)
    return {"table_counts": counts, "chain_heads": heads, "migrations": migrations,
            "data_key_ids": sorted(data_keys), "index_key_ids": sorted(index_keys)}


def _file_key_id(path: Path) -> str | None:
    with open(path, "rb") as f:
        first = f.readline().decode("ascii", "replace")
    parts = first.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "v1" else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy_file_stores(dest: Path) -> dict[str, Any]:
    """Copy every registered area's complete files (``*.enc``; never a writer's ``.part``)."""
    from core.registry import get_registry

    areas: dict[str, Any] = {}
    keys: set[str] = set()
    for area, st in sorted(get_registry().file_stores.items()):
        root = st.root()
        count = 0
        if root.is_dir():
            for src in sorted(root.glob("*/*/*.enc")):
                rel = src.relative_to(root)
                target = dest / area / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copy2(src, target)
                except FileNotFoundError:  # deleted (retention, erase) since it was listed
                    continue
                kid = _file_key_id(target)
                if kid:
                    keys.add(kid)
                count += 1
        areas[area] = count
    return {"areas": areas, "file_key_ids": sorted(keys)}


async def _run(*cmd: str) -> None:
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        # pg_* print statements, never row data, on failure; keep the first lines for the operator.
        text = (err or out).decode("utf-8", "replace").strip().splitlines()
        raise BackupError(f"{os.path.basename(cmd[0])} failed (exit {proc.returncode}): " + " | ".join(text[:5]))


async def _tool_version(tool: str) -> str:
    proc = await asyncio.create_subprocess_exec(tool, "--version", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return out.decode().strip()


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("huijia")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------


def _absolute(path: Path, make_parent: bool = False) -> Path:
    path = path.resolve()
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _holds_anything(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _package(work: Path, out: Path, manifest: dict[str, Any]) -> None:
    """Checksum every file into the manifest, then write the tar beside ``out`` and rename it."""
    manifest["checksums"] = {p.relative_to(work).as_posix(): _sha256(p)
                             for p in sorted(work.rglob("*")) if p.is_file()}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    partial = out.with_name(out.name + ".part")
    with tarfile.open(partial, "w") as tar:
        tar.add(work / MANIFEST, arcname=MANIFEST)  # first, so a restore reads it cheaply
        for rel in manifest["checksums"]:
            tar.add(work / rel, arcname=rel)
    os.replace(partial, out)


async def backup(out: Path, database_url: str, *, after_snapshot: Callable[[], Awaitable[None]] | None = None,
                 pg_dump: str = "pg_dump") -> dict[str, Any]:
    """Write the archive ``out`` (a tar file; written beside it, then renamed) and return its manifest.

    ``after_snapshot`` runs once the snapshot is taken, before anything is copied (tests write there to
    show the archive holds the snapshot, not what came after)."""
    import asyncpg

    _require_postgres(database_url)
    out = _absolute(out, make_parent=True)
    conn = await asyncpg.connect(database_url)
    try:
        await _require_all_rows(conn)
        tx = conn.transaction(isolation="repeatable_read", readonly=True)
        await tx.start()
        try:
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            facts = await snapshot_facts(conn)
            server = await conn.fetchval("SHOW server_version")
            if after_snapshot is not None:
                await after_snapshot()
            work = Path(tempfile.mkdtemp(prefix=".huijia-backup-", dir=out.parent))
            try:
                files = await asyncio.to_thread(_copy_file_stores, work / FILES)
                await _run(pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={work / DUMP}",
                           f"--dbname={database_url}")
                manifest = {
                    "format": FORMAT,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "huijia_version": _version(),
                    "postgresql_server": server,
                    "pg_dump": await _tool_version(pg_dump),
                    **facts,
                    "file_areas": files["areas"],
                    # every key a restore needs loaded; the keys themselves are never written here
                    "data_key_ids": sorted(set(facts["data_key_ids"]) | set(files["file_key_ids"])),
                }
                await asyncio.to_thread(_package, work, out, manifest)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            await tx.rollback()
    finally:
        await conn.close()
    return manifest


# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read().decode("utf-8"))
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"{archive}: not a huijia backup ({type(exc).__name__})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r} (this release reads {FORMAT})")
    return manifest


def missing_keys(manifest: dict[str, Any], ring: Any) -> list[str]:
    """Messages naming each key id the backup needs that the keyring lacks."""
    problems = [f"data key {kid!r} is not in HUIJIA_PII_KEYS" for kid in manifest["data_key_ids"]
                if kid not in ring.key_ids]
    problems += [f"blind-index key {kid!r} is not in HUIJIA_PII_INDEX_KEYS" for kid in manifest["index_key_ids"]
                 if kid not in ring.index_key_ids]
    return problems


async def restore(archive: Path, database_url: str, data_dir: Path, ring: Any,
                  pg_restore: str = "pg_restore") -> dict[str, Any]:
    """Restore ``archive`` into an empty database and an empty data directory; return the manifest."""
    import asyncpg

    _require_postgres(database_url)
    manifest = read_manifest(archive)
    missing = missing_keys(manifest, ring)
    if missing:
        raise BackupError("refused, nothing was restored: the backup needs keys that are not loaded: "
                          + "; ".join(missing) + ". Load the keys that were in use when it was taken")
    data_dir = _absolute(data_dir)
    if _holds_anything(data_dir):
        raise BackupError(f"refused, nothing was restored: the data directory {data_dir} is not empty")
    conn = await asyncpg.connect(database_url)
    try:
        await _require_all_rows(conn)
        if await _tables(conn):
            raise BackupError("refused, nothing was restored: the target database already holds tables; "
                              "restore into a freshly created, empty database")
        # The tables go to the database's owner (as `huijia migrate` expects), whoever connects.
        owner = await conn.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
    finally:
        await conn.close()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".huijia-restore-", dir=data_dir.parent))
    try:
        with tarfile.open(archive, "r") as tar:
            tar.extractall(work, filter="data")
        for rel, digest in manifest["checksums"].items():
            path = work / rel
            if not path.is_file() or _sha256(path) != digest:
                raise BackupError(f"refused, nothing was restored: {rel} in the archive is missing or damaged")
        # Ownership and grants are the target's: `huijia migrate` as the owner grants the app role after.
        await _run(pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                   f"--role={owner}", f"--dbname={database_url}", str(work / DUMP))
        data_dir.mkdir(parents=True, exist_ok=True)
        if (work / FILES).is_dir():
            for area in (work / FILES).iterdir():
                os.replace(area, data_dir / area.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    conn = await asyncpg.connect(database_url)
    try:
        facts = await snapshot_facts(conn)
    finally:
        await conn.close()
    for what in ("table_counts", "chain_heads"):
        if facts[what] != manifest[what]:
            raise BackupError(f"the restored database's {what.replace('_', ' ')} differ from the backup's manifest")
    return manifest


# ---------------------------------------------------------------------------------------------
# Every stored file decrypts
# ---------------------------------------------------------------------------------------------


def verify_files() -> tuple[dict[str, int], list[str]]:
    """Decrypt every file of every registered area under this process's settings: (count per area,
    problems as ``area/kind/tenant/id.enc: reason``). Reasons name the key id, never contents."""
    from core.registry import get_registry

    counts: dict[str, int] = {}
    problems: list[str] = []
    for area, st in sorted(get_registry().file_stores.items()):
        root = st.root()
        counts[area] = 0
        for path in sorted(root.glob("*/*/*.enc")) if root.is_dir() else []:
            kind, tenant, stem = path.parent.parent.name, path.parent.name, path.stem
            rel = f"{area}/{kind}/{tenant}/{path.name}"
            if not (tenant.isdigit() and stem.isdigit()):
                problems.append(f"{rel}: not a stored file's name")
                continue
            try:
                with st.open_stored(kind, int(tenant), int(stem)) as f:
                    while f.read(1 << 20):
                        pass
                counts[area] += 1
            except Exception as exc:
                kid = _file_key_id(path)
                reason = "needs key " + repr(kid) if kid and kid not in st.keyring().key_ids else type(exc).__name__
                problems.append(f"{rel}: does not decrypt ({reason})")
    return counts, problems

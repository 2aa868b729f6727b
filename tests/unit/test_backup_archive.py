"""What `huijia backup` / `restore` refuse before touching a database: not PostgreSQL, not an
archive of theirs, and keys that are not loaded (named, never echoed)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import tarfile
from pathlib import Path

import pytest

from core.ops.backup import FORMAT, BackupError, backup, missing_keys, read_manifest, restore
from core.pii import Keyring


def _archive(path: Path, manifest: dict[str, object]) -> Path:
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_sqlite_is_refused_with_what_to_do_instead(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="copy HUIJIA_DATA_DIR whole"):
        asyncio.run(backup(tmp_path / "b.tar", "sqlite:///var/huijia.sqlite3"))
    assert not list(tmp_path.iterdir())


def test_not_an_archive_or_another_format(tmp_path: Path) -> None:
    (tmp_path / "x.tar").write_bytes(b"not a tar")
    with pytest.raises(BackupError, match="not a huijia backup"):
        read_manifest(tmp_path / "x.tar")
    with pytest.raises(BackupError, match="unknown backup format 'other/9'"):
        read_manifest(_archive(tmp_path / "y.tar", {"format": "other/9"}))


def test_missing_keys_are_named_and_nothing_is_restored(tmp_path: Path) -> None:
    key = base64.b64encode(b"a" * 32).decode()
    index = base64.b64encode(b"b" * 32).decode()
    ring = Keyring.from_settings(f"k1:{key}", f"i1:{index}")
    manifest = {"format": FORMAT, "data_key_ids": ["k1", "k2"], "index_key_ids": ["i1", "i9"]}
    assert missing_keys(manifest, ring) == ["data key 'k2' is not in HUIJIA_PII_KEYS",
                                            "blind-index key 'i9' is not in HUIJIA_PII_INDEX_KEYS"]
    archive = _archive(tmp_path / "b.tar", manifest)
    target = tmp_path / "data"
    # The key check comes first: no database is contacted (this URL names no server).
    with pytest.raises(BackupError, match="nothing was restored.*data key 'k2'") as exc:
        asyncio.run(restore(archive, "postgresql://nobody@127.0.0.1:1/none", target, ring))
    assert key not in str(exc.value)
    assert not target.exists() and not list(tmp_path.glob(".huijia-restore-*"))

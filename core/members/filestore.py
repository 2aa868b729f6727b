"""Uploaded rosters and generated exports: the members domain's area of ``core.files``.

Files live under ``<data_dir>/members/<kind>/<tenant id>/<object id>.enc`` (kinds ``imports`` and
``exports``), encrypted with the PII keyring from :mod:`core.members.pii_keys`; the chunk format and the
encryption context are ``core.files``'s (this area keeps the unprefixed context its files were
first written with). Data-key rotation (``huijia keys rotate``) calls :func:`reencrypt_stored`;
retention (``core/members/retention.py``) calls :func:`purge_stored`.

The module-level functions look up :func:`root` and ``pii_keys.keyring`` on every call, so a directory
set with :func:`use_root` or a keyring set with ``pii_keys.use`` is honoured at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from core.files import CHUNK, FileStore
from core.files import EncryptedReader as _Reader
from core.files import EncryptedWriter as _Writer
from core.members import pii_keys

__all__ = ["CHUNK", "KINDS", "EncryptedReader", "EncryptedWriter", "delete_stored", "open_stored", "path_for",
           "purge_stored", "reencrypt_stored", "root", "store_stream", "stored_exists", "stored_ids", "use_root"]

KINDS = ("imports", "exports")


# A directory that replaces ``<data_dir>/members`` in this process (see ``use_root``).
_root_override: Path | None = None


def root() -> Path:
    if _root_override is not None:
        return _root_override
    from core.settings import get_settings

    return get_settings().data_dir / "members"


def use_root(path: Path | None) -> Path | None:
    """Keep this process's member files under ``path`` (None: under the settings' data directory
    again); returns the replacement that was in effect. Tests keep their files in a temporary
    directory with it (tests/members/conftest.py)."""
    global _root_override
    previous, _root_override = _root_override, path
    return previous


STORE = FileStore("members", root=lambda: root(), keyring=lambda: pii_keys.keyring(), context_prefix="")


class EncryptedWriter(_Writer):
    def __init__(self, path: Path, kind: str, tenant_id: int, object_id: int) -> None:
        super().__init__(path, STORE.context(kind, tenant_id, object_id), STORE.keyring())


class EncryptedReader(_Reader):
    def __init__(self, path: Path, kind: str, tenant_id: int, object_id: int) -> None:
        super().__init__(path, STORE.context(kind, tenant_id, object_id), STORE.keyring())


def path_for(kind: str, tenant_id: int, object_id: int) -> Path:
    return STORE.path_for(kind, tenant_id, object_id)


def store_stream(chunks: Iterator[bytes], kind: str, tenant_id: int, object_id: int) -> int:
    return STORE.store_stream(chunks, kind, tenant_id, object_id)


def open_stored(kind: str, tenant_id: int, object_id: int) -> BinaryIO:
    return STORE.open_stored(kind, tenant_id, object_id)


def delete_stored(kind: str, tenant_id: int, object_id: int) -> None:
    STORE.delete_stored(kind, tenant_id, object_id)


def purge_stored(kind: str, tenant_id: int, object_id: int) -> bool:
    return STORE.purge_stored(kind, tenant_id, object_id)


def stored_ids(kind: str, tenant_id: int) -> list[int]:
    return STORE.stored_ids(kind, tenant_id)


def reencrypt_stored(kind: str, tenant_id: int, object_id: int) -> bool:
    return STORE.reencrypt_stored(kind, tenant_id, object_id)


def stored_exists(kind: str, tenant_id: int, object_id: int) -> bool:
    return STORE.stored_exists(kind, tenant_id, object_id)


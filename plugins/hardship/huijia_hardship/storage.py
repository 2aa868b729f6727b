"""Where attachment bytes live: behind :class:`AttachmentStorage`, four calls an S3-compatible
object store can answer as well as local disk (put an object, stream it back, test, delete), keyed
by tenant and attachment id only (never a file name a user chose).

The default is core's encrypted file store (area ``hardship``, kind ``attachment``), which
``huijia keys rotate`` re-encrypts and ``huijia backup`` carries (the plugin registers the area through
``register_file_stores``). Another backend is set
with :func:`use_storage` at start-up; it must encrypt at rest itself (attachments are personal data).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

AREA = "hardship"
KIND = "attachment"


class AttachmentStorage(Protocol):
    def put(self, tenant_id: int, attachment_id: int, chunks: Iterator[bytes]) -> int:
        """Store the whole object atomically (visible complete or not at all); return its size."""

    def open(self, tenant_id: int, attachment_id: int) -> BinaryIO:
        """A readable stream of the plain bytes (``FileNotFoundError`` when absent)."""

    def exists(self, tenant_id: int, attachment_id: int) -> bool: ...

    def delete(self, tenant_id: int, attachment_id: int) -> None: ...


class CoreFileStorage:
    """Core's encrypted per-tenant store on local disk."""

    def _store(self):  # type: ignore[no-untyped-def]
        from core.sdk import files

        return files.store(AREA)

    def put(self, tenant_id: int, attachment_id: int, chunks: Iterator[bytes]) -> int:
        return int(self._store().store_stream(chunks, KIND, tenant_id, attachment_id))

    def open(self, tenant_id: int, attachment_id: int) -> BinaryIO:
        return self._store().open_stored(KIND, tenant_id, attachment_id)

    def exists(self, tenant_id: int, attachment_id: int) -> bool:
        return bool(self._store().stored_exists(KIND, tenant_id, attachment_id))

    def delete(self, tenant_id: int, attachment_id: int) -> None:
        self._store().delete_stored(KIND, tenant_id, attachment_id)


_current: AttachmentStorage = CoreFileStorage()


def storage() -> AttachmentStorage:
    return _current


def use_storage(backend: AttachmentStorage) -> AttachmentStorage:
    """Replace the backend (returns the previous one, so a test can put it back)."""
    global _current
    previous, _current = _current, backend
    return previous

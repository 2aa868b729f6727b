"""Encrypted per-tenant file storage for every domain and capability (rosters, exports, attachments).

A stored file may be personal data, so it is never written as given. It is cut into 1 MiB chunks;
each chunk is encrypted with the PII keyring (AES-256-GCM) under the context
``<prefix><kind>:<tenant>:<object id>:<chunk no>[:last]`` and written as one line. Every line except
the last has the same length, so :class:`EncryptedReader` can seek (openpyxl reads an XLSX's zip
directory from the end) and decrypts only the chunks it touches. Reordered, truncated, swapped or
edited chunks fail authentication, and so does a file moved to another tenant, object, kind or area.

Each owner gets its own :class:`FileStore` area under ``<data_dir>/<area>/``, with only ids in paths:
``<area>/<kind>/<tenant id>/<object id>.enc``. A capability gets one with ``store("hardship")``
(``core.sdk.files.store``); the members domain's uploads and exports use the area ``members``.

Data-key rotation re-encrypts stored files with :meth:`FileStore.reencrypt_stored`: chunk by chunk
into a temporary file, then an atomic rename, so a reader that has the file open keeps reading the
old copy and a new reader sees one whole file or the other.
"""

from __future__ import annotations

import base64
import functools
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from core.pii import Keyring

__all__ = ["CHUNK", "EncryptedReader", "EncryptedWriter", "FileStore", "chunk_context", "settings_keyring", "store"]

CHUNK = 1024 * 1024


def chunk_context(context: str, chunk_no: int, last: bool) -> str:
    return f"{context}:{chunk_no}" + (":last" if last else "")


def settings_keyring() -> Keyring:
    """The PII keyring from the process settings (HUIJIA_PII_KEYS), as the members domain uses."""
    from core.settings import get_settings

    s = get_settings()
    return _keyring(s.pii_keys, s.pii_index_keys)


@functools.lru_cache(maxsize=4)
def _keyring(spec: str, index_keys: str) -> Keyring:
    return Keyring.from_settings(spec, index_keys)


class EncryptedWriter:
    """Write plaintext bytes in any pieces; chunks are sealed as they fill. Call ``close()``."""

    def __init__(self, path: Path, context: str, ring: Keyring) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._tmp = path.with_suffix(".part")
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._out = os.fdopen(fd, "w", encoding="ascii", newline="\n")
        self._context = context
        self._buf = bytearray()
        self._chunk_no = 0
        self.size = 0
        self._ring = ring

    def write(self, data: bytes) -> int:
        self._buf += data
        self.size += len(data)
        while len(self._buf) > CHUNK:  # keep at least one byte back: the last chunk is marked
            self._seal(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, last: bool) -> None:
        ctx = chunk_context(self._context, self._chunk_no, last)
        token = self._ring.encrypt(base64.b64encode(plain).decode("ascii"), context=ctx)
        self._out.write(token + "\n")
        self._chunk_no += 1

    def close(self) -> None:
        self._seal(bytes(self._buf), last=True)
        self._buf.clear()
        self._out.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._out.close()
        self._tmp.unlink(missing_ok=True)


class EncryptedReader(io.RawIOBase):
    """A seekable, read-only binary file over an encrypted store file."""

    def __init__(self, path: Path, context: str, ring: Keyring) -> None:
        super().__init__()
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._context = context
        first = self._f.readline()
        self._line = len(first)
        total = os.fstat(self._f.fileno()).st_size
        self._chunks = max(1, -(-total // self._line)) if self._line else 0
        self._ring = ring
        self._pos = 0
        self._cache: tuple[int, bytes] | None = None
        last = self._chunk(self._chunks - 1) if self._chunks else b""
        self._size = (self._chunks - 1) * CHUNK + len(last)

    def _chunk(self, n: int) -> bytes:
        if self._cache and self._cache[0] == n:
            return self._cache[1]
        self._f.seek(n * self._line)
        line = self._f.readline().rstrip(b"\n")
        last = n == self._chunks - 1
        plain = base64.b64decode(self._ring.decrypt(line.decode("ascii"), context=chunk_context(self._context, n, last)))
        if not last and len(plain) != CHUNK:
            raise ValueError("stored file is damaged")
        self._cache = (n, plain)
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # io passes a memoryview; typeshed says any buffer
        if self._pos >= self._size:
            return 0
        n, off = divmod(self._pos, CHUNK)
        data = self._chunk(n)[off: off + len(buffer)]
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    @property
    def size(self) -> int:
        return self._size

    def close(self) -> None:
        if not self.closed:
            self._f.close()
            self._cache = None
        super().close()


class FileStore:
    """One owner's area of the encrypted store.

    ``root`` and ``keyring`` are called on every operation (not captured once), so settings and
    tests that swap them take effect; ``context_prefix`` defaults to ``"<area>/"``, binding each
    file to its area (the members area keeps the empty prefix its files were written with).
    """

    def __init__(self, area: str, *, root: Callable[[], Path] | None = None,
                 keyring: Callable[[], Keyring] | None = None, context_prefix: str | None = None) -> None:
        if not area.isidentifier():
            raise ValueError(f"file store area {area!r} must be an identifier")
        self.area = area
        self._root = root
        self._keyring = keyring or settings_keyring
        self.context_prefix = f"{area}/" if context_prefix is None else context_prefix

    def root(self) -> Path:
        if self._root is not None:
            return self._root()
        from core.settings import get_settings

        return get_settings().data_dir / self.area

    def keyring(self) -> Keyring:
        return self._keyring()

    def context(self, kind: str, tenant_id: int, object_id: int) -> str:
        return f"{self.context_prefix}{kind}:{tenant_id}:{object_id}"

    def path_for(self, kind: str, tenant_id: int, object_id: int) -> Path:
        if not kind.isidentifier():
            raise ValueError(f"file kind {kind!r} must be an identifier")
        return self.root() / kind / str(int(tenant_id)) / f"{int(object_id)}.enc"

    def writer(self, kind: str, tenant_id: int, object_id: int) -> EncryptedWriter:
        """A writer for one file; ``close()`` publishes it atomically, ``abort()`` drops it."""
        return EncryptedWriter(self.path_for(kind, tenant_id, object_id), self.context(kind, tenant_id, object_id),
                               self.keyring())

    def store_stream(self, chunks: Iterator[bytes], kind: str, tenant_id: int, object_id: int) -> int:
        writer = self.writer(kind, tenant_id, object_id)
        try:
            for piece in chunks:
                writer.write(piece)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        return writer.size

    def open_stored(self, kind: str, tenant_id: int, object_id: int) -> BinaryIO:
        reader = EncryptedReader(self.path_for(kind, tenant_id, object_id), self.context(kind, tenant_id, object_id),
                                 self.keyring())
        return io.BufferedReader(reader, buffer_size=256 * 1024)

    def delete_stored(self, kind: str, tenant_id: int, object_id: int) -> None:
        self.path_for(kind, tenant_id, object_id).unlink(missing_ok=True)

    def purge_stored(self, kind: str, tenant_id: int, object_id: int) -> bool:
        """Delete the stored file and any half-written one a crashed writer left (``.part``). True when
        there was something to delete."""
        path = self.path_for(kind, tenant_id, object_id)
        found = False
        for p in (path, path.with_suffix(".part")):
            try:
                p.unlink()
                found = True
            except FileNotFoundError:
                pass
        return found

    def stored_ids(self, kind: str, tenant_id: int) -> list[int]:
        """Ids of the complete stored files of one kind and tenant, in order."""
        folder = self.root() / kind / str(int(tenant_id))
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.enc") if p.stem.isdigit())

    def stored_exists(self, kind: str, tenant_id: int, object_id: int) -> bool:
        return self.path_for(kind, tenant_id, object_id).exists()

    def reencrypt_stored(self, kind: str, tenant_id: int, object_id: int) -> bool:
        """Re-encrypt one stored file under the active data key; False when it already is (or is gone).

        A file is written under one key (the writer's keyring is fixed when it starts, and this writes
        a whole new file), so its first line tells. The temporary file is renamed over the original
        only if the original is still there: if the owner deleted or purged it while this copied it,
        the copy is dropped rather than bringing the file back."""
        path = self.path_for(kind, tenant_id, object_id)
        ring = self.keyring()
        context = self.context(kind, tenant_id, object_id)
        try:
            src = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return False
        tmp = path.with_suffix(".rotate")
        with src:
            first = src.readline()
            if not first or first.startswith(f"v1.{ring.active_key_id}.".encode("ascii")):
                return False
            info = os.fstat(src.fileno())
            chunks = max(1, -(-info.st_size // len(first)))  # as EncryptedReader counts them
            src.seek(0)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="ascii", newline="\n") as out:
                    for n in range(chunks):
                        line = src.readline().rstrip(b"\n").decode("ascii")
                        out.write(ring.reencrypt(line, context=chunk_context(context, n, n == chunks - 1)) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                try:
                    current = os.stat(path).st_ino
                except FileNotFoundError:
                    current = None
                if current != info.st_ino:
                    tmp.unlink(missing_ok=True)
                    return False
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return True


_stores: dict[str, FileStore] = {}


def store(area: str) -> FileStore:
    """The file store area of a capability or domain (one instance per area)."""
    found = _stores.get(area)
    if found is None:
        found = _stores[area] = FileStore(area)
    return found

"""Uploaded rosters and generated exports, encrypted at rest under ``<data_dir>/members/``.

A roster is personal data in plain text, so it is never stored as uploaded. The file is cut into
1 MiB chunks; each chunk is encrypted with the PII keyring (AES-256-GCM) under the context
``<kind>:<tenant>:<object id>:<chunk no>[:last]`` and written as one line. Every line except the
last has the same length, so :class:`EncryptedReader` can seek (openpyxl reads an XLSX's zip
directory from the end) and decrypts only the chunks it touches. Reordered, truncated, swapped or
edited chunks fail authentication.

Only ids appear in paths: ``members/imports/<tenant id>/<import id>.enc``.

Data-key rotation (``huijia keys rotate``) re-encrypts stored files with :func:`reencrypt_stored`:
chunk by chunk into a temporary file, then an atomic rename, so a reader that has the file open
keeps reading the old copy and a new reader sees one whole file or the other. Retention
(``core/members/retention.py``) deletes them with :func:`purge_stored`.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import BinaryIO, Iterator

from core.members import keys

CHUNK = 1024 * 1024
KINDS = ("imports", "exports")


def root() -> Path:
    from core.settings import get_settings

    return get_settings().data_dir / "members"


def path_for(kind: str, tenant_id: int, object_id: int) -> Path:
    return root() / kind / str(int(tenant_id)) / f"{int(object_id)}.enc"


def _context(kind: str, tenant_id: int, object_id: int, chunk_no: int, last: bool) -> str:
    return f"{kind}:{tenant_id}:{object_id}:{chunk_no}" + (":last" if last else "")


class EncryptedWriter:
    """Write plaintext bytes in any pieces; chunks are sealed as they fill. Call ``close()``."""

    def __init__(self, path: Path, kind: str, tenant_id: int, object_id: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._tmp = path.with_suffix(".part")
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._out = os.fdopen(fd, "w", encoding="ascii", newline="\n")
        self._ids = (kind, tenant_id, object_id)
        self._buf = bytearray()
        self._chunk_no = 0
        self.size = 0
        self._ring = keys.keyring()

    def write(self, data: bytes) -> int:
        self._buf += data
        self.size += len(data)
        while len(self._buf) > CHUNK:  # keep at least one byte back: the last chunk is marked
            self._seal(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, last: bool) -> None:
        ctx = _context(*self._ids, self._chunk_no, last)
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

    def __init__(self, path: Path, kind: str, tenant_id: int, object_id: int) -> None:
        super().__init__()
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._ids = (kind, tenant_id, object_id)
        first = self._f.readline()
        self._line = len(first)
        total = os.fstat(self._f.fileno()).st_size
        self._chunks = max(1, -(-total // self._line)) if self._line else 0
        self._ring = keys.keyring()
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
        plain = base64.b64decode(self._ring.decrypt(line.decode("ascii"), context=_context(*self._ids, n, last)))
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

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
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


def store_stream(chunks: Iterator[bytes], kind: str, tenant_id: int, object_id: int) -> int:
    writer = EncryptedWriter(path_for(kind, tenant_id, object_id), kind, tenant_id, object_id)
    try:
        for piece in chunks:
            writer.write(piece)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return writer.size


def open_stored(kind: str, tenant_id: int, object_id: int) -> BinaryIO:
    reader = EncryptedReader(path_for(kind, tenant_id, object_id), kind, tenant_id, object_id)
    return io.BufferedReader(reader, buffer_size=256 * 1024)  # type: ignore[return-value]


def delete_stored(kind: str, tenant_id: int, object_id: int) -> None:
    path_for(kind, tenant_id, object_id).unlink(missing_ok=True)


def purge_stored(kind: str, tenant_id: int, object_id: int) -> bool:
    """Delete the stored file and any half-written one a crashed writer left (``.part``). True when
    there was something to delete."""
    path = path_for(kind, tenant_id, object_id)
    found = False
    for p in (path, path.with_suffix(".part")):
        try:
            p.unlink()
            found = True
        except FileNotFoundError:
            pass
    return found


def stored_ids(kind: str, tenant_id: int) -> list[int]:
    """Ids of the complete stored files of one kind and tenant, in order."""
    folder = root() / kind / str(int(tenant_id))
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("*.enc") if p.stem.isdigit())


def reencrypt_stored(kind: str, tenant_id: int, object_id: int) -> bool:
    """Re-encrypt one stored file under the active data key; False when it already is (or is gone).

    A file is written under one key (the writer's keyring is fixed when it starts, and this writes a
    whole new file), so its first line tells. The temporary file is renamed over the original only
    if the original is still there: if the import was committed or discarded, or the file purged,
    while this copied it, the copy is dropped rather than bringing the file back."""
    path = path_for(kind, tenant_id, object_id)
    ring = keys.keyring()
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
                    context = _context(kind, tenant_id, object_id, n, n == chunks - 1)
                    out.write(ring.reencrypt(line, context=context) + "\n")
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


def stored_exists(kind: str, tenant_id: int, object_id: int) -> bool:
    return path_for(kind, tenant_id, object_id).exists()

"""Uploaded rosters and generated exports, encrypted at rest under ``<data_dir>/members/``.

A roster is personal data in plain text, so it is never stored as uploaded. The file is cut into
1 MiB chunks; each chunk is encrypted with the PII keyring (AES-256-GCM) under the context
``<kind>:<tenant>:<object id>:<chunk no>[:last]`` and written as one line. Every line except the
last has the same length, so :class:`EncryptedReader` can seek (openpyxl reads an XLSX's zip
directory from the end) and decrypts only the chunks it touches. Reordered, truncated, swapped or
edited chunks fail authentication.

Only ids appear in paths: ``members/imports/<tenant id>/<import id>.enc``.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import BinaryIO, Iterator

from core.members import keys

CHUNK = 1024 * 1024


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


def stored_exists(kind: str, tenant_id: int, object_id: int) -> bool:
    return path_for(kind, tenant_id, object_id).exists()

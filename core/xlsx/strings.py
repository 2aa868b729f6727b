"""The shared-strings table of an XLSX (``xl/sharedStrings.xml``), streamed: held in memory while small,
spilled to an unlinked temporary file in sealed pages (AES-GCM under a key that lives only in this
process, because the strings are personal data) when large, and read back by index."""

from __future__ import annotations

import os
import tempfile
import zipfile
from array import array
from collections import OrderedDict

from core.xlsx.parts import DEFAULT_LIMITS, MAX_RUNS, PAGE, BadXlsx, Limits, _names, _open_part, _parse

DATA_PAGES_CACHED = 8
OFFSET_PAGES_CACHED = 8


class _SealedPages:
    """An append-only temporary file in AES-GCM pages of PAGE bytes under a key of its own that
    never leaves memory: what is spilled is unreadable once the reader is done (or killed)."""

    def __init__(self, cached: int, page: int = PAGE) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._f = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._buf = bytearray()
        self._sealed = 0
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cached = cached
        self._page_size = page
        self._last_n = -1
        self._last_page = b""
        self.size = 0

    def write(self, data: bytes) -> None:
        self._buf += data
        self.size += len(data)
        while len(self._buf) >= self._page_size:
            self._seal(bytes(self._buf[: self._page_size]))
            del self._buf[: self._page_size]

    def _seal(self, plain: bytes) -> None:
        self._f.write(self._aead.encrypt(self._sealed.to_bytes(12, "big"), plain, None))
        self._sealed += 1

    def finish(self) -> None:
        if self._buf:
            self._seal(bytes(self._buf))
            self._buf.clear()
        self._f.flush()

    def page(self, n: int) -> bytes:
        if n == self._last_n:  # rows mostly use strings stored next to each other
            return self._last_page
        found = self._cache.get(n)
        if found is not None:
            self._cache.move_to_end(n)
        else:
            sealed = os.pread(self._f.fileno(), self._page_size + 16, n * (self._page_size + 16))
            found = self._aead.decrypt(n.to_bytes(12, "big"), sealed, None)
            self._cache[n] = found
            if len(self._cache) > self._cached:
                self._cache.popitem(last=False)
        self._last_n, self._last_page = n, found
        return found

    def read(self, offset: int, length: int) -> bytes:
        size = self._page_size
        n, at = divmod(offset, size)
        first = self.page(n)
        if at + length <= size:
            return first[at: at + length]
        pieces = [first[at:]]
        got = size - at
        while got < length:
            n += 1
            piece = self.page(n)[: length - got]
            pieces.append(piece)
            got += len(piece)
        return b"".join(pieces)

    def close(self) -> None:
        self._f.close()
        self._cache.clear()
        self._last_n, self._last_page = -1, b""


class SharedStrings:
    """The shared-strings table by index: a list while small, sealed pages on disk beyond that
    (UTF-8 data, and the end offset of each string as 8 bytes)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._memory: list[str] | None = []
        self._per_page = limits.page // 8
        self._chars = 0
        self._data: _SealedPages | None = None
        self._ends: _SealedPages | None = None
        self._pending = array("Q")
        self._offsets: OrderedDict[int, array[int]] = OrderedDict()
        self._last_n = -1
        self._last_ends = array("Q")
        self.count = 0

    @property
    def spilled(self) -> bool:
        return self._data is not None

    def append(self, text: str) -> None:
        self.count += 1
        if self._memory is not None:
            self._memory.append(text)
            self._chars += len(text)
            if len(self._memory) > self._limits.memory_strings or self._chars > self._limits.memory_chars:
                self._spill()
            return
        self._write(text)

    def _spill(self) -> None:
        assert self._memory is not None
        page = self._limits.page
        self._data, self._ends = _SealedPages(DATA_PAGES_CACHED, page), _SealedPages(0, page)
        held, self._memory = self._memory, None
        for text in held:
            self._write(text)

    def _write(self, text: str) -> None:
        assert self._data is not None and self._ends is not None
        self._data.write(text.encode("utf-8", "surrogatepass"))
        self._pending.append(self._data.size)
        if len(self._pending) >= self._per_page:
            self._ends.write(self._pending.tobytes())
            self._pending = array("Q")

    def finish(self) -> None:
        if self._data is not None and self._ends is not None:
            self._ends.write(self._pending.tobytes())
            self._pending = array("Q")
            self._data.finish()
            self._ends.finish()

    def _ends_page(self, n: int) -> array[int]:
        if n == self._last_n:
            return self._last_ends
        page = self._offsets.get(n)
        if page is None:
            assert self._ends is not None
            page = array("Q")
            page.frombytes(self._ends.page(n))
            self._offsets[n] = page
            if len(self._offsets) > OFFSET_PAGES_CACHED:
                self._offsets.popitem(last=False)
        else:
            self._offsets.move_to_end(n)
        self._last_n, self._last_ends = n, page
        return page

    def __getitem__(self, i: int) -> str:
        if i < 0:
            raise IndexError(i)
        if self._memory is not None:
            return self._memory[i]
        if i >= self.count:
            raise IndexError(i)
        n, at = divmod(i, self._per_page)
        ends = self._ends_page(n)
        end = ends[at]
        start = ends[at - 1] if at else (self._ends_page(n - 1)[-1] if n else 0)
        assert self._data is not None
        return self._data.read(start, end - start).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        for pages in (self._data, self._ends):
            if pages is not None:
                pages.close()
        self._memory = []
        self._offsets.clear()
        self._last_n, self._last_ends = -1, array("Q")


def read_shared_strings(z: zipfile.ZipFile, path: str | None, max_chars: int,
                        limits: Limits = DEFAULT_LIMITS) -> SharedStrings:
    """Stream the table: the text of each ``<si>`` is its plain ``<t>`` and its rich-text runs'
    ``<t>``, never the phonetic ``<rPh>`` guide. A text longer than ``max_chars`` is kept cut to
    ``max_chars + 1`` characters, enough for the row guard to refuse the row that uses it."""
    strings = SharedStrings(limits)
    if not path or path not in z.NameToInfo:
        strings.finish()
        return strings
    names = _names("si", "t", "r", "rPh")
    depth = [0]
    chars = [0]  # of the current <si>: past max_chars nothing more is kept
    plain: list[str | None] = [None]
    runs: list[str] = []
    in_run = [False]
    phonetic = [0]
    text: list[str | None] = [None]
    collecting = [False]

    def start(name: str, attrs: dict[str, str]) -> None:
        local = names.get(name)
        if local is None:
            if depth[0]:
                depth[0] += 1
            return
        if local == "si":
            depth[0] = 1
            plain[0] = None
            runs.clear()
            chars[0] = 0
            return
        if not depth[0]:
            return
        depth[0] += 1
        if local == "t" and not phonetic[0] and (depth[0] == 2 or (in_run[0] and depth[0] == 3)):
            collecting[0] = True
            text[0] = None
        elif local == "r" and depth[0] == 2:
            if len(runs) >= MAX_RUNS:
                raise BadXlsx("workbook")
            in_run[0] = True
            runs.append("")
        elif local == "rPh":
            phonetic[0] += 1

    def end(name: str) -> None:
        local = names.get(name)
        if not depth[0]:
            return
        depth[0] -= 1
        if local == "t" and collecting[0]:
            collecting[0] = False
            piece = text[0]
            if chars[0] > max_chars:
                piece = ""  # already enough for the row guard; keep nothing more
            chars[0] += len(piece or "")
            if in_run[0]:
                runs[-1] = piece or ""
            else:
                plain[0] = piece  # the last one wins, as in openpyxl
        elif local == "r" and depth[0] == 1:
            in_run[0] = False
        elif local == "rPh":
            phonetic[0] -= 1
        elif local == "si" and depth[0] == 0:
            value = (plain[0] or "") + "".join(runs)
            if len(value) > max_chars:
                value = value[: max_chars + 1]
            if "x005F_" in value:  # openpyxl's reading of Excel's escaped "_x…_" sequences
                value = value.replace("x005F_", "")
            strings.append(value)

    def data(piece: str) -> None:
        if collecting[0]:
            current = text[0]
            if current is None:
                text[0] = piece
            elif len(current) <= max_chars:
                text[0] = (current + piece)[: max_chars + 1]

    try:
        with _open_part(z, path) as src:
            for _ in _parse(src, start, end, data, stall_bytes=limits.stall_bytes):
                pass
        strings.finish()
    except BaseException:
        strings.close()
        raise
    return strings

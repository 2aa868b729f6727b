"""The XML parts of an XLSX package, read safely: a hardened expat fed in chunks, and the limits that
bound what a reader keeps (:mod:`core.xlsx.reader`, :mod:`core.xlsx.strings`)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from xml.parsers import expat

_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_DOC_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
               "http://purl.oclc.org/ooxml/officeDocument/relationships")
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

MAX_ROW = 1_048_576  # Excel's limits
MAX_COL = 16_384
READ_CHUNK = 64 * 1024
STALL_BYTES = 16 * 1024 * 1024  # this much XML without a single element is not a spreadsheet
MAX_ATTR = 1024
MAX_RUNS = 4096  # rich-text runs in one string

# Shared strings stay in memory up to this many (or this many characters), then spill to disk in
# sealed pages of PAGE bytes.
MEMORY_STRINGS = 16_384
MEMORY_CHARS = 1024 * 1024
PAGE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What a reader holds in memory before it refuses the file (``stall_bytes``) or spills the
    shared strings to disk. The defaults are for production; tests shrink them to reach these paths
    with small files."""

    stall_bytes: int = STALL_BYTES
    memory_strings: int = MEMORY_STRINGS
    memory_chars: int = MEMORY_CHARS
    page: int = PAGE


DEFAULT_LIMITS = Limits()


class BadXlsx(Exception):
    """``stage``: workbook (the file's structure), sheet (reading rows), doctype (a DOCTYPE or
    entity declaration), row (a row over the character limit; ``row`` names it)."""

    def __init__(self, stage: str, row: int | None = None) -> None:
        super().__init__(stage)
        self.stage = stage
        self.row = row


def _refuse(*_: Any) -> None:
    raise BadXlsx("doctype")


def _parse(src: IO[bytes], start: Callable[..., None], end: Callable[[str], None] | None,
           data: Callable[[str], None] | None, stop: list[bool] | None = None,
           stall_bytes: int = STALL_BYTES) -> Iterator[None]:
    """Feed ``src`` to a namespace-aware expat parser in chunks; yields after each chunk so the
    caller can hand on what the handlers collected."""
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True
    p.StartDoctypeDeclHandler = _refuse
    p.EntityDeclHandler = _refuse
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.StartElementHandler = start
    if end is not None:
        p.EndElementHandler = end
    if data is not None:
        p.CharacterDataHandler = data
    fed = 0
    while True:
        chunk = src.read(READ_CHUNK)
        p.Parse(chunk, not chunk)
        fed += len(chunk)
        # Expat holds an unfinished tag (a name or attribute value) in memory: that may not grow.
        if fed - max(p.CurrentByteIndex, 0) > stall_bytes:
            raise BadXlsx("workbook")
        yield
        if not chunk or (stop is not None and stop[0]):
            return


_DONE = object()


def _names(*locals_: str, ns: tuple[str, ...] = _MAIN_NS) -> dict[str, str]:
    return {f"{n} {local}": local for n in ns for local in locals_}


def _open_part(z: zipfile.ZipFile, name: str) -> IO[bytes]:
    return z.open(name)  # streams; a CRC mismatch surfaces at the end as BadZipFile

"""A streaming XLSX writer: one worksheet, rows written as they come, nothing on disk but the output.

openpyxl's write-only mode spools each worksheet to a plain-text temporary file and zips it at
``save()``. For an export of personal data (an unmasked roster holds ID numbers and phones) that is a
copy in clear text on disk for the length of the job, outside the encrypted store. This writer
instead streams the worksheet XML straight into the zip, and the zip into any writable binary
stream, such as ``core.members.filestore.EncryptedWriter``; memory stays at one deflate window plus
one row, whatever the number of rows.

Strings are written inline (``t="inlineStr"``), not through a shared-strings table, which would have
to be held whole until the end. Excel, WPS, LibreOffice and openpyxl all read inline strings. Numbers
(int, float, not bool) are numeric cells; everything else is text, so an ID number can never become
a rounded number in Excel.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

# Characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/F).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_SHEET_NAME = 31

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name={name} sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
# Style 0: default. Style 1: bold (the header row).
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _text(value: Any) -> str:
    return escape(_ILLEGAL.sub("", str(value)))


class XlsxStreamWriter:
    """``with XlsxStreamWriter(out, "会员名册", widths=[...]) as x: x.header([...]); x.row([...])``.

    ``out`` needs only ``write``; it is not closed. Leaving the ``with`` block normally finishes the
    file; an exception leaves it unfinished (the caller discards the output)."""

    def __init__(self, out: BinaryIO, sheet_name: str = "Sheet1", *, widths: Sequence[float] | None = None,
                 freeze_header: bool = True) -> None:
        name = _ILLEGAL.sub("", re.sub(r"[\[\]:*?/\\]", "", sheet_name))[:_MAX_SHEET_NAME] or "Sheet1"
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        for part, body in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                           ("xl/workbook.xml", _WORKBOOK.format(name=quoteattr(name))),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), ("xl/styles.xml", _STYLES)):
            self._zip.writestr(part, body)
        # force_zip64: the sheet's size is not known in advance and may pass 4 GiB.
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        head = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
        if freeze_header:
            head.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>')
        if widths:
            head.append("<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                                           for i, w in enumerate(widths, start=1)) + "</cols>")
        head.append("<sheetData>")
        self._sheet.write("".join(head).encode())
        self._rows = 0
        self._pending: list[str] = []
        self._finished = False

    @property
    def rows(self) -> int:
        return self._rows

    def header(self, values: Iterable[Any]) -> None:
        self._row(values, style=1)

    def row(self, values: Iterable[Any]) -> None:
        self._row(values, style=0)

    def _row(self, values: Iterable[Any], style: int) -> None:
        self._rows += 1
        r = self._rows
        s = f' s="{style}"' if style else ""
        cells = []
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            ref = f"{column_letter(i)}{r}"
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                cells.append(f'<c r="{ref}"{s}><v>{v!r}</v></c>')
            else:
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(v)}</t></is></c>')
        self._pending.append(f'<row r="{r}">{"".join(cells)}</row>')
        if len(self._pending) >= 256:  # fewer, larger writes into the deflater
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._sheet.write("".join(self._pending).encode())
            self._pending.clear()

    def finish(self) -> None:
        if self._finished:
            return
        self._flush()
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()
        self._finished = True

    def __enter__(self) -> XlsxStreamWriter:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.finish()

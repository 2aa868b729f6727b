"""A streaming XLSX reader (rosters are its first use): memory stays flat whatever the file size.

openpyxl's read-only mode streams the worksheet but loads the workbook's shared-strings table
(``xl/sharedStrings.xml``) whole into a Python list. Every distinct text of the workbook (names,
ID numbers typed as text, employers) is in that table, so a provincial roster costs hundreds of MB
before the first row. This reader:

- finds the first visible worksheet through ``workbook.xml`` and its relationships (a roster's
  first tab is not necessarily ``sheet1.xml``);
- streams ``sharedStrings.xml`` with expat and keeps the strings in memory only while the table is
  small; a larger table is spilled to an unlinked temporary file in sealed pages (AES-GCM under a
  throwaway key that lives only in this process, because the strings are personal data) and read
  back by index through a small page cache;
- streams the worksheet with expat, one row at a time;
- refuses any DOCTYPE (so no entity expansion, internal or external) and bounds what it keeps:
  a text of more than ``max_row_chars`` characters is cut there and a row's texts may not add up
  to more (the CSV reader's line guard), a row has at most 16,384 cells and a string 4,096 rich-text
  runs, rows and columns stay within Excel's limits, and expat may not hold more than 16 MB of an
  unfinished tag.

Values are what openpyxl's ``load_workbook(read_only=True, data_only=True)`` and
``iter_rows(values_only=True)`` give, which the importer was built on: ``t="s"``/``inlineStr``/
``str``/``e`` as text (rich-text runs joined, phonetic ``rPh`` runs ignored), numbers as ``int``
when written without a point or exponent else ``float``, booleans, ISO ``t="d"`` cells, and numbers
styled with a date format as ``datetime`` (``time`` below one day, ``timedelta`` for ``[h]:mm``
formats), in the 1900 or 1904 date system. Missing cells are ``None`` in their position. One
deliberate difference: the East Asian built-in date formats (ids 27-36 and 50-58, which Excel on a
Chinese Windows uses for 2024年3月1日-style cells) count as dates; openpyxl does not know them
and returns the serial number.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from array import array
from collections.abc import Iterator
from typing import IO, Any

from core.xlsx.parts import (
    _DOC_REL_NS,
    _DONE,
    _PKG_REL_NS,
    DEFAULT_LIMITS,
    MAX_ATTR,
    MAX_COL,
    MAX_ROW,
    MAX_RUNS,
    BadXlsx,
    Limits,
    _names,
    _open_part,
    _parse,
)
from core.xlsx.strings import SharedStrings, read_shared_strings

MAX_SHEETS = 4096
MAX_RELS = 100_000
MAX_STYLES = 1_000_000

WINDOWS_EPOCH = dt.datetime(1899, 12, 30)
MAC_EPOCH = dt.datetime(1904, 1, 1)


# ---------------------------------------------------------------------------------------------
# Workbook structure
# ---------------------------------------------------------------------------------------------


def _rels(z: zipfile.ZipFile, path: str, base: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, tuple[str, str]]:
    """Id -> (type, part name) of a relationships part; absent part -> {}."""
    if path not in z.NameToInfo:
        return {}
    found: dict[str, tuple[str, str]] = {}
    tag = f"{_PKG_REL_NS} Relationship"

    def start(name: str, attrs: dict[str, str]) -> None:
        if name != tag or attrs.get("TargetMode") == "External":
            return
        rid, kind, target = attrs.get("Id", ""), attrs.get("Type", ""), attrs.get("Target", "")
        if len(found) >= MAX_RELS or max(len(rid), len(kind), len(target)) > MAX_ATTR:
            raise BadXlsx("workbook")
        part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        found[rid] = (kind, part)

    with _open_part(z, path) as src:
        for _ in _parse(src, start, None, None, stall_bytes=limits.stall_bytes):
            pass
    return found


def _workbook(z: zipfile.ZipFile, limits: Limits = DEFAULT_LIMITS) -> tuple[list[tuple[str, str]], bool]:
    """The sheets as (state, relationship id) in tab order, and whether dates count from 1904."""
    sheets: list[tuple[str, str]] = []
    date1904 = [False]
    names = _names("sheet", "workbookPr")
    rid_attrs = [f"{n} id" for n in _DOC_REL_NS]

    def start(name: str, attrs: dict[str, str]) -> None:
        local = names.get(name)
        if local == "sheet":
            rid = next((attrs[a] for a in rid_attrs if a in attrs), "")
            if len(sheets) >= MAX_SHEETS or len(rid) > MAX_ATTR:
                raise BadXlsx("workbook")
            if rid:  # openpyxl drops a sheet without one, and so do we
                sheets.append((attrs.get("state", "visible"), rid))
        elif local == "workbookPr":
            date1904[0] = attrs.get("date1904", "").strip().lower() in ("1", "true")

    with _open_part(z, "xl/workbook.xml") as src:
        for _ in _parse(src, start, None, None, stall_bytes=limits.stall_bytes):
            pass
    return sheets, date1904[0]


# Number formats. A numeric cell whose style's format is a date or time becomes a datetime.
_BUILTIN_DATES = {
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
    20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0",
    # East Asian locales (zh-CN shown): Excel writes these ids without defining them.
    27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy", 31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"', 33: 'h"时"mm"分"ss"秒"', 34: '上午/下午h"时"mm"分"', 35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"', 50: 'yyyy"年"m"月"', 51: 'm"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"',
    54: 'm"月"d"日"', 55: '上午/下午h"时"mm"分"', 56: '上午/下午h"时"mm"分"ss"秒"', 57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}
# As openpyxl.styles.numbers: quoted literals and [locale/colour] sections do not count, but the
# elapsed-time brackets [h] [mm] [ss] do.
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CHAR = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_ELAPSED = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
NOT_DATE, DATE, ELAPSED = 0, 1, 2


def format_kind(code: str | None) -> int:
    if not code:
        return NOT_DATE
    first = code.split(";")[0]
    if _ELAPSED.search(first):
        return ELAPSED
    return DATE if _DATE_CHAR.search(_STRIP.sub("", first)) else NOT_DATE


def _styles(z: zipfile.ZipFile, path: str | None, limits: Limits = DEFAULT_LIMITS) -> dict[int, int]:
    """Cell style index -> DATE or ELAPSED, for the styles whose number format is one."""
    if not path or path not in z.NameToInfo:
        return {}
    custom: dict[int, int] = {}
    xf_formats = array("i")
    names = _names("numFmt", "cellXfs", "xf")
    in_xfs = [False]

    def as_int(text: str | None) -> int:
        try:
            return int(text or 0)
        except ValueError:
            return 0

    def start(name: str, attrs: dict[str, str]) -> None:
        local = names.get(name)
        if local == "numFmt":
            if len(custom) >= MAX_STYLES:
                raise BadXlsx("workbook")
            custom[as_int(attrs.get("numFmtId"))] = format_kind(attrs.get("formatCode"))
        elif local == "cellXfs":
            in_xfs[0] = True
        elif local == "xf" and in_xfs[0]:
            if len(xf_formats) >= MAX_STYLES:
                raise BadXlsx("workbook")
            xf_formats.append(as_int(attrs.get("numFmtId")))

    def end(name: str) -> None:
        if names.get(name) == "cellXfs":
            in_xfs[0] = False

    with _open_part(z, path) as src:
        for _ in _parse(src, start, end, None, stall_bytes=limits.stall_bytes):
            pass
    kinds: dict[int, int] = {}
    for idx, fmt_id in enumerate(xf_formats):
        kind = custom[fmt_id] if fmt_id in custom else format_kind(_BUILTIN_DATES.get(fmt_id))
        if kind:
            kinds[idx] = kind
    return kinds


# ---------------------------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------------------------

_ISO = re.compile(r"""(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?
(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(?P<microsecond>\.\d{1,3})?)?)?Z?""", re.VERBOSE)
_ISO_DURATION = re.compile(r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?")


def from_iso8601(text: str) -> Any:
    """A ``t="d"`` cell, as openpyxl.utils.datetime.from_ISO8601 reads it."""
    m = _ISO.match(text)
    if m and any(m.groups()):
        g = m.groupdict()
        micro = int(float(g["microsecond"]) * 1_000_000) if g["microsecond"] else 0
        hms = (int(g["hour"] or 0), int(g["minute"] or 0), int(g["second"] or 0), micro)
        if not g["date"]:
            return dt.time(*hms)
        ymd = (int(g["year"]), int(g["month"]), int(g["day"]))
        if not g["time"]:
            return dt.date(*ymd)
        return dt.datetime(*ymd, *hms)
    m = _ISO_DURATION.match(text)
    if m and any(m.groups()):
        return dt.timedelta(**{k: float(v) for k, v in m.groupdict().items() if v})
    raise ValueError("not an ISO 8601 date")


def from_excel(value: float, epoch: dt.datetime, elapsed: bool) -> Any:
    """A serial day number, as openpyxl.utils.datetime.from_excel reads it (including the 1900
    system's phantom 29 February: serials below 60 are shifted by a day)."""
    if elapsed:
        td = dt.timedelta(days=value)
        if td.microseconds:
            td = dt.timedelta(seconds=td.total_seconds() // 1, microseconds=round(td.microseconds, -3))
        return td
    day, fraction = divmod(value, 1)
    diff = dt.timedelta(milliseconds=round(fraction * 86_400_000))
    if 0 <= value < 1 and diff.days == 0:
        mins, seconds = divmod(diff.seconds, 60)
        hours, mins = divmod(mins, 60)
        return dt.time(hours, mins, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + dt.timedelta(days=day) + diff


_COLUMNS: dict[str, int] = {}


def column_index(letters: str) -> int:
    found = _COLUMNS.get(letters)
    if found is not None:
        return found
    if not (1 <= len(letters) <= 3) or not letters.isascii() or not letters.isalpha():
        raise BadXlsx("sheet")
    idx = 0
    for ch in letters.upper():
        idx = idx * 26 + ord(ch) - 64
    if idx > MAX_COL:
        raise BadXlsx("sheet")
    if len(_COLUMNS) < 20_000:
        _COLUMNS[letters] = idx
    return idx


# ---------------------------------------------------------------------------------------------
# The worksheet
# ---------------------------------------------------------------------------------------------


def _sheet_rows(src: IO[bytes], strings: SharedStrings, styles: dict[int, int], epoch: dt.datetime,
                max_row_chars: int, limits: Limits = DEFAULT_LIMITS) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) for every row from 1 to the last, as openpyxl's values-only rows with
    the trailing empty cells dropped. Row numbers missing from the file are empty rows; a row
    numbered at or below the one before it is dropped (as openpyxl does)."""
    names = _names("sheetData", "row", "c", "v", "is", "t", "r", "rPh")
    ready: list[tuple[int, list[Any]]] = []
    stop = [False]

    in_data = False
    row_no = 0
    col = 0
    cells: list[tuple[int, Any]] = []
    unordered = False  # cells out of column order (or repeated): the slow way in _finish_row
    row_chars = 0
    inline_chars = 0  # of the current inline string, before its runs are joined
    cell_type = "n"
    cell_style: str | None = None
    in_cell = False
    value_text: str | None = None
    in_inline = False
    inline_plain: str | None = None
    inline_runs: list[str] | None = None
    in_run = False
    phonetic = 0
    collect = 0  # 0 no, 1 <v>, 2 inline plain <t>, 3 inline run <t>
    text: str | None = None
    style_kinds: dict[str | None, int] = {None: 0}
    date_styles = bool(styles)

    def style_kind(s: str | None) -> int:
        kind = style_kinds.get(s)
        if kind is None:
            try:
                kind = styles.get(int(s or 0), 0)
            except ValueError:
                kind = 0
            if len(style_kinds) < 10_000:
                style_kinds[s] = kind
        return kind

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_data, row_no, col, cells, unordered, row_chars, cell_type, cell_style, in_cell, value_text, in_inline
        nonlocal inline_plain, inline_runs, inline_chars, in_run, phonetic, collect, text
        local = names.get(name)
        if local is None or not in_data:
            if local == "sheetData":
                in_data = True
            return
        if local == "c":
            if len(cells) >= MAX_COL:
                raise BadXlsx("sheet")
            ref = attrs.get("r")
            previous = col
            col = column_index(ref.rstrip("0123456789")) if ref else col + 1
            if col > MAX_COL:
                raise BadXlsx("sheet")
            if col <= previous:
                unordered = True
            cell_type = attrs.get("t", "n")
            cell_style = attrs.get("s")
            in_cell = True
            value_text = None
            in_inline = False
            inline_runs = None
        elif not in_cell:
            if local == "row":
                r = attrs.get("r")
                if r:
                    try:
                        row_no = int(r)
                    except ValueError:
                        as_float = float(r)
                        if not as_float.is_integer():
                            raise BadXlsx("sheet") from None
                        row_no = int(as_float)
                else:
                    row_no += 1
                if not 1 <= row_no <= MAX_ROW:
                    raise BadXlsx("sheet")
                col = 0
                cells = []
                unordered = False
                row_chars = 0
        elif local == "v" and not in_inline:
            if value_text is None:  # the first <v> counts
                collect = 1
                text = None
        elif local == "is":
            in_inline = True
            inline_plain = None
            inline_runs = []
            inline_chars = 0
        elif in_inline:
            if local == "t" and not phonetic:
                collect = 3 if in_run else 2
                text = None
            elif local == "r":
                assert inline_runs is not None
                if len(inline_runs) >= MAX_RUNS:
                    raise BadXlsx("sheet")
                in_run = True
                inline_runs.append("")
            elif local == "rPh":
                phonetic += 1

    def end(name: str) -> None:
        nonlocal row_chars, inline_chars, in_data, cell_type, in_cell, value_text, in_inline, inline_plain, in_run, phonetic, collect
        local = names.get(name)
        if local is None or not in_data:
            return
        if local == "c":
            if in_cell:
                if cell_type == "s" and value_text:  # most cells: inline the common case
                    try:
                        value = strings[int(value_text)]
                    except (ValueError, IndexError):
                        raise BadXlsx("sheet") from None
                else:
                    value = _value()
                if type(value) is str:
                    # The CSV reader's line guard, counted as the row is read so that it stays bounded.
                    row_chars += len(value)
                    if row_chars > max_row_chars:
                        raise BadXlsx("row", row_no)
                cells.append((col, value))
                in_cell = False
        elif local == "v":
            if collect == 1:
                value_text = text or ""
                collect = 0
        elif local == "t":
            if collect == 2:
                inline_plain = text
            elif collect == 3:
                assert inline_runs is not None
                inline_runs[-1] = text or ""
            if collect >= 2:
                inline_chars += len(text or "")
                if row_chars + inline_chars > max_row_chars:
                    raise BadXlsx("row", row_no)
            collect = 0
        elif local == "r":
            in_run = False
        elif local == "rPh":
            phonetic -= 1
        elif local == "is":
            in_inline = False
        elif local == "row":
            ready.append((row_no, _finish_row()))
        elif local == "sheetData":
            in_data = False
            stop[0] = True  # nothing after the data matters

    def data(piece: str) -> None:
        nonlocal text
        if collect:
            if text is None:
                text = piece
            elif len(text) <= max_row_chars:
                text = (text + piece)[: max_row_chars + 1]

    def _value() -> Any:
        t = cell_type
        if t == "inlineStr":
            if inline_runs is None:
                return None
            return (inline_plain or "") + "".join(inline_runs)
        v = value_text
        if not v:
            return None
        if t == "n":
            try:
                number: Any = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
            except ValueError:
                raise BadXlsx("sheet") from None
            if date_styles:
                kind = style_kind(cell_style)
                if kind:
                    try:
                        return from_excel(number, epoch, kind == ELAPSED)
                    except (OverflowError, ValueError):
                        return "#VALUE!"  # openpyxl's reading of a date serial out of range
            return number
        if t == "s":
            try:
                return strings[int(v)]
            except (ValueError, IndexError):
                raise BadXlsx("sheet") from None
        if t == "b":
            try:
                return bool(int(v))
            except ValueError:
                raise BadXlsx("sheet") from None
        if t == "d":
            try:
                return from_iso8601(v)
            except ValueError:
                raise BadXlsx("sheet") from None
        return v  # str (a formula's text), e (an error such as #N/A), anything else as text

    def _finish_row() -> list[Any]:
        if not cells:
            return []
        if not unordered:
            i = len(cells) - 1
            while i >= 0 and (cells[i][1] is None or cells[i][1] == ""):
                i -= 1
            if i < 0:
                return []
            row: list[Any] = [None] * cells[i][0]
            for c, v in cells[: i + 1]:
                row[c - 1] = v
            return row
        last = cells[-1][0]  # openpyxl sizes a row by its last cell and ignores cells beyond it
        placed: dict[int, Any] = {}
        for c, v in cells:
            if c <= last:
                placed[c] = v
        width = 0
        for c, v in placed.items():
            if v is not None and v != "" and c > width:
                width = c
        row = [None] * width
        for c, v in placed.items():
            if c <= width:
                row[c - 1] = v
        return row

    counter = 1
    chunks = _parse(src, start, end, data, stop, stall_bytes=limits.stall_bytes)
    done = False
    while not done:
        failure: BaseException | None = None
        try:
            done = next(chunks, _DONE) is _DONE
        except Exception as exc:
            failure = exc
        batch = ready[:]
        ready.clear()
        for idx, row in batch:
            while counter < idx:
                yield counter, []
                counter += 1
            if counter <= idx:
                yield counter, row
                counter += 1
        if failure is not None:
            raise failure


def rows(z: zipfile.ZipFile, max_row_chars: int, limits: Limits = DEFAULT_LIMITS) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the workbook's first visible worksheet (the first worksheet when all are
    hidden). Raises :class:`BadXlsx`. ``limits``: what it may hold in memory (see :class:`Limits`)."""
    strings: SharedStrings | None = None
    try:
        try:
            if "xl/workbook.xml" not in z.NameToInfo:
                raise BadXlsx("workbook")
            sheets, date1904 = _workbook(z, limits)
            rels = _rels(z, "xl/_rels/workbook.xml.rels", "xl", limits)
            worksheets = [(state, rels[rid][1]) for state, rid in sheets
                          if rid in rels and rels[rid][0].endswith("/worksheet") and rels[rid][1] in z.NameToInfo]
            if not worksheets:
                raise BadXlsx("workbook")
            part = next((p for state, p in worksheets if state == "visible"), worksheets[0][1])
            by_type = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
            styles = _styles(z, by_type.get("styles"), limits)
            strings = read_shared_strings(z, by_type.get("sharedStrings", "xl/sharedStrings.xml"), max_row_chars, limits)
        except BadXlsx:
            raise
        except Exception:
            raise BadXlsx("workbook") from None
        epoch = MAC_EPOCH if date1904 else WINDOWS_EPOCH
        try:
            with _open_part(z, part) as src:
                yield from _sheet_rows(src, strings, styles, epoch, max_row_chars, limits)
        except BadXlsx:
            raise
        except Exception:
            raise BadXlsx("sheet") from None
    finally:
        if strings is not None:
            strings.close()


def rows_of(content: bytes, *, max_rows: int, max_row_chars: int = 4096) -> list[tuple[int, list[Any]]]:
    """The rows (row number, values) of a small uploaded workbook's first visible sheet, at most
    ``max_rows`` of them. Raises ``ValueError`` for anything that is not a readable XLSX file or has
    more rows (a plugin's template upload: the caller turns it into its typed error)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            out: list[tuple[int, list[Any]]] = []
            for n, values in rows(z, max_row_chars):
                if len(out) >= max_rows:
                    raise ValueError(f"more than {max_rows} rows")
                out.append((n, values))
            return out
    except (BadXlsx, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"not a readable XLSX file ({exc})") from None

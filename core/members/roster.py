"""Reading a roster file (名册): sniffing its type and encoding, finding and mapping its header row, and
streaming its rows with constant memory.

- CSV: a ``csv.reader`` over a decoding text stream, fed line by line through a length guard (a
  "line" of 50 MB of garbage fails at 64 KiB instead of being buffered). UTF-8 (with or without
  BOM), UTF-16 with BOM (Excel's "Unicode text") and **GBK/GB18030** (Excel's default "CSV" on a
  Chinese Windows) are detected from the first megabyte and decoded; anything else is refused with
  a message saying how to save the file.
- XLSX: :mod:`core.xlsx.reader`, a streaming reader (expat over the zip members; the shared-strings
  table spills to a sealed temporary file when large), after checking the zip directory (a zip
  bomb or a damaged file fails before parsing). Values are what openpyxl's read-only mode gave,
  which the importer's checks are written against; openpyxl is still used to *write* templates,
  error reports and exports.

Row numbers are what a person sees in Excel: the header is row 1 (or wherever it is found in the
first 10 rows) and every record counts, blank ones included.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from core.members.validation import FIELDS
from core.xlsx import reader as xlsx

SNIFF_BYTES = 1024 * 1024
MAX_LINE = 64 * 1024
MAX_COLUMNS = 200
HEADER_SEARCH_ROWS = 10
XLSX_MAX_UNCOMPRESSED = 2 * 1024 * 1024 * 1024
XLSX_MAX_RATIO = 150

# field -> accepted header texts (normalised: NFKC, no spaces, no "*", no parenthesised notes)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "职工姓名", "会员姓名", "名字"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证", "证件号码", "身份证件号码", "身份证号码18位"),
    "org_unit": ("所属工会", "基层工会", "所在工会", "工会名称", "工会代码", "所属工会代码", "工会组织代码", "所属基层工会"),
    "phone": ("手机号码", "手机号", "手机", "联系电话", "电话", "联系方式", "电话号码"),
    "employer": ("工作单位", "单位", "单位名称", "所在单位", "就业单位"),
    "work_status": ("工作状态", "就业状态", "在职状态"),
    "tags": ("会员标签", "标签", "会员类别", "人员类别"),
    "joined_on": ("入会日期", "入会时间"),
}
REQUIRED_COLUMNS = ("name", "id_number", "org_unit")
TEMPLATE_HEADER = [FIELDS[f][0] for f in ("name", "id_number", "org_unit", "phone", "employer", "work_status", "tags", "joined_on")]

_NOTE = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_ALIAS = {alias: field for field, aliases in COLUMNS.items() for alias in aliases}
_BINARY_MAGIC = {
    b"%PDF": "PDF", b"\x89PNG": "PNG图片", b"\xff\xd8\xff": "JPEG图片", b"GIF8": "GIF图片", b"Rar!": "RAR压缩包",
    b"7z\xbc\xaf": "7z压缩包", b"\x1f\x8b": "gzip压缩包", b"BM": None, b"MZ": "可执行程序",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileProblem(Exception):
    """The file as a whole cannot be imported. ``message`` is Chinese and names the row when known."""

    def __init__(self, code: str, message: str, row: int | None = None, column: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.row = row
        self.column = column

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "row": self.row, "column": self.column}


@dataclass(frozen=True)
class Sniffed:
    format: str  # csv | xlsx
    encoding: str  # utf-8-sig | utf-16 | gb18030 | "" for xlsx
    delimiter: str

    @property
    def encoding_label(self) -> str:
        return {"gb18030": "GBK/GB18030", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}.get(self.encoding, self.encoding)


def _decodes(data: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        decoder.decode(data, final=False)  # a multi-byte character cut at the end is fine
    except UnicodeDecodeError:
        return False
    return True


def sniff(f: BinaryIO) -> Sniffed:
    head = f.read(SNIFF_BYTES)
    f.seek(0)
    if not head.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        raise FileProblem("EMPTY_FILE", "文件是空的：请上传填好的会员名册")
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("xlsx", "", "")
    if head.startswith(_OLE):
        raise FileProblem("FILE_TYPE", "不支持旧版Excel（.xls）文件：请在Excel中“另存为”.xlsx或“CSV UTF-8”后重新上传")
    for magic, label in _BINARY_MAGIC.items():
        if label and head.startswith(magic):
            raise FileProblem("FILE_TYPE", f"这是{label}，不是会员名册：请上传CSV或XLSX格式的文件")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
        text = head.decode("utf-16", errors="ignore")
    else:
        if b"\x00" in head:
            raise FileProblem("FILE_TYPE", "文件不是文本格式的CSV，也不是XLSX：请上传CSV或XLSX格式的会员名册")
        if _decodes(head, "utf-8"):
            encoding = "utf-8-sig"
        elif _decodes(head, "gb18030"):
            encoding = "gb18030"  # GBK is a subset; Excel on Chinese Windows saves CSV this way
        else:
            raise FileProblem("ENCODING", "无法识别文件的字符编码（既不是UTF-8也不是GBK）：请在Excel中另存为“CSV UTF-8”或XLSX后重新上传")
        text = head.decode(encoding, errors="ignore")
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";", "，")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return Sniffed("csv", encoding, delimiter)


def _guarded_lines(text: io.TextIOBase, counter: list[int]) -> Iterator[str]:
    while True:
        line = text.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            raise FileProblem("LINE_TOO_LONG", f"第{counter[0] + 1}行超过{MAX_LINE // 1024}KB：这不像会员名册（文件可能已损坏）",
                              row=counter[0] + 1)
        yield line


def _decoded_lines(f: BinaryIO, sniffed: Sniffed, counter: list[int]) -> Iterator[str]:
    """Lines decoded one by one, so a decoding error names its own row. Safe for UTF-8 and GB18030,
    where the byte 0x0A never occurs inside a character."""
    decoder = codecs.getincrementaldecoder(sniffed.encoding)(errors="strict")
    while True:
        raw = f.readline(MAX_LINE * 4 + 1)
        if len(raw) > MAX_LINE * 4:
            raise FileProblem("LINE_TOO_LONG", f"第{counter[0] + 1}行超过{MAX_LINE // 1024}KB：这不像会员名册（文件可能已损坏）",
                              row=counter[0] + 1)
        try:
            text = decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise FileProblem("ENCODING", f"第{counter[0] + 1}行有无法按{sniffed.encoding_label}解码的字符：文件编码前后不一致或已损坏",
                              row=counter[0] + 1) from None
        if not raw:
            return
        if len(text) > MAX_LINE:
            raise FileProblem("LINE_TOO_LONG", f"第{counter[0] + 1}行超过{MAX_LINE // 1024}KB：这不像会员名册（文件可能已损坏）",
                              row=counter[0] + 1)
        yield text


def csv_rows(f: BinaryIO, sniffed: Sniffed) -> Iterator[tuple[int, list[Any]]]:
    counter = [0]
    if sniffed.encoding == "utf-16":
        text = io.TextIOWrapper(f, encoding=sniffed.encoding, errors="strict", newline="")
        lines: Iterator[str] = _guarded_lines(text, counter)
    else:
        lines = _decoded_lines(f, sniffed, counter)
    reader = csv.reader(lines, delimiter=sniffed.delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise FileProblem(
                "ENCODING", f"第{counter[0] + 1}行附近有无法按{sniffed.encoding_label}解码的字符：文件编码前后不一致或已损坏",
                row=counter[0] + 1) from None
        except csv.Error as exc:
            detail = "含有空字符（NUL），文件可能已损坏" if "NUL" in str(exc) else "不是有效的CSV格式（引号不配对或字段过长）"
            raise FileProblem("CSV_FORMAT", f"第{counter[0] + 1}行{detail}", row=counter[0] + 1) from None
        counter[0] += 1
        if counter[0] == 1 and cells and cells[0].startswith("\ufeff"):
            cells[0] = cells[0][1:]
        yield counter[0], cells


def xlsx_rows(f: BinaryIO, limits: xlsx.Limits = xlsx.DEFAULT_LIMITS) -> Iterator[tuple[int, list[Any]]]:
    try:
        z = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem("FILE_TYPE", "文件已损坏，或不是有效的XLSX文件：请在Excel中重新保存后上传") from None
    with z:
        infos = z.infolist()
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise FileProblem("FILE_TYPE", "这是一个压缩包，不是Excel（XLSX）文件：请上传CSV或XLSX格式的会员名册")
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > XLSX_MAX_UNCOMPRESSED or total / packed > XLSX_MAX_RATIO:
            raise FileProblem("FILE_TOO_LARGE", "XLSX文件解压后过大：请拆分为多个文件或改用CSV格式")
        try:
            yield from xlsx.rows(z, max_row_chars=MAX_LINE, limits=limits)
        except xlsx.BadXlsx as exc:
            if exc.stage == "row":
                raise FileProblem("LINE_TOO_LONG", f"第{exc.row}行超过{MAX_LINE // 1024}K个字符：这不像会员名册（文件可能已损坏）",
                                  row=exc.row) from None
            if exc.stage == "doctype":
                raise FileProblem("FILE_TYPE", "XLSX文件中含有不允许的XML声明（DOCTYPE），可能是被篡改的文件：请在Excel中重新保存后上传") from None
            if exc.stage == "workbook":
                raise FileProblem("FILE_TYPE", "无法读取该XLSX文件（文件可能已损坏或加密）：请在Excel中重新保存后上传") from None
            raise FileProblem("FILE_TYPE", "读取XLSX文件时出错（文件可能已损坏）：请在Excel中重新保存后上传") from None


def open_rows(f: BinaryIO, sniffed: Sniffed) -> Iterator[tuple[int, list[Any]]]:
    return xlsx_rows(f) if sniffed.format == "xlsx" else csv_rows(f, sniffed)


def normalise_header(text: Any) -> str:
    value = unicodedata.normalize("NFKC", str(text or ""))
    value = _NOTE.sub("", value)
    return "".join(ch for ch in value if not ch.isspace() and ch not in "*＊:：")


def map_header(cells: list[Any]) -> tuple[dict[str, int], list[str]]:
    """Field -> column index for a header row, and the headers that were not recognised. Raises
    ``FileProblem`` when two columns mean the same field (see ``_map_header``)."""
    mapping, unknown, conflict = _map_header(cells)
    if conflict is not None:
        raise conflict
    return mapping, unknown


def _map_header(cells: list[Any]) -> tuple[dict[str, int], list[str], FileProblem | None]:
    """Like ``map_header``, returning the first conflict instead of raising it.

    Two columns for one optional field: the field's own name (the template's, e.g. 「工作单位」)
    wins over a synonym (e.g. 「单位」, often some other "unit" in a union's roster; 「电话」 beside
    「手机号码」 is an office line), and the synonym's column is left out like an unknown header.
    For a required column (name, ID number, union) choosing silently could file the wrong person,
    so two columns are a conflict, as are the same text twice or two different synonyms. The
    message quotes the headers as the file has them, not only the field's name."""
    mapping: dict[str, int] = {}
    texts: dict[str, str] = {}
    unknown: list[str] = []
    conflict: FileProblem | None = None
    for idx, cell in enumerate(cells):
        key = normalise_header(cell)
        if not key:
            continue
        field = _ALIAS.get(key)
        if field is None:
            unknown.append(key[:20])
            continue
        if field in mapping:
            canonical = COLUMNS[field][0]
            earlier = texts[field]
            if earlier != key and canonical in (earlier, key) and field not in REQUIRED_COLUMNS:
                if key == canonical:  # the field's own name replaces the synonym seen first
                    unknown.append(earlier[:20])
                    mapping[field], texts[field] = idx, key
                else:
                    unknown.append(key[:20])
                continue
            if conflict is None:
                where = f"（第{mapping[field] + 1}列和第{idx + 1}列）"
                if earlier == key:
                    message = f"表头中「{key[:20]}」出现了两次{where}，请只保留一列"
                else:
                    message = (f"表头中「{earlier[:20]}」和「{key[:20]}」都是「{FIELDS[field][0]}」列，"
                               f"该列出现了两次{where}：请只保留一列，或把另一列改成其他名称")
                conflict = FileProblem("HEADER", message, row=None, column=FIELDS[field][0])
            continue
        mapping[field] = idx
        texts[field] = key
    return mapping, unknown, conflict


@dataclass
class Header:
    row: int
    columns: dict[str, int]
    unknown: list[str]


def find_header(rows: Iterator[tuple[int, list[Any]]]) -> Header:
    """The first of the first 10 rows that names every required column. Title rows above it (e.g.
    "XX工会会员名册") are skipped; a missing column is reported by name."""
    best: tuple[int, dict[str, int], list[str]] | None = None
    for row_no, cells in rows:
        if len(cells) > MAX_COLUMNS:
            raise FileProblem("HEADER", f"第{row_no}行有{len(cells)}列，超过{MAX_COLUMNS}列：这不像会员名册", row=row_no)
        if any(c not in (None, "") for c in cells):
            mapping, unknown, conflict = _map_header(cells)
            if all(f in mapping for f in REQUIRED_COLUMNS):
                if conflict is not None:
                    conflict.row = row_no
                    raise conflict
                return Header(row_no, mapping, unknown)
            if mapping and (best is None or len(mapping) > len(best[1])):
                best = (row_no, mapping, unknown)
        if row_no >= HEADER_SEARCH_ROWS:
            break
    expected = "、".join(f"「{FIELDS[f][0]}」" for f in REQUIRED_COLUMNS)
    if best is None:
        raise FileProblem("HEADER", f"没有找到表头：第1行应为列名，至少包括{expected}（可下载导入模板对照）", row=1)
    row_no, mapping, _ = best
    missing = "、".join(f"「{FIELDS[f][0]}」" for f in REQUIRED_COLUMNS if f not in mapping)
    raise FileProblem("HEADER", f"第{row_no}行表头缺少必填列{missing}（可下载导入模板对照）", row=row_no,
                      column=FIELDS[next(f for f in REQUIRED_COLUMNS if f not in mapping)][0])


def data_rows(rows: Iterator[tuple[int, list[Any]]], header: Header) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, raw values by field) for every non-blank row after the header."""
    cols = header.columns
    items = list(cols.items())
    for row_no, cells in rows:
        if len(cells) > MAX_COLUMNS:
            raise FileProblem("TOO_MANY_COLUMNS", f"第{row_no}行有{len(cells)}列，超过{MAX_COLUMNS}列：文件格式不对", row=row_no)
        n = len(cells)
        values = {field: (cells[idx] if idx < n else None) for field, idx in items}
        if all(v is None or (type(v) is str and not v.strip()) for v in values.values()):
            continue
        yield row_no, values


def template_csv() -> bytes:
    example = ["张三", "11010519491231002X", "单位代码或工会全称", "13800138000", "某某有限公司", "在岗", "劳模、户外劳动者", "2024-03-01"]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(TEMPLATE_HEADER)
    w.writerow(example)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    from core.members.vocab import CORE_TAGS, WORK_STATUSES

    wb = openpyxl.Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws.title = "会员名册"
    ws.append(TEMPLATE_HEADER)
    for cell in ws[1][:3]:
        cell.font = Font(bold=True, color="C00000")
    ws.append(["张三", "11010519491231002X", "单位代码或工会全称", "13800138000", "某某有限公司", "在岗", "劳模、户外劳动者", "2024-03-01"])
    for col in "BDH":  # ID, phone and dates as text: Excel would round an 18-digit number
        for row in range(1, 5001):
            ws[f"{col}{row}"].number_format = "@"
    for col, width in zip("ABCDEFGH", (10, 22, 28, 16, 26, 10, 24, 14), strict=True):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("填写说明")
    notes.append(["列", "说明"])
    notes.append(["姓名*", "必填"])
    notes.append(["身份证号码*", "必填；18位（旧15位号码会自动转换）；请保持文本格式，勿让Excel转成数字"])
    notes.append(["所属工会*", "必填；基层工会的单位代码或全称"])
    notes.append(["手机号码", "选填；11位手机号或带区号的固定电话"])
    notes.append(["工作状态", "选填，默认在岗；可填：" + "、".join(WORK_STATUSES.values())])
    notes.append(["会员标签", "选填，多个用顿号分隔；如：" + "、".join(t.label_zh for t in CORE_TAGS)])
    notes.append(["入会日期", "选填，默认导入当天；如 2024-03-01"])
    notes.append(["说明", "同一身份证号码重复导入会更新原记录；空白的选填项不会清除已有信息"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

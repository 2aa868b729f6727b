"""The streaming XLSX reader (core.xlsx.reader) gives the rows openpyxl's read-only mode gave —
the importer's checks are written against those values — with memory that does not grow with the
file, and refuses hostile XML."""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import sys
import tracemalloc
import zipfile
from typing import Any

import pytest

from core.members import roster
from core.xlsx import parts as xlsx_xml
from core.xlsx import strings as xlsx_strings
from core.xlsx.parts import DEFAULT_LIMITS, Limits
from tests.members.members_helpers import upload
from tests.members.xlsx_parts import MAIN, package, sst, worksheet, write_roster_xlsx


def openpyxl_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    """What ``roster.xlsx_rows`` returned when it read with openpyxl (the reference)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"] or wb.worksheets
        ws = sheets[0]
        ws.reset_dimensions()
        out = []
        for row_no, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(row)
            while cells and (cells[-1] is None or cells[-1] == ""):
                cells.pop()
            out.append((row_no, cells))
        return out
    finally:
        wb.close()


def streamed(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, list[Any]]]:
    return list(roster.xlsx_rows(io.BytesIO(data), limits))


def problem(data: bytes, limits: Limits = DEFAULT_LIMITS) -> roster.FileProblem:
    with pytest.raises(roster.FileProblem) as caught:
        streamed(data, limits)
    return caught.value


STRINGS = [
    "<t>姓名</t>", "<t>身份证号码</t>", "<t>所属工会</t>",
    '<t xml:space="preserve">  张 三  </t>',  # whitespace kept
    '<r><rPr><b/><sz val="11"/></rPr><t>李</t></r><r><t xml:space="preserve">四 </t></r>',  # rich text runs
    "<t>王五</t><rPh sb=\"0\" eb=\"2\"><t>wang wu</t></rPh><phoneticPr fontId=\"1\"/>",  # phonetic guide ignored
    "<t>310101198506120011</t>",
    "<t>A&amp;B &lt;公司&gt; &#x4E2D;</t>",
    "<t/>",
    "<t>_x005F_x000D_ kept as openpyxl reads it</t>",
    '<r><t>运</t></r><rPh sb="0" eb="1"><t>yun</t></rPh><r><t>维</t></r>',
]

VARIED = worksheet(
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
    # shared, rich, phonetic; int, float, exponent, negative
    '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" t="s"><v>5</v></c>'
    '<c r="D2"><v>42</v></c><c r="E2"><v>3.25</v></c><c r="F2"><v>1.5E+3</v></c><c r="G2"><v>-7</v></c></row>'
    # a gap of two rows; cells without references continue from the last column
    '<row r="5"><c r="B5" t="s"><v>6</v></c><c t="s"><v>7</v></c><c><v>8</v></c><c r="G5" t="b"><v>1</v></c>'
    '<c t="b"><v>0</v></c></row>'
    # inline strings (plain, rich, phonetic), a formula's cached text, an error, an ISO date cell
    '<row r="6"><c r="A6" t="inlineStr"><is><t>行内</t></is></c>'
    '<c r="B6" t="inlineStr"><is><r><t>富</t></r><r><rPr><i/></rPr><t>文本</t></r></is></c>'
    '<c r="C6" t="inlineStr"><is><t>音</t><rPh sb="0" eb="1"><t>yin</t></rPh></is></c>'
    '<c r="D6" t="str"><f>A1&amp;"x"</f><v>姓名x</v></c><c r="E6" t="e"><v>#N/A</v></c>'
    '<c r="F6" t="d"><v>2024-03-01T08:30:00</v></c><c r="G6" t="d"><v>2024-03-02</v></c></row>'
    # dates: built-in 14, custom 年月日, [h]:mm:ss, a time of day, serial 59 and 61 around 1900-02-29
    '<row r="7"><c r="A7" s="1"><v>45352</v></c><c r="B7" s="2"><v>44000.5</v></c><c r="C7" s="3"><v>1.25</v></c>'
    '<c r="D7" s="1"><v>0.75</v></c><c r="E7" s="1"><v>59</v></c><c r="F7" s="1"><v>61</v></c>'
    '<c r="G7" s="4"><v>12345</v></c></row>'
    # empty values, an empty shared string and trailing empties (dropped), text as a number
    '<row r="8"><c r="A8" t="s"/><c r="B8"><v></v></c><c r="C8" t="s"><v>9</v></c><c r="D8" t="s"><v>8</v></c>'
    '<c r="E8" t="inlineStr"><is><t></t></is></c><c r="F8"/></row>'
    '<row r="9"><c r="A9" t="s"><v>10</v></c><c r="C9" t="s"><v>8</v></c><c r="D9" t="n"><v>310101198506120011</v></c></row>'
    # out of order: openpyxl sizes the row by its last cell, so C10 is dropped; a repeated column: last wins
    '<row r="10"><c r="C10"><v>3</v></c><c r="A10"><v>1</v></c></row>'
    '<row r="11"><c r="A11"><v>1</v></c><c r="A11"><v>2</v></c><c r="b11"><v>5</v></c></row>'
    # a row numbered below the last is dropped; an empty row element; a row with only empties
    '<row r="10"><c r="A10"><v>99</v></c></row><row r="13"/><row r="14"><c r="A14" t="s"><v>8</v></c></row>'
    '<row r="15"><c r="AA15"><v>27</v></c></row>'
)


def varied_workbook(**kw: Any) -> bytes:
    hidden = worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t>不要读这张</t></is></c></row>')
    return package([("worksheets/sheet1.xml", hidden, "hidden"), ("worksheets/名册.xml", VARIED, "visible")],
                   shared_strings=sst(STRINGS), **kw)


def test_varied_workbook_reads_as_openpyxl_read_it():
    data = varied_workbook()
    rows = streamed(data)
    assert rows == openpyxl_rows(data)
    by_row = dict(rows)
    # spot checks that the comparison is about something
    assert by_row[1] == ["姓名", "身份证号码", "所属工会"]
    assert by_row[2] == ["  张 三  ", "李四 ", "王五", 42, 3.25, 1500.0, -7]
    assert by_row[3] == [] and by_row[4] == []
    assert by_row[5] == [None, "310101198506120011", "A&B <公司> 中", 8, None, None, True, False]
    assert by_row[6] == ["行内", "富文本", "音", "姓名x", "#N/A", dt.datetime(2024, 3, 1, 8, 30), dt.date(2024, 3, 2)]
    assert by_row[7] == [dt.datetime(2024, 3, 1), dt.datetime(2020, 6, 18, 12), dt.timedelta(days=1, hours=6),
                         dt.time(18), dt.datetime(1900, 2, 28), dt.datetime(1900, 3, 1), 12345]
    assert by_row[8] == [None, None, "_x000D_ kept as openpyxl reads it"]
    assert by_row[9][0] == "运维" and by_row[9][3] == 310101198506120011
    assert by_row[10] == [1] and by_row[11] == [2, 5]
    assert by_row[13] == [] and by_row[14] == [] and by_row[15] == [None] * 26 + [27]
    assert len(rows) == 15


def test_spilled_strings_read_the_same():
    data = varied_workbook()
    # Tiny pages: strings and offsets cross page boundaries.
    assert streamed(data, Limits(memory_strings=2, page=16)) == openpyxl_rows(data)


def test_date1904_and_a_prefixed_namespace():
    prefixed = (f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1" s="1"><x:v>1</x:v></x:c>'
                f'<x:c r="B1" s="1"><x:v>366.5</x:v></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>甲</x:t></x:is></x:c>'
                f'</x:row></x:sheetData></x:worksheet>')
    data = package([("worksheets/sheet1.xml", prefixed, "visible")], workbook_pr='<workbookPr date1904="1"/>')
    assert streamed(data) == openpyxl_rows(data) == [(1, [dt.datetime(1904, 1, 2), dt.datetime(1905, 1, 1, 12), "甲"])]


def test_openpyxl_written_workbooks_read_the_same():
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["第一张可见，读它"])
    ws = wb.create_sheet("名册")
    ws.append(["姓名", "身份证号码", "所属工会", "手机号码", "入会日期", "备注"])
    ws.append(["表格甲", "310101198506120011", "单位", 13912340001, dt.datetime(2022, 3, 1), "  "])
    ws.append(["表格乙", 310101198506120011, None, None, dt.date(2020, 1, 2), True])
    ws["H6"] = "远处"
    ws["C7"] = dt.time(9, 15)
    ws["D7"] = 0.1 + 0.2
    ws["A8"] = "=SUM(1,2)"
    ws["B8"] = 1e-9
    buf = io.BytesIO()
    wb.save(buf)
    for data in (buf.getvalue(), roster.template_xlsx()):
        assert streamed(data) == openpyxl_rows(data)


def test_east_asian_builtin_date_format_is_a_date():
    """Excel on Chinese Windows stores 2024年3月1日 with the built-in format 31, undefined in the
    file. openpyxl returns the serial number (which the importer would reject); this reader, a date."""
    data = package([("worksheets/sheet1.xml", worksheet('<row r="1"><c r="A1" s="5"><v>45352</v></c></row>'), "visible")])
    assert streamed(data) == [(1, [dt.datetime(2024, 3, 1)])]
    assert openpyxl_rows(data) == [(1, [45352])]


def test_all_sheets_hidden_reads_the_first_and_chartsheets_do_not_count():
    one = worksheet('<row r="1"><c r="A1"><v>1</v></c></row>')
    two = worksheet('<row r="1"><c r="A1"><v>2</v></c></row>')
    data = package([("worksheets/a.xml", one, "hidden"), ("worksheets/b.xml", two, "veryHidden")])
    assert streamed(data) == openpyxl_rows(data) == [(1, [1])]


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
                  f'<sst xmlns="{MAIN}"><si><t>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;</t></si></sst>')
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>'
            '</sheetData></worksheet>')
PLAIN_DOCTYPE = f'<?xml version="1.0"?><!DOCTYPE workbook><workbook xmlns="{MAIN}"><sheets/></workbook>'
SHEET = worksheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')


@pytest.mark.parametrize("where", ["shared-strings", "sheet", "workbook", "styles"])
def test_doctype_and_entities_are_refused(where):
    if where == "shared-strings":
        data = package([("worksheets/sheet1.xml", SHEET, "visible")], shared_strings=BILLION_LAUGHS)
    elif where == "sheet":
        data = package([("worksheets/sheet1.xml", EXTERNAL, "visible")])
    elif where == "workbook":
        data = package([("worksheets/sheet1.xml", SHEET, "visible")], replace={"xl/workbook.xml": PLAIN_DOCTYPE.encode()})
    else:
        data = package([("worksheets/sheet1.xml", SHEET, "visible")],
                       styles=f'<!DOCTYPE s SYSTEM "http://example.invalid/x.dtd"><styleSheet xmlns="{MAIN}"/>')
    found = problem(data)
    assert found.code == "FILE_TYPE" and "DOCTYPE" in found.message


async def test_doctype_upload_is_refused_over_http(sh_admin, in_process_jobs):
    data = package([("worksheets/sheet1.xml", SHEET, "visible")], shared_strings=BILLION_LAUGHS)
    body = await upload(sh_admin, data, filename="名册.xlsx", expect=422)
    assert body["import"]["status"] == "INVALID"
    assert body["import"]["fileError"]["code"] == "FILE_TYPE" and "DOCTYPE" in body["import"]["fileError"]["message"]


def test_a_huge_text_is_cut_and_its_row_refused():
    huge = "名" * (roster.MAX_LINE + 5000)
    data = package([("worksheets/sheet1.xml", worksheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'), "visible")],
        shared_strings=sst(["<t>姓名</t>", f"<t>{huge}</t>"]))
    rows = roster.xlsx_rows(io.BytesIO(data))
    assert next(rows) == (1, ["姓名"])
    with pytest.raises(roster.FileProblem) as caught:
        next(rows)
    assert caught.value.code == "LINE_TOO_LONG" and caught.value.row == 2 and "第2行" in caught.value.message


def test_the_row_guard_counts_the_whole_row_as_it_is_read():
    import random

    rnd = random.Random(3)  # varied text, or the zip-bomb check refuses the file first
    piece = "".join(chr(0x4E00 + rnd.randrange(20_000)) for _ in range(20_000))

    def inline_row(r: int, cells: int) -> str:
        return f'<row r="{r}">' + "".join(
            f'<c r="{chr(65 + i)}{r}" t="inlineStr"><is><r><t>{piece}</t></r><r><t>x</t></r></is></c>'
            for i in range(cells)) + "</row>"

    # 40,000 characters over two cells is a (strange) row, not an attack; 80,000 is refused by number.
    data = package([("worksheets/sheet1.xml", worksheet(inline_row(1, 2) + inline_row(2, 4)), "visible")])
    rows = roster.xlsx_rows(io.BytesIO(data))
    assert next(rows) == (1, [piece + "x", piece + "x"])
    with pytest.raises(roster.FileProblem) as caught:
        next(rows)
    assert caught.value.code == "LINE_TOO_LONG" and caught.value.row == 2


def test_too_many_rich_text_runs_are_refused():
    data = package([("worksheets/sheet1.xml", SHEET, "visible")],
                   shared_strings=sst(["<r><t>a</t></r>" * (xlsx_xml.MAX_RUNS + 1)]))
    assert problem(data).code == "FILE_TYPE"


@pytest.mark.parametrize("rows_xml", [
    '<row r="1048577"><c r="A1048577"><v>1</v></c></row>',  # past Excel's last row
    '<row r="1"><c r="XFE1"><v>1</v></c></row>',  # past Excel's last column
    '<row r="1"><c r="AAAA1"><v>1</v></c></row>',
    '<row r="1"><c r="A1" t="s"><v>7</v></c></row>',  # no such shared string
    '<row r="1"><c r="A1" t="s"><v>-1</v></c></row>',
    '<row r="1"><c r="A1"><v>not a number</v></c></row>',
    '<row r="1"><c r="A1">' + "<v>1</v>" * 3 + "</c></row>" + "<row r=\"2\">" + "<c><v>1</v></c>" * 16_385 + "</row>",
    '<row r="1"><c r="A1"><v>1</v></c>',  # cut off
])
def test_damaged_sheets_are_refused(rows_xml):
    data = package([("worksheets/sheet1.xml", worksheet(rows_xml), "visible")], shared_strings=sst(["<t>x</t>"]))
    found = problem(data)
    assert found.code == "FILE_TYPE" and "读取XLSX文件时出错" in found.message


def test_a_giant_tag_is_refused_without_buffering_it():
    noise = os.urandom(1024 * 1024).hex()  # does not compress: the zip-bomb check stays out of it
    sheet = worksheet('<row r="1"><c r="A1" t="inlineStr" x="' + noise + '"><is><t>1</t></is></c></row>')
    found = problem(package([("worksheets/sheet1.xml", sheet, "visible")]), Limits(stall_bytes=256 * 1024))
    assert found.code == "FILE_TYPE"


@pytest.mark.parametrize("change", ["no-sheets", "missing-part", "not-xml"])
def test_broken_workbook_structure(change):
    if change == "no-sheets":
        data = package([])
    elif change == "missing-part":
        data = package([("worksheets/sheet1.xml", SHEET, "visible")], replace={"xl/_rels/workbook.xml.rels": (
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="nowhere.xml"/>'
            b"</Relationships>")})
    else:
        data = package([("worksheets/sheet1.xml", SHEET, "visible")], replace={"xl/workbook.xml": b"\x00\x01 not xml"})
    found = problem(data)
    assert found.code == "FILE_TYPE" and "无法读取该XLSX文件" in found.message


def test_spilled_strings_random_access_and_encrypted_at_rest():
    store = xlsx_strings.SharedStrings()
    texts = ["", "张三", "x" * (3 * xlsx_xml.PAGE + 7), "𠀀𠀁 astral", "a"] + [f"职工{i}号" for i in range(40_000)]
    try:
        for t in texts:
            store.append(t)
        store.finish()
        assert store.spilled
        for i in [0, 1, 2, 3, 4, 5, 8191, 8192, 8193, 20_000, len(texts) - 1, 2, 0, 30_000, 7]:
            assert store[i] == texts[i]
        assert [store[i] for i in range(len(texts))] == texts
        with pytest.raises(IndexError):
            store[len(texts)]
        with pytest.raises(IndexError):
            store[-1]
        assert store._data is not None
        on_disk = os.pread(store._data._f.fileno(), 10 * store._data.size, 0)
        assert "职工12345号".encode() not in on_disk and "张三".encode() not in on_disk
        assert len(on_disk) >= store._data.size
    finally:
        store.close()


def _peak_reading(path: Any) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    try:
        count = 0
        with open(path, "rb") as f:
            for _ in roster.xlsx_rows(f):
                count += 1
        return tracemalloc.get_traced_memory()[1], count
    finally:
        tracemalloc.stop()


def _rows(n: int):
    yield ["姓名", "工作单位"]
    for i in range(n):
        yield [f"职工{i}", f"某某有限公司第{i}分公司"]


def test_memory_stays_flat_with_the_number_of_rows(tmp_path):
    """Both files spill their shared strings; reading five times the rows costs no more memory.
    (tracemalloc slows the reader about tenfold, hence 25k/125k rows rather than a million.)"""
    small, large = tmp_path / "25k.xlsx", tmp_path / "125k.xlsx"
    write_roster_xlsx(small, _rows(25_000))
    write_roster_xlsx(large, _rows(125_000))
    with zipfile.ZipFile(large) as z:
        assert z.getinfo("xl/sharedStrings.xml").file_size > 8 * 1024 * 1024  # 250,000 distinct strings
    peak_small, rows_small = _peak_reading(small)
    peak_large, rows_large = _peak_reading(large)
    assert (rows_small, rows_large) == (25_001, 125_001)
    # What openpyxl held for the large file: a list of 250,000 Python strings.
    as_list = sum(sys.getsizeof(s) for row in _rows(125_000) for s in row) + 8 * 250_000
    assert as_list > 20 * 1024 * 1024
    assert peak_large < 8 * 1024 * 1024, peak_large
    assert peak_large < as_list / 4, (peak_large, as_list)
    assert peak_large < peak_small * 1.3 + 512 * 1024, (peak_small, peak_large)

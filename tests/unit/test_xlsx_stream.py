"""The streaming XLSX writer: readable by openpyxl, text stays text, constant memory, no temp files."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import openpyxl
import pytest

from core.xlsx.writer import XlsxStreamWriter, column_letter


class Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.size = 0
        self.data = bytearray()
        self.keep = True

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.size += len(b)
        if self.keep:
            self.data += b
        return len(b)


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_round_trip_through_openpyxl_on_an_unseekable_stream():
    out = Unseekable()
    with XlsxStreamWriter(out, "会员:名册/2026", widths=[10, 22]) as x:
        x.header(["姓名", "身份证号码", "年份", "比例", "备注"])
        x.row(["张三", "110101199003070019", 1990, 0.5, "a<b & \"c\" 'd'"])
        x.row(["李四", None, 1988, float("nan"), "控制\x01字符\x1f去掉"])
        x.row([True, "", -7, 1e20, "  前后空格  "])
    wb = openpyxl.load_workbook(io.BytesIO(bytes(out.data)))
    ws = wb.active
    assert ws.title == "会员名册2026"  # characters Excel forbids in sheet names are dropped
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["姓名", "身份证号码", "年份", "比例", "备注"]
    assert rows[1] == ["张三", "110101199003070019", 1990, 0.5, "a<b & \"c\" 'd'"]
    assert rows[2] == ["李四", None, 1988, "nan", "控制字符去掉"]
    assert rows[3] == ["True", None, -7, 1e20, "  前后空格  "]
    assert ws["A1"].font.b and not ws["A2"].font.b
    assert ws.freeze_panes == "A2" and ws.column_dimensions["B"].width == 22
    names = zipfile.ZipFile(io.BytesIO(bytes(out.data))).namelist()
    assert "xl/sharedStrings.xml" not in names
    # The roster importer reads inline strings too: an export can be edited and imported again.
    from core.members.roster import xlsx_rows

    read = [cells for _, cells in xlsx_rows(io.BytesIO(bytes(out.data)))]
    assert read[1][:2] == ["张三", "110101199003070019"] and read[2][4] == "控制字符去掉"


@pytest.mark.slow  # writes hundreds of thousands of rows to measure memory
def test_memory_does_not_grow_with_rows():
    def peak(rows: int) -> int:
        out = Unseekable()
        out.keep = False
        tracemalloc.start()
        with XlsxStreamWriter(out, "s") as x:
            x.header(["姓名", "身份证号码", "工作单位"])
            for n in range(rows):
                x.row([f"职工{n}", f"11010119900307{n:04d}", f"上海某某公司{n}"])
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert out.size > 0
        return top

    small, large = peak(5_000), peak(100_000)
    assert large < small * 1.5 + 256 * 1024, (small, large)


def test_an_exception_leaves_no_finished_file():
    out = Unseekable()
    with pytest.raises(RuntimeError), XlsxStreamWriter(out, "s") as x:
        x.row(["a"])
        raise RuntimeError("boom")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(out.data)))


def test_rows_of_reads_a_small_upload_and_refuses_anything_else():
    from core.xlsx.reader import rows_of

    out = io.BytesIO()
    with XlsxStreamWriter(out, "名单") as book:
        book.header(["身份证号", "姓名", "份数"])
        book.row(["110105198001010011", "张三", 2])
    assert rows_of(out.getvalue(), max_rows=5) == [(1, ["身份证号", "姓名", "份数"]), (2, ["110105198001010011", "张三", 2])]
    with pytest.raises(ValueError):
        rows_of(out.getvalue(), max_rows=1)
    with pytest.raises(ValueError):
        rows_of(b"a,b\n1,2\n", max_rows=5)

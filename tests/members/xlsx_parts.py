"""Workbooks built from raw XML parts, for reader tests that need what openpyxl does not write:
shared strings (openpyxl's write-only mode stores text inline; Excel stores it in the shared
table), rich text and phonetic runs, cells without references, gaps, a hidden first tab that is not
``sheet1.xml``, hostile XML."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
WS_TYPE = f"{REL}/worksheet"

# xf 0 general, 1 a built-in date (14), 2 a custom date format, 3 [h]:mm:ss, 4 text "@",
# 5 a built-in East Asian date (31) with no numFmt defined, as Excel on Chinese Windows writes it
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>
<cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/>
<xf numFmtId="46" applyNumberFormat="1"/><xf numFmtId="49" applyNumberFormat="1"/><xf numFmtId="31" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def package(sheets: list[tuple[str, str, str]], shared_strings: str | None = None, styles: str | None = STYLES,
            workbook_pr: str = "", replace: dict[str, bytes] | None = None) -> bytes:
    """``sheets``: (part name under xl/, worksheet XML, state) in tab order."""
    import io

    overrides = ['<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 'spreadsheetml.sheet.main+xml"/>']
    rels = []
    entries = []
    for n, (part, _, state) in enumerate(sheets, start=1):
        overrides.append(f'<Override PartName="/xl/{part}" ContentType="application/vnd.openxmlformats-officedocument.'
                         'spreadsheetml.worksheet+xml"/>')
        rels.append(f'<Relationship Id="rId{n}" Type="{WS_TYPE}" Target="{part}"/>')
        st = f' state="{state}"' if state != "visible" else ""
        entries.append(f'<sheet name="表{n}" sheetId="{n}"{st} r:id="rId{n}"/>')
    if shared_strings is not None:
        overrides.append('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.sharedStrings+xml"/>')
        rels.append(f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        overrides.append('<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.styles+xml"/>')
        rels.append(f'<Relationship Id="rIdT" Type="{REL}/styles" Target="styles.xml"/>')
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>",
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">{workbook_pr}'
        f'<sheets>{"".join(entries)}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'{"".join(rels)}</Relationships>',
    }
    for part, xml, _ in sheets:
        parts[f"xl/{part}"] = xml
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    if styles is not None:
        parts["xl/styles.xml"] = styles
    parts.update(replace or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return buf.getvalue()


def worksheet(rows_xml: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{rows_xml}</sheetData></worksheet>'


def sst(items: list[str]) -> str:
    """Shared strings from raw ``<si>`` contents."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(items)}" uniqueCount="{len(items)}">'
            + "".join(f"<si>{i}</si>" for i in items) + "</sst>")


def excel_serial(value: dt.date) -> int:
    day = value.date() if isinstance(value, dt.datetime) else value
    return (day - dt.date(1899, 12, 30)).days


def write_roster_xlsx(path: Path, rows: Iterable[list[Any]], dedupe_limit: int = 10_000) -> None:
    """Stream rows into an XLSX laid out as Excel saves one: every text in the shared-strings
    table (repeated texts once, while at most ``dedupe_limit`` distinct ones are tracked), dates
    as serial numbers with a date style. Memory stays flat, so it can write a million rows."""
    known: dict[str, int] = {}
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        sheet_path, sst_path = Path(tmp) / "sheet.xml", Path(tmp) / "sst.xml"
        with open(sheet_path, "w", encoding="utf-8") as sheet, open(sst_path, "w", encoding="utf-8") as strings:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>')
            for r, values in enumerate(rows, start=1):
                cells = []
                for c, value in enumerate(values):
                    ref = f"{chr(65 + c)}{r}"
                    if value is None:
                        continue
                    if isinstance(value, str):
                        idx = known.get(value)
                        if idx is None:
                            idx = count
                            count += 1
                            strings.write(f"<si><t>{escape(value)}</t></si>")
                            if len(known) < dedupe_limit:
                                known[value] = idx
                        cells.append(f'<c r="{ref}" t="s"><v>{idx}</v></c>')
                    elif isinstance(value, dt.date):
                        cells.append(f'<c r="{ref}" s="1"><v>{excel_serial(value)}</v></c>')
                    elif isinstance(value, bool):
                        cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                sheet.write(f'<row r="{r}">{"".join(cells)}</row>')
            sheet.write("</sheetData></worksheet>")
        base = package([("worksheets/sheet1.xml", "", "visible")], shared_strings="")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out, zipfile.ZipFile(_bytes_io(base)) as template:
            for info in template.infolist():
                if info.filename == "xl/worksheets/sheet1.xml":
                    with open(sheet_path, "rb") as src, out.open(info.filename, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                elif info.filename == "xl/sharedStrings.xml":
                    with open(sst_path, "rb") as src, out.open(info.filename, "w", force_zip64=True) as dst:
                        dst.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" '
                                  f'count="{count}" uniqueCount="{count}">'.encode())
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                        dst.write(b"</sst>")
                else:
                    out.writestr(info.filename, template.read(info.filename))


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)

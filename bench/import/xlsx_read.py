"""Measure reading a large roster XLSX: peak RSS and time of the streaming reader
(``core.members.roster.xlsx_rows``), optionally against openpyxl's read-only mode (what the importer
used before).

    uv run python bench/import/xlsx_read.py --rows 1000000 [--openpyxl] [--keep PATH]

The workbook is laid out as Excel stores one (``tests/members/xlsx_parts.write_roster_xlsx``; openpyxl's
write-only mode would store text inline): every text cell (name, ID number, phone, employer, …) in
the shared-strings table, the join date as a date cell.
Each reader runs in a fresh process so that ``ru_maxrss`` is its own. The last line is one JSON
object. Not part of the test suite (writing 1,000,000 rows takes minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import AREAS, GIVEN, SURNAMES  # noqa: E402 - the CSV benchmark's names

from tests.members.xlsx_parts import write_roster_xlsx  # noqa: E402


def roster_rows(rows: int, seed: int = 4) -> Iterator[list[Any]]:
    """The CSV benchmark's roster: unique valid ID numbers, unique mobiles, Chinese names, tags."""
    from core.pii.idcard import check_char

    rnd = random.Random(seed)
    base = dt.date(1962, 1, 1)
    statuses = ["在岗"] * 16 + ["退休", "农民工", "内退", "病休"]
    yield ["姓名", "身份证号码", "所属工会", "手机号码", "工作单位", "工作状态", "会员标签", "入会日期"]
    for n in range(rows):
        born = base + dt.timedelta(days=n // 500)
        body = f"{AREAS[n % len(AREAS)]}{born:%Y%m%d}{(n % 500) * 2 + rnd.randint(0, 1):03d}"
        roll = rnd.random()
        tag = "劳模" if roll < 0.1 else "新就业形态" if roll < 0.15 else "户外劳动者" if roll < 0.2 else None
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if roll < 0.7 else "")
        joined = dt.date(2000, 1, 1) + dt.timedelta(days=rnd.randint(0, 8000))
        yield [name, body + check_char(body), f"unit-{n % 200}", f"1{3 + n % 7}{n:09d}",
               f"上海某某公司第{n}分公司", rnd.choice(statuses), tag, joined]


READ = """
import io, json, resource, sys, time
sys.path.insert(0, {root!r})
started = time.monotonic()
rows = cells = 0
with open({path!r}, "rb") as f:
    if {use_openpyxl!r}:
        import openpyxl
        wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        for row in ws.iter_rows(values_only=True):
            rows += 1
            cells += sum(c is not None for c in row)
        wb.close()
    else:
        from core.members.roster import xlsx_rows
        for _, row in xlsx_rows(f):
            rows += 1
            cells += sum(c is not None for c in row)
print(json.dumps({{"rows": rows, "cells": cells, "seconds": round(time.monotonic() - started, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}}))
"""


def read_in_child(path: Path, use_openpyxl: bool) -> dict:
    code = READ.format(root=str(ROOT), path=str(path), use_openpyxl=use_openpyxl)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--openpyxl", action="store_true", help="also measure openpyxl read-only mode")
    parser.add_argument("--keep", type=Path, help="write (or reuse) the workbook at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "roster.xlsx"
        result: dict = {"bench": "xlsx_read", "rows": args.rows}
        if not path.exists():
            started = time.monotonic()
            write_roster_xlsx(path, roster_rows(args.rows))
            result["generate_s"] = round(time.monotonic() - started, 1)
        result["xlsx_mb"] = round(path.stat().st_size / 1024 / 1024, 1)
        result["streaming"] = read_in_child(path, False)
        if args.openpyxl:
            result["openpyxl"] = read_in_child(path, True)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

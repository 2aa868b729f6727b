"""No file in core/ grows past about 600 lines: a long module is split along its own sections into a
package (or its data moves out of Python), so a reader can hold one file in their head.

Migrations are generated and append-only, so they are not counted; binary files (the xlsx template)
neither.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
MAX_LINES = 600

# A file that must stay longer for a reason worth a comment goes here, with that comment; the test
# below fails once a listed file is short enough (or gone), so the list cannot go stale.
ALLOWED_LONGER: set[str] = set()


def _counted_files() -> dict[str, int]:
    sizes = {}
    for path in sorted(CORE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or "migrations" in path.relative_to(CORE).parts:
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        sizes[path.relative_to(ROOT).as_posix()] = data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
    return sizes


def test_the_walk_sees_core_and_skips_what_it_should() -> None:
    sizes = _counted_files()
    assert "core/sdk.py" in sizes and "core/funds/posting.py" in sizes
    assert not any("/migrations/" in name for name in sizes)
    assert not any(name.endswith(".xlsx") for name in sizes)


def test_no_core_file_exceeds_the_line_limit() -> None:
    too_long = {
        name: lines for name, lines in _counted_files().items() if lines > MAX_LINES and name not in ALLOWED_LONGER
    }
    assert not too_long, f"split these along their sections (limit {MAX_LINES} lines): {too_long}"


def test_the_allow_list_holds_only_files_still_too_long() -> None:
    sizes = _counted_files()
    stale = sorted(name for name in ALLOWED_LONGER if sizes.get(name, 0) <= MAX_LINES)
    assert not stale, f"remove from ALLOWED_LONGER, they are split now: {stale}"

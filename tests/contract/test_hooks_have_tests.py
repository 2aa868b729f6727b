"""Every hook has a test named ``test_hook_<name>`` somewhere in the test suites (datasette's rule).

The source files are read, not imported, so the check sees plugin test suites too and does not
depend on collection order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pluggy
import pytest

from core import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def _hook_names() -> list[str]:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return sorted(name for name in vars(pm.hook) if not name.startswith("_"))


def _test_sources() -> str:
    files = [*ROOT.joinpath("tests").rglob("*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    return "\n".join(path.read_text(encoding="utf-8") for path in files if path.name.startswith("test_"))


SOURCES = _test_sources()


def test_there_are_hooks_to_check() -> None:
    assert len(_hook_names()) >= 9


@pytest.mark.parametrize("hook", _hook_names())
def test_hook_has_test(hook: str) -> None:
    pattern = rf"^\s*(async\s+)?def test_hook_{re.escape(hook)}\("
    assert re.search(pattern, SOURCES, re.MULTILINE), f"no test function named test_hook_{hook}"

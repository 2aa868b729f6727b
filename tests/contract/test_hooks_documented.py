"""Every hook spec is documented in docs/hooks.md, and its docstring follows the house shape.

docs/hooks.md must have a heading containing ``name(arg, ...)`` built from the spec's argnames
(datasette's ``test_plugin_hooks_are_documented``), and each section must name the plugins that
implement the hook. Docstrings follow pytest's hookspec shape (``:param:`` per argument,
"Stops at first non-None result" on firstresult hooks, ``.. versionadded::``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pluggy
import pytest

from core import hookspecs
from core.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT.joinpath("docs", "hooks.md").read_text(encoding="utf-8")

# Collecting hooks whose name reads as a question rather than register_*: they return a list per
# plugin because every plugin's answer counts (all validation problems are shown together).
COLLECTING_QUESTIONS = {"member_validate"}


def _spec_pm() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


SPEC_PM = _spec_pm()
HOOKS = sorted(name for name in vars(SPEC_PM.hook) if not name.startswith("_"))


def _spec(name: str) -> pluggy.HookCaller:
    return getattr(SPEC_PM.hook, name)


def _signature(name: str) -> str:
    spec = _spec(name).spec
    assert spec is not None
    return f"{name}({', '.join(spec.argnames)})"


def _headings(lines: list[str]) -> list[tuple[int, int]]:
    """(line index, level) of each markdown heading, skipping ``#`` comments inside code fences."""
    found, fenced = [], False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"^(#+)\s", line)):
            found.append((i, len(m.group(1))))
    return found


LINES = DOCS.splitlines()
HEADINGS = _headings(LINES)


def _section(name: str) -> str:
    """The docs text from the hook's heading to the next heading of the same or a higher level."""
    sig = _signature(name)
    for n, (start, level) in enumerate(HEADINGS):
        if sig in LINES[start]:
            end = next((i for i, lvl in HEADINGS[n + 1 :] if lvl <= level), len(LINES))
            return "\n".join(LINES[start + 1 : end])
    raise AssertionError(f"docs/hooks.md has no heading containing {sig}")


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str) -> None:
    section = _section(hook)
    assert "Example" in section, f"{hook}: the section needs an example"
    assert "Returns" in section or "Return" in section, f"{hook}: the section must say what it returns"


@pytest.mark.parametrize("hook", HOOKS)
def test_docs_name_implementing_plugins(hook: str) -> None:
    section = _section(hook)
    # The paragraph starting "Implemented by:" (it may wrap over several lines).
    implemented_by = re.search(r"^Implemented by:(.*?)(?:\n\s*\n|\Z)", section, re.MULTILINE | re.DOTALL)
    assert implemented_by, f"{hook}: add an 'Implemented by:' paragraph"
    installed = {impl.plugin_name for impl in getattr(get_plugin_manager().hook, hook).get_hookimpls()}
    for plugin in installed:
        assert f"`{plugin}`" in implemented_by.group(1), f"{hook}: docs do not mention {plugin}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_docstring_shape(hook: str) -> None:
    spec = _spec(hook).spec
    assert spec is not None
    doc = spec.function.__doc__ or ""
    for arg in spec.argnames:
        assert f":param {arg}:" in doc, f"{hook}: docstring lacks :param {arg}:"
    assert ".. versionadded::" in doc
    if spec.opts.get("firstresult"):
        assert "Stops at first non-None result" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_families(hook: str) -> None:
    spec = _spec(hook).spec
    assert spec is not None
    firstresult = bool(spec.opts.get("firstresult"))
    if hook.startswith(("register_", "on_")) or hook in COLLECTING_QUESTIONS:
        assert not firstresult, f"{hook}: register_*/on_* hooks collect every plugin's result"
    else:
        assert firstresult, f"{hook}: <noun>_<question> hooks must be firstresult"
    if hook.startswith("on_"):
        assert spec.function.__annotations__.get("return") in (None, "None")


def test_every_documented_hook_exists() -> None:
    # The reverse direction: a renamed or removed hook must not linger in the docs.
    documented = {m.group(1) for i, _ in HEADINGS if (m := re.match(r"^#+\s+`?([a-z_]+)\(", LINES[i]))}
    assert documented <= set(HOOKS), f"docs/hooks.md documents unknown hooks: {documented - set(HOOKS)}"

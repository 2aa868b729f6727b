"""The import layering in pyproject.toml holds, and its lists cannot silently go stale.

`make test` runs `lint-imports` too; this test makes CI (which runs pytest) catch a broken contract.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import core
import core.sdk

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def _contract(name_start: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["name"].startswith(name_start))


def test_lint_imports_keeps_every_contract() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_plugins_may_import_only_core_sdk() -> None:
    """The forbidden list names every module of core except core.sdk, so a new core module is
    forbidden to plugins until someone decides to expose it through the SDK."""
    forbidden = set(_contract("plugins import only core.sdk")["forbidden_modules"])
    modules = {f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__)}
    assert forbidden == modules - {"core.sdk"}


def test_every_sdk_name_resolves() -> None:
    for name in core.sdk.__all__:
        assert getattr(core.sdk, name) is not None, name
    assert importlib.import_module("core.files") is core.sdk.files


def test_every_workspace_plugin_is_under_the_plugin_contracts() -> None:
    """A plugin package added under plugins/ must be linted like the others, not silently skipped."""
    packages = {p.name for p in ROOT.glob("plugins/*/huijia_*") if p.is_dir()}
    assert packages, "no plugin packages found"
    only_sdk = set(_contract("plugins import only core.sdk")["source_modules"])
    independent = set(_contract("plugins do not import each other")["modules"])
    assert packages <= set(CONFIG["root_packages"])
    assert packages <= only_sdk
    assert packages <= independent


def test_no_cycle_contract_covers_core_and_every_package_of_it() -> None:
    """The acyclic contract starts at core and names each package with modules of its own, so a
    new package is checked from the start and the list cannot quietly lose one."""
    contract = _contract("no import cycles inside core")
    assert contract["type"] == "acyclic_siblings"
    assert "depth" not in contract, "a depth limit would leave deeper modules unchecked"
    ancestors = set(contract["ancestors"])
    packages = {
        f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__)
        if m.ispkg and any(pkgutil.iter_modules([str(Path(core.__path__[0]) / m.name)]))
    }
    assert "core" in ancestors
    assert packages <= ancestors, sorted(packages - ancestors)


def test_leaf_modules_may_import_no_other_core_module() -> None:
    """core.context and core.actor are imported by every layer; the forbidden list names every other
    module of core, so a new one cannot slip an import cycle back in through them."""
    contract = _contract("the leaf modules import nothing of core")
    leaves = set(contract["source_modules"])
    assert leaves == {"core.context", "core.actor"}
    modules = {f"core.{m.name}" for m in pkgutil.iter_modules(core.__path__)}
    assert set(contract["forbidden_modules"]) == modules - leaves

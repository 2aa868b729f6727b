"""`huijia plugin new`: both kinds of scaffold pass their own tests as generated and import only core.sdk.

The generated packages are not installed: they go into a temporary directory, are put on PYTHONPATH
of a child pytest (huijia.testing finds them from their pyproject.toml and loads them as extra
plugins), which creates and drops its own database. The workspace's pyproject and lock stay untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.cli import main
from core.scaffold import ScaffoldError, check_name, generate

ROOT = Path(__file__).resolve().parents[2]


def _new(tmp: Path, name: str, *flags: str) -> int:
    return main(["plugin", "new", name, "--dir", str(tmp), *flags])


@pytest.fixture(scope="module")
def scaffolds(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("scaffolds")
    assert _new(tmp, "anhui") == 0
    assert _new(tmp, "warmth", "--capability") == 0
    return tmp


def _child_env(*paths: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HUIJIA_PLUGINS_EXTRA", "DATABASE_URL", "HUIJIA_JOB_QUEUE", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in paths), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_the_scaffolds_have_the_promised_parts(scaffolds: Path) -> None:
    province = {p.relative_to(scaffolds / "anhui").as_posix() for p in (scaffolds / "anhui").rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", "huijia_anhui/plugin.py", "huijia_anhui/settings.py",
            "huijia_anhui/rules.py", "tests/test_anhui_rules.py", "tests/test_anhui_api.py"} <= province
    cap = {p.relative_to(scaffolds / "warmth").as_posix() for p in (scaffolds / "warmth").rglob("*") if p.is_file()}
    assert {"huijia_warmth/hookspecs.py", "huijia_warmth/CHANGELOG.md", "huijia_warmth/tables.py",
            "huijia_warmth/piccolo_app.py", "huijia_warmth/graphql.py", "huijia_warmth/jobs.py",
            "huijia_warmth/plugin.py", "README.md", "tests/test_warmth_api.py"} <= cap
    migrations = sorted(p.name for p in (scaffolds / "warmth" / "huijia_warmth" / "migrations").glob("warmth_*.py"))
    assert len(migrations) == 2 and migrations[1].endswith("_fence.py")
    fence = (scaffolds / "warmth" / "huijia_warmth" / "migrations" / migrations[1]).read_text(encoding="utf-8")
    assert 'tenant_tables(["warmth_record"]' in fence
    meta = tomllib.loads((scaffolds / "warmth" / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["huijia.plugins"] == {"warmth": "huijia_warmth.plugin"}
    hookspecs = (scaffolds / "warmth" / "huijia_warmth" / "hookspecs.py").read_text(encoding="utf-8")
    version = re.search(r'CONTRACT = ContractVersion\("warmth", "([\d.]+)"\)', hookspecs)
    assert version and f"## warmth {version[1]}" in (scaffolds / "warmth" / "huijia_warmth" / "CHANGELOG.md").read_text()


@pytest.mark.slow  # runs each generated package's own test suite in a subprocess
def test_both_scaffolds_pass_their_own_tests_as_generated(scaffolds: Path) -> None:
    pkgs = (scaffolds / "anhui", scaffolds / "warmth")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "anhui/tests", "warmth/tests"],
        cwd=scaffolds, env=_child_env(*pkgs), capture_output=True, text=True, timeout=600,
    )
    out = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, out
    summary = [line for line in result.stdout.splitlines() if re.search(r"\d+ passed", line)]
    assert summary and not re.search(r"failed|error|skipped", summary[-1]), out
    assert int(re.search(r"(\d+) passed", summary[-1])[1]) >= 10, out  # type: ignore[index]


def _lint(tmp: Path, packages: list[str], pkg_dirs: list[Path]) -> subprocess.CompletedProcess[str]:
    """import-linter with the workspace's own rule for plugins, applied to ``packages``."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    forbidden = next(c for c in contracts if c["name"].startswith("plugins import only core.sdk"))["forbidden_modules"]
    quoted = ", ".join(f'"{p}"' for p in packages)
    config = tmp / "importlinter.toml"
    config.write_text(
        "[tool.importlinter]\n"
        f'root_packages = ["core", {quoted}]\n'
        "include_external_packages = false\n\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "generated plugins import only core.sdk from core"\n'
        'type = "forbidden"\n'
        f"source_modules = [{quoted}]\n"
        f"forbidden_modules = [{', '.join(repr(m).replace(chr(39), chr(34)) for m in forbidden)}]\n"
        "allow_indirect_imports = true\n\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "generated plugins do not import each other"\n'
        'type = "independence"\n'
        f"modules = [{quoted}]\n",
        encoding="utf-8",
    )
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--config", str(config), "--no-cache"], cwd=tmp, env=_child_env(ROOT, *pkg_dirs),
                          capture_output=True, text=True, timeout=300)


def test_generated_code_imports_only_core_sdk(scaffolds: Path) -> None:
    result = _lint(scaffolds, ["huijia_anhui", "huijia_warmth"], [scaffolds / "anhui", scaffolds / "warmth"])
    assert result.returncode == 0 and "0 broken" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_import_rule_catches_a_generated_plugin_that_reaches_into_core(tmp_path: Path) -> None:
    # The negative control: the same check fails once the plugin imports core.plugins directly.
    assert _new(tmp_path, "rogue") == 0
    plugin = tmp_path / "rogue" / "huijia_rogue" / "plugin.py"
    plugin.write_text(plugin.read_text(encoding="utf-8") + "\nfrom core.plugins import get_plugin_manager  # noqa\n",
                      encoding="utf-8")
    result = _lint(tmp_path, ["huijia_rogue"], [tmp_path / "rogue"])
    assert result.returncode != 0 and "huijia_rogue.plugin -> core.plugins" in result.stdout, result.stdout[-3000:]


@pytest.mark.parametrize("name,why", [
    ("9lives", "must be a Python identifier"),
    ("my-plugin", "must be a Python identifier"),
    ("安徽", "must be a Python identifier"),
    ("Anhui", "must be lower case"),
    ("a", "2 to 31 characters"),
    ("class", "Python keyword"),
])
def test_a_bad_name_is_refused_with_a_clear_error(tmp_path: Path, capsys, name: str, why: str) -> None:
    assert _new(tmp_path, name) == 2
    err = capsys.readouterr().err
    assert why in err and repr(name) in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["shanghai", "testcap", "testprov", "builtin", "funds", "members"])
def test_a_name_an_installed_plugin_or_capability_uses_is_refused(tmp_path: Path, capsys, name: str) -> None:
    assert _new(tmp_path, name, "--capability") == 2
    assert f"plugin name {name!r} is already used by an installed plugin or capability" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_an_existing_target_directory_is_never_overwritten(tmp_path: Path, capsys) -> None:
    (tmp_path / "hebei").mkdir()
    (tmp_path / "hebei" / "keep.txt").write_text("mine", encoding="utf-8")
    assert _new(tmp_path, "hebei") == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "hebei").iterdir()] == ["keep.txt"]


def test_without_dir_the_package_goes_under_plugins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plugin", "new", "hunan"]) == 0
    assert (tmp_path / "plugins" / "hunan" / "huijia_hunan" / "plugin.py").is_file()


def test_check_name_accepts_a_new_lower_case_identifier(tmp_path: Path) -> None:
    check_name("mutual_aid", taken=set())
    with pytest.raises(ScaffoldError, match="already used"):
        check_name("mutual_aid", taken={"mutual_aid"})
    files = generate("mutual_aid", tmp_path / "mutual_aid", capability=True, taken=set())
    graphql = next(f for f in files if f.name == "graphql.py").read_text(encoding="utf-8")
    assert "async def mutual_aid_record_create" in graphql and "class MutualAidRecord(Node)" in graphql
    test = next(f for f in files if f.name == "test_mutual_aid_api.py").read_text(encoding="utf-8")
    assert "mutualAidRecordCreate(" in test

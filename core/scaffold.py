"""``huijia plugin new``: scaffold an installable plugin package that passes its own tests as generated.

Two kinds:

- a *province plugin* (default): ``PLUGIN`` declaration, a settings schema, a pure rule module and
  hook implementations with a worked example (a local member tag and a minimum-age rule on
  ``member_validate``), unit tests of the rule and API tests through ``huijia.testing``;
- a *capability plugin* (``--capability``): everything above plus its own hookspecs module with a
  contract version and changelog, a piccolo app with a tenant-owned table and its migrations (the
  second one the row-level-security fence), GraphQL (a list and a by-id query, a create mutation, a
  Relay Node type), two permissions, a job and a README.

Generated code imports only ``core.sdk`` from core (the import-linter rule every plugin follows);
the tests import ``core.testing`` for helpers. ``tests/contract/test_scaffold.py`` generates both
kinds, runs their tests against a fresh database and runs import-linter on them.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["ScaffoldError", "check_name", "generate"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(Exception):
    """The plugin cannot be generated (bad name, clash, target exists); the message says why."""


def check_name(name: str, taken: set[str] | None = None) -> None:
    """Refuse a name that is not a lower-case Python identifier or that an installed plugin uses.

    The name is the entry-point name tenant manifests list, the ``huijia_<name>`` package, and, for a
    capability, the capability code, the table prefix and the GraphQL field prefix.
    """
    if not name.isascii() or not name.isidentifier():
        raise ScaffoldError(f"plugin name {name!r} must be a Python identifier (ASCII letters, digits, _)")
    if not _NAME.match(name):
        raise ScaffoldError(
            f"plugin name {name!r} must be lower case, start with a letter and be 2 to 31 characters long"
        )
    if keyword.iskeyword(name) or name.endswith("_"):
        raise ScaffoldError(f"plugin name {name!r} is a Python keyword or ends with '_'")
    if taken is None:
        taken = installed_names()
    if name in taken:
        raise ScaffoldError(f"plugin name {name!r} is already used by an installed plugin or capability")


def installed_names() -> set[str]:
    """Names plugins and capabilities already use (installed entry points, core's domains, capabilities)."""
    from core.plugins import (
        BUILTIN_PLUGIN,
        CORE_PLUGIN_NAMES,
        available_plugins,
        capability_settings_schemas,
        get_plugin_manager,
    )

    pm = get_plugin_manager()
    names = {BUILTIN_PLUGIN, "core", "platform", *CORE_PLUGIN_NAMES, *available_plugins(pm)}
    names |= set(capability_settings_schemas(pm))
    names |= {n.split(".", 1)[1] for n in CORE_PLUGIN_NAMES}  # tenancy, accounts, funds ...: table prefixes
    return names


@dataclass(frozen=True)
class _Names:
    name: str
    capability: bool
    now: dt.datetime

    def values(self) -> dict[str, str]:
        from core.hookspecs import CONTRACT
        from core.plugins import CORE_VERSION

        camel = "".join(part.capitalize() for part in self.name.split("_"))
        first, second = self.now, self.now + dt.timedelta(microseconds=1)
        return {
            "name": self.name,
            "Camel": camel,
            "camel": camel[0].lower() + camel[1:],
            "pkg": f"huijia_{self.name}",
            "dist": f"huijia-{self.name.replace('_', '-')}",
            "core_contract": CONTRACT.version,
            "core_contract_major": str(CONTRACT.major),
            "min_core": ".".join(CORE_VERSION.split(".")[:2]),
            "mid": first.strftime("%Y-%m-%dT%H:%M:%S:%f"),
            "mid_file": first.strftime("%Y_%m_%dt%H_%M_%S_%f"),
            "fence_id": second.strftime("%Y-%m-%dT%H:%M:%S:%f"),
            "fence_file": second.strftime("%Y_%m_%dt%H_%M_%S_%f"),
            "year": str(self.now.year),
        }


def _render(text: str, values: dict[str, str]) -> str:
    out = re.sub(r"@@(\w+)@@", lambda m: values[m.group(1)], text)
    assert "@@" not in out, out
    return out


def generate(name: str, target: Path, *, capability: bool = False, taken: set[str] | None = None,
             now: dt.datetime | None = None) -> list[Path]:
    """Write the package for plugin ``name`` into ``target`` (which must not exist); return the files."""
    check_name(name, taken)
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another --dir or remove it")
    values = _Names(name, capability, now or dt.datetime.now(dt.UTC)).values()
    templates = _templates("common")
    templates.update(_templates("capability" if capability else "province"))
    written = []
    for rel, text in templates.items():
        path = target / _render(rel, values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_render(text, values), encoding="utf-8")
        written.append(path)
    return sorted(written)


# Templates live in core/scaffold_templates/<kind>/ (common, province, capability) at the path they are
# written to, plus a ``.tmpl`` suffix that keeps linters and pytest off them: @@key@@ is replaced in the
# path and in the text; everything else is written as is.
_TEMPLATE_SUFFIX = ".tmpl"


def _templates(kind: str) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(_TEMPLATE_SUFFIX):
                found[prefix + child.name.removesuffix(_TEMPLATE_SUFFIX)] = child.read_text(encoding="utf-8")

    walk(files("core").joinpath("scaffold_templates", kind), "")
    return found

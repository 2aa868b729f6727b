"""Hook contract versions: checked at start-up, renamed arguments keep old plugins loading, changelogs.

Each case builds its own plugin manager the way start-up does (``build_plugin_manager``); nothing
here touches the process's.
"""

from __future__ import annotations

import re
import types
import warnings
from pathlib import Path
from typing import Any

import pytest

from core import hookspecs
from core.context import TenantContext
from core.interface import CapabilityInfo, ContractVersion, PluginInfo
from core.plugins import PluginError, build_plugin_manager, hooks_for, installed_contracts
from core.sdk import hookimpl, hookspec, renamed_arg

ROOT = Path(__file__).resolve().parents[2]


def fake(name: str, *, contracts: dict[str, str] | None = None, capabilities: tuple[str, ...] = (),
         **hooks: Any) -> types.ModuleType:
    # A module, like a real plugin (hooks_for keeps plugins in sets, so they must be hashable).
    module = types.ModuleType(f"fake_{name}")
    module.PLUGIN = PluginInfo(name=name, province_code=None, version="0.0.1", min_core="0.1",
                               capabilities=capabilities, contracts=contracts or {})
    for hook, fn in hooks.items():
        setattr(module, hook, fn)
    return module


def spec_module(contract: ContractVersion | None, *, renamed: bool = False) -> types.ModuleType:
    """A capability's hookspecs module: ``rc_limit(tenant, amount_fen)``, optionally renamed from ``amount``."""
    module = types.ModuleType("rc_hookspecs")

    def rc_limit(tenant: Any, amount_fen: int) -> int | None:
        """Return a limit."""

    if renamed:
        rc_limit = renamed_arg("amount", "amount_fen", since="1.1")(rc_limit)
    module.rc_limit = hookspec(firstresult=True)(rc_limit)
    if contract is not None:
        module.CONTRACT = contract
    return module


def capability(module: types.ModuleType, name: str = "rc") -> types.ModuleType:
    @hookimpl
    def register_capabilities() -> list[CapabilityInfo]:
        return [CapabilityInfo(code=name, label_zh="测试")]

    @hookimpl
    def register_hookspecs() -> list[types.ModuleType]:
        return [module]

    return fake(name, register_capabilities=register_capabilities, register_hookspecs=register_hookspecs)


def tenant(plugins: tuple[str, ...], capabilities: tuple[str, ...]) -> TenantContext:
    return TenantContext(id=1, code="t", name="t", province_code="91", plugins=plugins, settings={},
                         capabilities=capabilities)


# -- version checks ----------------------------------------------------------------------------


def test_a_plugin_written_for_an_older_minor_of_core_loads() -> None:
    assert hookspecs.CONTRACT.major == 0 and hookspecs.CONTRACT.minor >= 1
    pm = build_plugin_manager([fake("oldminor", contracts={"huijia.core": "0.1"})], trace=False, core=False)
    assert pm.has_plugin("oldminor")


def test_a_plugin_written_for_a_newer_minor_is_refused_naming_plugin_and_contract() -> None:
    newer = f"{hookspecs.CONTRACT.major}.{hookspecs.CONTRACT.minor + 1}"
    with pytest.raises(PluginError, match=rf"plugin 'tomorrow' implements contract 'huijia.core' {newer}, newer"):
        build_plugin_manager([fake("tomorrow", contracts={"huijia.core": newer})], trace=False, core=False)


def test_a_plugin_written_for_another_major_is_refused() -> None:
    other = f"{hookspecs.CONTRACT.major + 1}.0"
    with pytest.raises(PluginError, match=r"plugin 'nextmajor'.*'huijia.core'.*different major"):
        build_plugin_manager([fake("nextmajor", contracts={"huijia.core": other})], trace=False, core=False)


def test_a_plugin_declaring_a_contract_nobody_provides_is_refused() -> None:
    with pytest.raises(PluginError, match=r"plugin 'orphan' implements contract 'hardship' 1.0, which no installed"):
        build_plugin_manager([fake("orphan", contracts={"hardship": "1.0"})], trace=False, core=False)


def test_a_malformed_contract_version_is_refused() -> None:
    with pytest.raises(PluginError, match=r"plugin 'sloppy'.*MAJOR.MINOR"):
        build_plugin_manager([fake("sloppy", contracts={"huijia.core": "v0"})], trace=False, core=False)
    with pytest.raises(ValueError, match="MAJOR.MINOR"):
        ContractVersion("x", "1.0.0")


def test_a_capability_contract_is_checked_like_cores() -> None:
    caps = capability(spec_module(ContractVersion("rc", "1.3")))
    ok = fake("prov", capabilities=("rc",), contracts={"huijia.core": "0.2", "rc": "1.2"})
    pm = build_plugin_manager([caps, ok], trace=False, core=False)
    assert installed_contracts(pm)["rc"] == ContractVersion("rc", "1.3")
    ahead = fake("ahead", capabilities=("rc",), contracts={"rc": "1.4"})
    with pytest.raises(PluginError, match=r"plugin 'ahead' implements contract 'rc' 1.4, newer than this host's 1.3"):
        build_plugin_manager([capability(spec_module(ContractVersion("rc", "1.3"))), ahead], trace=False, core=False)


def test_capability_hookspecs_without_a_contract_are_refused() -> None:
    with pytest.raises(PluginError, match=r"plugin 'rc'.*rc_hookspecs.*declare no CONTRACT"):
        build_plugin_manager([capability(spec_module(None))], trace=False, core=False)


def test_a_capability_cannot_claim_cores_contract_name() -> None:
    with pytest.raises(PluginError, match=r"plugin 'rc': contract name 'huijia.core' is core's"):
        build_plugin_manager([capability(spec_module(ContractVersion("huijia.core", "1.0")))], trace=False, core=False)


# -- renamed arguments -------------------------------------------------------------------------


def old_style_province(name: str = "oldprov") -> types.ModuleType:
    @hookimpl
    def rc_limit(tenant: Any, amount: int) -> int:  # still the pre-1.1 name
        return amount * 2

    return fake(name, capabilities=("rc",), contracts={"rc": "1.0"}, rc_limit=rc_limit)


@pytest.mark.parametrize("province_first", [False, True], ids=["after-capability", "before-capability"])
def test_an_implementation_using_a_renamed_argument_loads_gets_the_value_and_warns(province_first: bool,
                                                                                   caplog) -> None:
    caps = capability(spec_module(ContractVersion("rc", "1.1"), renamed=True))
    prov = old_style_province()
    plugins = [prov, caps] if province_first else [caps, prov]
    with pytest.warns(DeprecationWarning) as record:
        pm = build_plugin_manager(plugins, trace=False, core=False)
    messages = [str(w.message) for w in record if issubclass(w.category, DeprecationWarning)]
    assert any(
        "plugin 'oldprov'" in m and "rc_limit()" in m and "'amount' was renamed 'amount_fen'" in m and "rc 1.1" in m
        for m in messages
    ), messages
    # logged too, for the operator (Python hides DeprecationWarning outside __main__ by default)
    assert any("plugin 'oldprov'" in r.getMessage() and "'amount'" in r.getMessage() for r in caplog.records)
    t = tenant(("oldprov",), ("rc",))
    assert hooks_for(t, pm).rc_limit(tenant=t, amount_fen=21) == 42


def test_an_implementation_using_the_new_argument_name_does_not_warn() -> None:
    @hookimpl
    def rc_limit(tenant: Any, amount_fen: int) -> int:
        return amount_fen + 1

    caps = capability(spec_module(ContractVersion("rc", "1.1"), renamed=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        pm = build_plugin_manager([caps, fake("newprov", capabilities=("rc",), rc_limit=rc_limit)],
                                  trace=False, core=False)
    t = tenant(("newprov",), ("rc",))
    assert hooks_for(t, pm).rc_limit(tenant=t, amount_fen=1) == 2


def test_an_implementation_taking_both_the_old_and_the_new_name_is_refused() -> None:
    @hookimpl
    def rc_limit(tenant: Any, amount: int, amount_fen: int) -> int:
        return 0

    caps = capability(spec_module(ContractVersion("rc", "1.1"), renamed=True))
    with pytest.raises(PluginError, match=r"plugin 'both'.*rc_limit\(\) takes both 'amount' and its new name"):
        build_plugin_manager([caps, fake("both", capabilities=("rc",), rc_limit=rc_limit)], trace=False, core=False)


def test_without_a_declared_rename_the_old_name_is_still_refused() -> None:
    caps = capability(spec_module(ContractVersion("rc", "1.0"), renamed=False))
    with pytest.raises(PluginError, match=r"(?s)plugin 'oldprov'.*rc_limit.*amount"):
        build_plugin_manager([caps, old_style_province()], trace=False, core=False)


# -- changelogs ----------------------------------------------------------------------------------


def _mentions(text: str, contract: ContractVersion) -> bool:
    return re.search(rf"^#+ .*{re.escape(contract.name)} {re.escape(contract.version)}\b", text, re.M) is not None


def test_the_changelog_mentions_the_current_version_of_every_contract() -> None:
    """Core's contract in docs/hooks-changelog.md; each capability's in CHANGELOG.md beside its hookspecs."""
    from core.plugins import _spec_modules, get_plugin_manager

    core_log = (ROOT / "docs" / "hooks-changelog.md").read_text(encoding="utf-8")
    assert _mentions(core_log, hookspecs.CONTRACT), f"docs/hooks-changelog.md has no heading for {hookspecs.CONTRACT}"
    pm = get_plugin_manager()
    modules = _spec_modules.get(pm, [])
    assert modules, "the test capability (HUIJIA_PLUGINS_EXTRA) should contribute a hookspecs module"
    for module in modules:
        contract = module.CONTRACT
        log = Path(module.__file__).with_name("CHANGELOG.md")
        assert log.is_file(), f"{contract}: no CHANGELOG.md next to {module.__file__}"
        assert _mentions(log.read_text(encoding="utf-8"), contract), f"{log} has no heading for {contract}"


def test_no_hook_is_documented_as_added_after_the_current_contract_version() -> None:
    pm = build_plugin_manager([], trace=False, core=False)
    current = (hookspecs.CONTRACT.major, hookspecs.CONTRACT.minor)
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        spec = getattr(caller, "spec", None)
        if spec is None or spec.namespace is not hookspecs:
            continue
        found = re.search(r"versionadded:: (\d+)\.(\d+)", spec.function.__doc__ or "")
        assert found, f"{name}: no versionadded"
        assert (int(found[1]), int(found[2])) <= current, f"{name} is newer than contract {hookspecs.CONTRACT}"


def test_the_plugin_guide_indexes_every_core_hook_with_a_link_to_its_reference() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    index = guide[guide.index("## Hook index"):]
    index = index[: index.index("\n## ", 1)]
    pm = build_plugin_manager([], trace=False, core=False)
    hooks = [n for n in dir(pm.hook) if getattr(getattr(pm.hook, n), "spec", None) is not None
             and getattr(pm.hook, n).spec.namespace is hookspecs]
    assert hooks
    for name in hooks:
        row = next((line for line in index.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"docs/plugins.md hook index lacks {name}"
        anchor = re.search(r"\(hooks\.md#([\w-]+)\)", row)
        assert anchor and anchor[1].startswith(name), row

"""Province plugins load, declare themselves, respect version bounds, validate settings, stay scoped."""

from __future__ import annotations

import importlib.metadata
import json
import logging
from types import ModuleType
from typing import Any

import msgspec
import pytest

import huijia_beijing.plugin
import huijia_beijing.rules
import huijia_mutual_aid.plugin
import huijia_shanghai.plugin
from core.context import TenantContext
from core.hookspecs import hookimpl
from core.interface import PluginInfo
from core.plugins import (
    CORE_VERSION,
    ENTRY_POINT_GROUP,
    PluginConfigError,
    PluginError,
    available_plugins,
    build_plugin_manager,
    check_core_compat,
    discover_plugins,
    get_plugin_manager,
    hooks_for,
    register_test_plugin,
    validate_plugin_settings,
)

PROVINCES = {"shanghai": "31", "beijing": "11", "fujian": "35"}


class FakeEntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name = name
        self._obj = obj

    def load(self) -> object:
        return self._obj


def fake_plugin(
    name: str = "fake", *, min_core: str = "0.1", max_core: str | None = None, **hooks: Any
) -> Any:
    # A module, like real plugins (pluggy needs plugin objects to be hashable).
    module = ModuleType(f"fake_{name}")
    module.PLUGIN = PluginInfo(
        name=name, province_code=None, version="9.9.9", min_core=min_core, max_core=max_core
    )  # type: ignore[attr-defined]
    for hook_name, function in hooks.items():
        setattr(module, hook_name, function)
    return module


def tenant(code: str, plugins: tuple[str, ...], settings: dict[str, Any] | None = None) -> TenantContext:
    validated = validate_plugin_settings(code, plugins, settings or {})
    return TenantContext(
        id=hash(code) % 1000, code=code, name=code, province_code="00", plugins=plugins, settings=validated
    )


# -------------------------------------------------------------------------
# Loading
# -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROVINCES))
def test_province_loads_through_its_entry_point(name: str) -> None:
    (ep,) = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    module = ep.load()
    assert module.PLUGIN.name == name
    assert module.PLUGIN.province_code == PROVINCES[name]
    assert module.PLUGIN.settings_schema is not None
    check_core_compat(module.PLUGIN)  # the shipped plugins support this core
    assert get_plugin_manager().get_plugin(name) is module
    assert available_plugins()[name] is module.PLUGIN


def test_builtin_is_registered_first_so_provinces_answer_first() -> None:
    pm = get_plugin_manager()
    names = [name for name, _ in pm.list_name_plugin()]
    assert names[0] == "builtin"
    assert set(PROVINCES) <= set(names)
    # pluggy calls the last registered first; the built-in implementation must come last.
    impls = pm.hook.region_dibao_line.get_hookimpls()
    assert impls[0].plugin_name == "builtin"


def test_check_pending_passes_for_installed_plugins() -> None:
    get_plugin_manager().check_pending()
    build_plugin_manager(trace=False).check_pending()


def test_unknown_hook_is_rejected_by_check_pending() -> None:
    @hookimpl
    def region_dibao_lines(tenant: Any, region_code: str, year: int) -> int:  # note the typo
        return 1

    with pytest.raises(PluginError, match="region_dibao_lines"):
        build_plugin_manager([fake_plugin(region_dibao_lines=region_dibao_lines)], trace=False)


def test_async_implementations_are_only_allowed_for_notifications() -> None:
    @hookimpl
    async def region_dibao_line(tenant: Any, region_code: str, year: int) -> int:
        return 1

    @hookimpl
    async def member_validate(tenant: Any, member: Any) -> list[Any]:
        return []

    @hookimpl
    async def on_member_joined(tenant: Any, member: Any) -> None:
        return None

    for hook in (region_dibao_line, member_validate):
        with pytest.raises(PluginError, match="must be a plain def"):
            build_plugin_manager([fake_plugin(**{hook.__name__: hook})], trace=False)
    build_plugin_manager([fake_plugin(on_member_joined=on_member_joined)], trace=False)


def test_entry_point_name_must_match_plugin_name() -> None:
    with pytest.raises(PluginError, match="must equal the entry-point name"):
        discover_plugins([FakeEntryPoint("anhui", fake_plugin("fake"))])
    with pytest.raises(PluginError, match="no PLUGIN"):
        discover_plugins([FakeEntryPoint("anhui", ModuleType("empty"))])


# -------------------------------------------------------------------------
# Version bounds
# -------------------------------------------------------------------------


def test_plugin_needing_a_newer_core_is_refused() -> None:
    too_new = fake_plugin("toonew", min_core="99.0")
    with pytest.raises(PluginError, match=r"'toonew'.*needs core >= 99\.0.*core 0\.1\.0"):
        build_plugin_manager(discover_plugins([FakeEntryPoint("toonew", too_new)]), trace=False)


def test_plugin_supporting_only_older_cores_is_refused() -> None:
    too_old = fake_plugin("tooold", min_core="0.0.1", max_core="0.0")
    with pytest.raises(PluginError, match=r"supports core up to 0\.0"):
        build_plugin_manager([too_old], trace=False)
    with pytest.raises(PluginError):
        register_test_plugin(too_old)  # the test-registration path checks bounds too


@pytest.mark.parametrize(
    ("min_core", "max_core", "core", "ok"),
    [
        ("0.1", None, "0.1.0", True),
        ("0.1.0", "0.1", "0.1.7", True),  # max is inclusive at the precision written
        ("0.1.0", "0.1", "0.2.0", False),
        ("0.1.1", None, "0.1.0", False),
        ("1", "1", "1.9.3", True),
        ("1", "1", "2.0.0", False),
        ("0.1.0", "0.1.0", "0.1.0", True),
        ("0.1.0", "0.1.0", "0.1.1", False),
    ],
)
def test_version_bounds(min_core: str, max_core: str | None, core: str, ok: bool) -> None:
    info = PluginInfo(name="p", province_code=None, version="1", min_core=min_core, max_core=max_core)
    if ok:
        check_core_compat(info, core)
    else:
        with pytest.raises(PluginError):
            check_core_compat(info, core)


def test_core_version_is_the_project_version() -> None:
    assert importlib.metadata.version("huijia") == CORE_VERSION


# -------------------------------------------------------------------------
# Settings
# -------------------------------------------------------------------------


def test_bad_setting_type_names_tenant_plugin_and_key() -> None:
    with pytest.raises(PluginConfigError) as info:
        validate_plugin_settings(
            "shanghai", ["shanghai"], {"shanghai": {"dibao": {"310101": {"2024": "1510"}}}}
        )
    err = info.value
    assert (err.tenant, err.plugin, err.key) == ("shanghai", "shanghai", "dibao.310101.2024")
    assert (
        str(err) == "tenant 'shanghai': plugin 'shanghai': setting 'dibao.310101.2024': expected int, got str"
    )


@pytest.mark.parametrize(
    ("settings", "key", "fragment"),
    [
        ({"shanghai": {"dibao": {"310101": 151000}}}, "dibao.310101", "expected table, got int"),
        ({"shanghai": {"dibao": {"31010": {"2024": 1}}}}, "dibao.31010", "invalid key"),
        ({"shanghai": {"dibao": {"310101": {"2024": -5}}}}, "dibao.310101.2024", "expected int >= 1"),
        (
            {"shanghai": {"phone_required_tags": "new_employment"}},
            "phone_required_tags",
            "expected array, got str",
        ),
        ({"shanghai": {"dibbao": {}}}, "dibbao", "unknown setting"),
        ({"builtin": {"levy_grassroots_bp": 12000}}, "levy_grassroots_bp", "expected int <= 10000"),
    ],
)
def test_invalid_settings_are_located(settings: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(PluginConfigError) as info:
        validate_plugin_settings("shanghai", ["shanghai"], settings)
    assert info.value.tenant == "shanghai"
    assert info.value.key == key
    assert fragment in info.value.problem
    assert f"setting {key!r}" in str(info.value)


def test_unknown_or_disabled_plugins_are_refused() -> None:
    with pytest.raises(PluginConfigError, match=r"tenant 'anhui': plugin 'anhui': not installed"):
        validate_plugin_settings("anhui", ["anhui"], {})
    with pytest.raises(PluginConfigError, match=r"tenant 'shanghai': plugin 'beijing': .*does not enable"):
        validate_plugin_settings("shanghai", ["shanghai"], {"beijing": {}})
    with pytest.raises(PluginConfigError, match=r"plugin 'anhui': settings given .*not installed"):
        validate_plugin_settings("shanghai", ["shanghai"], {"anhui": {"x": 1}})


def test_settings_get_defaults_and_round_trip() -> None:
    result = validate_plugin_settings(
        "fujian",
        ["fujian"],
        {"fujian": {"levy_grassroots_bp": 6500}, "builtin": {"special_allocation_bp": 300}},
    )
    assert set(result) == {"builtin", "fujian"}
    assert result["fujian"]["levy_grassroots_bp"] == 6500
    assert result["fujian"]["levy_remainder_to"] == "grassroots"  # default filled in
    assert result["fujian"]["dibao"]["350100"]  # default table filled in
    assert result["builtin"]["special_allocation_bp"] == 300
    assert result["builtin"]["levy_grassroots_bp"] == 6000
    # The filled result is itself valid input: re-validating is idempotent.
    assert validate_plugin_settings("fujian", ["fujian"], result) == result


def test_toml_dates_are_accepted() -> None:
    import tomllib

    manifest = tomllib.loads("plugins = []\n[settings.builtin]\nsmall_payer_refund_until = 2026-05-31\n")
    result = validate_plugin_settings("guangdong", manifest["plugins"], manifest["settings"])
    # Stored as JSON (the tenants table), so the date comes back as an ISO string that re-validates.
    assert result["builtin"]["small_payer_refund_until"] == "2026-05-31"
    assert json.loads(json.dumps(result)) == result
    assert validate_plugin_settings("guangdong", [], result) == result
    with pytest.raises(PluginConfigError, match="small_payer_refund_until"):
        validate_plugin_settings("guangdong", [], {"builtin": {"small_payer_refund_until": "next year"}})


def test_every_shipped_schema_has_defaults_for_every_field() -> None:
    # A tenant may enable a plugin without configuring it; that only works if no field is required.
    for name, info in available_plugins().items():
        assert info.settings_schema is not None, name
        msgspec.convert({}, info.settings_schema)


# -------------------------------------------------------------------------
# Tenant scoping
# -------------------------------------------------------------------------


def test_shanghai_tenant_never_reaches_beijing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = huijia_beijing.rules.dibao_line

    def spy(*args: Any, **kwargs: Any) -> int | None:
        calls.append("beijing")
        return real(*args, **kwargs)

    monkeypatch.setattr(huijia_beijing.rules, "dibao_line", spy)
    from dataclasses import replace

    # The line is the hardship capability's hook now: asked where the tenant enables it.
    sh = replace(tenant("shanghai", ("shanghai",)), capabilities=("hardship",))
    bj = replace(tenant("beijing", ("beijing",)), capabilities=("hardship",))

    # Same question, same tenant object: the unscoped manager lets Beijing answer with its own table
    # (its default covers 110000); the tenant's view does not, so only Shanghai and the built-in
    # answers are asked, and none has a line for a Beijing district.
    unscoped = get_plugin_manager().hook.hardship_dibao_line(tenant=sh, region_code="110105", year=2024)
    assert unscoped is not None and calls == ["beijing"]
    calls.clear()
    assert hooks_for(sh).hardship_dibao_line(tenant=sh, region_code="110105", year=2024) is None
    assert calls == []

    # And the other way round: each tenant gets its own province's line for its own district.
    sh_line = hooks_for(sh).hardship_dibao_line(tenant=sh, region_code="310105", year=2024)
    bj_line = hooks_for(bj).hardship_dibao_line(tenant=bj, region_code="110105", year=2024)
    assert sh_line and bj_line and sh_line != bj_line
    assert hooks_for(bj).hardship_dibao_line(tenant=bj, region_code="310105", year=2024) is None


def test_region_dibao_line_is_deprecated_but_still_answers() -> None:
    """A plugin still implementing core's old hook loads with a DeprecationWarning naming the new
    one, and its answer still reaches the hardship classification (asked after the new hook)."""
    import warnings

    @hookimpl
    def region_dibao_line(tenant: Any, region_code: str, year: int) -> int | None:
        return 123_400 if region_code == "990101" else None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unregister = register_test_plugin(fake_plugin("olddibao", region_dibao_line=region_dibao_line))
    try:
        moved = [w for w in caught if issubclass(w.category, DeprecationWarning)
                 and "region_dibao_line" in str(w.message)]
        assert len(moved) == 1 and "'olddibao'" in str(moved[0].message)
        assert "hardship_dibao_line" in str(moved[0].message)
        t = TenantContext(id=1, code="olddibao", name="x", province_code="00", plugins=("olddibao",), settings={},
                          capabilities=("hardship",))
        assert hooks_for(t).hardship_dibao_line(tenant=t, region_code="990101", year=2024) == 123_400
        assert hooks_for(t).hardship_dibao_line(tenant=t, region_code="990102", year=2024) is None
    finally:
        unregister()


def test_tags_differ_by_tenant() -> None:
    sh = tenant("shanghai", ("shanghai",))
    bj = tenant("beijing", ("beijing",))
    sh_tags = {t.code for batch in hooks_for(sh).register_member_tags(tenant=sh) for t in batch}
    bj_tags = {t.code for batch in hooks_for(bj).register_member_tags(tenant=bj) for t in batch}
    assert "jingka" in bj_tags and "jingka" not in sh_tags


def test_hooks_for_is_cached_per_enabled_set() -> None:
    a = tenant("shanghai", ("shanghai",))
    b = tenant("shanghai-test", ("shanghai",))
    assert hooks_for(a) is hooks_for(b)
    assert hooks_for(a) is not hooks_for(tenant("beijing", ("beijing",)))


def test_plugin_registered_later_is_not_leaked_to_cached_views() -> None:
    sh = tenant("shanghai", ("shanghai",))
    before = hooks_for(sh)
    assert before.fund_special_allocation_ratio(tenant=sh, year=2025) == 500  # national default

    @hookimpl
    def fund_special_allocation_ratio(tenant: Any, year: int) -> int:
        return 1

    unregister = register_test_plugin(
        fake_plugin("late", fund_special_allocation_ratio=fund_special_allocation_ratio)
    )
    try:
        assert hooks_for(sh).fund_special_allocation_ratio(tenant=sh, year=2025) == 500
        late = TenantContext(id=1, code="late", name="late", province_code="00", plugins=("late",))
        assert hooks_for(late).fund_special_allocation_ratio(tenant=late, year=2025) == 1
    finally:
        unregister()


def test_enabling_an_uninstalled_plugin_fails_loudly() -> None:
    ghost = TenantContext(id=1, code="x", name="x", province_code="00", plugins=("ghost",))
    with pytest.raises(PluginError, match="ghost"):
        hooks_for(ghost)


def test_unknown_hook_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no hook named"):
        hooks_for(tenant("shanghai", ("shanghai",))).region_dibao_lines  # noqa: B018


def test_trace_logs_hook_names_but_no_values(caplog: pytest.LogCaptureFixture) -> None:
    import huijia_hardship.plugin  # Shanghai also answers the hardship capability's aid_amount

    pm = build_plugin_manager([huijia_hardship.plugin, huijia_mutual_aid.plugin, huijia_shanghai.plugin], trace=True)
    sh = tenant("shanghai", ("shanghai",))
    from core.interface import MemberInfo

    member = MemberInfo(
        id=1, org_unit_id=1, name="王秘密", phone="13912345678", id_number="11010519491231002X"
    )
    with caplog.at_level(logging.INFO, logger="huijia.plugins.trace"):
        hooks_for(sh, pm).member_validate(tenant=sh, member=member)
    text = caplog.text
    assert "member_validate" in text and "tenant=shanghai" in text
    for secret in ("王秘密", "13912345678", "11010519491231002X"):
        assert secret not in text

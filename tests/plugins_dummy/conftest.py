"""Fixtures for the dummy-plugin tests: the dummy registered on the process-wide plugin manager."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from core.context import TenantContext
from core.plugins import available_plugins, register_test_plugin, validate_plugin_settings

_MODULE_NAME = "huijia_tests_dummy_plugin"


def _load_dummy() -> ModuleType:
    # Loaded by path: tests/ is not a package, and --import-mode=importlib does not touch sys.path.
    module = sys.modules.get(_MODULE_NAME)
    if module is None:
        spec = importlib.util.spec_from_file_location(
            _MODULE_NAME, Path(__file__).with_name("dummy_plugin.py")
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE_NAME] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(name="dummy")
def fx_dummy() -> Iterator[ModuleType]:
    """The dummy plugin module, registered for the duration of one test."""
    module = _load_dummy()
    module.EVENTS.clear()
    unregister = register_test_plugin(module)
    try:
        yield module
    finally:
        unregister()
        module.EVENTS.clear()


def _tenant(id_: int, code: str, plugins: tuple[str, ...], settings: dict | None = None) -> TenantContext:
    # Bare test plugins (no PLUGIN, hence no schema) are not "available"; validate the rest.
    declared = tuple(p for p in plugins if p in available_plugins())
    validated = validate_plugin_settings(code, declared, settings or {})
    return TenantContext(
        id=id_, code=code, name=f"{code} 总工会", province_code="99", plugins=plugins, settings=validated
    )


@pytest.fixture(name="tenant_dummy")
def fx_tenant_dummy(dummy: ModuleType) -> TenantContext:
    """A tenant that enables the dummy plugin with its default settings."""
    return _tenant(901, "dummyland", ("dummy",))


@pytest.fixture(name="tenant_plain")
def fx_tenant_plain(dummy: ModuleType) -> TenantContext:
    """A tenant with no province plugin: only the built-in national rules apply."""
    return _tenant(902, "plainland", (), {"builtin": {"dibao": {"990000": {"2024": 80000}}}})


@pytest.fixture(name="make_tenant")
def fx_make_tenant(dummy: ModuleType):
    """Build a validated tenant: ``make_tenant(code, plugins, settings)``."""
    counter = iter(range(1000, 2000))
    return lambda code, plugins, settings=None: _tenant(next(counter), code, plugins, settings)

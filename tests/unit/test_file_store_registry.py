"""The file-store registry (``register_file_stores``): backups, restores and province exports find
every area through it."""

from __future__ import annotations

import pluggy
import pytest

from core import hookspecs
from core.files import FileStore
from core.plugins import PluginError
from core.registry import Registry, build_registry, get_registry


class _Stores:
    def __init__(self, *stores: FileStore) -> None:
        self.stores = list(stores)

    @hookspecs.hookimpl
    def register_file_stores(self) -> list[FileStore]:
        return self.stores


def _registry(**plugins: _Stores) -> Registry:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name, plugin in plugins.items():
        pm.register(plugin, name)
    return build_registry(pm)


def test_hook_register_file_stores() -> None:
    stores = get_registry().file_stores
    assert {"members", "funds", "hardship"} <= set(stores)
    assert stores["hardship"].context_prefix == "hardship/" and stores["members"].context_prefix == ""

    shared = FileStore("shared")
    found = _registry(a=_Stores(shared), b=_Stores(shared)).file_stores
    assert found == {"shared": shared}  # one store object named twice is one area

    with pytest.raises(PluginError, match="area 'x' is already registered by plugin 'a'"):
        assert _registry(a=_Stores(FileStore("x")), b=_Stores(FileStore("x"))).file_stores
    with pytest.raises(PluginError, match="must return FileStore objects"):
        assert _registry(a=_Stores("x")).file_stores  # type: ignore[arg-type]

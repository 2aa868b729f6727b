"""A province plugin serving the test capability: implements its hook from its settings."""

from __future__ import annotations

import msgspec

from core.sdk import PluginInfo, TenantContext, hookimpl, tenant_settings

NAME = "testprov"


class TestprovSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    item_limit_fen: int = 5_000


PLUGIN = PluginInfo(name=NAME, province_code=None, version="0.0.1", min_core="0.1",
                    settings_schema=TestprovSettings, capabilities=("testcap",),
                    contracts={"huijia.core": "0.2", "testcap": "1.0"})


@hookimpl
def testcap_item_limit(tenant: TenantContext) -> int | None:
    return tenant_settings(tenant, NAME, TestprovSettings).item_limit_fen

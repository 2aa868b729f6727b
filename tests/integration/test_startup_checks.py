"""A bad plugin setting stored for a tenant stops start-up, naming tenant, plugin and key."""

from __future__ import annotations

import pytest

from tests.fixtures.api import unique


async def test_bad_stored_setting_stops_startup(database):
    from core.actor import Actor
    from core.bootstrap import startup_checks
    from core.plugins import PluginConfigError
    from core.tenancy.services import clear_tenant_cache, create_tenant
    from core.tenancy.tables import Tenant

    code = unique("badcfg")
    tenant = await create_tenant(Actor(None, "test"), code=code, name="配置错误测试", province_code="31", plugins=["shanghai"])
    # Somebody edits the database by hand (or an old manifest slipped through).
    await Tenant.update({Tenant.settings: {"shanghai": {"phone_required_tags": 7}}}).where(Tenant.id == tenant.id)
    clear_tenant_cache()
    try:
        with pytest.raises(PluginConfigError) as exc:
            await startup_checks()
        message = str(exc.value)
        assert code in message and "shanghai" in message and "phone_required_tags" in message
    finally:
        await Tenant.update({Tenant.active: False}).where(Tenant.id == tenant.id)
        clear_tenant_cache()
    await startup_checks()  # with the tenant retired, start-up passes again

"""Fixtures of the procurement tests: a sandbox tenant whose calls run a day in a second, and its staff."""

from __future__ import annotations

import pytest_asyncio

from core.testing import create_plugin_tenant, persona

ACCELERATED = "\n[settings.procurement]\nsandbox_acceleration = 86400\n"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fast(app, tmp_path_factory):
    return await create_plugin_tenant(["procurement"], tmp_path_factory.mktemp("fast"), ACCELERATED)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(api, fast):
    return {role: (await persona(api, fast.code, role, fast.root_unit)).api
            for role in ("clerk", "approver", "tenant_admin", "auditor", "finance")}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fast_funds(fast):
    """Cash in the root union's general fund of ``fast`` (50,000,000 fen), by a ledger entry."""
    import uuid

    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry
    from core.tenancy import queries as tenancy

    tenant = await fast.context()
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, fast.root_unit)
        refs = [AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                AccountRef(org_unit_id=unit["id"], fund="general", code="404")]
        for _ in range(10):  # each under the manual-entry approval threshold
            done = await create_manual_entry(tenant, Actor(None, "test"), refs=refs, amounts=[5_000_000, -5_000_000],
                                             key=f"procurement-test-{uuid.uuid4().hex}", memo="test funding")
            assert done.entry_id is not None
    return 50_000_000

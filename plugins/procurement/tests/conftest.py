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

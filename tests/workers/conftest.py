"""Fixtures of the worker tests: clients at addresses of their own (registrations and logins are
throttled per address) and clerks of two districts of Shanghai."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.fixtures.api import Api, persona

_addresses = itertools.count(1)


@pytest.fixture
async def from_address(app):
    clients = []

    async def make(ip: str | None = None) -> Api:
        if ip is None:
            n = next(_addresses)
            ip = f"10.77.{n // 250 % 250}.{n % 250 + 1}"
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver")
        clients.append(c)
        return Api(c)

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture(scope="module")
async def sh_clerk(api):
    return await persona(api, "shanghai", "clerk", "sh-huangpu")


@pytest.fixture(scope="module")
async def xuhui_clerk(api):
    return await persona(api, "shanghai", "clerk", "sh-xuhui")



"""The app and GraphQL clients: an in-process app, anonymous and logged-in clients, staff personas and the job runner."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest_asyncio

from core.testing.env import (
    PASSWORD,
    unique,
)

# -------------------------------------------------------------------------
# The app and GraphQL clients
# -------------------------------------------------------------------------


@dataclass
class Api:
    """A GraphQL client on the in-process app, optionally logged in (``token``)."""

    client: Any  # httpx.AsyncClient
    token: str | None = None

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None,
                  expect_status: int | None = 200) -> dict[str, Any]:
        headers = {}
        tok = token if token is not None else self.token
        if tok:
            headers["authorization"] = f"Bearer {tok}"
        r = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        if expect_status is not None:
            assert r.status_code == expect_status, r.text
        body: dict[str, Any] = r.json()
        body["_status"] = r.status_code
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """``data`` of a query that must not fail (top-level ``errors`` fail the test)."""
        body = await self.gql(query, variables)
        assert "errors" not in body, body
        return body["data"]

    def as_(self, token: str) -> Api:
        return Api(self.client, token)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(database: str) -> AsyncIterator[Any]:
    from core.app import create_app

    application = create_app()
    # Drive the lifespan inside one task: pytest-asyncio tears fixtures down in another task, and
    # Litestar's lifespan holds an anyio cancel scope that must exit in the task that entered it.
    started = asyncio.Event()
    stop = asyncio.Event()

    async def run() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    # A start-up that fails ends the task before ``started`` is set: wait for whichever comes first,
    # so the failure is raised here instead of the whole run hanging in silence.
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        waiter.cancel()
        task.result()  # raises the start-up's exception
        raise RuntimeError("the app's lifespan ended before start-up finished")
    yield application
    stop.set()
    await task


_addresses = itertools.count(1)


def from_new_address(api: Api) -> Api:
    """The same in-process app seen from a client address of its own (10.99.x.y), keeping ``api``'s
    token. Registrations and logins are throttled per address, and a whole suite registers many
    workers: each test that registers one should do it from an address of its own."""
    import httpx

    n = next(_addresses)
    app = api.client._transport.app  # the ASGI app behind the session's client
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.99.{n // 250 % 250}.{n % 250 + 1}", 40000)),
                          base_url=str(api.client.base_url))
    return Api(c, api.token)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def client(app: Any) -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def api(client: Any) -> Api:
    return Api(client)


LOGIN = """mutation($t: String!, $u: String!, $p: String!) {
  login(tenantCode: $t, username: $u, password: $p) { token user { id username } errors { field code message } }
}"""


async def login(api: Api, tenant: str, username: str, password: str = PASSWORD) -> str:
    body = await api.gql(LOGIN, {"t": tenant, "u": username, "p": password})
    payload = body["data"]["login"]
    assert payload["errors"] == [], payload
    return payload["token"]


async def make_user(tenant_code: str, role: str, unit_code: str | None = None, username: str | None = None) -> str:
    """Create a user through the accounts service (test set-up) with one grant; return the username."""
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import queries as tenancy

    tenant = await tenancy.get_tenant(code=tenant_code)
    assert tenant is not None, tenant_code
    username = username or unique(f"{role}_")
    with tenant_scope(tenant):
        unit = await (tenancy.get_unit_by_code(tenant, unit_code) if unit_code else tenancy.root_unit(tenant))
        assert unit is not None, unit_code
        await accounts.create_user(tenant, Actor(None, "test"), username=username, password=PASSWORD,
                                   grants=[(role, unit["id"])])
    return username


@dataclass
class Persona:
    tenant: str
    username: str
    token: str
    api: Api


async def persona(api: Api, tenant: str, role: str, unit_code: str | None = None) -> Persona:
    """A new user with ``role`` at ``unit_code`` (default: the root), logged in over GraphQL."""
    username = await make_user(tenant, role, unit_code)
    token = await login(api, tenant, username)
    return Persona(tenant, username, token, api.as_(token))


async def run_jobs() -> None:
    """Run every queued job once under a real arq worker in burst mode (returns when the queue is empty)."""
    from arq.worker import Worker

    from core.jobs.worker import worker_settings

    settings = worker_settings(burst=True, handle_signals=False, on_startup=None, on_shutdown=None, poll_delay=0.05)
    worker = Worker(**settings)
    try:
        await worker.main()
    finally:
        await worker.close()

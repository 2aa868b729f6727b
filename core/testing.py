"""``huijia.testing``: the pytest plugin for Huijia plugin authors (and core's own test suite).

Installed with core as the ``pytest11`` entry point ``huijia``, so ``pytest`` in any plugin package
gets these fixtures without a ``conftest.py``. Everything runs against real services: a fresh
PostgreSQL database per run (unique name, created, migrated and dropped) and a per-run Redis key
space, the app driven in-process over HTTP, data made through core's own services.

Fixtures (scope):

- ``huijia_env`` (session): the :class:`TestEnvironment` of this run (database name, queue, ...);
- ``database`` (session): the migrated test database, core's tenants synced when ``tenants/`` exists;
- ``redis_keyspace`` (session): the run's Redis key prefix, its keys deleted at the end;
- ``app``, ``client``, ``api`` (session): the web app, an ``httpx`` client on it, an anonymous :class:`Api`;
- ``plugin_tenant`` (module): a fresh tenant enabling the plugin under test (found in the nearest
  ``pyproject.toml``'s ``huijia.plugins`` entry points) and the capabilities it provides or serves,
  with a root union, a district union under it and a grassroots union under the district;
- ``members`` (module): three members of the grassroots union, created through the members service;
- ``funded_accounts`` (module): cash (102) at the root and the district, funded through the ledger;
- ``settings_override`` (function): ``settings_override(redis_url=None)`` for the rest of the test;
- ``in_process_jobs`` (function): jobs enqueued during the test run in-process, not through Redis;
- ``roles`` (module): :class:`Roles`, GraphQL clients logged in per role at the root or the district;
  ``tenant_admin``, ``approver``, ``clerk``, ``finance``, ``auditor`` and ``district_<role>`` are
  shortcuts for those clients.

The environment (``DATABASE_URL``, ``REDIS_URL``, ...) is set in ``pytest_configure``, before any test
module imports core (settings and the database engine are read once). Set ``HUIJIA_TEST_PG_ADMIN``
and ``HUIJIA_TEST_REDIS`` to point at other servers. Disable the plugin with ``-p no:huijia``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import itertools
import os
import textwrap
import tomllib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

__all__ = [
    "PASSWORD",
    "ROLES",
    "Api",
    "FundedAccounts",
    "Persona",
    "PluginTenant",
    "PluginUnderTest",
    "Roles",
    "TestEnvironment",
    "clean_redis",
    "configure_environment",
    "create_test_database",
    "current_environment",
    "drop_test_database",
    "login",
    "make_user",
    "persona",
    "plugin_under_test",
    "run_jobs",
    "synthetic_id_number",
    "unique",
]

PASSWORD = "correct-horse-battery"
# The staff roles a plugin's tests usually need, each at the root and at a district.
ROLES = ("tenant_admin", "approver", "clerk", "finance", "auditor")
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


# -------------------------------------------------------------------------
# Environment, database and Redis
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestEnvironment:
    """Where this test run keeps its data; every name carries the run id, so parallel runs never meet."""

    __test__ = False  # not a test class, whatever pytest's naming rules say

    run_id: str
    admin_dsn: str  # a superuser connection to the server's maintenance database
    app_role: str  # the NOSUPERUSER NOBYPASSRLS role the app connects as; it owns nothing
    owner_role: str  # owns the database and runs the migrations, as in production
    database: str
    redis_url: str
    queue: str

    @property
    def database_url(self) -> str:
        host = self.admin_dsn.split("@", 1)[-1].split("/", 1)[0]
        return f"postgresql://{self.app_role}@{host}/{self.database}"

    @property
    def owner_url(self) -> str:
        host = self.admin_dsn.split("@", 1)[-1].split("/", 1)[0]
        return f"postgresql://{self.owner_role}@{host}/{self.database}"

    @classmethod
    def new(cls, run_id: str | None = None) -> TestEnvironment:
        run_id = run_id or uuid.uuid4().hex[:10]
        return cls(
            run_id=run_id,
            admin_dsn=os.environ.get("HUIJIA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"),
            app_role="huijia_app_test",
            owner_role="huijia_owner_test",
            database=f"huijia_test_{run_id}",
            redis_url=os.environ.get("HUIJIA_TEST_REDIS", "redis://127.0.0.1:6379/0"),
            queue=f"huijia-test:{run_id}",
        )


def configure_environment(env: TestEnvironment, extra_plugins: list[str] | tuple[str, ...] = ()) -> None:
    """Point core at ``env``: must run before core's settings or piccolo_conf are first imported.

    ``extra_plugins`` (module paths) are added to ``HUIJIA_PLUGINS_EXTRA``, keeping what is there.
    """
    extra = [p for p in os.environ.get("HUIJIA_PLUGINS_EXTRA", "").split(",") if p.strip()]
    extra += [p for p in extra_plugins if p not in extra]
    os.environ.update(
        {
            "HUIJIA_ENV": "test",
            "DATABASE_URL": env.database_url,
            "REDIS_URL": env.redis_url,
            "HUIJIA_JOB_QUEUE": env.queue,
            "HUIJIA_LOG_LEVEL": os.environ.get("HUIJIA_LOG_LEVEL", "WARNING"),
            "HUIJIA_LOGIN_MAX_FAILURES": "5",
            "HUIJIA_DB_POOL_MAX": "30",
            "HUIJIA_DB_QUERY_CAPTURE": "1",
            "HUIJIA_PLUGINS_EXTRA": ",".join(extra),
        }
    )
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")


async def create_test_database(env: TestEnvironment) -> None:
    """Create the run's database, owned by the owner role; both roles are created if missing.

    The one place that decides who owns the test database and as whom the app connects. Roles as in
    production (docs/operations.md): the owner owns the database and runs the migrations
    (:func:`migrate_as_owner`); the app, and so every test, connects as a NOSUPERUSER NOBYPASSRLS role
    that owns nothing and may only read and write rows. Row-level security fences it, and FORCE ROW
    LEVEL SECURITY fences the owner too, which the isolation tests rely on.
    """
    import asyncpg

    conn = await asyncpg.connect(env.admin_dsn)
    try:
        for role in (env.app_role, env.owner_role):
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            if not exists:
                # a parallel run may win the race
                with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                    await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        await conn.execute(f"CREATE DATABASE {env.database} OWNER {env.owner_role}")
    finally:
        await conn.close()


async def migrate_as_owner(env: TestEnvironment) -> None:
    """``huijia migrate --owner-url`` in a subprocess (a process has one engine, and this one is the
    app's): the owner creates every table, core's and the installed plugins', then grants the app
    role row access only."""
    import asyncio
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.cli", "migrate", "--owner-url", env.owner_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"huijia migrate --owner-url failed:\n{out.decode()}")


async def drop_test_database(env: TestEnvironment) -> None:
    import asyncpg

    conn = await asyncpg.connect(env.admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {env.database} WITH (FORCE)")
    finally:
        await conn.close()


async def clean_redis(env: TestEnvironment) -> None:
    from redis.asyncio import Redis

    r = Redis.from_url(env.redis_url)
    try:
        keys = [k async for k in r.scan_iter(match=f"*{env.queue}*")]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


# -------------------------------------------------------------------------
# The plugin under test
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginUnderTest:
    """The plugins a package declares under ``[project.entry-points."huijia.plugins"]``: name -> module."""

    root: Path
    plugins: dict[str, str]


def plugin_under_test(start: Path) -> PluginUnderTest | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that declares Huijia plugins, if any."""
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        declared = data.get("project", {}).get("entry-points", {}).get("huijia.plugins", {})
        if declared:
            return PluginUnderTest(folder, dict(declared))
    return None


def _uninstalled_modules(found: PluginUnderTest | None) -> list[str]:
    """Modules of the plugins under test that are not installed (a fresh scaffold, a checkout on PYTHONPATH)."""
    if found is None:
        return []
    installed = {ep.name for ep in importlib.metadata.entry_points(group="huijia.plugins")}
    return [module for name, module in found.plugins.items() if name not in installed]


_current: TestEnvironment | None = None


def current_environment() -> TestEnvironment:
    """This process's test environment, made on first use (a conftest may read it before pytest_configure)."""
    global _current
    if _current is None:
        _current = TestEnvironment.new()
    return _current


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "_huijia_env", None) is not None:
        return
    env = current_environment()
    starts = [config.rootpath, *(Path(a.split("::")[0]).resolve() for a in config.args)]
    extra: list[str] = []
    for start in starts:
        for module in _uninstalled_modules(plugin_under_test(start)):
            if module not in extra:
                extra.append(module)
    configure_environment(env, extra)
    config._huijia_env = env  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def huijia_env(pytestconfig: pytest.Config) -> TestEnvironment:
    return pytestconfig._huijia_env  # type: ignore[attr-defined,no-any-return]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def redis_keyspace(huijia_env: TestEnvironment) -> AsyncIterator[str]:
    """The run's Redis key prefix (job queue and results); its keys are deleted when the run ends."""
    yield huijia_env.queue
    await clean_redis(huijia_env)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database(huijia_env: TestEnvironment, redis_keyspace: str) -> AsyncIterator[str]:
    """A fresh database for the run: created, migrated (core and every installed plugin), dropped."""
    await create_test_database(huijia_env)
    await migrate_as_owner(huijia_env)
    from core.bootstrap import start_database, stop_database
    from core.tenancy.manifest import TENANTS_DIR, sync_all

    await start_database()
    try:
        if TENANTS_DIR.is_dir():  # a source checkout: core's demo provinces, which core's tests use
            await sync_all()
        yield huijia_env.database
    finally:
        from core.jobs.runner import close_runner, drain_local

        await drain_local(5)
        await close_runner()
        await stop_database()
        await drop_test_database(huijia_env)


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
        return body["data"]  # type: ignore[no-any-return]

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
    await started.wait()
    yield application
    stop.set()
    await task


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
    return payload["token"]  # type: ignore[no-any-return]


async def make_user(tenant_code: str, role: str, unit_code: str | None = None, username: str | None = None) -> str:
    """Create a user through the accounts service (test set-up) with one grant; return the username."""
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    tenant = await tenancy.get_tenant(code=tenant_code)
    assert tenant is not None, tenant_code
    username = username or unique(f"{role}_")
    with tenant_scope(tenant):
        unit = await (tenancy.get_unit_by_code(tenant, unit_code) if unit_code else tenancy.root_unit(tenant))
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


# -------------------------------------------------------------------------
# A tenant enabling the plugin under test, with members, money and staff
# -------------------------------------------------------------------------


@dataclass
class PluginTenant:
    code: str
    plugins: tuple[str, ...]  # province plugins in the manifest's ``plugins``
    capabilities: tuple[str, ...]
    root_unit: str  # org unit codes
    district_unit: str
    grassroots_unit: str
    unit_ids: dict[str, str] = field(default_factory=dict)  # unit code -> GraphQL global id (OrgUnit)

    async def context(self) -> Any:
        """The tenant's ``TenantContext`` as core loads it (for calling services and hooks directly)."""
        from core.tenancy.services import get_tenant

        return await get_tenant(code=self.code)


_MANIFEST = """
code = "{code}"
name = "{code} 测试总工会"
province_code = "{province}"
plugins = {plugins}
capabilities = {capabilities}

[[units]]
code = "{code}-root"
name = "{code} 测试总工会"
level = "province"
area_code = "{province}0000"

[[units]]
code = "{code}-district"
parent = "{code}-root"
name = "{code} 测试区总工会"
level = "county"
area_code = "{province}0101"

[[units]]
code = "{code}-g1"
parent = "{code}-district"
name = "{code} 测试企业工会"
level = "grassroots"
"""


def _toml_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


async def create_plugin_tenant(plugin_names: list[str], tmp: Path, settings: str = "") -> PluginTenant:
    """A new tenant (unique code) enabling ``plugin_names`` and the capabilities they provide or serve."""
    from core.plugins import available_plugins, get_plugin_manager, host_info
    from core.tenancy.manifest import SyncReport, parse_manifest, sync_manifest

    pm = get_plugin_manager()
    infos = available_plugins(pm)
    provided = host_info(pm).capabilities_of
    missing = [n for n in plugin_names if n not in infos]
    if missing:
        raise RuntimeError(f"plugin(s) {missing} are not loaded: install the package or check its entry point")
    province: list[str] = []
    capabilities: list[str] = []
    for name in plugin_names:
        codes = provided.get(name)
        if codes:  # a capability plugin is platform-wide: the tenant enables its capabilities
            capabilities += [c for c in codes if c not in capabilities]
        else:
            province.append(name)
            capabilities += [c for c in infos[name].capabilities if c not in capabilities]
    code = f"pt{next(_seq)}x{uuid.uuid4().hex[:6]}"
    # 91 is no province in GB/T 2260 (which ends at 82, Macao): a test tenant cannot pass for a real one.
    province_code = next((infos[n].province_code for n in province if infos[n].province_code), None) or "91"
    text = textwrap.dedent(_MANIFEST.format(code=code, province=province_code, plugins=_toml_list(tuple(province)),
                                            capabilities=_toml_list(tuple(capabilities)))) + settings
    path = tmp / f"{code}.toml"
    path.write_text(text, encoding="utf-8")
    await sync_manifest(parse_manifest(path), SyncReport())
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy import services as tenancy

    made = PluginTenant(code, tuple(province), tuple(capabilities), f"{code}-root", f"{code}-district", f"{code}-g1")
    tenant = await made.context()
    with tenant_scope(tenant):
        for unit_code in (made.root_unit, made.district_unit, made.grassroots_unit):
            unit = await tenancy.get_unit_by_code(tenant, unit_code)
            made.unit_ids[unit_code] = to_global_id("OrgUnit", unit["id"])
    return made


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def plugin_tenant(request: pytest.FixtureRequest, app: Any, tmp_path_factory: pytest.TempPathFactory) -> PluginTenant:
    """A fresh tenant enabling the plugin(s) of the package whose tests are running."""
    found = plugin_under_test(Path(str(request.path)))
    if found is None:
        pytest.fail(f"{request.path}: no pyproject.toml above it declares [project.entry-points.\"huijia.plugins\"]")
    return await create_plugin_tenant(sorted(found.plugins), tmp_path_factory.mktemp("manifests"))


def synthetic_id_number(n: int, born: str = "19800101", area: str = "110105") -> str:
    """A well-formed 18-digit resident ID number (GB 11643 check digit) that belongs to nobody in particular."""
    from core.pii.idcard import check_char

    body = f"{area}{born}{n % 1000:03d}"
    return body + check_char(body)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def members(plugin_tenant: PluginTenant) -> list[dict[str, Any]]:
    """Three members of the tenant's grassroots union, created through the members service (rows as stored)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.tenancy import services as tenancy

    tenant = await plugin_tenant.context()
    created = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, plugin_tenant.grassroots_unit)
        for i, name in enumerate(("张三", "李四", "王五")):
            values = {"name": name, "id_number": synthetic_id_number(next(_seq) * 7 + i),
                      "phone": f"138{next(_seq) % 100_000_000:08d}", "employer": "测试企业"}
            created.append(await create_member(tenant, Actor(None, "test"), values=values, unit_id=unit["id"],
                                               scope_paths=None))
    return created


@dataclass
class FundedAccounts:
    """Cash (account 102, general fund) funded at the root and the district union, by ledger entry."""

    root_cash_fen: int
    district_cash_fen: int
    entry_ids: list[int] = field(default_factory=list)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def funded_accounts(plugin_tenant: PluginTenant) -> FundedAccounts:
    """Dr 102 cash / Cr 404 subsidy income at the root (1,000,000 fen) and the district (200,000 fen)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry
    from core.tenancy import services as tenancy

    tenant = await plugin_tenant.context()
    funded = FundedAccounts(root_cash_fen=1_000_000, district_cash_fen=200_000)
    with tenant_scope(tenant):
        for unit_code, amount in ((plugin_tenant.root_unit, funded.root_cash_fen),
                                  (plugin_tenant.district_unit, funded.district_cash_fen)):
            unit = await tenancy.get_unit_by_code(tenant, unit_code)
            refs = [AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                    AccountRef(org_unit_id=unit["id"], fund="general", code="404")]
            result = await create_manual_entry(tenant, Actor(None, "test"), refs=refs, amounts=[amount, -amount],
                                               key=f"huijia-testing-{uuid.uuid4().hex}", memo="test funding")
            assert result.entry_id is not None, "test funding went to approval: raise the manual-entry threshold"
            funded.entry_ids.append(result.entry_id)
    return funded


class Roles:
    """GraphQL clients logged in per role: ``await roles.at("clerk")``, ``await roles.at("clerk", district=True)``.

    Each (role, place) gets one user, created on first use and reused within the module.
    """

    def __init__(self, api: Api, tenant: PluginTenant) -> None:
        self.api = api
        self.tenant = tenant
        self._cache: dict[tuple[str, bool], Persona] = {}

    async def at(self, role: str, *, district: bool = False) -> Persona:
        key = (role, district)
        if key not in self._cache:
            unit = self.tenant.district_unit if district else self.tenant.root_unit
            self._cache[key] = await persona(self.api, self.tenant.code, role, unit)
        return self._cache[key]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def roles(api: Api, plugin_tenant: PluginTenant) -> Roles:
    return Roles(api, plugin_tenant)


@pytest.fixture
def settings_override() -> Any:
    """``settings_override(login_ip_max_failures=6)`` changes those settings for every caller of
    ``get_settings`` until the test ends (``core.settings.override_settings``); returns them."""
    from core.settings import override_settings

    with contextlib.ExitStack() as stack:
        yield lambda **changes: stack.enter_context(override_settings(**changes))


@pytest.fixture
def in_process_jobs() -> Any:
    """Jobs enqueued during the test run in the test's own process, as on the embedded default,
    although the test environment has Redis; ``await core.jobs.runner.drain_local()`` waits for
    them. (``run_jobs`` runs queued jobs under a real arq worker instead.)"""
    from core.jobs.runner import jobs_in_process

    with jobs_in_process():
        yield


def _role_fixture(role: str, district: bool) -> Any:
    async def fixture(roles: Roles) -> Api:
        return (await roles.at(role, district=district)).api

    place = "the district union" if district else "the root union"
    fixture.__doc__ = f"A GraphQL client logged in as a {role} at {place} of ``plugin_tenant``."
    name = f"district_{role}" if district else role
    fixture.__name__ = name
    return pytest_asyncio.fixture(scope="module", loop_scope="session", name=name)(fixture)


for _role in ROLES:
    globals()[f"_fx_{_role}"] = _role_fixture(_role, False)
    globals()[f"_fx_district_{_role}"] = _role_fixture(_role, True)
del _role

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

The package: ``env`` (environment, database, Redis, the plugin under test), ``session`` (the
configure hook and session fixtures), ``seams`` (settings and job-runner overrides), ``clients`` (the app and GraphQL clients) and ``tenant`` (the
plugin tenant and its fixtures). pytest finds the hook and the fixtures on this module, the
entry point, so they are imported here.
"""

from core.testing import tenant as _tenant
from core.testing.clients import (
    LOGIN,
    Api,
    Persona,
    from_new_address,
    login,
    make_user,
    persona,
    run_jobs,
)
from core.testing.clients import (
    api as api,
)
from core.testing.clients import (
    app as app,
)
from core.testing.clients import (
    client as client,
)
from core.testing.env import (
    PASSWORD,
    ROLES,
    PluginUnderTest,
    TestEnvironment,
    clean_redis,
    configure_environment,
    create_test_database,
    current_environment,
    drop_test_database,
    migrate_as_owner,
    plugin_under_test,
    unique,
)
from core.testing.seams import (
    in_process_jobs as in_process_jobs,
)
from core.testing.seams import (
    settings_override as settings_override,
)
from core.testing.session import (
    database as database,
)
from core.testing.session import (
    huijia_env as huijia_env,
)
from core.testing.session import (
    pytest_configure as pytest_configure,
)
from core.testing.session import (
    redis_keyspace as redis_keyspace,
)
from core.testing.tenant import (
    FundedAccounts,
    PluginTenant,
    Roles,
    create_plugin_tenant,
    synthetic_id_number,
)
from core.testing.tenant import (
    funded_accounts as funded_accounts,
)
from core.testing.tenant import (
    members as members,
)
from core.testing.tenant import (
    plugin_tenant as plugin_tenant,
)
from core.testing.tenant import (
    roles as roles,
)

# The per-role client fixtures (tenant_admin, district_clerk, ...) are made in a loop in
# core.testing.tenant; pytest looks for fixtures on this module, so they are copied here.
globals().update({k: v for k, v in vars(_tenant).items() if k.startswith("_fx_")})

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
    "from_new_address",
    "login",
    "make_user",
    "persona",
    "plugin_under_test",
    "run_jobs",
    "synthetic_id_number",
    "unique",
    "LOGIN",
    "create_plugin_tenant",
    "migrate_as_owner",
]

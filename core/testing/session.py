"""The pytest hook that configures the environment before core is imported, and the session fixtures (environment, Redis key space, database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from core.testing.env import (
    TestEnvironment,
    _uninstalled_modules,
    clean_redis,
    configure_environment,
    create_test_database,
    current_environment,
    drop_test_database,
    migrate_as_owner,
    plugin_under_test,
)

# The session's environment, kept on the pytest config for the huijia_env fixture.
_ENV = pytest.StashKey[TestEnvironment]()


def pytest_configure(config: pytest.Config) -> None:
    if _ENV in config.stash:
        return
    env = current_environment()
    starts = [config.rootpath, *(Path(a.split("::")[0]).resolve() for a in config.args)]
    extra: list[str] = []
    for start in starts:
        for module in _uninstalled_modules(plugin_under_test(start)):
            if module not in extra:
                extra.append(module)
    configure_environment(env, extra)
    config.stash[_ENV] = env


@pytest.fixture(scope="session")
def huijia_env(pytestconfig: pytest.Config) -> TestEnvironment:
    return pytestconfig.stash[_ENV]


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

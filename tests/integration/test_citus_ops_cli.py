"""`huijia tenants isolate | move` refuse what would lose rows or cannot work, before touching anything:
a role that row-level security fences (the copy would see no rows), and a database that is not on Citus.
On the cluster, tests/citus/test_ops.py isolates and moves a province for real."""

from __future__ import annotations

import asyncio
import sys

import pytest

from core.testing.env import _with_database
from tests.conftest import ENV, TEST_DB


async def _cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "core.cli", "tenants", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@pytest.mark.skipif(bool(ENV.citus_workers), reason="checks the refusal of a database without Citus, which a cluster is not; tests/citus checks the role refusal there")
async def test_a_role_under_row_level_security_and_a_database_without_citus_are_refused(app) -> None:
    from core.ops.citus import CitusOpsError, isolate, move

    for url in (ENV.owner_url, ENV.database_url):
        with pytest.raises(CitusOpsError, match="neither superuser nor BYPASSRLS"):
            await isolate("shanghai", url)
        with pytest.raises(CitusOpsError, match="neither superuser nor BYPASSRLS"):
            await move("shanghai", "127.0.0.1:5433", url)
    superuser = _with_database(ENV.admin_dsn, TEST_DB)
    with pytest.raises(CitusOpsError, match="not on Citus"):
        await isolate("shanghai", superuser)

    code, out = await _cli("isolate", "shanghai", "--database-url", ENV.owner_url)
    assert code == 2 and "neither superuser nor BYPASSRLS" in out and "lost" in out, out
    code, out = await _cli("move", "shanghai", "127.0.0.1:5433", "--database-url", superuser)
    assert code == 2 and "not on Citus" in out, out
    code, out = await _cli("move", "shanghai", "nowhere", "--database-url", superuser)
    assert code == 2 and "host:port" in out, out

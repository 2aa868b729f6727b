"""Operating the cluster while it serves: a province isolated and moved to another worker under a trickle
of ledger writes, a worker stopped mid-test, and a cross-province member transfer (a distributed
transaction on two shards) killed half-way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from core.testing.env import _with_database
from tests.conftest import ENV, TEST_DB
from tests.fixtures.api import persona
from tests.funds.helpers import balance, fund_cash, integrity, make_tree
from tests.members.members_helpers import create_member

CLUSTER_DIR = os.environ.get("HUIJIA_TEST_CITUS_DIR", "")
CLUSTER = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "citus", "cluster.sh")
SUPER_URL = _with_database(ENV.admin_dsn, TEST_DB)
COORDINATOR_PORT = int(ENV.admin_dsn.rsplit(":", 1)[-1].split("/", 1)[0])
ENTRIES = "query($f: LedgerEntryFilter) { ledgerEntries(filter: $f, first: 100) { totalCount nodes { memo } } }"
UNITS = "{ orgUnits(first: 100) { nodes { code } } }"

needs_cluster_dir = pytest.mark.skipif(not CLUSTER_DIR, reason="needs HUIJIA_TEST_CITUS_DIR (make test-citus sets it)")


@contextlib.asynccontextmanager
async def superuser() -> AsyncIterator[Any]:
    conn = await asyncpg.connect(SUPER_URL)
    try:
        yield conn
    finally:
        await conn.close()


async def placement(code: str) -> dict[str, Any]:
    from core.ops.citus import tenant_placement

    async with superuser() as conn:
        tenant_id = await conn.fetchval("SELECT id FROM tenant WHERE code = $1", code)
        return await tenant_placement(conn, tenant_id)


async def huijia(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "core.cli", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def node(port: int, action: str) -> None:
    proc = await asyncio.create_subprocess_exec(CLUSTER, "node", CLUSTER_DIR, str(port - COORDINATOR_PORT), action)
    assert await proc.wait() == 0


async def test_a_province_isolated_then_moved_under_a_trickle_of_writes_loses_nothing_and_leaks_nothing(api) -> None:
    fj = await persona(api, "fujian", "finance")
    sh = await persona(api, "shanghai", "finance")
    t = await make_tree("fujian")
    marker = f"move-{uuid.uuid4().hex[:8]}"

    code, out = await huijia("tenants", "isolate", "fujian", "--database-url", SUPER_URL)
    assert code == 0, out
    before = await placement("fujian")
    assert before["alone"], out
    # Running it again changes nothing.
    code, out = await huijia("tenants", "isolate", "fujian", "--database-url", SUPER_URL)
    assert code == 0 and "nothing to do" in out, out

    posted: list[int] = []
    failed: list[Any] = []
    stop = asyncio.Event()

    async def trickle() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            r = await fund_cash(fj, t.g1, 100, memo=f"{marker}-{i}", sourceType=marker, sourceId=str(i))
            (posted if r["errors"] == [] and r["entry"] else failed).append(i if not r["errors"] else r["errors"])
            # A read in between: the province is served throughout.
            await balance(fj, t.g1, "102")

    writer = asyncio.create_task(trickle())
    await asyncio.sleep(1)
    target = next(w for w in ENV.citus_workers if w != f"{before['nodename']}:{before['nodeport']}")
    code, out = await huijia("tenants", "move", "fujian", target, "--database-url", SUPER_URL)
    await asyncio.sleep(1)
    stop.set()
    await writer
    assert code == 0, out
    after = await placement("fujian")
    assert f"{after['nodename']}:{after['nodeport']}" == target and after["alone"]

    assert failed == [] and len(posted) >= 3
    assert await balance(fj, t.g1, "102") == 100 * len(posted)
    seen = (await fj.api.gql(ENTRIES, {"f": {"sourceType": marker}}))["data"]["ledgerEntries"]
    assert seen["totalCount"] == len(posted)
    await integrity(t.tenant)
    # Nothing of the moved province reaches another one.
    other = (await sh.api.gql(ENTRIES, {"f": {"sourceType": marker}}))["data"]["ledgerEntries"]
    assert other["totalCount"] == 0
    # The platform's audit chain keeps both operations.
    async with superuser() as conn:
        actions = {r["action"] for r in await conn.fetch(
            "SELECT action FROM audit_record WHERE tenant_id = (SELECT id FROM tenant WHERE code = 'platform') "
            "AND action IN ('tenant.isolate', 'tenant.move')")}
    assert actions == {"tenant.isolate", "tenant.move"}


async def test_the_owner_role_is_refused_before_any_rows_move(api) -> None:
    from core.ops.citus import CitusOpsError, isolate

    with pytest.raises(CitusOpsError, match="neither superuser nor BYPASSRLS"):
        await isolate("beijing", ENV.owner_url)


async def _until_served(p: Any, query: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        res = await p.api.client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {p.token}"})
        if res.status_code == 200 or time.monotonic() > deadline:
            return {"status": res.status_code, "body": res.json()}
        await asyncio.sleep(0.5)


@needs_cluster_dir
async def test_a_stopped_worker_answers_503_without_leaking_and_serves_again_when_it_returns(api) -> None:
    sh = await persona(api, "shanghai", "tenant_admin")
    bj = await persona(api, "beijing", "tenant_admin")
    bj_codes = {n["code"] for n in (await bj.api.gql(UNITS))["data"]["orgUnits"]["nodes"]}
    sh_codes = {n["code"] for n in (await sh.api.gql(UNITS))["data"]["orgUnits"]["nodes"]}
    where = await placement("shanghai")
    await node(where["nodeport"], "stop")
    try:
        res = await sh.api.client.post("/graphql", json={"query": UNITS}, headers={"Authorization": f"Bearer {sh.token}"})
        assert res.status_code == 503, res.text
        assert res.headers["retry-after"].isdigit()
        errors = res.json()["errors"]
        assert {e["extensions"]["code"] for e in errors} == {"SERVICE_UNAVAILABLE"}
        assert not (res.json()["data"] or {}).get("orgUnits")
        assert not any(f'"{code}"' in res.text for code in bj_codes | sh_codes)
        assert "127.0.0.1" not in res.text  # the driver's text (it names the node) stays in the server
        if (await placement("beijing"))["nodeport"] != where["nodeport"]:
            # A province on the other worker is served meanwhile, and sees only its own units.
            served = (await bj.api.gql(UNITS))["data"]["orgUnits"]["nodes"]
            assert {n["code"] for n in served} == bj_codes
    finally:
        await node(where["nodeport"], "start")
    back = await _until_served(sh, UNITS)
    assert back["status"] == 200, back
    codes = {n["code"] for n in back["body"]["data"]["orgUnits"]["nodes"]}
    assert sh_codes <= codes and not codes & bj_codes


# ---------------------------------------------------------------------------------------------
# A cross-province transfer is one distributed transaction (both provinces' shards): killed half-way,
# it leaves everything as it was, and a retry completes it.
# ---------------------------------------------------------------------------------------------

REQUEST = """mutation($input: MemberTransferInput!) { memberTransferRequest(input: $input) {
  transfer { id } errors { code } } }"""
APPROVE = "mutation($id: ID!) { memberTransferApprove(id: $id) { transfer { status } errors { code } } }"
STATE = "query($id: ID!) { member(id: $id) { state orgUnit { code } } }"


async def _pending_transfer(api: Any, name: str) -> tuple[dict[str, Any], str]:
    """A Shanghai member with a transfer to Beijing that Beijing approved: the next approval (Shanghai's)
    completes it, moving the row."""
    sh = await persona(api, "shanghai", "tenant_admin")
    bj = await persona(api, "beijing", "approver")
    m = await create_member(sh, "sh-huangpu-nanjinglu", name=name)
    clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    res = await clerk.api.gql(REQUEST, {"input": {"memberId": m["id"], "toTenantCode": "beijing",
                                                  "toOrgUnitCode": "bj-dongcheng-wangfujing"}})
    tid = res["data"]["memberTransferRequest"]["transfer"]["id"]
    incoming = await bj.api.gql('{ memberTransfers(direction: INCOMING) { nodes { id personName status } } }')
    bj_tid = next(t["id"] for t in incoming["data"]["memberTransfers"]["nodes"] if t["personName"] == name)
    assert (await bj.api.gql(APPROVE, {"id": bj_tid}))["data"]["memberTransferApprove"]["errors"] == []
    return m, tid


async def _where_is(api: Any, member_id: str) -> tuple[Any, Any]:
    sh = await persona(api, "shanghai", "tenant_admin")
    bj = await persona(api, "beijing", "tenant_admin")
    return ((await sh.api.gql(STATE, {"id": member_id}))["data"]["member"],
            (await bj.api.gql(STATE, {"id": member_id}))["data"]["member"])


async def _approve_blocked_at_the_last_step(api: Any, tid: str, kill: Any) -> Any:
    """Shanghai's approver completes the transfer while Beijing's audit lock is held: the transaction
    has moved the member row (deleted in Shanghai, inserted in Beijing) and waits at its last step, the
    audit record in Beijing. ``kill`` then strikes, the lock is let go, and the response comes back."""
    from core.audit.services import AUDIT_LOCK_NAMESPACE

    approver = await persona(api, "shanghai", "approver", "sh-huangpu")
    async with superuser() as holder:
        bj_id = await holder.fetchval("SELECT id FROM tenant WHERE code = 'beijing'")
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1, $2)", AUDIT_LOCK_NAMESPACE, bj_id)
        call = asyncio.create_task(approver.api.client.post(
            "/graphql", json={"query": APPROVE, "variables": {"id": tid}},
            headers={"Authorization": f"Bearer {approver.token}"}))
        pid = None
        for _ in range(100):
            pid = await holder.fetchval(
                "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND NOT l.granted "
                "AND l.classid = $1 AND l.objid = $2", AUDIT_LOCK_NAMESPACE, bj_id)
            if pid:
                break
            await asyncio.sleep(0.1)
        assert pid, "the approval never reached Beijing's audit record"
        await kill(holder, pid)
        await tx.rollback()
    return await call


async def _unchanged_then_a_retry_completes(api: Any, m: dict[str, Any], tid: Any) -> None:
    """After a transfer died half-way: the member is still Shanghai's, in transfer, and Beijing has
    nothing; approving again completes it on both shards."""
    in_sh, in_bj = await _where_is(api, m["id"])
    assert in_sh == {"state": "TRANSFERRING", "orgUnit": {"code": "sh-huangpu-nanjinglu"}} and in_bj is None
    approver = await persona(api, "shanghai", "approver", "sh-huangpu")
    done = (await approver.api.gql(APPROVE, {"id": tid}))["data"]["memberTransferApprove"]
    assert done == {"transfer": {"status": "COMPLETED"}, "errors": []}
    in_sh, in_bj = await _where_is(api, m["id"])
    assert in_sh is None and in_bj == {"state": "JOINED", "orgUnit": {"code": "bj-dongcheng-wangfujing"}}


async def test_a_cross_province_transfer_killed_half_way_changes_nothing_and_a_retry_completes_it(api) -> None:
    async def terminate(holder: Any, pid: int) -> None:
        assert await holder.fetchval("SELECT pg_terminate_backend($1::int)", pid)

    m, tid = await _pending_transfer(api, "分布式中断甲")
    res = await _approve_blocked_at_the_last_step(api, tid, terminate)
    body = res.json()
    assert res.status_code == 503 and body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", res.text
    await _unchanged_then_a_retry_completes(api, m, tid)


@needs_cluster_dir
async def test_a_cross_province_transfer_whose_worker_stops_half_way_changes_nothing_and_a_retry_completes_it(api) -> None:
    m, tid = await _pending_transfer(api, "分布式中断乙")
    stopped: list[int] = []

    async def stop_beijings_worker(holder: Any, pid: int) -> None:
        where = await placement("beijing")
        await node(where["nodeport"], "stop")
        stopped.append(where["nodeport"])

    try:
        res = await _approve_blocked_at_the_last_step(api, tid, stop_beijings_worker)
        assert res.status_code == 503, res.text
        assert res.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        for port in stopped:
            await node(port, "start")
    sh = await persona(api, "shanghai", "tenant_admin")
    assert (await _until_served(sh, UNITS))["status"] == 200
    await _unchanged_then_a_retry_completes(api, m, tid)


async def test_a_cross_province_transfer_whose_shard_connection_is_killed_half_way_changes_nothing(api) -> None:
    """The third way to lose it: the coordinator's connection to the destination's worker dies (the
    worker's backend terminated), while the worker itself stays up."""
    m, tid = await _pending_transfer(api, "分布式中断丙")
    killed: list[int] = []

    async def terminate_on_the_worker(holder: Any, pid: int) -> None:
        where = await placement("beijing")
        conn = await asyncpg.connect(_with_database(
            f"postgresql://postgres@{where['nodename']}:{where['nodeport']}/postgres", TEST_DB))
        try:
            pids = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND usename = $1 AND state = 'idle in transaction'", ENV.app_role)
            for r in pids:
                if await conn.fetchval("SELECT pg_terminate_backend($1::int)", r["pid"]):
                    killed.append(r["pid"])
        finally:
            await conn.close()

    res = await _approve_blocked_at_the_last_step(api, tid, terminate_on_the_worker)
    assert killed, "no connection of the transaction on Beijing's worker"
    assert res.status_code == 503 and res.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", res.text
    await _unchanged_then_a_retry_completes(api, m, tid)

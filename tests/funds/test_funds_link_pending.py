"""The one-call chain linker (ledger_link_pending) and the statement path it stands in for: the same
links, the same refusal when another linker holds the lock, the same continuation from the anchored
head, and one verified chain after concurrent posting and linking."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg

from core.context import tenant_scope
from core.funds import chain
from core.funds.posting import EntrySpec, Line, post
from core.funds.services import account_ids, today
from core.testing import rawdb
from tests.funds.helpers import function_or_statements, integrity, key, make_tree

path = function_or_statements(chain)


def _admin_dsn() -> str:
    admin = os.environ.get("HUIJIA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    return f"{admin.rsplit('/', 1)[0]}/{os.environ['DATABASE_URL'].rsplit('/', 1)[1]}"


async def _setup() -> tuple[Any, dict[str, int]]:
    t = await make_tree()
    with tenant_scope(t.tenant):
        ids = await account_ids(t.tenant, [(t.g1["id"], "general", c) for c in ("102", "501", "404")])
        acc = dict(zip(("102", "501", "404"), ids, strict=True))
        await post(t.tenant, EntrySpec(key=key("open"), kind="manual", entry_date=today(),
                                       lines=[Line(acc["102"], 100_000), Line(acc["404"], -100_000)]))
    return t.tenant, acc


async def _pay(tenant: Any, acc: dict[str, int], n: int = 1) -> int:
    with tenant_scope(tenant):
        posted = await post(tenant, EntrySpec(key=key(f"pay{n}"), kind="payout", entry_date=today(),
                                              lines=[Line(acc["501"], n), Line(acc["102"], -n)]))
    return posted.entry_id


async def _queued(tenant: Any) -> int:
    from core.funds.sql import read_conn

    with tenant_scope(tenant):
        async with read_conn() as db:
            return int(await db.fetchval("SELECT count(*) FROM ledger_unchained WHERE tenant_id = $1", tenant.id))


async def _link(tenant: Any, entry_id: int) -> dict[str, Any] | None:
    from core.funds.sql import read_conn

    with tenant_scope(tenant):
        async with read_conn() as db:
            return await db.fetchrow("SELECT seq, entry_id, content_hash, prev_hash, hash FROM ledger_chain "
                                     "WHERE tenant_id = $1 AND entry_id = $2", tenant.id, entry_id)


async def test_concurrent_posting_and_linking_make_one_verified_chain(path):
    tenant, acc = await _setup()

    async def linker() -> None:
        with tenant_scope(tenant):
            for _ in range(5):
                assert await chain.link_pending(tenant, limit=3) >= -1
                await asyncio.sleep(0)

    ids = await asyncio.gather(*[_pay(tenant, acc, i) for i in range(1, 25)], *[linker() for _ in range(3)])
    with tenant_scope(tenant):
        await chain.wait_background()
        assert await chain.link_all(tenant) >= 0
    assert await _queued(tenant) == 0
    links = [await _link(tenant, e) for e in ids[:24]]
    assert all(lk is not None for lk in links)
    for lk in links:  # the SQL-side hash is the one verify recomputes in Python
        assert lk["hash"] == chain.link_hash(tenant.id, lk["seq"], lk["entry_id"], lk["content_hash"], lk["prev_hash"])
    await integrity(tenant)


async def test_a_held_chain_lock_leaves_the_queue_for_the_next_pass(path):
    tenant, acc = await _setup()
    with tenant_scope(tenant):
        await chain.wait_background()
        await chain.link_all(tenant)
    state = chain._chainers.setdefault(tenant.id, chain._Chainer())
    holder = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1::integer, $2::integer)", chain.CHAIN_LOCK_NAMESPACE,
                             tenant.id)
        state.running = True  # no chainer of this process links meanwhile: the posts only queue
        try:
            entry_ids = [await _pay(tenant, acc, i) for i in range(1, 4)]
        finally:
            state.running = False
        with tenant_scope(tenant):
            assert await chain.link_pending(tenant) == -1
        assert await _queued(tenant) == 3
        await tx.rollback()
    finally:
        await holder.close()
    with tenant_scope(tenant):
        assert await chain.link_pending(tenant) == 3
    seqs = [(await _link(tenant, e))["seq"] for e in entry_ids]
    assert seqs == list(range(seqs[0], seqs[0] + 3))  # linked in entry order, one after another
    await integrity(tenant)


async def test_after_a_deleted_tail_the_chain_goes_on_from_the_anchored_head(path):
    tenant, acc = await _setup()
    first = await _pay(tenant, acc, 7)
    with tenant_scope(tenant):
        await chain.wait_background()
        await chain.link_all(tenant)
    deleted = await _link(tenant, first)
    assert deleted is not None
    async with rawdb.connect(_admin_dsn(), triggers_off=True) as conn:
        row = await conn.fetchrow("SELECT * FROM ledger_chain WHERE tenant_id = $1 AND seq = $2", tenant.id,
                                  deleted["seq"])
        await conn.execute("DELETE FROM ledger_chain WHERE id = $1", row["id"])
        try:
            nxt = await _pay(tenant, acc, 8)
            with tenant_scope(tenant):
                await chain.wait_background()
                await chain.link_all(tenant)
            link = await _link(tenant, nxt)
            # Not the deleted seq again: the head is further than the last link, and the new link
            # chains onto the deleted one's hash, so the gap stays visible to verify.
            assert link["seq"] == deleted["seq"] + 1 and link["prev_hash"] == deleted["hash"]
            with tenant_scope(tenant):
                report = await chain.verify(tenant, link_first=False)
            assert not report.ok and any(f"seq {deleted['seq']}..{deleted['seq']} missing" in p
                                         for p in report.problems)
        finally:
            await conn.execute(
                "INSERT INTO ledger_chain (id, tenant_id, seq, entry_id, content_hash, prev_hash, hash, chained_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", row["id"], row["tenant_id"], row["seq"], row["entry_id"],
                row["content_hash"], row["prev_hash"], row["hash"], row["chained_at"])
    await integrity(tenant)


async def test_a_backlog_is_linked_in_batches_in_entry_order(path):
    """What a linker meets after an outage: a queue longer than one batch. Each pass takes the lowest
    entry ids first and the next pass goes on from there."""
    tenant, acc = await _setup()
    with tenant_scope(tenant):
        await chain.wait_background()
        await chain.link_all(tenant)
    state = chain._chainers.setdefault(tenant.id, chain._Chainer())
    state.running = True  # no chainer of this process links meanwhile: the posts only queue
    try:
        entry_ids = [await _pay(tenant, acc, i) for i in range(1, 12)]
    finally:
        state.running = False
    assert await _queued(tenant) == 11
    with tenant_scope(tenant):
        assert await chain.link_pending(tenant, limit=4) == 4
        assert await _queued(tenant) == 7
        assert await chain.link_pending(tenant, limit=4) == 4
        assert await chain.link_pending(tenant, limit=4) == 3
        assert await chain.link_pending(tenant, limit=4) == 0
    seqs = [(await _link(tenant, e))["seq"] for e in entry_ids]
    assert seqs == list(range(seqs[0], seqs[0] + 11))
    await integrity(tenant)

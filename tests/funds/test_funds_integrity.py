"""Integrity: append-only rows, the per-tenant hash chain (`huijia ledger verify`), the balance check
(`huijia ledger check`), and what happens when someone with database superpowers edits a row."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import pytest

from core.context import tenant_scope
from core.dbutil import raw
from core.testing import rawdb
from tests.conftest import OWNER_DSN
from tests.funds.helpers import TRANSFER, entry, fund_cash, key, line, make_tree

VERIFY = "{ ledgerVerify { ok checked pending problems } }"


def _admin_dsn() -> str:
    """The test database as the PostgreSQL superuser (tests/conftest.py's admin DSN, our database)."""
    admin = os.environ.get("HUIJIA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    return f"{admin.rsplit('/', 1)[0]}/{os.environ['DATABASE_URL'].rsplit('/', 1)[1]}"


async def test_posted_rows_cannot_be_updated_or_deleted_by_the_app(api, sh_finance):
    t = await make_tree()
    r = await fund_cash(sh_finance, t.g1, 500)
    await entry(sh_finance, [line(t.g1, "311", "DEBIT", 100), line(t.g1, "221", "CREDIT", 100)])  # owed upward
    moved = await sh_finance.api.gql(TRANSFER, {"i": {"fromOrgUnitId": t.id("g1"), "toOrgUnitId": t.id("county"),
                                                      "amountFen": 100, "idempotencyKey": key()}})
    assert moved["data"]["ledgerTransfer"]["errors"] == []
    from core.graphql.base import from_global_id

    _, entry_id = from_global_id(r["entry"]["id"])
    rewrites = ["UPDATE ledger_posting SET amount_fen = amount_fen * 2 WHERE entry_id = {}",
                "DELETE FROM ledger_posting WHERE entry_id = {}",
                "UPDATE ledger_entry SET memo = 'x' WHERE id = {}",
                "DELETE FROM ledger_entry WHERE id = {}"]
    with tenant_scope(t.tenant):
        # The app role holds no UPDATE, DELETE or TRUNCATE privilege on these tables at all.
        for sql in rewrites:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await raw(sql, entry_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await raw("UPDATE ledger_chain SET hash = 'x' WHERE tenant_id = {}", t.tenant.id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await raw("DELETE FROM ledger_transfer WHERE tenant_id = {}", t.tenant.id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await raw("TRUNCATE ledger_posting")
    # The owner has every privilege; the triggers refuse it (and a single-role deployment) instead.
    async with rawdb.connect(OWNER_DSN, t.tenant.id) as owner:
        for sql in rewrites:
            with pytest.raises(Exception, match="append-only"):
                await owner.execute(sql.replace("{}", "$1"), entry_id)
        for sql in ("UPDATE ledger_chain SET hash = 'x' WHERE tenant_id = $1", "DELETE FROM ledger_transfer WHERE tenant_id = $1"):
            with pytest.raises(Exception, match="append-only"):
                await owner.execute(sql, t.tenant.id)
        for table in ("ledger_entry", "ledger_posting", "ledger_chain", "ledger_transfer"):
            with pytest.raises(Exception, match="append-only"):
                await owner.execute(f"TRUNCATE {table} CASCADE")
    # The CHECK constraint stands behind the services: cash cannot go negative even by raw SQL.
    with tenant_scope(t.tenant), pytest.raises(asyncpg.CheckViolationError):
        await raw("UPDATE ledger_account SET balance_fen = -1 WHERE tenant_id = {} AND code = '102' AND org_unit_id = {}",
                  t.tenant.id, t.g1["id"])


async def test_verify_links_and_checks_the_chain_and_detects_tampering(api, fj_finance, sh_auditor):
    t = await make_tree("fujian")
    await fund_cash(fj_finance, t.g1, 9_000)
    spend = await entry(fj_finance, [line(t.g1, "501", "DEBIT", 1_000), line(t.g1, "102", "CREDIT", 1_000)])
    assert spend["entry"]["chainSeq"] is not None  # linked right after commit
    # Each tenant verifies its own chain.
    assert (await sh_auditor.api.gql(VERIFY))["data"]["ledgerVerify"]["ok"]
    from tests.fixtures.api import persona

    fj_auditor = await persona(api, "fujian", "auditor")
    fj = (await fj_auditor.api.gql(VERIFY))["data"]["ledgerVerify"]
    assert fj["ok"] and fj["checked"] >= 2 and fj["pending"] == 0
    # Finance reads it too; a clerk may not.
    clerk = await persona(api, "fujian", "clerk")
    assert (await clerk.api.gql(VERIFY))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A superuser edits a posting behind the app's back (the triggers off for its statement): verify notices.
    from core.graphql.base import from_global_id

    _, entry_id = from_global_id(spend["entry"]["id"])
    async with rawdb.connect(_admin_dsn(), triggers_off=True) as conn:
        await conn.execute("UPDATE ledger_posting SET amount_fen = amount_fen * 2 WHERE entry_id = $1", entry_id)
        broken = (await fj_auditor.api.gql(VERIFY))["data"]["ledgerVerify"]
        assert not broken["ok"] and any("does not match its hash" in p for p in broken["problems"])
        assert any("postings do not sum to zero" in p for p in broken["problems"]) is False  # both sides doubled
        env = {**os.environ}
        out = subprocess.run([sys.executable, "-m", "core.cli", "ledger", "verify", "--tenant", "fujian"], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 1 and "fujian: BROKEN" in out.stdout, out.stdout + out.stderr
        check = subprocess.run([sys.executable, "-m", "core.cli", "ledger", "check", "--tenant", "fujian"], env=env,
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 1 and "balance" in check.stdout, check.stdout + check.stderr
        await conn.execute("UPDATE ledger_posting SET amount_fen = amount_fen / 2 WHERE entry_id = $1", entry_id)
    assert (await fj_auditor.api.gql(VERIFY))["data"]["ledgerVerify"]["ok"]
    for cmd in ("verify", "check"):
        out = subprocess.run([sys.executable, "-m", "core.cli", "ledger", cmd, "--tenant", "fujian"], env={**os.environ},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "fujian: OK" in out.stdout, out.stdout + out.stderr


async def test_deleted_chain_link_and_unlinked_entry_are_reported(api, fj_finance):
    from core.funds import chain

    t = await make_tree("fujian")
    await fund_cash(fj_finance, t.g2, 100)
    with tenant_scope(t.tenant):
        assert (await chain.verify(t.tenant)).ok
        last = (await raw("SELECT seq, entry_id FROM ledger_chain WHERE tenant_id = {} ORDER BY seq DESC LIMIT 1",
                          t.tenant.id))[0]
    async with rawdb.connect(_admin_dsn(), triggers_off=True) as conn:
        row = await conn.fetchrow("SELECT * FROM ledger_chain WHERE tenant_id = $1 AND seq = $2", t.tenant.id, last["seq"])
        await conn.execute("DELETE FROM ledger_chain WHERE id = $1", row["id"])
        with tenant_scope(t.tenant):
            report = await chain.verify(t.tenant, link_first=False)
        assert not report.ok and any(f"entry {last['entry_id']} is in neither" in p for p in report.problems)
        await conn.execute(
            "INSERT INTO ledger_chain (id, tenant_id, seq, entry_id, content_hash, prev_hash, hash, chained_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", row["id"], row["tenant_id"], row["seq"], row["entry_id"],
            row["content_hash"], row["prev_hash"], row["hash"], row["chained_at"])
    with tenant_scope(t.tenant):
        assert (await chain.verify(t.tenant)).ok


async def test_chain_links_entries_committed_while_another_process_held_the_lock(api, fj_finance):
    """The batch linker leaves entries queued when the lock is busy; the next pass links them in order."""
    from core.funds import chain
    from core.funds.posting import EntrySpec, Line, post
    from core.funds.services import account_ids, today

    t = await make_tree("fujian")
    with tenant_scope(t.tenant):
        cash, income = await account_ids(t.tenant, [(t.g1["id"], "general", "102"), (t.g1["id"], "general", "404")])
        state = chain._chainers.setdefault(t.tenant.id, chain._Chainer())
        state.running = True  # pretend a chainer is busy in this process: posts only queue
        try:
            for i in range(5):
                await post(t.tenant, EntrySpec(key=f"q-{t.g1['id']}-{i}", kind="manual", entry_date=today(),
                                               lines=[Line(cash, 10), Line(income, -10)]))
            pending = (await raw("SELECT count(*) AS n FROM ledger_unchained WHERE tenant_id = {}", t.tenant.id))[0]["n"]
            assert pending >= 5
        finally:
            state.running = False
        report = await chain.verify(t.tenant)
        assert report.ok and report.pending == 0

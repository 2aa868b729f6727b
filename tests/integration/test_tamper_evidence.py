"""Tamper evidence: TRUNCATE refused, chain heads anchoring the audit and ledger chains, signed
checkpoints kept outside the database, and the app role that may only read and write rows."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from core.context import tenant_scope
from core.dbutil import raw
from tests.conftest import APP_ROLE, OWNER_DSN, PG_ADMIN_DSN, TEST_DB
from tests.fixtures.api import Persona, persona, unique
from tests.funds.helpers import entry, fund_cash, line, make_tree, user_with

UNIT_CREATE = ("mutation($p: ID!, $c: String!) { orgUnitCreate(input: {parentId: $p, code: $c, name: \"x\", "
               "level: CITY}) { errors { code } } }")
AUDIT_VERIFY = "query($c: String) { auditVerify(checkpoint: $c) { ok checked problems } }"
LEDGER_VERIFY = "query($c: String) { ledgerVerify(checkpoint: $c) { ok checked pending problems } }"
CHECKPOINT_FIELDS = "tenant chain seq headHash at signature document"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=180)


async def _superuser(*statements: str, args: tuple = ()) -> None:
    """What a DBA going around the app could do: superuser, triggers off (session_replication_role)."""
    from core.testing import rawdb

    async with rawdb.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{TEST_DB}", triggers_off=True) as conn:
        await conn.script(*statements, args=args)


async def _province(api, operator, mutations: int = 4) -> tuple[str, object, Persona]:
    """A province of its own (so the damage done here stays here), with a few audited mutations."""
    from core.tenancy.services import get_tenant

    code = unique("te")
    made = await operator.api.gql("""mutation($c: String!) { tenantCreate(input: {code: $c, name: "防篡改测试",
                                  provinceCode: "35"}) { errors { code } } }""", {"c": code})
    assert made["data"]["tenantCreate"]["errors"] == [], made
    admin = await persona(api, code, "tenant_admin")
    root = (await admin.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
    for _ in range(mutations):
        r = await admin.api.gql(UNIT_CREATE, {"p": root, "c": unique("u-")})
        assert r["data"]["orgUnitCreate"]["errors"] == []
    return code, await get_tenant(code=code), admin


async def _head(tenant, chain: str) -> dict:
    with tenant_scope(tenant):
        rows = await raw("SELECT seq, hash FROM chain_head WHERE tenant_id = {} AND chain = {}", tenant.id, chain)
    return rows[0]


async def _last_audit(tenant) -> dict:
    with tenant_scope(tenant):
        return (await raw("SELECT seq, hash FROM audit_record WHERE tenant_id = {} ORDER BY seq DESC LIMIT 1",
                          tenant.id))[0]


# --- TRUNCATE -------------------------------------------------------------------------------


async def test_truncate_is_refused_on_every_append_only_table_by_privilege_and_by_trigger(app):
    from core.tenancy.services import get_tenant

    append_only = ["audit_record", "member_history", "ledger_entry", "ledger_posting", "ledger_chain",
                   "ledger_transfer"]
    with tenant_scope(await get_tenant(code="shanghai")):
        for table in [*append_only, "chain_head"]:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await raw(f"TRUNCATE {table}")
    # The owner may TRUNCATE by privilege: the statement-level triggers refuse it (as they refuse a
    # single-role deployment's app). CASCADE so the ledger tables' foreign keys are not what stops it.
    owner = await asyncpg.connect(OWNER_DSN)
    try:
        for table in append_only:
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await owner.execute(f"TRUNCATE {table} CASCADE")
        with pytest.raises(asyncpg.PostgresError, match="only moves forward"):
            await owner.execute("TRUNCATE chain_head")
        triggers = await owner.fetch(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = c.relname || "
            "'_no_truncate' AND t.tgenabled = 'O'")
        assert {r["relname"] for r in triggers} >= {*append_only, "chain_head"}
    finally:
        await owner.close()


# --- chain heads ----------------------------------------------------------------------------


async def test_emptied_audit_log_fails_verify_instead_of_reporting_ok_zero_records(api, operator):
    code, tenant, _ = await _province(api, operator)
    ok = _cli("audit", "verify", "--tenant", code)
    assert ok.returncode == 0 and f"{code}: OK" in ok.stdout, ok.stdout + ok.stderr
    # TRUNCATE empties every province at once; deleting one province's records is the same to verify.
    await _superuser(f"DELETE FROM audit_record WHERE tenant_id = {tenant.id}")
    emptied = _cli("audit", "verify", "--tenant", code)
    assert emptied.returncode == 1, emptied.stdout + emptied.stderr
    assert f"{code}: BROKEN (0 records)" in emptied.stdout and "the chain is empty" in emptied.stdout


async def test_deleting_the_newest_audit_records_fails_verify(api, operator):
    code, tenant, admin = await _province(api, operator)
    auditor = await persona(api, code, "auditor")
    before = (await auditor.api.gql(AUDIT_VERIFY))["data"]["auditVerify"]
    assert before["ok"] is True, before
    head = await _head(tenant, "audit")
    last = await _last_audit(tenant)
    assert (head["seq"], head["hash"]) == (last["seq"], last["hash"])  # moved with every append
    # The newest two records go; the rest of the chain is intact, so only the head can tell.
    await _superuser(f"DELETE FROM audit_record WHERE tenant_id = {tenant.id} AND seq > {last['seq'] - 2}")
    verdict = (await auditor.api.gql(AUDIT_VERIFY))["data"]["auditVerify"]
    assert verdict["ok"] is False
    assert verdict["problems"] == [f"audit chain head is at seq {last['seq']} but the chain ends at seq "
                                   f"{last['seq'] - 2}: the newest 2 record(s) were deleted"], verdict
    # The province keeps working: the chain goes on from the head, and the deletion stays visible.
    root = (await admin.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
    assert (await admin.api.gql(UNIT_CREATE, {"p": root, "c": unique("after-")}))["data"]["orgUnitCreate"]["errors"] == []
    assert (await _last_audit(tenant))["seq"] == last["seq"] + 1
    later = (await auditor.api.gql(AUDIT_VERIFY))["data"]["auditVerify"]
    assert later["ok"] is False and f"seq {last['seq'] - 1}..{last['seq']} missing (deleted records)" in later["problems"]
    # A newest record replaced (its hash recomputed) no longer matches the head's hash.
    await _superuser(f"UPDATE chain_head SET hash = 'forged' WHERE tenant_id = {tenant.id} AND chain = 'audit'")
    verdict = (await auditor.api.gql(AUDIT_VERIFY))["data"]["auditVerify"]
    assert f"audit chain head does not match the record at seq {last['seq'] + 1}: that record was replaced" \
        in verdict["problems"], verdict


async def test_deleting_the_newest_ledger_entry_with_its_link_fails_ledger_verify(api, operator):
    code, tenant, _ = await _province(api, operator, mutations=0)
    t = await make_tree(code)
    finance = await user_with(api, code, [("finance", None)])
    await fund_cash(finance, t.g1, 5_000)
    spend = await entry(finance, [line(t.g1, "501", "DEBIT", 700), line(t.g1, "102", "CREDIT", 700)])
    auditor = await persona(api, code, "auditor")
    assert (await auditor.api.gql(LEDGER_VERIFY))["data"]["ledgerVerify"]["ok"] is True
    from core.graphql.base import from_global_id

    _, entry_id = from_global_id(spend["entry"]["id"])
    head = await _head(tenant, "ledger")
    await _superuser("DELETE FROM ledger_chain WHERE entry_id = $1", "DELETE FROM ledger_posting WHERE entry_id = $1",
                     "DELETE FROM ledger_entry WHERE id = $1", args=(entry_id,))
    verdict = (await auditor.api.gql(LEDGER_VERIFY))["data"]["ledgerVerify"]
    assert verdict["ok"] is False
    assert verdict["problems"] == [f"ledger chain head is at seq {head['seq']} but the chain ends at seq "
                                   f"{head['seq'] - 1}: the newest 1 record(s) were deleted"], verdict
    out = _cli("ledger", "verify", "--tenant", code)
    assert out.returncode == 1 and f"{code}: BROKEN" in out.stdout and "newest 1 record(s)" in out.stdout, out.stdout


async def test_chain_head_only_moves_forward_and_the_app_cannot_delete_it(api, operator):
    code, tenant, _ = await _province(api, operator, mutations=1)
    with tenant_scope(tenant):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await raw("DELETE FROM chain_head WHERE tenant_id = {}", tenant.id)
        for sql in ("UPDATE chain_head SET seq = seq - 1 WHERE tenant_id = {}",
                    "UPDATE chain_head SET hash = 'x' WHERE tenant_id = {}",
                    "UPDATE chain_head SET chain = 'ledger' WHERE tenant_id = {}"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only moves forward"):
                await raw(sql, tenant.id)
    # Another province's head is out of sight (RLS), so out of reach.
    other = await _province(api, operator, mutations=0)
    with tenant_scope(other[1]):
        assert await raw("SELECT * FROM chain_head WHERE tenant_id = {}", tenant.id) == []


async def test_verify_raises_no_false_alarm_while_appends_run(api, operator):
    code, tenant, admin = await _province(api, operator, mutations=1)
    auditor = await persona(api, code, "auditor")
    root = (await admin.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
    writes = [admin.api.gql(UNIT_CREATE, {"p": root, "c": unique("cc-")}) for _ in range(16)]
    reads = [auditor.api.gql(AUDIT_VERIFY) for _ in range(6)]
    results = await asyncio.gather(*writes, *reads)
    for verdict in results[len(writes):]:
        assert verdict["data"]["auditVerify"]["ok"] is True, verdict
    final = (await auditor.api.gql(AUDIT_VERIFY))["data"]["auditVerify"]
    head = await _head(tenant, "audit")
    assert final["ok"] and head["seq"] == final["checked"] == (await _last_audit(tenant))["seq"]


async def test_ledger_verify_raises_no_false_alarm_while_entries_are_posted_and_linked(api, operator):
    code, tenant, _ = await _province(api, operator, mutations=0)
    t = await make_tree(code)
    finance = await user_with(api, code, [("finance", None)])
    auditor = await persona(api, code, "auditor")
    await fund_cash(finance, t.g1, 1_000)
    posts = [fund_cash(finance, t.g1 if i % 2 else t.g2, 10 + i) for i in range(12)]
    checks = [auditor.api.gql(LEDGER_VERIFY) for _ in range(4)]
    results = await asyncio.gather(*posts, *checks)
    for verdict in results[len(posts):]:
        assert verdict["data"]["ledgerVerify"]["ok"] is True, verdict
    final = (await auditor.api.gql(LEDGER_VERIFY))["data"]["ledgerVerify"]
    head = await _head(tenant, "ledger")
    assert final["ok"] and final["pending"] == 0 and head["seq"] == final["checked"] == 13


# --- checkpoints ----------------------------------------------------------------------------


async def test_audit_checkpoint_catches_a_consistent_rewrite_that_plain_verify_cannot(api, operator, tmp_path: Path):
    code, tenant, _ = await _province(api, operator)
    kept = tmp_path / "audit-checkpoint.json"
    made = _cli("audit", "checkpoint", "--tenant", code, "--out", str(kept))
    assert made.returncode == 0, made.stdout + made.stderr
    doc = json.loads(kept.read_text())
    last = await _last_audit(tenant)
    assert json.loads(made.stdout) == doc
    assert (doc["tenant"], doc["chain"], doc["seq"], doc["head_hash"]) == (code, "audit", last["seq"], last["hash"])
    assert doc["alg"] == "HMAC-SHA256" and len(doc["signature"]) == 64
    good = _cli("audit", "verify", "--checkpoint", str(kept))
    assert good.returncode == 0 and f"{code}: OK" in good.stdout and "still holds its head" in good.stdout, good.stdout

    # Someone with the owner's or a superuser's powers deletes the newest record and rolls the head
    # back with it: what is left is a whole, shorter chain that verify alone accepts.
    await _superuser(f"DELETE FROM audit_record WHERE tenant_id = {tenant.id} AND seq = {last['seq']}",
                     f"UPDATE chain_head h SET seq = a.seq, hash = a.hash FROM audit_record a WHERE h.tenant_id = "
                     f"{tenant.id} AND h.chain = 'audit' AND a.tenant_id = h.tenant_id AND a.seq = {last['seq'] - 1}")
    plain = _cli("audit", "verify", "--tenant", code)
    assert plain.returncode == 0, plain.stdout  # the limit of what the database can say about itself
    caught = _cli("audit", "verify", "--checkpoint", str(kept))
    assert caught.returncode == 1 and f"{code}: BROKEN" in caught.stdout, caught.stdout + caught.stderr
    assert f"at seq {last['seq']} but the chain ends at seq {last['seq'] - 1}" in caught.stdout

    # A checkpoint edited to match the damage no longer verifies; neither does one for another chain
    # or a tenant other than the one asked for.
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**doc, "seq": last["seq"] - 1}))
    bad = _cli("audit", "verify", "--checkpoint", str(forged))
    assert bad.returncode == 2 and "signature does not verify" in bad.stderr, bad.stdout + bad.stderr
    wrong_chain = _cli("ledger", "verify", "--checkpoint", str(kept))
    assert wrong_chain.returncode == 2 and "for the audit chain, not the ledger chain" in wrong_chain.stderr
    wrong_tenant = _cli("audit", "verify", "--tenant", "shanghai", "--checkpoint", str(kept))
    assert wrong_tenant.returncode == 2 and f"is for tenant {code!r}" in wrong_tenant.stderr


async def test_ledger_checkpoint_through_graphql_proves_the_head_and_catches_a_rewrite(api, operator, sh_auditor):
    code, tenant, _ = await _province(api, operator, mutations=0)
    t = await make_tree(code)
    finance = await user_with(api, code, [("finance", None)])
    await fund_cash(finance, t.g1, 9_000)
    await entry(finance, [line(t.g1, "501", "DEBIT", 300), line(t.g1, "102", "CREDIT", 300)])
    auditor = await persona(api, code, "auditor")
    cp = (await auditor.api.gql(f"{{ ledgerCheckpoint {{ {CHECKPOINT_FIELDS} }} }}"))["data"]["ledgerCheckpoint"]
    head = await _head(tenant, "ledger")
    assert (cp["tenant"], cp["chain"], cp["seq"], cp["headHash"]) == (code, "ledger", head["seq"], head["hash"])
    doc = cp["document"]
    assert json.loads(doc)["signature"] == cp["signature"]
    ok = (await auditor.api.gql(LEDGER_VERIFY, {"c": doc}))["data"]["ledgerVerify"]
    assert ok["ok"] is True and ok["checked"] == head["seq"], ok

    # Refusals: a clerk may not take one; another province's auditor may not use it; an edited or
    # malformed document, or an audit checkpoint, is a typed input error.
    clerk = await persona(api, code, "clerk")
    assert (await clerk.api.gql("{ ledgerCheckpoint { seq } }"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await sh_auditor.api.gql(LEDGER_VERIFY, {"c": doc})
    assert other["errors"][0]["extensions"]["code"] == "INVALID_INPUT", other
    assert "another tenant" in other["errors"][0]["message"]
    audit_cp = (await auditor.api.gql("{ auditCheckpoint { document } }"))["data"]["auditCheckpoint"]["document"]
    for bad, says in ((json.dumps({**json.loads(doc), "head_hash": "0" * 64}), "signature does not verify"),
                      ("not json", "not valid JSON"), (audit_cp, "not the ledger chain")):
        r = await auditor.api.gql(LEDGER_VERIFY, {"c": bad})
        assert r["errors"][0]["extensions"]["code"] == "INVALID_INPUT" and says in r["errors"][0]["message"], r
    assert (await auditor.api.gql(AUDIT_VERIFY, {"c": audit_cp}))["data"]["auditVerify"]["ok"] is True

    # Newest entry, its postings, its link and the head rewritten together: only the checkpoint knows.
    await _superuser(
        f"DELETE FROM ledger_posting WHERE entry_id = (SELECT entry_id FROM ledger_chain WHERE tenant_id = {tenant.id} "
        f"AND seq = {head['seq']})",
        f"DELETE FROM ledger_entry WHERE id = (SELECT entry_id FROM ledger_chain WHERE tenant_id = {tenant.id} "
        f"AND seq = {head['seq']})",
        f"DELETE FROM ledger_chain WHERE tenant_id = {tenant.id} AND seq = {head['seq']}",
        f"UPDATE chain_head h SET seq = c.seq, hash = c.hash FROM ledger_chain c WHERE h.tenant_id = {tenant.id} AND "
        f"h.chain = 'ledger' AND c.tenant_id = h.tenant_id AND c.seq = {head['seq'] - 1}")
    assert (await auditor.api.gql(LEDGER_VERIFY))["data"]["ledgerVerify"]["ok"] is True
    caught = (await auditor.api.gql(LEDGER_VERIFY, {"c": doc}))["data"]["ledgerVerify"]
    assert caught["ok"] is False and any("records up to the checkpoint were deleted" in p for p in caught["problems"])


async def test_checkpoint_is_refused_for_a_damaged_chain(api, operator):
    code, tenant, _ = await _province(api, operator, mutations=2)
    last = await _last_audit(tenant)
    await _superuser(f"DELETE FROM audit_record WHERE tenant_id = {tenant.id} AND seq = {last['seq']}")
    # Refused right away, and still after the next append has gone on from the head (a gap remains).
    out = _cli("audit", "checkpoint", "--tenant", code)
    assert out.returncode == 1 and out.stdout == "", out.stdout + out.stderr
    assert "the newest 1 record(s) were deleted" in out.stderr and "run `huijia audit verify`" in out.stderr
    auditor = await persona(api, code, "auditor")
    r = await auditor.api.gql("{ auditCheckpoint { seq } }")
    assert r["errors"][0]["extensions"]["code"] == "INVALID_STATE", r
    assert f"seq {last['seq']}..{last['seq']} missing (deleted records)" in r["errors"][0]["message"]


# --- owner and app roles --------------------------------------------------------------------


async def test_app_role_cannot_alter_drop_truncate_or_disable_rls_and_triggers(app):
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1",
                                   APP_ROLE) == 0
        for sql in ("ALTER TABLE audit_record ADD COLUMN note text",
                    "ALTER TABLE member ALTER COLUMN name_search TYPE text",
                    "DROP TABLE ledger_posting",
                    "DROP TABLE chain_head",
                    "ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only",
                    "ALTER TABLE ledger_entry DISABLE TRIGGER ALL",
                    "ALTER TABLE member NO FORCE ROW LEVEL SECURITY",
                    "ALTER TABLE member DISABLE ROW LEVEL SECURITY",
                    "DROP POLICY tenant_isolation ON member",
                    "CREATE POLICY see_all ON member USING (true)",
                    "ALTER TABLE member OWNER TO huijia_app_test",
                    "TRUNCATE member",
                    "TRUNCATE tenant CASCADE",
                    "CREATE TABLE sneaky (id int)",
                    "CREATE INDEX sneaky_ix ON member (name_search)",
                    "SET session_replication_role = replica"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
        # What it holds, table by table: rows only, and on append-only tables not even UPDATE or DELETE.
        held = {}
        for table, privilege in (("member", "SELECT"), ("member", "UPDATE"), ("member", "DELETE"), ("member", "TRUNCATE"),
                                 ("member", "REFERENCES"), ("member", "TRIGGER"), ("audit_record", "SELECT"),
                                 ("audit_record", "INSERT"), ("audit_record", "UPDATE"), ("audit_record", "DELETE"),
                                 ("ledger_posting", "UPDATE"), ("member_history", "DELETE"), ("chain_head", "INSERT"),
                                 ("chain_head", "UPDATE"), ("chain_head", "DELETE"), ("migration", "SELECT"),
                                 ("migration", "INSERT")):
            held[(table, privilege)] = await conn.fetchval("SELECT has_table_privilege($1, $2)", table, privilege)
        assert {k for k, v in held.items() if v} == {
            ("member", "SELECT"), ("member", "UPDATE"), ("member", "DELETE"), ("audit_record", "SELECT"),
            ("audit_record", "INSERT"), ("chain_head", "INSERT"), ("chain_head", "UPDATE"), ("migration", "SELECT")}
    finally:
        await conn.close()


async def test_force_row_level_security_still_fences_owner_and_app(app):
    from core.tenancy.services import get_tenant
    from core.testing import rawdb

    sh = await get_tenant(code="shanghai")
    async with rawdb.connect(OWNER_DSN) as owner:
        fenced = await owner.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_attribute a ON "
            "a.attrelid = c.oid AND a.attname = 'tenant_id' WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace")
    assert {r["relname"] for r in fenced} >= {"audit_record", "chain_head", "member", "ledger_entry", "member_history"}
    assert [r["relname"] for r in fenced if not (r["relrowsecurity"] and r["relforcerowsecurity"])] == []
    for dsn in (OWNER_DSN, os.environ["DATABASE_URL"]):
        # rawdb sets the tenant the way that reaches a Citus cluster's shards too (SET LOCAL).
        async with rawdb.connect(dsn) as conn:
            conn.settings["app.tenant_id"] = ""
            assert await conn.fetchval("SELECT count(*) FROM audit_record") == 0  # no tenant: no rows, owner too
            assert await conn.fetchval("SELECT count(*) FROM chain_head") == 0
            conn.tenant_id = sh.id
            assert await conn.fetchval("SELECT count(DISTINCT tenant_id) FROM audit_record") == 1
            assert await conn.fetchval("SELECT tenant_id FROM chain_head LIMIT 1") == sh.id


async def test_tables_the_owner_creates_later_give_the_app_rows_only(app):
    table = f"zz_later_{uuid.uuid4().hex[:8]}"
    owner = await asyncpg.connect(OWNER_DSN)
    app_conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        await owner.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, note text)")
        await app_conn.execute(f"INSERT INTO {table} (note) VALUES ('a'), ('b')")  # sequence usage too
        await app_conn.execute(f"UPDATE {table} SET note = 'c' WHERE id = 1")
        await app_conn.execute(f"DELETE FROM {table} WHERE id = 2")
        assert await app_conn.fetchval(f"SELECT note FROM {table}") == "c"
        for sql in (f"TRUNCATE {table}", f"ALTER TABLE {table} ADD COLUMN x int", f"DROP TABLE {table}"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app_conn.execute(sql)
    finally:
        await owner.execute(f"DROP TABLE IF EXISTS {table}")
        await owner.close()
        await app_conn.close()


async def test_migrate_as_owner_is_repeatable_and_refuses_an_app_role_that_is_the_owner(app):
    again = _cli("migrate", "--owner-url", OWNER_DSN)
    assert again.returncode == 0 and f"app role {APP_ROLE} granted row access" in again.stdout, again.stdout + again.stderr
    same = subprocess.run([sys.executable, "-m", "core.cli", "migrate", "--owner-url", OWNER_DSN, "--app-role",
                           "huijia_owner_test"], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "DATABASE_URL": OWNER_DSN.replace("huijia_owner_test", "nobody_here")})
    assert same.returncode == 2 and "is the owner role" in same.stderr, same.stdout + same.stderr


async def test_app_role_refreshes_member_statistics_only_through_the_owner_function(app):
    """The roster import analyses member as it grows; ANALYZE needs the owner, so it goes through
    huijia_analyze_member() (SECURITY DEFINER), while a plain ANALYZE by the app role does nothing."""
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])

    async def analyses() -> int:
        return await conn.fetchval("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'member'")

    try:
        before = await analyses()
        await conn.execute("ANALYZE member")  # PostgreSQL skips it with a warning: not the owner
        await conn.execute("SELECT huijia_analyze_member()")
        for _ in range(50):
            await conn.execute("SELECT pg_stat_clear_snapshot()")
            if await analyses() > before:
                break
            await asyncio.sleep(0.1)
        assert await analyses() == before + 1
    finally:
        await conn.close()


def test_checkpoint_signature_covers_every_field_and_the_key():
    from core.audit import anchor
    from core.context import TenantContext

    tenant = TenantContext(id=42, code="anhui", name="安徽省总工会", province_code="34")
    doc = anchor.make_checkpoint(tenant, "ledger", 7, "ab" * 32)
    assert anchor.parse_checkpoint(json.dumps(doc), "ledger") == doc
    for name, value in (("tenant", "fujian"), ("tenant_id", 43), ("chain", "audit"), ("seq", 8), ("head_hash", "cd" * 32),
                        ("at", "2020-01-01T00:00:00+00:00"), ("signature", "0" * 64)):
        with pytest.raises(anchor.CheckpointError, match="signature does not verify"):
            anchor.parse_checkpoint(json.dumps({**doc, name: value}), "ledger")
    # Signed under another secret: named as such, not as a forgery.
    other = {**doc, "key": "0" * 16}
    with pytest.raises(anchor.CheckpointError, match="another HUIJIA_SECRET_KEY"):
        anchor.parse_checkpoint(json.dumps(other), "ledger")


def test_owner_url_must_be_postgresql():
    from core.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="DATABASE_OWNER_URL"):
        load_settings({"DATABASE_OWNER_URL": "sqlite:///x.db"})
    assert load_settings({"DATABASE_OWNER_URL": "postgresql://owner@h/db"}).database_owner_url == "postgresql://owner@h/db"


def test_embedded_sqlite_default_anchors_and_checkpoints_the_audit_chain(tmp_path: Path):
    """No PostgreSQL, no roles: the head and checkpoints work the same on the embedded default."""
    import sqlite3

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env.update(HUIJIA_DATA_DIR=str(tmp_path), HUIJIA_ENV="development")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "core.cli", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert cli("demo").returncode == 0
    kept = tmp_path / "cp.json"
    made = cli("audit", "checkpoint", "--tenant", "fujian", "--out", str(kept))
    assert made.returncode == 0, made.stderr
    seq = json.loads(kept.read_text())["seq"]
    ok = cli("audit", "verify", "--checkpoint", str(kept))
    assert ok.returncode == 0 and "fujian: OK" in ok.stdout and "still holds its head" in ok.stdout, ok.stdout + ok.stderr
    db = sqlite3.connect(tmp_path / "huijia.sqlite3")
    try:
        tenant_id = db.execute("SELECT id FROM tenant WHERE code = 'fujian'").fetchone()[0]
        assert db.execute("SELECT seq FROM chain_head WHERE tenant_id = ? AND chain = 'audit'", (tenant_id,)).fetchone()[0] == seq
        db.execute("DELETE FROM audit_record WHERE tenant_id = ? AND seq = ?", (tenant_id, seq))  # no triggers here
        db.commit()
    finally:
        db.close()
    broken = cli("audit", "verify", "--tenant", "fujian")
    assert broken.returncode == 1 and "the newest 1 record(s) were deleted" in broken.stdout, broken.stdout
    refused = cli("migrate", "--owner-url", "postgresql://owner@127.0.0.1/x")
    assert refused.returncode == 2 and "for PostgreSQL" in refused.stderr

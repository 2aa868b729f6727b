"""On the cluster: what huijia migrate distributed, that the fences hold on the workers' shards, and
that a tenant's queries stay on one shard."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from core.testing.env import _with_database
from tests.conftest import ENV, TEST_DB


async def _tenant_tables() -> list[str]:
    from core.dbutil import raw

    rows = await raw("SELECT table_name FROM information_schema.columns "
                     "WHERE column_name = 'tenant_id' AND table_schema = 'public'")
    return sorted(r["table_name"] for r in rows)


async def test_tenant_tables_are_distributed_by_tenant_and_colocated(app) -> None:
    from core.dbutil import raw

    tables = await _tenant_tables()
    rows = await raw("SELECT table_name::text AS t, citus_table_type AS kind, distribution_column AS col, "
                     "colocation_id AS grp FROM citus_tables")
    found = {r["t"]: r for r in rows}
    assert set(tables) <= set(found)
    assert {(found[t]["kind"], found[t]["col"]) for t in tables} == {("distributed", "tenant_id")}
    assert len({found[t]["grp"] for t in tables}) == 1
    assert found["tenant"]["kind"] == "reference"
    # Keys between tenant tables carry tenant_id, so Citus checks them inside one shard.
    fk = await raw("SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conname = 'ledger_posting_entry_id_fkey'")
    assert fk[0]["d"].startswith("FOREIGN KEY (tenant_id, entry_id) REFERENCES ledger_entry(tenant_id, id)")


async def test_every_shard_forces_rls_with_the_tenant_policy(app) -> None:
    tables = set(await _tenant_tables())
    checked: set[str] = set()
    for dsn in ENV.citus_worker_dsns:
        conn = await asyncpg.connect(_with_database(dsn, TEST_DB),
                                     server_settings={"citus.override_table_visibility": "off"})
        try:
            rows = await conn.fetch(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation') AS pol "
                "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
                "AND c.relname ~ '_[0-9]+$'")
        finally:
            await conn.close()
        for r in rows:
            base = r["relname"].rsplit("_", 1)[0]
            if base in tables:
                assert r["relrowsecurity"] and r["relforcerowsecurity"] and r["pol"], r["relname"]
                checked.add(base)
    assert checked == tables


async def test_a_session_setting_does_not_reach_the_workers_but_set_local_does(app) -> None:
    """Why core/db.py sets the tenant with SET LOCAL on Citus: the session-level stamp plain
    PostgreSQL uses leaves the shards without a tenant (every read comes back empty)."""
    from core.tenancy.services import get_tenant

    shanghai = await get_tenant(code="shanghai")
    conn = await asyncpg.connect(ENV.database_url)
    try:
        await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(shanghai.id))
        assert await conn.fetchval("SELECT count(*) FROM org_unit") == 0
        async with conn.transaction():
            await conn.execute("SET LOCAL citus.propagate_set_commands = 'local'")
            await conn.execute(f"SET LOCAL app.tenant_id = '{shanghai.id}'")
            seen = await conn.fetch("SELECT DISTINCT tenant_id FROM org_unit")
        assert [r["tenant_id"] for r in seen] == [shanghai.id]
    finally:
        await conn.close()


async def test_a_tenants_queries_run_on_one_shard(app) -> None:
    from core.accounts.tables import RoleGrant
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    shanghai = await get_tenant(code="shanghai")
    with tenant_scope(shanghai):
        # A piccolo foreign-key join (LEFT JOIN org_unit, and app_user in the WHERE) as the login path runs it.
        query = RoleGrant.select(RoleGrant.role, RoleGrant.org_unit_id.path).where(
            (RoleGrant.tenant_id == shanghai.id) & (RoleGrant.user_id.username == "admin"))
        for sql in (f"SELECT id FROM member WHERE tenant_id = {shanghai.id}", str(query)):
            plan = "\n".join(r["QUERY PLAN"] for r in await raw("EXPLAIN " + sql.replace("{", "{{").replace("}", "}}")))
            assert "Task Count: 1" in plan, plan


APPEND_ONLY = ("audit_record", "member_history", "ledger_entry", "ledger_posting", "ledger_chain", "ledger_transfer")


async def test_the_append_only_triggers_guard_every_shard_even_against_a_superuser_there(app) -> None:
    """The triggers travel with each shard (citus.enable_unsafe_triggers, set by core.citus): a
    superuser connected straight to a worker cannot rewrite a shard's row either."""
    checked: set[str] = set()
    refused = 0
    for dsn in ENV.citus_worker_dsns:
        conn = await asyncpg.connect(_with_database(dsn, TEST_DB),
                                     server_settings={"citus.override_table_visibility": "off"})
        try:
            rows = await conn.fetch(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relname ~ '_[0-9]+$' AND t.tgenabled = 'O' "
                "AND t.tgname ~ '_(append_only|no_truncate)(_[0-9]+)?$'")
            guarded: dict[str, set[str]] = {}
            for r in rows:
                # On a shard the trigger's name carries the shard id too.
                kind = "append_only" if "_append_only" in r["tgname"] else "no_truncate"
                guarded.setdefault(r["relname"], set()).add(kind)
            shards = await conn.fetch("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                      "AND relkind = 'r' AND relname ~ '_[0-9]+$'")
            for s in shards:
                base = s["relname"].rsplit("_", 1)[0]
                if base in APPEND_ONLY:
                    assert len(guarded.get(s["relname"], set())) == 2, (s["relname"], guarded.get(s["relname"]))
                    checked.add(base)
                    if base == "audit_record" and await conn.fetchval(f"SELECT count(*) FROM {s['relname']}"):
                        for sql in (f"UPDATE {s['relname']} SET action = 'x'", f"DELETE FROM {s['relname']}"):
                            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                                await conn.execute(sql)
                            refused += 1
        finally:
            await conn.close()
    assert checked == set(APPEND_ONLY)
    assert refused >= 2


async def test_ids_come_from_one_sequence_and_stay_unique_across_shards(api, sh_admin, bj_admin) -> None:
    """Rows of provinces on different shards, written through the coordinator, draw their ids from the
    coordinator's sequence: no two rows of a table share an id, whichever shard holds them."""
    from core.tenancy.services import get_tenant

    made = ("mutation($p: ID!, $c: String!) { orgUnitCreate(input: {parentId: $p, code: $c, name: \"分片编号\", "
            "level: CITY}) { errors { code } } }")
    for persona_ in (sh_admin, bj_admin):
        root = (await persona_.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
        for _ in range(3):
            got = await persona_.api.gql(made, {"p": root, "c": f"seq-{uuid.uuid4().hex[:10]}"})
            assert got["data"]["orgUnitCreate"]["errors"] == [], got
    sh, bj = await get_tenant(code="shanghai"), await get_tenant(code="beijing")
    admin = await asyncpg.connect(_with_database(ENV.admin_dsn, TEST_DB))
    try:
        shards = {await admin.fetchval("SELECT get_shard_id_for_distribution_column('org_unit', $1::bigint)", t.id)
                  for t in (sh, bj)}
        assert len(shards) == 2, "the two provinces should sit on different shards for this check to mean anything"
        for table in ("org_unit", "audit_record", "role_grant"):
            dupes = await admin.fetchval(f"SELECT count(*) - count(DISTINCT id) FROM {table}")
            assert dupes == 0, table
    finally:
        await admin.close()

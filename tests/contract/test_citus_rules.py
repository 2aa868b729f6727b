"""The rules Citus needs, held on plain PostgreSQL: every table of the migrated schema (core's, the
capabilities', the test capability's) can be distributed by tenant_id as ``huijia migrate`` does on
Citus (core/citus.py), and a table breaking the rules is named with the rule it breaks."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from core.citus import DISTRIBUTION_COLUMN, _with_tenant_first, plan, read_catalog, rewrite_statements


def _runner(conn: asyncpg.Connection) -> Any:
    async def run(sql: str, *args: Any) -> list[dict[str, Any]]:
        n = iter(range(1, len(args) + 1))
        text = re.sub(r"\{\}", lambda _: f"${next(n)}", sql)
        return [dict(r) for r in await conn.fetch(text, *args)]

    return run


async def test_every_table_of_the_schema_can_be_distributed(database: str) -> None:
    from core.dbutil import raw

    catalog = await read_catalog(raw)
    found = plan(catalog)
    assert found.problems == []
    assert {"org_unit", "member", "ledger_posting", "audit_record", "testcap_item"} <= set(found.tenant_tables)
    assert found.reference_tables == ["tenant"]
    fks, statements = rewrite_statements(catalog)
    between = [fk for fk in catalog.foreign_keys if catalog.tables.get(fk.table) and catalog.tables.get(fk.ref_table)
               and not fk.has_tenant]
    without_tenant = [u for u in catalog.uniques if catalog.tables.get(u.table) and DISTRIBUTION_COLUMN not in u.columns]
    if catalog.distributed:
        # make test-citus: huijia migrate has distributed the schema; nothing is left to rewrite.
        assert (between, without_tenant, fks, statements) == ([], [], [], [])
        return
    # Every unique index of a tenant table either holds tenant_id or is rewritten to.
    rewritten = " ".join(statements)
    for u in without_tenant:
        assert f'"{u.constraint or u.name}"' in rewritten, u
    # Every foreign key between tenant tables is put back with tenant_id.
    assert between and set(between) <= set(fks)


@pytest.fixture
async def probe_schema(huijia_env: Any, database: str) -> Any:
    conn = await asyncpg.connect(huijia_env.owner_url)
    schema = f"citus_probe_{huijia_env.run_id}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield conn, schema
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_a_table_breaking_the_rules_is_refused(probe_schema: Any) -> None:
    conn, schema = probe_schema
    await conn.execute(f"""
        CREATE TABLE {schema}.tenant (id serial PRIMARY KEY, code text UNIQUE);
        CREATE TABLE {schema}.lookup (id serial PRIMARY KEY, name text);
        CREATE TABLE {schema}.parent (id serial PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES {schema}.tenant (id),
                                      code text, UNIQUE (code));
        CREATE TABLE {schema}.child (id serial PRIMARY KEY, tenant_id bigint,
                                     parent_id int REFERENCES {schema}.parent (id) ON DELETE SET NULL,
                                     lookup_id int REFERENCES {schema}.lookup (id));
        CREATE TABLE {schema}.coded (id serial PRIMARY KEY, tenant_id bigint NOT NULL,
                                     parent_code text REFERENCES {schema}.parent (code));
    """)
    problems = "\n".join(plan(await read_catalog(_runner(conn), schema)).problems)
    assert "lookup: no tenant_id column and not a declared shared lookup" in problems
    assert "child: tenant_id may be NULL" in problems
    assert "child.child_parent_id_fkey (parent_id) -> parent: ON DELETE SET NULL" in problems
    assert "child.child_lookup_id_fkey (lookup_id) -> lookup: a tenant table may reference only" in problems
    assert "coded.coded_parent_code_fkey (parent_code) -> parent: references (code)" in problems
    # The well-formed table and the shared lookup are not named.
    assert not re.search(r"^(parent|tenant)[:.]", problems, re.M), problems


def test_a_unique_index_gains_tenant_id_in_front() -> None:
    sql = "CREATE UNIQUE INDEX x ON public.t USING btree (campaign_id, household_id) WHERE (household_id IS NOT NULL)"
    assert _with_tenant_first(sql) == ("CREATE UNIQUE INDEX x ON public.t USING btree (tenant_id, campaign_id, "
                                       "household_id) WHERE (household_id IS NOT NULL)")

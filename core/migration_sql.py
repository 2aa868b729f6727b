"""Raw SQL that piccolo's auto migrations know nothing of: composite unique indexes and RLS.

Hand-written migrations call these through ``manager.add_raw``. Indexes use syntax both engines
accept; row-level security is PostgreSQL-only and skipped on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

# NULLIF: after the pool's RESET ALL the placeholder reads as '', and ''::bigint would raise.
# NULL matches nothing, so a connection with no tenant set sees no rows (fails closed).
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def rls_sql(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
    ]


def unique_index_sql(table: str, columns: tuple[str, ...], name: str | None = None) -> str:
    name = name or f"uq_{table}_{'_'.join(columns)}"
    return f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"


def index_sql(table: str, columns: tuple[str, ...], name: str | None = None, pg_expr: str | None = None) -> tuple[str, str]:
    """(postgres, sqlite) variants of one plain index; ``pg_expr`` overrides the column list on PG."""
    name = name or f"ix_{table}_{'_'.join(columns)}"
    plain = f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"
    pg = f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({pg_expr})" if pg_expr else plain
    return pg, plain


async def run_statements(common: Sequence[str], postgres_only: Sequence[str] = (), sqlite_only: Sequence[str] = ()) -> None:
    engine = engine_finder()
    if engine is None:
        raise RuntimeError("no database engine: piccolo_conf defines no DB")
    postgres = isinstance(engine, PostgresEngine)
    statements = list(common) + list(postgres_only if postgres else sqlite_only)
    for statement in statements:
        await engine.run_ddl(statement)


async def tenant_tables(tables: list[str], uniques: dict[str, list[tuple[str, ...]]], indexes: Sequence[tuple[str, str]] = ()) -> None:
    """Apply the standard fence to tenant-owned tables: their unique keys, indexes and RLS."""
    common = [unique_index_sql(t, cols) for t, col_sets in uniques.items() for cols in col_sets]
    pg = [i[0] for i in indexes] + [s for t in tables for s in rls_sql(t)]
    lite = [i[1] for i in indexes]
    await run_statements(common, pg, lite)


def append_only_sql(table: str) -> list[str]:
    """PostgreSQL triggers refusing UPDATE, DELETE and TRUNCATE, so a role that may write rows (or a
    single-role deployment where the app owns the tables) cannot rewrite history; the hash chain
    then catches anyone who goes around it. TRUNCATE needs its own statement-level trigger: it fires
    no row triggers and row-level security ignores it, so without one an emptied table verifies as
    "OK (0 records)". With separate owner and app roles the app role has no TRUNCATE privilege
    either (see app_role_grants_sql); the trigger is what still stands in front of the owner."""
    return [
        """CREATE OR REPLACE FUNCTION huijia_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION huijia_append_only()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION huijia_append_only()",
    ]


def chain_head_guard_sql(table: str = "chain_head") -> list[str]:
    """A chain head only moves forward: no DELETE, no TRUNCATE, no UPDATE that lowers its sequence,
    rewrites the hash at the same sequence or moves it to another tenant or chain. Rolling the head
    back to hide deleted records then needs the triggers off, i.e. the owner or a superuser, which
    the signed checkpoints kept outside the database are for."""
    return [
        """CREATE OR REPLACE FUNCTION huijia_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.tenant_id = OLD.tenant_id AND NEW.chain = OLD.chain
     AND (NEW.seq > OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'chain head of % only moves forward: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$""",
        f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
        f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION huijia_chain_head_guard()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION huijia_chain_head_guard()",
    ]


def backfill_heads_sql(chain: str, table: str) -> tuple[str, str]:
    """(postgres, sqlite) statements giving every tenant whose chain has records a head at its last
    record. On PostgreSQL FORCE ROW LEVEL SECURITY fences the owner too, so the insert runs once per
    tenant with app.tenant_id set to it (transaction-local, cleared at the end)."""
    pg = f"""DO $$
DECLARE t bigint;
BEGIN
  FOR t IN SELECT id FROM tenant LOOP
    PERFORM set_config('app.tenant_id', t::text, true);
    INSERT INTO chain_head (tenant_id, chain, seq, hash, updated_at)
      SELECT tenant_id, '{chain}', seq, hash, now() FROM {table} WHERE tenant_id = t ORDER BY seq DESC LIMIT 1
      ON CONFLICT (tenant_id, chain) DO NOTHING;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
END $$"""
    lite = (f"INSERT INTO chain_head (tenant_id, chain, seq, hash, updated_at) "
            f"SELECT a.tenant_id, '{chain}', a.seq, a.hash, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') FROM {table} a "
            f"WHERE a.seq = (SELECT max(b.seq) FROM {table} b WHERE b.tenant_id = a.tenant_id) "
            f"AND NOT EXISTS (SELECT 1 FROM chain_head h WHERE h.tenant_id = a.tenant_id AND h.chain = '{chain}')")
    return pg, lite


# Tables whose rows the app may insert and move forward but never delete.
NO_DELETE_TABLES = ("chain_head",)
# Piccolo's own bookkeeping: the app reads nothing there and must not write it.
MIGRATION_TABLE = "migration"


def app_role_grants_sql(app_role: str, owner_role: str, append_only: list[str], tables: list[str]) -> list[str]:
    """What the owner grants the app role after migrating: rows only. SELECT, INSERT, UPDATE, DELETE
    on tables and USAGE on sequences, now and (default privileges) for tables the owner creates
    later; never TRUNCATE, REFERENCES or TRIGGER, and no DDL (the app owns nothing). Append-only
    tables lose UPDATE and DELETE as well, chain heads DELETE. Re-run on every migrate, so tables a
    migration adds are covered before the app next starts."""
    app = _ident(app_role)
    owner = _ident(owner_role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE ON SEQUENCES TO {app}",
    ]
    statements += [f"REVOKE UPDATE, DELETE ON {_ident(t)} FROM {app}" for t in append_only]
    statements += [f"REVOKE DELETE ON {_ident(t)} FROM {app}" for t in NO_DELETE_TABLES if t in tables]
    if MIGRATION_TABLE in tables:
        statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {MIGRATION_TABLE} FROM {app}")
    return statements


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

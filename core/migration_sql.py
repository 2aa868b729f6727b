"""Raw SQL that piccolo's auto migrations know nothing of: composite unique indexes and RLS.

Hand-written migrations call these through ``manager.add_raw``. Indexes use syntax both engines
accept; row-level security is PostgreSQL-only and skipped on SQLite.
"""

from __future__ import annotations

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


async def run_statements(common: list[str], postgres_only: list[str] = (), sqlite_only: list[str] = ()) -> None:
    engine = engine_finder()
    postgres = isinstance(engine, PostgresEngine)
    statements = list(common) + list(postgres_only if postgres else sqlite_only)
    for statement in statements:
        await engine.run_ddl(statement)


async def tenant_tables(tables: list[str], uniques: dict[str, list[tuple[str, ...]]], indexes: list[tuple[str, str]] = ()) -> None:
    """Apply the standard fence to tenant-owned tables: their unique keys, indexes and RLS."""
    common = [unique_index_sql(t, cols) for t, col_sets in uniques.items() for cols in col_sets]
    pg = [i[0] for i in indexes] + [s for t in tables for s in rls_sql(t)]
    lite = [i[1] for i in indexes]
    await run_statements(common, pg, lite)


def append_only_sql(table: str) -> list[str]:
    """PostgreSQL trigger refusing UPDATE and DELETE, so even the app's own role (which owns the
    table) cannot rewrite history; the hash chain then catches anyone who goes around it."""
    return [
        """CREATE OR REPLACE FUNCTION huijia_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION huijia_append_only()",
    ]

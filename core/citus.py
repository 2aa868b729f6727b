"""Distribution on Citus: tenant tables by ``tenant_id``, co-located; shared lookups as reference tables.

The migrations are written for one PostgreSQL (and SQLite): primary keys are ``id`` alone and foreign
keys reference ``id``. Citus needs the distribution column in every primary key, unique index and
foreign key between distributed tables. Rather than give every table a composite key on every engine
(piccolo's ORM knows single-column keys and foreign keys only, and SQLite cannot alter a key), ``huijia
migrate`` runs :func:`distribute` after the migrations when the database has the ``citus`` extension:

1. foreign keys between tenant tables are dropped and remembered;
2. each tenant table's primary key becomes ``(tenant_id, id)`` and each unique index gains
   ``tenant_id`` in front (``id`` stays unique in practice: it comes from the table's sequence);
3. the shared lookups become reference tables, the tenant tables distributed tables on ``tenant_id``
   in one co-location group;
4. the foreign keys come back as ``(tenant_id, col) REFERENCES t (tenant_id, id)``.

Every step looks at the catalog first, so running it again does nothing. :func:`plan` reads the same
catalog on plain PostgreSQL and lists what would stop the distribution: the contract test runs it on
every test database, so a table that breaks the rules fails before anyone runs Citus.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("huijia")

# Tables without tenant_id that every tenant reads: copied to every node.
REFERENCE_TABLES = ("tenant",)
# Tables that stay on the coordinator alone (piccolo's migration bookkeeping).
LOCAL_TABLES = ("migration",)
DISTRIBUTION_COLUMN = "tenant_id"
# The first tenant table distributed; the others are co-located with it.
COLOCATION_ANCHOR = "org_unit"

# Citus refuses these actions on a foreign key that includes the distribution column.
_REFUSED_ACTIONS = {"n": "SET NULL", "d": "SET DEFAULT"}
_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str  # pg_constraint.confdeltype
    on_update: str  # pg_constraint.confupdtype

    @property
    def has_tenant(self) -> bool:
        return DISTRIBUTION_COLUMN in self.columns


@dataclass(frozen=True)
class UniqueIndex:
    table: str
    name: str
    columns: tuple[str, ...]
    definition: str
    constraint: str | None  # the constraint owning the index (UNIQUE ... or PRIMARY KEY), if any
    primary: bool


@dataclass
class Catalog:
    """What :func:`plan` and :func:`distribute` need to know about one schema."""

    tables: dict[str, bool]  # name -> has a NOT NULL-able tenant_id column
    tenant_not_null: dict[str, bool]
    foreign_keys: list[ForeignKey]
    uniques: list[UniqueIndex]
    exclusions: list[tuple[str, str]]  # (table, constraint)
    distributed: dict[str, str] = field(default_factory=dict)  # table -> Citus partition method ('h', 'n')


@dataclass
class Plan:
    tenant_tables: list[str]
    reference_tables: list[str]
    local_tables: list[str]
    problems: list[str]


CATALOG_TABLES_SQL = """
SELECT c.relname AS name,
       a.attname IS NOT NULL AS has_tenant,
       coalesce(a.attnotnull, false) AS not_null
FROM pg_class c
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relnamespace = {}::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY 1"""

CATALOG_FKS_SQL = """
SELECT c.conrelid::regclass::text AS tbl, c.conname AS name, c.confrelid::regclass::text AS ref,
       c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_cols
FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = {}::regnamespace ORDER BY 1, 2"""

CATALOG_UNIQUES_SQL = """
SELECT t.relname AS tbl, x.relname AS name, i.indisprimary AS is_primary, pg_get_indexdef(i.indexrelid) AS def,
       (SELECT conname FROM pg_constraint WHERE conindid = i.indexrelid AND contype IN ('p', 'u')) AS con,
       ARRAY(SELECT coalesce(a.attname::text, '?') FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) AS cols
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace = {}::regnamespace AND i.indisunique ORDER BY 1, 2"""

CATALOG_EXCLUSIONS_SQL = """
SELECT conrelid::regclass::text AS tbl, conname AS name FROM pg_constraint
WHERE contype = 'x' AND connamespace = {}::regnamespace"""


def _bare(name: str) -> str:
    # regclass::text qualifies names outside the search path; the schema is passed separately.
    return name.rsplit(".", 1)[-1].strip('"')


async def read_catalog(run: Any, schema: str = "public") -> Catalog:
    """``run(sql, *args)`` returns rows as dicts ({} placeholders): core.dbutil.raw, or a test's own."""
    tables = await run(CATALOG_TABLES_SQL, schema)
    fks = await run(CATALOG_FKS_SQL, schema)
    uniques = await run(CATALOG_UNIQUES_SQL, schema)
    exclusions = await run(CATALOG_EXCLUSIONS_SQL, schema)
    catalog = Catalog(
        tables={r["name"]: bool(r["has_tenant"]) for r in tables},
        tenant_not_null={r["name"]: bool(r["not_null"]) for r in tables},
        foreign_keys=[ForeignKey(_bare(r["tbl"]), r["name"], tuple(r["cols"]), _bare(r["ref"]),
                                 tuple(r["ref_cols"]), r["on_delete"], r["on_update"]) for r in fks],
        uniques=[UniqueIndex(r["tbl"], r["name"], tuple(r["cols"]), r["def"], r["con"], bool(r["is_primary"]))
                 for r in uniques],
        exclusions=[(_bare(r["tbl"]), r["name"]) for r in exclusions],
    )
    if await run("SELECT 1 AS x FROM pg_extension WHERE extname = 'citus'"):
        rows = await run("SELECT logicalrelid::regclass::text AS tbl, partmethod::text AS m FROM pg_dist_partition")
        catalog.distributed = {_bare(r["tbl"]): r["m"] for r in rows}
    return catalog


def plan(catalog: Catalog) -> Plan:
    """Sort the tables and list every rule a table breaks (empty: Citus can distribute the schema)."""
    tenant = sorted(t for t, has in catalog.tables.items() if has)
    reference = sorted(t for t in catalog.tables if t in REFERENCE_TABLES)
    local = sorted(t for t in catalog.tables if t in LOCAL_TABLES)
    problems: list[str] = []
    for t, has in sorted(catalog.tables.items()):
        if not has and t not in REFERENCE_TABLES and t not in LOCAL_TABLES:
            problems.append(f"{t}: no tenant_id column and not a declared shared lookup (core/citus.py "
                            "REFERENCE_TABLES): every table needs one or the other")
        elif has and not catalog.tenant_not_null[t]:
            problems.append(f"{t}: tenant_id may be NULL; the distribution column must be NOT NULL")
        elif has and t in REFERENCE_TABLES:
            problems.append(f"{t}: declared a shared lookup but has tenant_id")
    for fk in catalog.foreign_keys:
        src_tenant = catalog.tables.get(fk.table, False)
        dst_tenant = catalog.tables.get(fk.ref_table, False)
        where = f"{fk.table}.{fk.name} ({', '.join(fk.columns)}) -> {fk.ref_table}"
        if fk.table in REFERENCE_TABLES and dst_tenant:
            problems.append(f"{where}: a shared lookup cannot reference a tenant table")
        elif src_tenant and not dst_tenant and fk.ref_table not in REFERENCE_TABLES:
            problems.append(f"{where}: a tenant table may reference only tenant tables and shared lookups")
        elif src_tenant and dst_tenant:
            if fk.ref_columns != ("id",) and DISTRIBUTION_COLUMN not in fk.ref_columns:
                problems.append(f"{where}: references ({', '.join(fk.ref_columns)}); a key between tenant "
                                "tables must reference id (it becomes (tenant_id, id))")
            if fk.on_delete in _REFUSED_ACTIONS and not fk.has_tenant:
                problems.append(f"{where}: ON DELETE {_REFUSED_ACTIONS[fk.on_delete]} would null tenant_id "
                                "once the key includes it; use RESTRICT or CASCADE")
    for table, name in catalog.exclusions:
        if catalog.tables.get(table):
            problems.append(f"{table}.{name}: exclusion constraints cannot be distributed")
    for u in catalog.uniques:
        if (catalog.tables.get(u.table) and DISTRIBUTION_COLUMN not in u.columns
                and " USING btree (" not in u.definition):
            problems.append(f"{u.table}.{u.name}: a unique index that is not btree cannot gain tenant_id")
    return Plan(tenant, reference, local, problems)


# ---------------------------------------------------------------------------------------------
# The step run by huijia migrate on Citus
# ---------------------------------------------------------------------------------------------


def _with_tenant_first(definition: str) -> str:
    """``CREATE UNIQUE INDEX x ON t USING btree (a, b) WHERE …`` -> the same with ``tenant_id, a, b``."""
    return re.sub(r" USING (\w+) \(", r" USING \1 (tenant_id, ", definition, count=1)


def rewrite_statements(catalog: Catalog) -> tuple[list[ForeignKey], list[str]]:
    """The foreign keys to drop and put back, and the key and index changes in between (not yet
    distributed tables only)."""
    todo = {t for t, has in catalog.tables.items() if has and t not in catalog.distributed}
    fks = [fk for fk in catalog.foreign_keys if _needs_rewrite(fk, catalog, todo)]
    statements: list[str] = []
    for u in catalog.uniques:
        if u.table not in todo or DISTRIBUTION_COLUMN in u.columns:
            continue
        if u.primary:
            statements.append(f'ALTER TABLE {u.table} DROP CONSTRAINT "{u.constraint}", '
                              f'ADD CONSTRAINT "{u.constraint}" PRIMARY KEY (tenant_id, {", ".join(u.columns)})')
        elif u.constraint:
            statements.append(f'ALTER TABLE {u.table} DROP CONSTRAINT "{u.constraint}", '
                              f'ADD CONSTRAINT "{u.constraint}" UNIQUE (tenant_id, {", ".join(u.columns)})')
        else:
            statements.append(f'DROP INDEX "{u.name}"')
            statements.append(_with_tenant_first(u.definition))
    return fks, statements


def _needs_rewrite(fk: ForeignKey, catalog: Catalog, todo: set[str]) -> bool:
    """Keys between tenant tables gain tenant_id; a tenant table's key on tenant_id itself (to the
    tenant reference table) loses ON UPDATE CASCADE, which Citus refuses on the distribution column."""
    if fk.table not in todo and fk.ref_table not in todo:
        return False
    if catalog.tables.get(fk.table) and catalog.tables.get(fk.ref_table):
        return not fk.has_tenant
    return bool(catalog.tables.get(fk.table)) and fk.has_tenant and fk.on_update not in ("a", "r")


def _fk_sql(fk: ForeignKey) -> str:
    if fk.has_tenant:
        cols, refs = ", ".join(fk.columns), ", ".join(fk.ref_columns)
    else:
        cols = ", ".join((DISTRIBUTION_COLUMN, *fk.columns))
        refs = ", ".join((DISTRIBUTION_COLUMN, *fk.ref_columns))
    # No ON UPDATE CASCADE: Citus refuses it on a key holding the distribution column (ids never change).
    return (f'ALTER TABLE {fk.table} ADD CONSTRAINT "{fk.name}" FOREIGN KEY ({cols}) '
            f"REFERENCES {fk.ref_table} ({refs}) ON DELETE {_ACTIONS[fk.on_delete]}")


async def is_citus(run: Any) -> bool:
    return bool(await run("SELECT 1 AS x FROM pg_extension WHERE extname = 'citus'"))


async def distribute(run: Any, ddl: Any) -> list[str]:
    """Distribute what is not distributed yet (the owner role, after the migrations), inside the
    caller's transaction. ``run`` reads, ``ddl`` executes one statement. Returns the tables it distributed or made reference tables."""
    catalog = await read_catalog(run)
    found = plan(catalog)
    if found.problems:
        raise RuntimeError("cannot distribute on Citus:\n  " + "\n  ".join(found.problems))
    fks, statements = rewrite_statements(catalog)
    done: list[str] = []
    # DDL touching a reference table and distributed tables in one go must not run in parallel.
    await ddl("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
    # Citus refuses tables with triggers unless told: a trigger that queries other tables would run
    # on a shard and see only that node. Ours (append-only, chain heads) only compare the row and raise.
    await ddl("SET LOCAL citus.enable_unsafe_triggers TO on")
    for fk in fks:
        await ddl(f'ALTER TABLE {fk.table} DROP CONSTRAINT "{fk.name}"')
    for statement in statements:
        await ddl(statement)
    for table in found.reference_tables:
        if table not in catalog.distributed:
            await ddl(f"SELECT create_reference_table('{table}')")
            done.append(table)
    anchor_done = COLOCATION_ANCHOR in catalog.distributed
    order = sorted(found.tenant_tables, key=lambda t: (t != COLOCATION_ANCHOR, t))
    for table in order:
        if table in catalog.distributed:
            continue
        colocate = "default" if table == COLOCATION_ANCHOR or not anchor_done else COLOCATION_ANCHOR
        await ddl(f"SELECT create_distributed_table('{table}', '{DISTRIBUTION_COLUMN}', "
                  f"colocate_with => '{colocate}')")
        anchor_done = anchor_done or table == COLOCATION_ANCHOR
        done.append(table)
    for fk in fks:
        await ddl(_fk_sql(fk))
    if done:
        log.info("citus: distributed %d table(s): %s", len(done), ", ".join(done))
    return done


# ---------------------------------------------------------------------------------------------
# Joins on Citus
# ---------------------------------------------------------------------------------------------
# An outer join between two distributed tables runs on one shard only when both sides are pinned to
# the same tenant. Our queries filter the first table on tenant_id; the RLS policy's equality puts the
# joined table's tenant_id in the same equivalence class, which pins inner joins, but on PostgreSQL
# 15 and 16 Citus refuses an outer join whose query also holds the resulting variable-free
# ("pseudoconstant") qual. A LEFT JOIN that says tenant_id = tenant_id in its ON clause is pinned
# without one. Piccolo writes its foreign-key joins as LEFT JOIN ... ON (fk = id): on Citus they
# gain the tenant_id equality when both tables have the column (a foreign key never crosses tenants,
# so the rows are the same).

_installed = False


def install_tenant_joins() -> None:
    """Make piccolo's foreign-key joins carry tenant_id (once per process; Citus only)."""
    global _installed
    if _installed:
        return
    from piccolo.query.methods.select import Select

    original = Select._get_joins

    def _get_joins(self: Any, columns: Any) -> list[str]:
        joins: list[str] = original(self, columns)
        targets = _join_targets(columns)
        return [_tenant_join(j, targets) for j in joins]

    Select._get_joins = _get_joins  # type: ignore[method-assign]
    _installed = True


def _join_targets(columns: Any) -> dict[str, tuple[bool, bool]]:
    """alias -> (left table has tenant_id, joined table has tenant_id), from the columns' key chains."""
    from piccolo.columns import Column

    found: dict[str, tuple[bool, bool]] = {}
    pending = list(columns)
    while pending:
        column = pending.pop()
        pending += getattr(column, "columns", None) or []  # Readables and QueryStrings carry columns
        if not isinstance(column, Column):
            continue
        for key in column._meta.call_chain:
            right = key._foreign_key_meta.resolved_references
            found[key.table_alias] = (_table_has_tenant(key._meta.table), _table_has_tenant(right))
    return found


def _table_has_tenant(table: Any) -> bool:
    return any(c._meta.db_column_name == DISTRIBUTION_COLUMN for c in table._meta.columns)


_JOIN = re.compile(r'^LEFT JOIN \S+ "(?P<alias>[^"]+)" ON \((?P<left>\S+)\."[^"]+" = "(?P=alias)"\."[^"]+"\)$')


def _tenant_join(join: str, targets: dict[str, tuple[bool, bool]]) -> str:
    m = _JOIN.match(join)
    if m is None or targets.get(m["alias"]) != (True, True):
        return join
    return join[:-1] + f' AND {m["left"]}."tenant_id" = "{m["alias"]}"."tenant_id")'

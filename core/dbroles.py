"""Separate database roles on PostgreSQL: an owner that creates and alters, an app role that only
reads and writes rows.

``huijia migrate`` connects as the owner (``DATABASE_OWNER_URL`` or ``--owner-url``) and, after the
migrations, grants the app role (the user of ``DATABASE_URL``) what it needs and nothing more (see
core/migration_sql.py's app_role_grants_sql). The app role then owns no table, so it cannot ALTER or
DROP them, disable their triggers, switch off (FORCE) row-level security or TRUNCATE, whatever SQL it
is made to run; the append-only tables refuse it UPDATE and DELETE by privilege before any trigger.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from core.migration_sql import app_role_grants_sql

log = logging.getLogger("huijia")

APPEND_ONLY_TABLES_SQL = (
    "SELECT DISTINCT c.relname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal "
    "AND t.tgname = c.relname || '_append_only' ORDER BY 1"
)


class RoleError(RuntimeError):
    """The roles are set up in a way the separation cannot hold with; the message says what to do."""


def role_of(url: str) -> str | None:
    return urlparse(url).username or None


async def grant_app_role(app_role: str) -> list[str]:
    """Run as the owner after migrating. Returns the append-only tables the app may only insert into."""
    from core.dbutil import engine, raw

    me = (await raw("SELECT current_user AS u"))[0]["u"]
    if app_role == me:
        raise RoleError(f"the app role {app_role!r} is the owner role; give the app a role of its own")
    role = await raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = {}", app_role)
    if not role:
        raise RoleError(f"no database role {app_role!r} (the user of DATABASE_URL); create it first")
    if role[0]["rolsuper"] or role[0]["rolbypassrls"]:
        raise RoleError(f"the app role {app_role!r} is a superuser or has BYPASSRLS: row-level security "
                        "would not fence it (ALTER ROLE … NOSUPERUSER NOBYPASSRLS)")
    owned = await raw("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = {}", app_role)
    if owned[0]["n"]:
        raise RoleError(f"the app role {app_role!r} still owns {owned[0]['n']} table(s): as a superuser run "
                        f"REASSIGN OWNED BY {app_role} TO {me} in this database, then migrate again")
    tables = [r["tablename"] for r in await raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    append_only = [r["name"] for r in await raw(APPEND_ONLY_TABLES_SQL)]
    db = engine()
    for statement in app_role_grants_sql(app_role, me, append_only, tables):
        await db.run_ddl(statement)
    can_create = await raw("SELECT has_schema_privilege({}::name, 'public', 'CREATE') AS c", app_role)
    if can_create[0]["c"]:
        # PostgreSQL 15 no longer grants CREATE on public to everyone; older ones do, and only the
        # schema's owner may take it back.
        try:
            await db.run_ddl("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        except Exception as exc:
            log.warning("could not revoke CREATE on schema public (%s); the app role can create tables there: "
                        "as the schema's owner run REVOKE CREATE ON SCHEMA public FROM PUBLIC", exc)
    return append_only

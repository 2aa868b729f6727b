"""Placing one province on a Citus cluster: ``huijia tenants isolate <code>`` gives it a shard of its own
(``isolate_tenant_to_new_shard``), ``huijia tenants move <code> <host:port>`` moves that shard group to
another worker (``citus_move_shard_placement``) while the platform keeps serving the province.

Every tenant table is distributed by ``tenant_id`` in one co-location group (core/citus.py), so the
shard that holds a province's ``org_unit`` rows is one of a group holding its rows of every table;
isolating or moving it (``CASCADE``) carries all of them together.

Who may run it. Splitting and moving shards copies rows with ordinary queries on the workers, and those
run under the role that called. Every tenant table has FORCE ROW LEVEL SECURITY, so as the owner role
(or the app role) the copy sees no row and Citus then drops the source: the province's rows would be
gone without an error. So both commands refuse unless the connection is a superuser or a BYPASSRLS
role.

Transfer mode. The default is ``block_writes``: the province's reads are served throughout, its
writes wait while the rows are copied and then go through (nothing is lost, nothing fails). Citus's
``force_logical`` (writes continue during the copy) is offered as ``--mode force_logical`` but only
finishes if nothing writes to the province meanwhile: the copy catches up through a logical
replication subscription that Citus owns by a role of its own which is not a superuser, and
PostgreSQL 15 refuses to apply changes into a table with row-level security for such a subscription
owner, so the first write makes the move wait forever. PostgreSQL 16 lifts
that limit (subscriptions ``run_as_owner``) once Citus supports it for shard moves.
"""

from __future__ import annotations

from typing import Any

MODES = ("block_writes", "force_logical", "auto")
# Any tenant table names the co-location group; org_unit is the group's anchor (core/citus.py).
ANCHOR = "org_unit"


class CitusOpsError(Exception):
    """A refusal an operator reads: the message says what to do."""


async def _connect(url: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CitusOpsError(f"cannot connect to the database: {exc}") from exc


async def require_citus_and_all_rows(conn: Any) -> None:
    """Refuse a connection that is not to a Citus coordinator, or that would not see every row."""
    row = await conn.fetchrow("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    if not (row["rolsuper"] or row["rolbypassrls"]):
        raise CitusOpsError(
            f"role {row['rolname']!r} is neither superuser nor BYPASSRLS: under FORCE ROW LEVEL SECURITY a "
            "shard split or move run as it copies no rows and the tenant's data would be lost. Connect as a "
            "superuser or a BYPASSRLS role (--database-url)")
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"):
        raise CitusOpsError("this database is not on Citus (no citus extension): isolating and moving a "
                            "tenant are shard operations of a Citus cluster")


async def _tenant_id(conn: Any, code: str) -> int:
    tenant_id = await conn.fetchval("SELECT id FROM tenant WHERE code = $1", code)
    if tenant_id is None:
        raise CitusOpsError(f"no tenant {code!r}")
    return int(tenant_id)


async def tenant_placement(conn: Any, tenant_id: int) -> dict[str, Any]:
    """The shard of ``org_unit`` that holds the tenant, whether it holds the tenant alone, and its node."""
    row = await conn.fetchrow(
        "SELECT s.shardid, s.shardminvalue = s.shardmaxvalue AS alone, p.nodename, p.nodeport "
        "FROM pg_dist_shard s JOIN pg_dist_placement pl ON pl.shardid = s.shardid "
        "JOIN pg_dist_node p ON p.groupid = pl.groupid "
        "WHERE s.shardid = get_shard_id_for_distribution_column($1::regclass, $2::bigint)", ANCHOR, tenant_id)
    return dict(row)


async def isolate(code: str, url: str, mode: str = "block_writes") -> dict[str, Any]:
    """Give the tenant a shard (group) of its own; nothing happens if it has one already."""
    if mode not in MODES:
        raise CitusOpsError(f"--mode must be one of {', '.join(MODES)}")
    conn = await _connect(url)
    try:
        await require_citus_and_all_rows(conn)
        tenant_id = await _tenant_id(conn, code)
        before = await tenant_placement(conn, tenant_id)
        if before["alone"]:
            return {"tenant": code, "tenant_id": tenant_id, "shard": before["shardid"], "changed": False,
                    "node": f"{before['nodename']}:{before['nodeport']}"}
        shard = await conn.fetchval(
            "SELECT isolate_tenant_to_new_shard($1::regclass, $2::bigint, 'CASCADE', shard_transfer_mode => $3::citus.shard_transfer_mode)",
            ANCHOR, tenant_id, mode, timeout=None)
        after = await tenant_placement(conn, tenant_id)
        return {"tenant": code, "tenant_id": tenant_id, "shard": shard, "changed": True,
                "previous_shard": before["shardid"], "node": f"{after['nodename']}:{after['nodeport']}"}
    finally:
        await conn.close()


async def move(code: str, node: str, url: str, mode: str = "block_writes") -> dict[str, Any]:
    """Move the tenant's shard group to the worker ``node`` (host:port, as in pg_dist_node)."""
    if mode not in MODES:
        raise CitusOpsError(f"--mode must be one of {', '.join(MODES)}")
    host, _, port_text = node.rpartition(":")
    if not host or not port_text.isdigit():
        raise CitusOpsError(f"node {node!r}: give it as host:port, as listed by citus_get_active_worker_nodes()")
    port = int(port_text)
    conn = await _connect(url)
    try:
        await require_citus_and_all_rows(conn)
        tenant_id = await _tenant_id(conn, code)
        known = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2 "
                                    "AND isactive AND shouldhaveshards)", host, port)
        if not known:
            raise CitusOpsError(f"{node} is not an active worker of this cluster (citus_get_active_worker_nodes())")
        before = await tenant_placement(conn, tenant_id)
        result = {"tenant": code, "tenant_id": tenant_id, "shard": before["shardid"], "alone": before["alone"],
                  "from": f"{before['nodename']}:{before['nodeport']}", "to": node}
        if (before["nodename"], before["nodeport"]) == (host, port):
            return {**result, "changed": False}
        await conn.execute(
            "SELECT citus_move_shard_placement($1, $2, $3, $4, $5, shard_transfer_mode => $6::citus.shard_transfer_mode)",
            before["shardid"], before["nodename"], before["nodeport"], host, port, mode, timeout=None)
        return {**result, "changed": True}
    finally:
        await conn.close()


async def record_operation(action: str, details: dict[str, Any]) -> None:
    """The platform's audit chain keeps which province was isolated or moved, where, when."""
    from core.actor import Actor
    from core.audit.services import record
    from core.context import tenant_scope
    from core.dbutil import with_database
    from core.tenancy.queries import get_tenant

    async def go() -> None:
        platform = await get_tenant(code="platform")
        if platform is None:
            return
        with tenant_scope(platform):
            await record(platform, Actor(None, "cli"), action, "tenant", details["tenant_id"],
                         {k: v for k, v in details.items() if k != "tenant_id"})

    await with_database(go)

"""The raw baseline for bench-api: a bare ASGI app, asyncpg and json.dumps, serving the same rows
(100 org units of one tenant with their parent's name) that the GraphQL query returns."""

from __future__ import annotations

import json
import os

import asyncpg

SQL = """SELECT u.id, u.code, u.name, u.level, u.area_code, u.active, u.depth, p.name AS parent_name
FROM org_unit u LEFT JOIN org_unit p ON p.id = u.parent_id
WHERE u.tenant_id = $1 ORDER BY u.path, u.id LIMIT 100"""

pool: asyncpg.Pool | None = None


async def app(scope, receive, send):
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                pool = await asyncpg.create_pool(os.environ["RAW_DSN"], min_size=2, max_size=20)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/health":
        body = b'{"ok":true}'
    else:
        while (await receive()).get("more_body"):
            pass
        tenant_id = int(os.environ["RAW_TENANT"])
        async with pool.acquire() as conn:
            # The same fence the platform uses, so the baseline pays for RLS too.
            await conn.execute("SELECT set_config('app.tenant_id', $1, false)", str(tenant_id))
            rows = await conn.fetch(SQL, tenant_id)
        nodes = [{"id": r["id"], "code": r["code"], "name": r["name"], "level": r["level"], "areaCode": r["area_code"],
                  "active": r["active"], "depth": r["depth"], "parent": {"name": r["parent_name"]} if r["parent_name"] else None}
                 for r in rows]
        body = json.dumps({"data": {"orgUnits": {"nodes": nodes}}}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

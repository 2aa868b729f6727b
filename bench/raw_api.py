"""The raw baseline for bench-api: a bare ASGI app, asyncpg and json.dumps, serving the same rows
that the GraphQL queries return: 100 org units of one tenant with their parent's name, and (on
``/members``) the first 100 members by name with masked ID and phone (decrypted with the platform's
keyring and masked by the same functions), work status, tags and their union's name."""

from __future__ import annotations

import json
import os

import asyncpg

SQL = """SELECT u.id, u.code, u.name, u.level, u.area_code, u.active, u.depth, p.name AS parent_name
FROM org_unit u LEFT JOIN org_unit p ON p.id = u.parent_id
WHERE u.tenant_id = $1 ORDER BY u.path, u.id LIMIT 100"""

MEMBERS_SQL = """SELECT m.id, m.name, m.id_number_enc, m.phone_enc, m.work_status, m.tags, u.name AS unit_name
FROM member m JOIN org_unit u ON u.id = m.org_unit_id
WHERE m.tenant_id = $1 ORDER BY m.name_search COLLATE "zh-x-icu", m.id LIMIT 100"""

pool: asyncpg.Pool | None = None
WORK_STATUS = {"on_duty": "ON_DUTY", "laid_off": "LAID_OFF", "unemployed": "UNEMPLOYED", "retired": "RETIRED",
               "sick_leave": "SICK_LEAVE", "early_retired": "EARLY_RETIRED", "migrant_worker": "MIGRANT_WORKER"}


def members_body(rows, tenant_id: int) -> bytes:
    from core.members.personal import masked_id, masked_phone
    from core.members.vocab import CORE_TAGS

    labels = {t.code: t.label_zh for t in CORE_TAGS}
    nodes = []
    for r in rows:
        tags = r["tags"]
        if isinstance(tags, str):
            tags = json.loads(tags)
        nodes.append({"id": r["id"], "name": r["name"],
                      "idNumberMasked": masked_id(r["id_number_enc"], "member", tenant_id),
                      "phoneMasked": masked_phone(r["phone_enc"], tenant_id),
                      "workStatus": WORK_STATUS[r["work_status"]],
                      "tags": [{"code": t, "label": labels.get(t, t)} for t in tags or []],
                      "orgUnit": {"name": r["unit_name"]}})
    return json.dumps({"data": {"members": {"nodes": nodes}}}, ensure_ascii=False).encode()


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
            rows = await conn.fetch(MEMBERS_SQL if scope["path"] == "/members" else SQL, tenant_id)
        if scope["path"] == "/members":
            body = members_body(rows, tenant_id)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        nodes = [{"id": r["id"], "code": r["code"], "name": r["name"], "level": r["level"], "areaCode": r["area_code"],
                  "active": r["active"], "depth": r["depth"], "parent": {"name": r["parent_name"]} if r["parent_name"] else None}
                 for r in rows]
        body = json.dumps({"data": {"orgUnits": {"nodes": nodes}}}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

"""Blind-index key rotation and the retention purge on the embedded default (SQLite): the same
commands and job as on PostgreSQL, through their own SQL paths. Subprocesses: settings are per
process, and each step runs with the HUIJIA_PII_INDEX_KEYS an operator would set."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap

DEV_INDEX = base64.b64encode(b"huijia-dev-blind-index-key-32byt").decode()
NEW_INDEX = base64.b64encode(os.urandom(32)).decode()

PRELUDE = textwrap.dedent('''
    import asyncio, csv, datetime as dt, io, httpx
    from core.app import create_app
    from core.jobs import runner
    from core.pii.idcard import check_char

    def idn(i):
        body = f"350102197{i % 10}0202{i:03d}"
        return body + check_char(body)

    async def session(c):
        r = await c.post("/graphql", json={"query": 'mutation { login(tenantCode: "fujian", username: "admin", password: "huijia-demo") { token } }'})
        h = {"authorization": "Bearer " + r.json()["data"]["login"]["token"]}
        async def gql(q, v=None):
            return (await c.post("/graphql", headers=h, json={"query": q, "variables": v or {}})).json()
        return h, gql

    CREATE = "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { code } } }"
    COUNT = "query($f: MemberFilter) { members(filter: $f) { totalCount } }"
''')

BEFORE = PRELUDE + textwrap.dedent('''
    async def main():
        app = create_app()
        async with app.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                h, gql = await session(c)
                unit = (await gql("{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { id code } } }"))["data"]["orgUnits"]["nodes"][0]
                for i in range(1, 6):
                    made = await gql(CREATE, {"i": {"name": f"轮换{i}", "idNumber": idn(i), "orgUnitId": unit["id"], "phone": f"1390000{i:04d}"}})
                    assert made["data"]["memberCreate"]["errors"] == [], made
                out = io.StringIO()
                csv.writer(out).writerows([["姓名", "身份证号码", "所属工会"], ["待定", idn(9), unit["code"]]])
                up = await c.post("/imports", params={"filename": "x.csv"}, content=out.getvalue().encode(), headers=h)
                assert up.status_code == 201, up.text
                await runner.drain_local()
                ex = await gql('mutation { memberExportStart(filter: {namePrefix: "轮换"}, format: CSV) { memberExport { id } } }')
                await runner.drain_local()
                print("BEFORE", (await gql(COUNT, {"f": {"idNumber": idn(3)}}))["data"]["members"]["totalCount"])
    asyncio.run(main())
''')

AFTER = PRELUDE + textwrap.dedent('''
    async def main():
        app = create_app()
        async with app.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                h, gql = await session(c)
                unit = (await gql("{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { id code } } }"))["data"]["orgUnits"]["nodes"][0]
                found = [(await gql(COUNT, {"f": {"idNumber": idn(i)}}))["data"]["members"]["totalCount"] for i in range(1, 6)]
                phones = [(await gql(COUNT, {"f": {"phone": f"1390000{i:04d}"}}))["data"]["members"]["totalCount"] for i in range(1, 6)]
                dup = await gql(CREATE, {"i": {"name": "重复", "idNumber": idn(2), "orgUnitId": unit["id"]}})
                print("AFTER", found, phones, dup["data"]["memberCreate"]["errors"][0]["code"])
                from core.members.retention import purge_expired
                from core.context import tenant_scope
                from core.tenancy.services import get_tenant
                tenant = await get_tenant(code="fujian")
                with tenant_scope(tenant):
                    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=100)
                    first = await purge_expired(tenant, now=later)
                    second = await purge_expired(tenant, now=later)
                print("PURGE", first["imports_expired"], first["exports_expired"], first["files_deleted"],
                      second["imports_expired"] + second["exports_expired"])
    asyncio.run(main())
''')


def test_index_rotation_and_purge_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env.update({"HUIJIA_DATA_DIR": str(tmp_path), "HUIJIA_ENV": "development", "HUIJIA_LOG_LEVEL": "ERROR"})
    env.pop("HUIJIA_PII_INDEX_KEY", None)
    env.pop("HUIJIA_PII_INDEX_KEYS", None)
    demo = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", BEFORE], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "BEFORE 1" in run.stdout, run.stdout + run.stderr[-3000:]

    rotating = {**env, "HUIJIA_PII_INDEX_KEYS": f"i2:{NEW_INDEX},i1:{DEV_INDEX}"}
    cli = subprocess.run([sys.executable, "-m", "core.cli", "keys", "rotate-index", "--batch", "2"], env=rotating,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr[-3000:]
    # Every blind index of every tenant is recomputed: the demo's members and the five added above.
    import sqlite3

    with sqlite3.connect(tmp_path / "huijia.sqlite3") as db:
        ids, phones = db.execute("SELECT COUNT(id_number_bidx), COUNT(phone_bidx) FROM member").fetchone()
    assert ids >= 5 and phones >= 5
    assert "fujian: under i2 (moved i1 -> i2)" in cli.stdout
    assert f"recomputed member.id_number_bidx: {ids}" in cli.stdout, cli.stdout
    assert f"recomputed member.phone_bidx: {phones}" in cli.stdout, cli.stdout
    again = subprocess.run([sys.executable, "-m", "core.cli", "keys", "rotate-index"], env=rotating,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "total recomputed: 0" in again.stdout, again.stdout + again.stderr[-2000:]

    # Without i2 the app refuses to start, naming the tenant; with i2 alone everything is found.
    stale = subprocess.run([sys.executable, "-c", AFTER], env=env, capture_output=True, text=True, timeout=300)
    assert stale.returncode != 0 and "fujian" in stale.stderr and "'i2'" in stale.stderr
    assert DEV_INDEX not in stale.stderr and NEW_INDEX not in stale.stderr
    only_new = {**env, "HUIJIA_PII_INDEX_KEYS": f"i2:{NEW_INDEX}"}
    run = subprocess.run([sys.executable, "-c", AFTER], env=only_new, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "AFTER [1, 1, 1, 1, 1] [1, 1, 1, 1, 1] DUPLICATE" in run.stdout, run.stdout
    assert "PURGE 1 1 2 0" in run.stdout, run.stdout

"""The embedded default, as `make run` starts it: SQLite under a data dir, in-process jobs, demo
provinces. Run in a subprocess because settings and the engine are per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import asyncio, httpx
    from core.app import create_app
    from core.jobs import runner

    async def main():
        app = create_app()
        async with app.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                r = await c.post("/graphql", json={"query": 'mutation { login(tenantCode: "fujian", username: "admin", password: "huijia-demo") { token errors { code } } }'})
                token = r.json()["data"]["login"]["token"]
                h = {"authorization": "Bearer " + token}
                q = await c.post("/graphql", headers=h, json={"query": "{ orgUnits(first: 100) { totalCount nodes { id code } } }"})
                units = q.json()["data"]["orgUnits"]
                root = [u for u in units["nodes"] if u["code"] == "fj"][0]["id"]
                m = await c.post("/graphql", headers=h, json={"query": "mutation($p: ID!) { orgUnitCreate(input: {parentId: $p, code: \\"fj-new\\", name: \\"新建工会\\", level: CITY}) { orgUnit { code } errors { code } } }", "variables": {"p": root}})
                assert m.json()["data"]["orgUnitCreate"]["errors"] == [], m.text
                a = await c.post("/graphql", headers={"authorization": "Bearer " + (await c.post("/graphql", json={"query": 'mutation { login(tenantCode: "fujian", username: "auditor", password: "huijia-demo") { token } }'})).json()["data"]["login"]["token"]},
                                 json={"query": "mutation { auditVerifyStart { job { id } errors { code } } }"})
                assert a.json().get("data"), a.text
                job_id = a.json()["data"]["auditVerifyStart"]["job"]["id"]
                await runner.drain_local()
                j = await c.post("/graphql", headers=h, json={"query": "query($id: ID!) { job(id: $id) { status } }", "variables": {"id": job_id}})
                print("UNITS", units["totalCount"], "JOB", j.json()["data"]["job"]["status"])
                print("HOME", (await c.get("/")).status_code, "HEALTH", (await c.get("/health")).json()["database"])

    asyncio.run(main())
''')


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env["HUIJIA_DATA_DIR"] = str(tmp_path)
    env["HUIJIA_ENV"] = "development"
    return env


def test_demo_then_serve_on_sqlite(tmp_path):
    env = _env(tmp_path)
    demo = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "admin / huijia-demo" in demo.stdout and (tmp_path / "huijia.sqlite3").exists()
    # Running it again is harmless (idempotent sync, existing users kept).
    again = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "JOB SUCCEEDED" in run.stdout and "HOME 200" in run.stdout and "HEALTH ok" in run.stdout, run.stdout
    verify = subprocess.run([sys.executable, "-m", "core.cli", "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "fujian: OK" in verify.stdout


def test_demo_refuses_postgres_without_force(tmp_path):
    env = _env(tmp_path)
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:5432/none"
    out = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "embedded default" in out.stderr

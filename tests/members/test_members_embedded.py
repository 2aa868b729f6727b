"""The members domain on the embedded default (SQLite, in-process jobs): create, import (the
executemany path), re-import, search, reveal, export. In a subprocess: settings are per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import asyncio, csv, io, httpx
    from core.app import create_app
    from core.jobs import runner
    from core.pii.idcard import check_char

    def idn(i):
        body = f"350102198{i % 10}0101{i:03d}"
        return body + check_char(body)

    async def main():
        app = create_app()
        async with app.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                async def gql(q, v=None):
                    r = await c.post("/graphql", headers=h, json={"query": q, "variables": v or {}})
                    return r.json()
                r = await c.post("/graphql", json={"query": 'mutation { login(tenantCode: "fujian", username: "admin", password: "huijia-demo") { token } }'})
                h = {"authorization": "Bearer " + r.json()["data"]["login"]["token"]}
                units = (await gql("{ orgUnits(filter: {level: GRASSROOTS}, first: 5) { nodes { id code } } }"))["data"]["orgUnits"]["nodes"]
                unit = units[0]
                made = await gql("mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id idNumberMasked } errors { code } } }",
                                 {"i": {"name": "嵌入", "idNumber": idn(1), "orgUnitId": unit["id"], "phone": "13800001111"}})
                assert made["data"]["memberCreate"]["errors"] == [], made
                out = io.StringIO()
                w = csv.writer(out)
                w.writerow(["姓名", "身份证号码", "所属工会", "手机号码", "会员标签"])
                for i in range(2, 60):
                    w.writerow([f"批量{i:03d}", idn(i), unit["code"], f"1380000{i:04d}", "劳模" if i % 2 else ""])
                w.writerow(["嵌入", idn(1), unit["code"], "", "户外劳动者"])
                w.writerow(["坏行", "123", unit["code"], "", ""])
                w.writerow(["重复", idn(5), unit["code"], "", ""])
                up = await c.post("/imports", params={"filename": "名册.csv"}, content=out.getvalue().encode("gbk"), headers=h)
                assert up.status_code == 201, up.text
                gid = up.json()["import"]["id"]
                await runner.drain_local()
                q = "query($id: ID!) { memberImport(id: $id) { status encoding validRows errorRows wouldCreate wouldUpdate created updated failed } }"
                imp = (await gql(q, {"id": gid}))["data"]["memberImport"]
                print("PREVIEW", imp["status"], imp["encoding"], imp["validRows"], imp["errorRows"], imp["wouldCreate"], imp["wouldUpdate"])
                await gql("mutation($id: ID!) { memberImportCommit(id: $id, allowErrors: true) { errors { code } } }", {"id": gid})
                await runner.drain_local()
                imp = (await gql(q, {"id": gid}))["data"]["memberImport"]
                print("COMMIT", imp["status"], imp["created"], imp["updated"], imp["failed"])
                up = await c.post("/imports", params={"filename": "again.csv"}, content=out.getvalue().encode("gbk"), headers=h)
                await runner.drain_local()
                gid2 = up.json()["import"]["id"]
                await gql("mutation($id: ID!) { memberImportCommit(id: $id, allowErrors: true) { errors { code } } }", {"id": gid2})
                await runner.drain_local()
                q2 = "query($id: ID!) { memberImport(id: $id) { created updated unchanged } }"
                again = (await gql(q2, {"id": gid2}))["data"]["memberImport"]
                print("AGAIN", again["created"], again["updated"], again["unchanged"])
                s = await gql('{ members(filter: {namePrefix: "批量", tags: ["model_worker"]}, first: 100) { totalCount } }')
                t = await gql("query($f: MemberFilter) { members(filter: $f) { nodes { name tags { code } } } }", {"f": {"idNumber": idn(1)}})
                print("SEARCH", s["data"]["members"]["totalCount"], t["data"]["members"]["nodes"][0]["tags"])
                rv = await gql("mutation($id: ID!) { memberReveal(id: $id, field: PHONE, reason: \\"核对\\") { value } }",
                               {"id": made["data"]["memberCreate"]["member"]["id"]})
                print("REVEAL", rv["data"]["memberReveal"]["value"])
                ex = await gql('mutation { memberExportStart(filter: {namePrefix: "批量"}, format: CSV) { memberExport { id } errors { code } } }')
                await runner.drain_local()
                e = await gql("query($id: ID!) { memberExport(id: $id) { status rowCount downloadUrl } }", {"id": ex["data"]["memberExportStart"]["memberExport"]["id"]})
                d = await c.get(e["data"]["memberExport"]["downloadUrl"], headers=h)
                print("EXPORT", e["data"]["memberExport"]["status"], e["data"]["memberExport"]["rowCount"], d.status_code, idn(3) in d.text)

    asyncio.run(main())
''')


def test_members_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env["HUIJIA_DATA_DIR"] = str(tmp_path)
    env["HUIJIA_ENV"] = "development"
    demo = subprocess.run([sys.executable, "-m", "core.cli", "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "PREVIEW PREVIEWED gb18030 59 2 58 1" in out, out
    assert "COMMIT COMMITTED 58 1 2" in out, out
    assert "AGAIN 0 0 59" in out, out
    assert "SEARCH 29 [{'code': 'outdoor_worker'}]" in out, out
    assert "REVEAL 13800001111" in out and "EXPORT READY 58 200 False" in out, out

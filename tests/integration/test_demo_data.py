"""The embedded default's demo provinces come with members, households and a year of ledger entries
(core.demo through the real services), and loading the demo twice adds nothing. Run in subprocesses
against a fresh SQLite database, as `make run` does."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

PROVINCES = ("beijing", "fujian", "shanghai")

DASHBOARD = textwrap.dedent('''
    import asyncio, json, httpx
    from core.app import create_app

    async def main():
        app = create_app()
        out = {}
        async with app.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                for code in ("beijing", "fujian", "shanghai"):
                    r = await c.post("/graphql", json={"query": 'mutation($t: String!) { login(tenantCode: $t, username: "admin", password: "huijia-demo") { token } }', "variables": {"t": code}})
                    h = {"authorization": "Bearer " + r.json()["data"]["login"]["token"]}
                    q = await c.post("/graphql", headers=h, json={"query": "{ members(first: 1) { totalCount } }"})
                    out[code] = q.json()["data"]["members"]["totalCount"]
        print("COUNTS " + json.dumps(out))

    asyncio.run(main())
''')


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUIJIA_JOB_QUEUE")}
    env["HUIJIA_DATA_DIR"] = str(tmp_path)
    env["HUIJIA_ENV"] = "development"
    return env


def _cli(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _snapshot(db):
    with sqlite3.connect(db) as c:
        q = lambda sql: {row[0]: row[1:] for row in c.execute(sql)}  # noqa: E731
        return {
            "members": q("SELECT t.code, COUNT(*) FROM member m JOIN tenant t ON t.id = m.tenant_id GROUP BY t.code"),
            "households": q("SELECT t.code, COUNT(DISTINCT h.id), COUNT(p.id) FROM household h JOIN tenant t ON "
                            "t.id = h.tenant_id JOIN household_person p ON p.household_id = h.id GROUP BY t.code"),
            "entries": q("SELECT t.code || ':' || e.kind, COUNT(*) FROM ledger_entry e JOIN tenant t ON "
                         "t.id = e.tenant_id GROUP BY t.code, e.kind"),
            "balances": q("SELECT t.code, SUM(a.balance_fen), MIN(CASE WHEN a.code IN ('101', '102') THEN "
                          "a.balance_fen END), COUNT(*) FROM ledger_account a JOIN tenant t ON t.id = a.tenant_id "
                          "GROUP BY t.code"),
        }


def test_demo_seeds_members_households_and_a_year_of_ledger_entries_once(tmp_path):
    env = _env(tmp_path)
    first = _cli(env, "demo")
    assert first.returncode == 0, first.stderr[-3000:]
    db = tmp_path / "huijia.sqlite3"
    seeded = _snapshot(db)
    for code in PROVINCES:
        assert seeded["members"][code][0] >= 200, seeded["members"]
        households, people = seeded["households"][code]
        assert households >= 30 and people > households, (code, households, people)  # relatives beyond the member
        kinds = {k.split(":")[1]: v[0] for k, v in seeded["entries"].items() if k.startswith(code + ":")}
        assert kinds.get("levy", 0) >= 12 and kinds.get("payout", 0) >= 12, (code, kinds)
        assert kinds.get("transfer_up", 0) >= 3 and kinds.get("transfer_down", 0) >= 1, (code, kinds)
        assert kinds.get("special_allocation", 0) >= 1, (code, kinds)  # the special allocation at the turn of the year
        total, lowest_cash, accounts = seeded["balances"][code]
        assert total == 0 and accounts > 10, (code, seeded["balances"][code])  # double entry: every book sums to 0
        assert lowest_cash >= 0  # no unit's cash went negative
        assert f"{code}: " in first.stdout

    # Twice is once: nothing doubles.
    again = _cli(env, "demo")
    assert again.returncode == 0, again.stderr[-3000:]
    assert _snapshot(db) == seeded
    assert "0 members, 0 households, 0 ledger entries added" in again.stdout

    for args in (("ledger", "verify"), ("ledger", "check"), ("audit", "verify")):
        out = _cli(env, *args, timeout=300)
        assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-2000:])
        for code in PROVINCES:
            assert f"{code}: OK" in out.stdout, (args, out.stdout)

    api = subprocess.run([sys.executable, "-c", DASHBOARD], env=env, capture_output=True, text=True, timeout=300)
    assert api.returncode == 0, api.stderr[-3000:]
    counts = json.loads(api.stdout.split("COUNTS ", 1)[1])
    assert counts == {code: seeded["members"][code][0] for code in PROVINCES}


def test_hook_register_demo_data():
    """`huijia demo` runs the seeders plugins register; core's own is core.demo's, which the test above
    drives end to end through the command."""
    from core import demo
    from core.registry import get_registry

    seeders = get_registry().demo_data
    assert ("core.demo", demo.seed_for_cli) in seeders
    assert all(callable(fn) for _plugin, fn in seeders)

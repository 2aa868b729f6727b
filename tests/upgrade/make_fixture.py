"""Make this release's upgrade fixture: ``python -m tests.upgrade.make_fixture`` (PostgreSQL and a
superuser connection as the test suite uses, ``HUIJIA_TEST_PG_ADMIN``).

It builds a deployment the way an operator's grows: ``huijia migrate`` as the owner, ``huijia demo``
(members, households, thirteen months of ledger entries, audit records in three provinces), a roster
import committed through the import jobs, and a second roster left uploaded (its encrypted file is
kept), then takes it with ``huijia backup`` into ``tests/upgrade/fixtures/huijia-<version>.tar`` and
writes what the upgrade test checks beside it (``.json``). The keys are the development keys, which
the test suite runs with. A later release runs this once more and commits its own pair; older pairs
stay, so every upgrade path keeps being tested (docs/operations.md, Upgrades).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from core.testing.env import (
    TestEnvironment,
    configure_environment,
    create_test_database,
    drop_test_database,
    migrate_as_owner,
)

HERE = Path(__file__).parent / "fixtures"
UNIT = "sh-huangpu-nanjinglu"
HEADER = "姓名,身份证号码,所属工会,手机号码,工作单位,工作状态,会员标签,入会日期"


def roster(first: int, count: int) -> tuple[bytes, list[dict[str, str]]]:
    from core.pii.idcard import check_char

    rows, people = [HEADER], []
    for n in range(first, first + count):
        body = f"310101198506{12 + n // 500:02d}{(n % 500) * 2 + 1:03d}"
        person = {"name": f"升级{n:03d}", "id_number": body + check_char(body), "phone": f"139{n:08d}"}
        people.append(person)
        rows.append(f"{person['name']},{person['id_number']},{UNIT},{person['phone']},升级测试单位,在岗,,2021-03-01")
    return ("\n".join(rows) + "\n").encode("utf-8"), people


async def _imports(data_dir: Path) -> dict[str, Any]:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.dbutil import with_database
    from core.jobs.runner import drain_local, jobs_in_process
    from core.members import importer, queries
    from core.members.import_upload import receive_upload
    from core.tenancy.queries import get_tenant, root_unit

    async def go() -> dict[str, Any]:
        tenant = await get_tenant(code="shanghai")
        actor = Actor(None, "fixture")
        with tenant_scope(tenant), jobs_in_process():
            scope = [(await root_unit(tenant))["path"]]

            async def upload(content: bytes, name: str) -> int:
                async def body() -> Any:
                    yield content
                imp = await receive_upload(tenant, actor, scope, name, body(), 10 * 1024 * 1024)
                await drain_local()
                return int(imp["id"])

            committed, people = roster(1, 20)
            committed_id = await upload(committed, "升级名册.csv")
            from core.members.tables import MemberImportError

            problems = await MemberImportError.select().where(MemberImportError.import_id == committed_id).limit(3)
            assert not problems, problems
            await importer.start_commit(tenant, actor, committed_id, allow_errors=False)
            await drain_local()
            kept, _ = roster(100, 5)
            kept_id = await upload(kept, "待提交名册.csv")
            done = await queries.get_import(tenant, committed_id)
            waiting = await queries.get_import(tenant, kept_id)
        assert done["status"] == "committed", done["status"]
        assert waiting["status"] == "previewed", waiting["status"]
        return {"tenant": "shanghai", "tenant_id": tenant.id, "committed_import": committed_id,
                "kept_import": kept_id, "kept_sha256": waiting["sha256"], "member": people[0]}

    return await with_database(go)


async def _balances(url: str) -> dict[str, int]:
    """Every ledger account's balance, by id: the upgrade must keep each fen where it was."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id, balance_fen FROM ledger_account ORDER BY id")
    finally:
        await conn.close()
    return {str(r["id"]): int(r["balance_fen"]) for r in rows}


def main() -> int:
    env = TestEnvironment.new("upgradefix")
    configure_environment(env)
    work = Path(tempfile.mkdtemp(prefix="huijia-fixture-"))
    os.environ["HUIJIA_DATA_DIR"] = str(work / "data")
    version = importlib.metadata.version("huijia")
    asyncio.run(drop_test_database(env))
    asyncio.run(create_test_database(env))
    try:
        asyncio.run(migrate_as_owner(env))
        demo = ["demo", "--force"] if not os.environ.get("FIXTURE_NO_DEMO") else ["tenants", "sync"]
        subprocess.run([sys.executable, "-m", "core.cli", *demo], check=True, stdout=subprocess.DEVNULL)
        expect = asyncio.run(_imports(work / "data"))
        from core.ops.backup import backup

        admin = env.admin_dsn.rsplit("/", 1)[0] + f"/{env.database}"
        expect["balances"] = asyncio.run(_balances(admin))
        HERE.mkdir(exist_ok=True)
        archive = HERE / f"huijia-{version}.tar"
        manifest = asyncio.run(backup(archive, admin))
        expect["huijia_version"] = version
        (HERE / f"huijia-{version}.json").write_text(json.dumps(expect, indent=2, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
        print(f"{archive}: {sum(manifest['table_counts'].values())} rows, {sum(manifest['file_areas'].values())} files")
    finally:
        asyncio.run(drop_test_database(env))
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

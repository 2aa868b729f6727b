"""The audit log: written by every mutation, redacted, append-only, hash-chained, verifiable."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import pytest

from tests.conftest import PG_ADMIN_DSN, TEST_DB
from tests.fixtures.api import persona, unique

RECORDS = """query($f: AuditFilter) { auditRecords(filter: $f, first: 20) { totalCount nodes {
  seq actorName action targetType targetId changes requestId hash } } }"""


async def test_mutations_are_audited_with_actor_target_changes_and_request_id(api, sh_admin, sh_auditor):
    root = (await sh_admin.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
    code = unique("aud-")
    r = await api.client.post("/graphql", headers={"authorization": f"Bearer {sh_admin.token}", "x-request-id": "req-test-123"},
                              json={"query": "mutation($p: ID!, $c: String!) { orgUnitCreate(input: {parentId: $p, code: $c, name: \"审计测试\", level: CITY}) { orgUnit { id } errors { code } } }",
                                    "variables": {"p": root, "c": code}})
    assert r.headers["x-request-id"] == "req-test-123"
    body = await sh_auditor.api.gql(RECORDS, {"f": {"actionPrefix": "org_unit.create"}})
    rec = body["data"]["auditRecords"]["nodes"][0]
    assert rec["actorName"] == sh_admin.username and rec["action"] == "org_unit.create"
    assert rec["targetType"] == "OrgUnit" and rec["changes"]["code"] == code
    assert rec["requestId"] == "req-test-123" and len(rec["hash"]) == 64


async def test_sensitive_values_are_redacted(api, sh_admin, sh_auditor):
    await sh_admin.api.gql("""mutation {{ userCreate(input: {{username: "{}", password: "super-secret-pw"}}) {{ errors {{ code }} }} }}""".format(unique("red")))
    body = await sh_auditor.api.gql(RECORDS, {"f": {"actionPrefix": "user.create"}})
    rec = body["data"]["auditRecords"]["nodes"][0]
    assert rec["changes"]["password"] == "***"
    assert "super-secret-pw" not in str(body)


async def test_failed_logins_are_audited(api, sh_auditor):
    from core.accounts import login_audit
    from core.settings import get_settings

    await api.gql('mutation { login(tenantCode: "shanghai", username: "ghost", password: "nope-nope") { errors { code } } }')
    # Summarised per window: written once the window has closed.
    await login_audit.flush_due(now=login_audit.clock() + 2 * get_settings().login_lock_seconds)
    body = await sh_auditor.api.gql(RECORDS, {"f": {"actionPrefix": "auth.login_failed"}})
    assert body["data"]["auditRecords"]["nodes"][0]["actorName"] == "ghost"


async def test_only_auditors_and_admins_read_the_log(api):
    clerk = await persona(api, "shanghai", "clerk")
    body = await clerk.api.gql(RECORDS)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_app_cannot_update_or_delete_audit_rows(app):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    with tenant_scope(await get_tenant(code="shanghai")):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await raw("UPDATE audit_record SET action = 'x'")
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await raw("DELETE FROM audit_record")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, env=os.environ.copy(),
                          timeout=120)


async def _tamper(sql: str) -> None:
    """What a DBA going around the app could do: superuser, triggers off."""
    from core.testing import rawdb

    # rawdb sets it so that a Citus cluster's shards see it too (SET LOCAL, propagated).
    async with rawdb.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{TEST_DB}", triggers_off=True) as conn:
        await conn.execute(sql)


async def test_verify_detects_edited_and_deleted_records(api, sh_auditor, operator):
    # A province of its own, so the damage done here stays here.
    code = unique("tamper")
    made = await operator.api.gql("""mutation($c: String!) { tenantCreate(input: {code: $c, name: "篡改测试", provinceCode: "35"}) { errors { code } } }""",
                                  {"c": code})
    assert made["data"]["tenantCreate"]["errors"] == []
    admin = await persona(api, code, "tenant_admin")
    root = (await admin.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
    for _ in range(4):
        await admin.api.gql("mutation($p: ID!, $c: String!) { orgUnitCreate(input: {parentId: $p, code: $c, name: \"x\", level: CITY}) { errors { code } } }",
                            {"p": root, "c": unique("t-")})
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code=code)
    ok = _cli("audit", "verify", "--tenant", code)
    assert ok.returncode == 0 and f"{code}: OK" in ok.stdout, ok.stdout + ok.stderr

    await _tamper(f"UPDATE audit_record SET actor_name = 'someone-else' WHERE tenant_id = {tenant.id} AND seq = 3")
    edited = _cli("audit", "verify", "--tenant", code)
    assert edited.returncode == 1 and "seq 3: content does not match" in edited.stdout

    await _tamper(f"DELETE FROM audit_record WHERE tenant_id = {tenant.id} AND seq = 5")
    deleted = _cli("audit", "verify", "--tenant", code)
    assert deleted.returncode == 1 and "missing (deleted records)" in deleted.stdout

    # GraphQL shows the same verdict to that province's auditors; Shanghai's chain is intact.
    auditor = await persona(api, code, "auditor")
    verdict = (await auditor.api.gql("{ auditVerify { ok problems } }"))["data"]["auditVerify"]
    assert verdict["ok"] is False and any("seq 3" in p for p in verdict["problems"])
    assert (await sh_auditor.api.gql("{ auditVerify { ok } }"))["data"]["auditVerify"]["ok"] is True


async def test_chain_stays_intact_under_concurrent_mutations(api, sh_auditor):
    import asyncio

    p = await persona(api, "beijing", "tenant_admin")
    root = (await p.api.gql("{ orgUnits(first: 1) { nodes { id } } }"))["data"]["orgUnits"]["nodes"][0]["id"]
    await asyncio.gather(*[
        p.api.gql("mutation($p: ID!, $c: String!) { orgUnitCreate(input: {parentId: $p, code: $c, name: \"并发\", level: CITY}) { errors { code } } }",
                  {"p": root, "c": unique("cc-")}) for _ in range(12)])
    bj_auditor = await persona(api, "beijing", "auditor")
    verdict = (await bj_auditor.api.gql("{ auditVerify { ok checked problems } }"))["data"]["auditVerify"]
    assert verdict["ok"] is True, verdict


async def test_a_district_auditor_cannot_verify_or_checkpoint_the_province_chain(api):
    """The chain covers every unit's records; a district auditor reads only its own staff's records."""
    district = await persona(api, "shanghai", "auditor", "sh-huangpu")
    for query in ("{ auditVerify { ok } }", "{ auditCheckpoint { seq } }"):
        body = await district.api.gql(query)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (query, body)
    started = (await district.api.gql("mutation { auditVerifyStart { job { id } errors { code } } }"))
    assert started["data"]["auditVerifyStart"]["job"] is None
    assert [e["code"] for e in started["data"]["auditVerifyStart"]["errors"]] == ["FORBIDDEN"]
    root = await persona(api, "shanghai", "auditor")
    assert (await root.api.gql("{ auditVerify { ok } }"))["data"]["auditVerify"]["ok"] is True

"""Retention: the hourly `members.purge` job deletes stored uploads nobody committed or discarded and
exports past their retention, marks the rows expired (kept for the audit trail), writes one audit
record per run without personal data, and is idempotent. An expired export answers 410; committing
an expired import is a typed error. Jobs are run directly, with back-dated rows or a fake "now"."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from core.jobs import runner
from core.members import filestore
from tests.fixtures.api import persona
from tests.members.members_helpers import COMMIT, create_member, import_state, make_id, roster_csv, upload
from tests.members.members_helpers import make_tenant as _make_tenant

EXPORT_START = """mutation($f: MemberFilter) { memberExportStart(filter: $f, format: CSV) {
  memberExport { id status downloadUrl } errors { code } } }"""
EXPORT = "query($id: ID!) { memberExport(id: $id) { status downloadUrl } }"
DISCARD = "mutation($id: ID!) { memberImportDiscard(id: $id) { memberImport { status } errors { code field message } } }"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


async def make_tenant(prefix: str) -> tuple[Any, str]:
    return await _make_tenant(prefix, "保留期")


async def sql(tenant: Any, query: str, *args: Any) -> list[dict[str, Any]]:
    from core.context import tenant_scope
    from core.dbutil import raw

    with tenant_scope(tenant):
        return await raw(query, *args)


def pk(gid: str) -> int:
    from core.graphql.base import from_global_id

    return from_global_id(gid)[1]


async def purge(tenant: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    from core.context import tenant_scope
    from core.members.retention import purge_expired

    with tenant_scope(tenant):
        return await purge_expired(tenant, now=now)


async def back_date(tenant: Any, table: str, column: str, object_id: int, hours: float) -> None:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    await sql(tenant, f"UPDATE {table} SET {column} = {{}} WHERE tenant_id = {{}} AND id = {{}}", when, tenant.id, object_id)


async def previewed_import(p: Any, unit: str, name: str) -> tuple[str, int]:
    up = await upload(p, roster_csv([[name, make_id(area="350102"), unit, "", "", "", "", ""]]))
    gid = up["import"]["id"]
    assert (await import_state(p, gid))["status"] == "PREVIEWED"
    return gid, pk(gid)


async def ready_export(p: Any) -> tuple[str, int]:
    res = await p.api.gql(EXPORT_START, {"f": {"namePrefix": "保留"}})
    gid = res["data"]["memberExportStart"]["memberExport"]["id"]
    await runner.drain_local()
    assert (await p.api.gql(EXPORT, {"id": gid}))["data"]["memberExport"]["status"] == "READY"
    return gid, pk(gid)


async def test_purge_expires_stale_files_keeps_rows_and_is_idempotent(api):
    t, unit = await make_tenant("ret")
    p = await persona(api, t.code, "tenant_admin")
    secret_id = make_id(area="350102")
    await create_member(p, unit, name="保留甲", idNumber=secret_id, phone="13500001111")

    stale_gid, stale = await previewed_import(p, unit, "保留导入甲")
    _, recent = await previewed_import(p, unit, "保留导入乙")
    committed_gid, committed = await previewed_import(p, unit, "保留导入丙")
    from tests.members.members_helpers import commit

    assert (await commit(p, committed_gid))["errors"] == []
    old_export_gid, old_export = await ready_export(p)
    _, new_export = await ready_export(p)
    # A crashed upload left a half-written file; a queued export never ran.
    crashed = (await sql(t, "INSERT INTO member_import (tenant_id, status, created_at, updated_at) VALUES ({}, 'uploading', "
                            "now(), now()) RETURNING id", t.id))[0]["id"]
    part = filestore.path_for("imports", t.id, crashed).with_suffix(".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"half")
    queued = (await sql(t, "INSERT INTO member_export (tenant_id, status, created_at) VALUES ({}, 'queued', now()) "
                           "RETURNING id", t.id))[0]["id"]

    await back_date(t, "member_import", "updated_at", stale, 73)
    await back_date(t, "member_import", "updated_at", crashed, 73)
    await back_date(t, "member_import", "updated_at", committed, 500)  # committed: nothing to purge
    await back_date(t, "member_export", "finished_at", old_export, 25)
    await back_date(t, "member_export", "created_at", queued, 25)
    assert filestore.stored_exists("imports", t.id, stale) and filestore.stored_exists("exports", t.id, old_export)

    result = await purge(t)
    assert result["imports_expired"] == 2 and result["exports_expired"] == 2 and result["files_deleted"] == 3
    assert (result["import_retention_hours"], result["export_retention_hours"]) == (72, 24)
    status = {r["id"]: r["status"] for r in await sql(t, "SELECT id, status FROM member_import WHERE tenant_id = {}", t.id)}
    assert status == {stale: "expired", crashed: "expired", recent: "previewed", committed: "committed"}
    status = {r["id"]: r["status"] for r in await sql(t, "SELECT id, status FROM member_export WHERE tenant_id = {}", t.id)}
    assert status == {old_export: "expired", queued: "expired", new_export: "ready"}
    assert not filestore.stored_exists("imports", t.id, stale) and not part.exists()
    assert not filestore.stored_exists("exports", t.id, old_export)
    assert filestore.stored_exists("imports", t.id, recent) and filestore.stored_exists("exports", t.id, new_export)
    expired = (await import_state(p, stale_gid))
    assert expired["status"] == "EXPIRED" and expired["validRows"] == 1  # the record stays readable

    # Idempotent: a second run finds nothing.
    again = await purge(t)
    assert (again["imports_expired"], again["exports_expired"], again["files_deleted"]) == (0, 0, 0)
    audit = await sql(t, "SELECT actor_name, target_type, changes FROM audit_record WHERE tenant_id = {} AND action = {} "
                         "ORDER BY seq", t.id, "member.purge")
    assert len(audit) == 2 and audit[0]["actor_name"] == "members.purge"
    first = json.loads(audit[0]["changes"]) if isinstance(audit[0]["changes"], str) else audit[0]["changes"]
    assert sorted(first["import_ids"]) == sorted([stale, crashed]) and sorted(first["export_ids"]) == sorted([old_export, queued])
    text = json.dumps([a["changes"] for a in audit], ensure_ascii=False, default=str)
    assert secret_id not in text and "保留" not in text and "1350000" not in text

    # A later "now": the rest passes its retention too.
    later = await purge(t, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=100))
    assert (later["imports_expired"], later["exports_expired"]) == (1, 1)
    assert not filestore.stored_ids("imports", t.id) and not filestore.stored_ids("exports", t.id)

    # Expired export: 410 with the usual error shape. Expired import: typed errors on commit and discard.
    r = await api.client.get(f"/exports/{old_export}", headers={"authorization": f"Bearer {p.token}"})
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "INVALID_STATE" and "expired" in r.json()["error"]["message"]
    assert (await p.api.gql(EXPORT, {"id": old_export_gid}))["data"]["memberExport"] == {"status": "EXPIRED", "downloadUrl": None}
    res = await p.api.gql(COMMIT, {"id": stale_gid, "allow": False})
    err = res["data"]["memberImportCommit"]["errors"][0]
    assert err["code"] == "INVALID_STATE" and err["field"] == "id" and "expired" in err["message"]
    res = await p.api.gql(DISCARD, {"id": stale_gid})
    assert res["data"]["memberImportDiscard"]["errors"][0]["code"] == "INVALID_STATE"
    assert (await import_state(p, stale_gid))["status"] == "EXPIRED"


async def test_purge_is_per_tenant_and_spares_live_work(api):
    """One tenant's purge never touches another's rows (RLS and the tenant filter); an import
    whose commit is under way is not stale (each batch advances updated_at)."""
    a, unit_a = await make_tenant("reta")
    b, unit_b = await make_tenant("retb")
    pa = await persona(api, a.code, "tenant_admin")
    pb = await persona(api, b.code, "tenant_admin")
    _, imp_a = await previewed_import(pa, unit_a, "保留甲方")
    gid_b, imp_b = await previewed_import(pb, unit_b, "保留乙方")
    await back_date(a, "member_import", "updated_at", imp_a, 80)
    await back_date(b, "member_import", "updated_at", imp_b, 80)
    assert (await purge(a))["imports_expired"] == 1
    assert (await sql(b, "SELECT status FROM member_import WHERE tenant_id = {} AND id = {}", b.id, imp_b))[0]["status"] == "previewed"
    assert filestore.stored_exists("imports", b.id, imp_b)
    # B commits its stale-looking import just before its purge: starting the commit makes it live.
    res = await pb.api.gql(COMMIT, {"id": gid_b, "allow": False})
    assert res["data"]["memberImportCommit"]["errors"] == []
    await runner.drain_local(60)
    assert (await purge(b))["imports_expired"] == 0
    assert (await import_state(pb, gid_b))["status"] == "COMMITTED"


async def test_purge_job_and_hourly_cron(api):
    """`members.purge` is a registered job, scheduled hourly for arq and for the in-process scheduler;
    the cron starts one job per tenant per hour however often it fires."""
    from core.context import tenant_scope
    from core.jobs.runner import REGISTRY, get_job
    from core.jobs.scheduler import cron_jobs
    from core.jobs.tables import JobRecord
    from core.jobs.worker import worker_settings
    from core.members.jobs import cron_purge

    assert "members.purge" in REGISTRY
    arq_cron = {c.name: c for c in worker_settings()["cron_jobs"]}
    assert "members.cron.purge" in arq_cron and "members.cron.purge" in {c.name for c in cron_jobs()}
    assert arq_cron["members.cron.purge"].minute == 17 and arq_cron["members.cron.purge"].hour is None  # every hour

    t, unit = await make_tenant("retj")
    p = await persona(api, t.code, "tenant_admin")
    _, imp = await previewed_import(p, unit, "保留定时")
    await back_date(t, "member_import", "updated_at", imp, 90)
    first = await cron_purge({})
    second = await cron_purge({})
    assert first == second >= 4
    await runner.drain_local(60)
    with tenant_scope(t):
        jobs = await JobRecord.select().where((JobRecord.tenant_id == t.id) & (JobRecord.name == "members.purge"))
        assert len(jobs) == 1 and jobs[0]["job_key"].startswith("members.purge:")
        job = await get_job(t, jobs[0]["id"])
    assert job["status"] == "succeeded"
    result = json.loads(job["result"]) if isinstance(job["result"], str) else job["result"]
    assert result["imports_expired"] == 1
    assert (await sql(t, "SELECT status FROM member_import WHERE tenant_id = {} AND id = {}", t.id, imp))[0]["status"] == "expired"

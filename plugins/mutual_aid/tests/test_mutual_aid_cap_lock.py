"""The plan's cap lock, against the real database: an approval and a stay import never compute a payout from
what the plan paid while the other is still writing. An import holds the lock for its whole file; an
approval of the same plan waits for it, then counts the import's claims against the member's caps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.testing import create_plugin_tenant, persona
from huijia_mutual_aid.testing import PDF_B64, add_members, backdate, days_ago, enrol, fund

pytestmark = pytest.mark.asyncio(loop_scope="session")

PLAN = "beijing_hospital_allowance"  # 40 元 a day from the 4th day, at most 7,200 元 a year
SUBMIT = """mutation($i: MutualAidClaimInput!) { mutualAidClaimSubmit(input: $i) {
  claim { id amountFen } errors { code message } } }"""
STEP = """mutation($id: ID!, $a: MutualAidClaimAction!) { mutualAidClaimStep(id: $id, action: $a) {
  claim { id state amountFen cappedBy } errors { code message } } }"""


async def waiting_for_cap_lock(tenant: Any) -> int:
    """Sessions waiting for the plan's cap lock (pg_locks shows a two-key advisory lock as classid, objid)."""
    from core.sdk import raw
    from huijia_mutual_aid.claims import CAP_LOCK_NAMESPACE, cap_lock_key

    rows = await raw("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = {} "
                     "AND objid = {} AND objsubid = 2", CAP_LOCK_NAMESPACE, cap_lock_key(tenant, PLAN) & 0xFFFFFFFF)
    return int(rows[0]["n"])


async def test_an_approval_waits_for_an_import_and_then_counts_its_payouts_against_the_cap(api, tmp_path_factory) -> None:
    from core.sdk import JobContext, files, raw, tenant_scope, transaction
    from huijia_mutual_aid.stays import import_stays

    t = await create_plugin_tenant(["beijing", "mutual_aid"], tmp_path_factory.mktemp("ma_cap_lock"))
    clerk = (await persona(api, t.code, "clerk", t.grassroots_unit)).api
    approver = (await persona(api, t.code, "approver", t.district_unit)).api
    unit = t.unit_ids[t.grassroots_unit]
    [(member, id_number)] = await add_members(clerk, unit, 1, area="110105")
    await enrol(clerk, unit, PLAN, [member], "lock")
    await backdate(t, PLAN, 300)
    await fund(t, PLAN, "职工住院津贴互助保障", 5_000_000)
    # a reviewed claim waiting for approval: 100 nights, 97 paid days, 3,880 元
    claim = {"plan": PLAN, "memberId": member, "kind": "hospital_stay", "eventDate": days_ago(280),
             "admittedOn": days_ago(280), "dischargedOn": days_ago(180), "hospital": "北京协和医院",
             "documents": [{"kind": "DISCHARGE", "filename": "出院小结.pdf", "contentBase64": PDF_B64}]}
    entered = (await clerk.data(SUBMIT, {"i": claim}))["mutualAidClaimSubmit"]
    assert entered["errors"] == [] and entered["claim"]["amountFen"] == 388_000
    checked = (await clerk.data(STEP, {"id": entered["claim"]["id"], "a": "CHECK"}))["mutualAidClaimStep"]
    assert checked["errors"] == []
    # a stay file with another stay of the member: 90 nights, 87 paid days, 3,480 元
    body = (f"身份证号,入院日期,出院日期,医院,医保内费用,个人自付\n"
            f"{id_number},{days_ago(170)},{days_ago(80)},北京朝阳医院,1000,100\n").encode()
    tenant = await t.context()
    with tenant_scope(tenant):
        file_id = int((await raw("INSERT INTO mutual_aid_stay_file (tenant_id, plan_code, kind, filename, size, sha256, "
                                 "created_at) VALUES ({}, {}, 'hospital_stay', 's.csv', {}, '', now()) RETURNING id",
                                 tenant.id, PLAN, len(body)))[0]["id"])
        files.store("mutual_aid").store_stream(iter([body]), "stays", tenant.id, file_id)
        imported, release = asyncio.Event(), asyncio.Event()

        async def import_still_writing() -> dict[str, Any]:
            # the import's transaction stays open (its claims unwritten as far as others can see) until release
            async with transaction():
                result = await import_stays(JobContext(tenant, 0, 1), file_id)
                imported.set()
                await release.wait()
            return result

        importing = asyncio.create_task(import_still_writing())
        await imported.wait()
        approving = asyncio.create_task(approver.data(STEP, {"id": entered["claim"]["id"], "a": "APPROVE"}))
        for _ in range(600):  # until the approval is seen waiting on the lock (bounded: a hang fails, it never passes)
            if await waiting_for_cap_lock(tenant) or approving.done():
                break
            await asyncio.sleep(0.05)
        assert not approving.done() and await waiting_for_cap_lock(tenant) == 1
        release.set()
        result = await importing
        approved = (await approving)["mutualAidClaimStep"]
    assert (result["created"], result["amount_fen"]) == (1, 348_000)
    # the approval counted the import's 3,480 元: 7,200 - 3,480 = 3,720 元 left this year, not 3,880
    assert approved["errors"] == [] and (approved["claim"]["amountFen"], approved["claim"]["cappedBy"]) == (372_000, "year")


async def test_overlapping_stay_files_imported_at_once_claim_each_stay_once(api, tmp_path_factory) -> None:
    from core.sdk import JobContext, files, raw, tenant_scope
    from huijia_mutual_aid.stays import import_stays

    t = await create_plugin_tenant(["beijing", "mutual_aid"], tmp_path_factory.mktemp("ma_overlap"))
    clerk = (await persona(api, t.code, "clerk", t.grassroots_unit)).api
    unit = t.unit_ids[t.grassroots_unit]
    staff = await add_members(clerk, unit, 3, area="110105")
    await enrol(clerk, unit, PLAN, [m for m, _ in staff], "overlap")
    await backdate(t, PLAN, 300)
    await fund(t, PLAN, "职工住院津贴互助保障", 5_000_000)
    rows = [f"{idn},{days_ago(60)},{days_ago(50)},北京朝阳医院,1000,100" for _, idn in staff]
    tenant = await t.context()
    with tenant_scope(tenant):
        ids = []
        for part in (rows[:2], rows[1:]):  # the second stay is in both files
            body = ("身份证号,入院日期,出院日期,医院,医保内费用,个人自付\n" + "\n".join(part) + "\n").encode()
            file_id = int((await raw("INSERT INTO mutual_aid_stay_file (tenant_id, plan_code, kind, filename, size, "
                                     "sha256, created_at) VALUES ({}, {}, 'hospital_stay', 's.csv', {}, '', now()) "
                                     "RETURNING id", tenant.id, PLAN, len(body)))[0]["id"])
            files.store("mutual_aid").store_stream(iter([body]), "stays", tenant.id, file_id)
            ids.append(file_id)
        results = await asyncio.gather(*(import_stays(JobContext(tenant, 0, 1), f) for f in ids))
        claims = await raw("SELECT count(DISTINCT stay_key) AS keys, count(*) AS n FROM mutual_aid_claim WHERE "
                           "tenant_id = {}", tenant.id)
    assert sorted((r["created"], r["already_claimed"]) for r in results) == [(1, 1), (2, 0)]
    assert (int(claims[0]["keys"]), int(claims[0]["n"])) == (3, 3)

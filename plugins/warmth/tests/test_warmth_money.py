"""The money of a campaign through GraphQL against PostgreSQL: each budget reserved at approval (or
the approval refused with nothing written), distribution as a job that pays each beneficiary once
(also when killed halfway and started again, or started twice), goods taken from stock, receipts
and the follow-up of the unconfirmed."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import uuid
from typing import Any

import httpx
import pytest

from core.testing import create_plugin_tenant, persona

pytestmark = pytest.mark.asyncio(loop_scope="session")

_addresses = itertools.count(1)

CREATE = """mutation($i: WarmthCampaignInput!) { warmthCampaignCreate(input: $i) {
  campaign { id } errors { field code message messageZh } } }"""
STEP = """mutation($id: ID!, $t: String!, $r: [String!]) { warmthCampaignStep(id: $id, transition: $t, reasons: $r) {
  campaign { id state distributionJobId } errors { field code message messageZh } } }"""
ADD = """mutation($c: ID!, $m: ID!, $g: String!) { warmthBeneficiaryAdd(campaignId: $c, memberId: $m, group: $g,
  reason: "名单") { beneficiary { id } errors { field code message } } }"""
LISTED = """query($id: ID!) { warmthCampaign(id: $id) { state distributionJobId beneficiaries {
  id memberId group amountFen frozen paid itemGiven receiptStatus receiptMethod } } }"""
JOB = "query($id: ID!) { job(id: $id) { status progress total retryable } }"
RESUME = """mutation($c: ID!) { warmthDistributionResume(campaignId: $c) { campaign { state distributionJobId }
  errors { field code message } } }"""
STOCK = """mutation($c: ID!, $i: String!, $q: BigInt!) { warmthStockSet(campaignId: $c, item: $i, quantity: $q) {
  stock { item quantity given } errors { field code message } } }"""
STOCK_Q = "query($c: ID!) { warmthStock(campaignId: $c) { item quantity given } }"
CONFIRM = """mutation($b: ID!) { warmthReceiptConfirm(beneficiaryId: $b) { beneficiary { id receiptStatus receiptMethod }
  errors { field code message messageZh } } }"""
RECORD = """mutation($b: ID!, $k: String!, $c: String!) { warmthReceiptRecord(beneficiaryId: $b, kind: $k, contentBase64: $c) {
  beneficiary { id receiptStatus receiptMethod } errors { field code message } } }"""
FOLLOW = """mutation($b: ID!, $n: String!) { warmthFollowupAdd(beneficiaryId: $b, note: $n) { followup { note }
  errors { field code message } } }"""
UNCONFIRMED = """query($c: ID!) { warmthUnconfirmed(campaignId: $c) { beneficiary { id } followups { note } } }"""
MINE = "{ myWarmthBenefits { campaignName beneficiary { id receiptStatus amountFen } } }"
REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token worker { status memberId }
  errors { field code message } } }"""

FRONTLINE_FEN = 10_000  # 100 元 for each holiday front-line worker
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def tenant_of(pt: Any) -> Any:
    return await pt.context()


async def fund(pt: Any, unit_code: str, fen: int) -> None:
    """Cash into the unit's general fund (Dr 102 / Cr 404), as the platform's funding tests do."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry, set_manual_threshold
    from core.tenancy import queries as tenancy

    tenant = await tenant_of(pt)
    with tenant_scope(tenant):
        await set_manual_threshold(tenant, Actor(None, "test"), 1_000_000_000_000)
        unit = await tenancy.get_unit_by_code(tenant, unit_code)
        refs = [AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                AccountRef(org_unit_id=unit["id"], fund="general", code="404")]
        await create_manual_entry(tenant, Actor(None, "test"), refs=refs, amounts=[fen, -fen],
                                  key=f"warmth-test-{uuid.uuid4().hex}", memo="test funding")


async def sql(pt: Any, query: str, *args: Any) -> list[dict[str, Any]]:
    from core.context import tenant_scope
    from core.dbutil import raw

    tenant = await tenant_of(pt)
    with tenant_scope(tenant):
        return await raw(query, *args)


async def available(pt: Any, unit_code: str) -> int:
    # The joins state tenant_id, as every join between tenant tables must for Citus to keep it on one shard.
    rows = await sql(pt, "SELECT a.balance_fen - a.reserved_fen AS free FROM ledger_account a JOIN org_unit o ON "
                         "o.tenant_id = a.tenant_id AND o.id = a.org_unit_id JOIN ledger_fund f ON f.tenant_id = "
                         "a.tenant_id AND f.id = a.fund_id WHERE a.tenant_id = {} AND o.code = {} AND "
                         "f.code = 'general' AND a.code = '102'", (await tenant_of(pt)).id, unit_code)
    return int(rows[0]["free"]) if rows else 0


_ids = itertools.count(1)


async def new_members(pt: Any, n: int, unit_code: str | None = None) -> list[dict[str, Any]]:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.tenancy import queries as tenancy
    from core.testing.tenant import synthetic_id_number

    tenant = await tenant_of(pt)
    out = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, unit_code or pt.grassroots_unit)
        for _ in range(n):
            k = next(_ids) + uuid.uuid4().int % 100_000 * 10
            values = {"name": "职工", "id_number": synthetic_id_number(k, born=f"19{70 + k % 25}0{1 + k % 9}1{k % 9}"),
                      "phone": f"137{uuid.uuid4().int % 100_000_000:08d}", "employer": "测试企业"}
            out.append(await create_member(tenant, Actor(None, "test"), values=values, unit_id=unit["id"],
                                           scope_paths=None) | {"values": values})
    return out


def member_gid(m: dict[str, Any]) -> str:
    from core.sdk import to_global_id

    return to_global_id("Member", m["id"])


def campaign_input(pt: Any, budgets: list[tuple[str, int]] | None = None, in_kind: bool = False) -> dict[str, Any]:
    benefits = [{"group": "holiday_frontline", "form": "cash", "amountFen": FRONTLINE_FEN}]
    if in_kind:
        benefits.append({"group": "model_worker", "form": "in_kind", "amountFen": 15_000, "item": "米面油礼包"})
    budgets = budgets if budgets is not None else [(pt.root_unit, 50_000), (pt.district_unit, 100_000)]
    return {"orgUnitId": pt.unit_ids[pt.root_unit], "name": "2025年元旦春节送温暖", "kind": "spring_festival",
            "startsOn": "2024-12-22", "endsOn": "2025-02-12", "fund": "general", "benefits": benefits,
            "budgets": [{"orgUnitId": pt.unit_ids[u], "budgetFen": f} for u, f in budgets]}


async def submitted(pt: Any, clerk: Any, people: list[dict[str, Any]], group: str = "holiday_frontline",
                    **kw: Any) -> str:
    made = (await clerk.data(CREATE, {"i": campaign_input(pt, **kw)}))["warmthCampaignCreate"]
    assert made["errors"] == [], made
    cid = made["campaign"]["id"]
    for m in people:
        assert (await clerk.data(ADD, {"c": cid, "m": member_gid(m), "g": group}))["warmthBeneficiaryAdd"]["errors"] == []
    assert (await step(clerk, cid, "submit"))["errors"] == []
    return cid


async def step(who: Any, cid: str, t: str, reasons: list[str] | None = None) -> dict[str, Any]:
    return (await who.data(STEP, {"id": cid, "t": t, "r": reasons}))["warmthCampaignStep"]


async def reservations(pt: Any, cid: str) -> list[dict[str, Any]]:
    from core.sdk import from_global_id

    return await sql(pt, "SELECT amount_fen, posted_fen, status FROM ledger_reservation WHERE source_type = "
                         "'warmth_campaign' AND source_id = {} ORDER BY id", str(from_global_id(cid)[1]))


async def payments(pt: Any, cid: str) -> list[dict[str, Any]]:
    """The campaign's payment entries in the ledger, one per key."""
    from core.sdk import from_global_id

    return await sql(pt, "SELECT e.idempotency_key, p.amount_fen FROM ledger_entry e JOIN ledger_posting p ON "
                         "p.tenant_id = e.tenant_id AND p.entry_id = e.id AND p.amount_fen > 0 WHERE e.tenant_id = {} "
                         "AND e.idempotency_key LIKE {} ORDER BY e.id", (await tenant_of(pt)).id,
                     f"%:warmth:{from_global_id(cid)[1]}:%")


@pytest.fixture(scope="module")
async def money(plugin_tenant) -> None:
    await fund(plugin_tenant, plugin_tenant.root_unit, 10_000_000)
    await fund(plugin_tenant, plugin_tenant.district_unit, 10_000_000)


async def test_approval_reserves_each_budget_and_closing_releases_what_was_not_paid(
        plugin_tenant, money, clerk, approver, in_process_jobs) -> None:
    from core.jobs import runner

    pt = plugin_tenant
    people = await new_members(pt, 2)
    cid = await submitted(pt, clerk, people)
    root_before, district_before = await available(pt, pt.root_unit), await available(pt, pt.district_unit)
    assert (await step(approver, cid, "approve"))["errors"] == []
    assert [(r["amount_fen"], r["status"]) for r in await reservations(pt, cid)] == [(50_000, "open"), (100_000, "open")]
    assert await available(pt, pt.root_unit) == root_before - 50_000
    assert await available(pt, pt.district_unit) == district_before - 100_000
    started = await step(clerk, cid, "distribute")
    assert started["errors"] == [] and started["campaign"]["distributionJobId"]
    await runner.drain_local(60)
    listed = (await clerk.data(LISTED, {"id": cid}))["warmthCampaign"]
    assert listed["state"] == "distributed"
    assert [(b["paid"], b["amountFen"], b["receiptStatus"]) for b in listed["beneficiaries"]] == [
        (True, FRONTLINE_FEN, "unconfirmed")] * 2
    job = (await clerk.data(JOB, {"id": listed["distributionJobId"]}))["job"]
    assert (job["status"], job["progress"], job["total"]) == ("SUCCEEDED", 2, 2)
    # both were in the district, so the district's reservation paid them
    assert [(r["posted_fen"], r["status"]) for r in await reservations(pt, cid)] == [(0, "open"), (20_000, "open")]
    assert (await step(approver, cid, "close"))["errors"] == []
    assert [r["status"] for r in await reservations(pt, cid)] == ["voided", "voided"]
    assert await available(pt, pt.root_unit) == root_before
    assert await available(pt, pt.district_unit) == district_before - 2 * FRONTLINE_FEN


async def test_approving_without_the_money_or_over_budget_is_refused_and_writes_nothing(
        plugin_tenant, money, clerk, approver) -> None:
    pt = plugin_tenant
    people = await new_members(pt, 2)
    too_big = await submitted(pt, clerk, people, budgets=[(pt.root_unit, 50_000), (pt.district_unit, 10**12)])
    refused = await step(approver, too_big, "approve")
    assert codes(refused) == [("budgets", "INSUFFICIENT_FUNDS")] and "余额不足" in refused["errors"][0]["messageZh"]
    listed = (await clerk.data(LISTED, {"id": too_big}))["warmthCampaign"]
    assert listed["state"] == "submitted" and not any(b["frozen"] for b in listed["beneficiaries"])
    assert await reservations(pt, too_big) == []  # the root's reservation, made first, went too
    # the list needs 200 元 of the district's 150 元
    over = await submitted(pt, clerk, await new_members(pt, 2), budgets=[(pt.district_unit, 15_000)])
    assert codes(await step(approver, over, "approve")) == [("budgets", "BUDGET_EXCEEDED")]
    assert await reservations(pt, over) == []
    # cancelling an approved campaign gives its reservations back
    ok = await submitted(pt, clerk, await new_members(pt, 1))
    assert (await step(approver, ok, "approve"))["errors"] == []
    assert (await step(approver, ok, "cancel", ["活动取消"]))["errors"] == []
    assert [r["status"] for r in await reservations(pt, ok)] == ["voided", "voided"]


async def test_distribution_gives_goods_from_stock_and_runs_once_even_when_started_twice_at_once(
        plugin_tenant, money, clerk, approver, in_process_jobs) -> None:
    from core.jobs import runner

    pt = plugin_tenant
    cash_people, goods_people = await new_members(pt, 2), await new_members(pt, 2)
    made = (await clerk.data(CREATE, {"i": campaign_input(pt, in_kind=True)}))["warmthCampaignCreate"]["campaign"]["id"]
    for m in cash_people:
        await clerk.data(ADD, {"c": made, "m": member_gid(m), "g": "holiday_frontline"})
    for m in goods_people:
        await clerk.data(ADD, {"c": made, "m": member_gid(m), "g": "model_worker"})
    assert codes((await clerk.data(STOCK, {"c": made, "i": "月饼", "q": 5}))["warmthStockSet"]) == [("item", "INVALID_INPUT")]
    assert codes((await clerk.data(STOCK, {"c": made, "i": "米面油礼包", "q": -1}))["warmthStockSet"]) == [
        ("quantity", "INVALID_INPUT")]
    assert (await clerk.data(STOCK, {"c": made, "i": "米面油礼包", "q": 3}))["warmthStockSet"]["errors"] == []
    await step(clerk, made, "submit")
    assert (await step(approver, made, "approve"))["errors"] == []
    first, second = await asyncio.gather(step(clerk, made, "distribute"), step(clerk, made, "distribute"))
    assert sorted([codes(first), codes(second)]) == [[], [("transition", "INVALID_TRANSITION")]]
    await runner.drain_local(60)
    assert codes(await step(clerk, made, "distribute")) == [("transition", "INVALID_TRANSITION")]
    assert codes((await clerk.data(RESUME, {"c": made}))["warmthDistributionResume"]) == [("campaignId", "INVALID_STATE")]
    listed = (await clerk.data(LISTED, {"id": made}))["warmthCampaign"]
    assert listed["state"] == "distributed"
    assert sorted((b["group"], b["paid"], b["itemGiven"]) for b in listed["beneficiaries"]) == [
        ("holiday_frontline", True, None)] * 2 + [("model_worker", True, "米面油礼包")] * 2
    assert (await clerk.data(STOCK_Q, {"c": made}))["warmthStock"] == [{"item": "米面油礼包", "quantity": 1, "given": 2}]
    # cash went through the ledger, one entry per cash beneficiary; goods did not
    assert sorted(p["amount_fen"] for p in await payments(pt, made)) == [FRONTLINE_FEN] * 2


async def test_a_stock_that_runs_out_stops_the_distribution_with_a_typed_reason_and_restocking_resumes_it(
        plugin_tenant, money, clerk, approver, in_process_jobs) -> None:
    from core.jobs import runner

    pt = plugin_tenant
    cash_people, goods_people = await new_members(pt, 2), await new_members(pt, 3)
    made = (await clerk.data(CREATE, {"i": campaign_input(pt, in_kind=True)}))["warmthCampaignCreate"]["campaign"]["id"]
    for m in cash_people:
        await clerk.data(ADD, {"c": made, "m": member_gid(m), "g": "holiday_frontline"})
    for m in goods_people:
        await clerk.data(ADD, {"c": made, "m": member_gid(m), "g": "model_worker"})
    assert (await clerk.data(STOCK, {"c": made, "i": "米面油礼包", "q": 1}))["warmthStockSet"]["errors"] == []
    await step(clerk, made, "submit")
    assert (await step(approver, made, "approve"))["errors"] == []
    assert codes(await step(clerk, made, "distribute")) == []
    await runner.drain_local(60)
    # the two cash payments and one gift are given and committed; the job stops on the second gift
    listed = (await clerk.data(LISTED, {"id": made}))["warmthCampaign"]
    assert listed["state"] == "distributing"
    assert sorted((b["group"], b["paid"]) for b in listed["beneficiaries"]) == [
        ("holiday_frontline", True)] * 2 + [("model_worker", False)] * 2 + [("model_worker", True)]
    job = (await clerk.data(JOB_ERRORS, {"id": listed["distributionJobId"]}))["job"]
    assert job["status"] == "FAILED" and job["progress"] == 3 and job["retryable"], job
    assert [e["code"] for e in job["errors"]] == ["OUT_OF_STOCK"] and "米面油礼包" in job["errors"][0]["messageZh"]
    assert (await clerk.data(STOCK_Q, {"c": made}))["warmthStock"] == [{"item": "米面油礼包", "quantity": 0, "given": 1}]
    # resuming without restocking stops again at once, serving nobody twice
    assert (await clerk.data(RESUME, {"c": made}))["warmthDistributionResume"]["errors"] == []
    await runner.drain_local(60)
    assert [e["code"] for e in (await clerk.data(JOB_ERRORS, {"id": listed["distributionJobId"]}))["job"]["errors"]] == [
        "OUT_OF_STOCK"]
    # restocked and resumed: the rest are served, the same job finishes, nobody twice
    assert (await clerk.data(STOCK, {"c": made, "i": "米面油礼包", "q": 4}))["warmthStockSet"]["errors"] == []
    resumed = (await clerk.data(RESUME, {"c": made}))["warmthDistributionResume"]
    assert resumed["errors"] == [] and resumed["campaign"]["distributionJobId"] == listed["distributionJobId"]
    await runner.drain_local(60)
    after = (await clerk.data(LISTED, {"id": made}))["warmthCampaign"]
    assert after["state"] == "distributed" and all(b["paid"] for b in after["beneficiaries"])
    assert (await clerk.data(STOCK_Q, {"c": made}))["warmthStock"] == [{"item": "米面油礼包", "quantity": 2, "given": 3}]
    assert sorted(p["amount_fen"] for p in await payments(pt, made)) == [FRONTLINE_FEN] * 2


JOB_ERRORS = "query($id: ID!) { job(id: $id) { status progress retryable errors } }"


async def test_a_distribution_killed_halfway_finishes_when_resumed_and_pays_nobody_twice(
        plugin_tenant, money, clerk, approver, in_process_jobs, monkeypatch) -> None:
    from core.jobs import runner
    from huijia_warmth import money as warmth_money

    pt = plugin_tenant
    cid = await submitted(pt, clerk, await new_members(pt, 5))
    assert (await step(approver, cid, "approve"))["errors"] == []
    monkeypatch.setattr(warmth_money, "BATCH", 2)
    real_post = warmth_money.ledger_post_reservation_many
    calls, inside, never = {"n": 0}, asyncio.Event(), asyncio.Event()

    async def dies_in_the_second_batch(*args: Any, **kw: Any) -> int:
        calls["n"] += 1
        entry = await real_post(*args, **kw)
        if calls["n"] == 2:  # batch 2 has posted its payments, not committed them: the worker dies here
            inside.set()
            await never.wait()
        return entry

    monkeypatch.setattr(warmth_money, "ledger_post_reservation_many", dies_in_the_second_batch)
    assert (await step(clerk, cid, "distribute"))["errors"] == []
    await asyncio.wait_for(inside.wait(), 60)
    for task in list(runner._local_tasks):
        task.cancel()
    await runner.drain_local(30)
    listed = (await clerk.data(LISTED, {"id": cid}))["warmthCampaign"]
    assert listed["state"] == "distributing"
    assert [b["paid"] for b in listed["beneficiaries"]] == [True, True, False, False, False]
    job = (await clerk.data(JOB, {"id": listed["distributionJobId"]}))["job"]
    assert (job["status"], job["progress"], job["retryable"]) == ("INTERRUPTED", 2, True)
    assert len(await payments(pt, cid)) == 2  # the cut-off batch's payment went with its transaction

    monkeypatch.setattr(warmth_money, "ledger_post_reservation_many", real_post)
    resumed = (await clerk.data(RESUME, {"c": cid}))["warmthDistributionResume"]
    assert resumed["errors"] == [] and resumed["campaign"]["distributionJobId"] == listed["distributionJobId"]
    await runner.drain_local(60)
    listed = (await clerk.data(LISTED, {"id": cid}))["warmthCampaign"]
    assert listed["state"] == "distributed" and all(b["paid"] for b in listed["beneficiaries"])
    paid = await payments(pt, cid)
    assert len(paid) == 5 and len({p["idempotency_key"] for p in paid}) == 5
    assert sum(p["amount_fen"] for p in paid) == 5 * FRONTLINE_FEN
    assert [r["posted_fen"] for r in await reservations(pt, cid)] == [0, 5 * FRONTLINE_FEN]


@pytest.fixture
async def from_address(app):
    clients = []

    async def make() -> Any:
        from core.testing.clients import Api

        n = next(_addresses)
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.91.{n // 250 % 250}.{n % 250 + 1}", 40000)),
                              base_url="http://testserver")
        clients.append(c)
        return Api(c)

    yield make
    for c in clients:
        await c.aclose()


async def test_receipts_the_worker_confirms_their_own_a_clerk_records_a_photo_and_the_rest_are_followed_up(
        api, plugin_tenant, money, clerk, approver, in_process_jobs, from_address, tmp_path) -> None:
    from core.jobs import runner

    pt = plugin_tenant
    people = await new_members(pt, 3)
    cid = await submitted(pt, clerk, people)
    assert (await step(approver, cid, "approve"))["errors"] == []
    before = (await clerk.data(LISTED, {"id": cid}))["warmthCampaign"]["beneficiaries"]
    web = await from_address()
    worker = (await web.data(REGISTER, {"i": {"tenantCode": pt.code, "name": "职工", "password": "worker-pass-123",
                                              "idNumber": people[0]["values"]["id_number"],
                                              "phone": people[0]["values"]["phone"]}}))["workerRegister"]
    assert worker["errors"] == [] and worker["worker"]["memberId"] == member_gid(people[0]), worker
    me = web.as_(worker["token"])
    mine, theirs, third = (b["id"] for b in before)
    not_yet = (await me.data(CONFIRM, {"b": mine}))["warmthReceiptConfirm"]
    assert codes(not_yet) == [("beneficiaryId", "INVALID_STATE")]
    await step(clerk, cid, "distribute")
    await runner.drain_local(60)

    assert [(b["beneficiary"]["id"], b["beneficiary"]["amountFen"]) for b in (await me.data(MINE))["myWarmthBenefits"]] == [
        (mine, FRONTLINE_FEN)]
    assert codes((await me.data(CONFIRM, {"b": theirs}))["warmthReceiptConfirm"]) == [("id", "NOT_FOUND")]
    assert codes((await me.data(CONFIRM, {"b": "999999999"}))["warmthReceiptConfirm"]) == [("id", "NOT_FOUND")]
    done = (await me.data(CONFIRM, {"b": mine}))["warmthReceiptConfirm"]
    assert done["errors"] == [] and (done["beneficiary"]["receiptStatus"], done["beneficiary"]["receiptMethod"]) == (
        "confirmed", "portal")
    assert codes((await me.data(CONFIRM, {"b": mine}))["warmthReceiptConfirm"]) == [("beneficiaryId", "DUPLICATE")]
    # a clerk cannot confirm in the portal; a worker cannot record for a clerk
    assert (await clerk.gql(CONFIRM, {"b": theirs}))["data"]["warmthReceiptConfirm"]["errors"][0]["code"] == "FORBIDDEN"
    photo = base64.b64encode(PNG).decode()
    fake = base64.b64encode(b"GIF89a not what it claims").decode()
    assert codes((await clerk.data(RECORD, {"b": theirs, "k": "photo", "c": fake}))["warmthReceiptRecord"]) == [
        ("content", "INVALID_INPUT")]
    assert codes((await clerk.data(RECORD, {"b": theirs, "k": "selfie", "c": photo}))["warmthReceiptRecord"]) == [
        ("kind", "INVALID_INPUT")]
    assert codes((await clerk.data(RECORD, {"b": theirs, "k": "photo", "c": "%%%"}))["warmthReceiptRecord"]) == [
        ("contentBase64", "INVALID_INPUT")]
    other = await create_plugin_tenant(["warmth"], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    assert [e["code"] for e in (await outsider.api.data(RECORD, {"b": theirs, "k": "photo", "c": photo}))[
        "warmthReceiptRecord"]["errors"]] == ["NOT_FOUND"]
    auditor = await persona(api, pt.code, "auditor", pt.root_unit)
    assert [e["code"] for e in (await auditor.api.data(RECORD, {"b": theirs, "k": "photo", "c": photo}))[
        "warmthReceiptRecord"]["errors"]] == ["FORBIDDEN"]
    recorded = (await clerk.data(RECORD, {"b": theirs, "k": "photo", "c": photo}))["warmthReceiptRecord"]
    assert recorded["errors"] == [] and recorded["beneficiary"]["receiptMethod"] == "photo"
    stored = await sql(pt, "SELECT content_type, size_bytes FROM warmth_receipt_file WHERE beneficiary_id = {}", int(theirs))
    assert stored == [{"content_type": "image/png", "size_bytes": len(PNG)}]
    await receipt_file_downloads(api, pt, clerk, me, outsider, cid, theirs)

    assert codes((await clerk.data(FOLLOW, {"b": third, "n": " "}))["warmthFollowupAdd"]) == [("note", "INVALID_INPUT")]
    assert (await clerk.data(FOLLOW, {"b": third, "n": "电话未接通，明日再联系"}))["warmthFollowupAdd"]["errors"] == []
    assert [e["code"] for e in (await outsider.api.data(FOLLOW, {"b": third, "n": "x"}))["warmthFollowupAdd"][
        "errors"]] == ["NOT_FOUND"]
    left = (await clerk.data(UNCONFIRMED, {"c": cid}))["warmthUnconfirmed"]
    assert left == [{"beneficiary": {"id": third}, "followups": [{"note": "电话未接通，明日再联系"}]}]


async def receipt_file_downloads(api: Any, pt: Any, clerk: Any, worker: Any, outsider: Any, cid: str,
                                 beneficiary: str) -> None:
    """The recorded photo through its download URL: the bytes with their sniffed type and safe headers, audited;
    404 outside the caller's subtree, for another worker, for another tenant; 401 without a login."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy.services import create_unit

    listed = (await clerk.data(RECEIPT_URL, {"id": cid}))["warmthCampaign"]["beneficiaries"]
    assert [b["id"] for b in listed if b["receiptFileUrl"]] == [beneficiary]
    url = next(b for b in listed if b["id"] == beneficiary)["receiptFileUrl"]
    assert url and url.startswith("/warmth-files/receipts/")
    got = await download(clerk, url)
    assert got.status_code == 200 and got.content == PNG, got.text
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;") and "no-store" in got.headers["cache-control"]
    file_id = int(url.rsplit("/", 1)[1])
    audited = await sql(pt, "SELECT changes FROM audit_record WHERE action = 'warmth.receipt.download'")
    assert [json.loads(a["changes"])["file_id"] if isinstance(a["changes"], str) else a["changes"]["file_id"]
            for a in audited] == [file_id]
    # a clerk of a union beside the beneficiary's: their grant does not reach it
    tenant = await pt.context()
    with tenant_scope(tenant):
        root = (await sql(pt, "SELECT id FROM org_unit WHERE code = {}", pt.root_unit))[0]
        code = f"{pt.code}-r{uuid.uuid4().hex[:4]}"
        await create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=code, name="旁支工会",
                          level="grassroots")
    beside = await persona(api, pt.code, "clerk", code)
    for who in (beside.api, worker, outsider.api):
        assert (await download(who, url)).status_code == 404
    for bad in (f"/warmth-files/receipts/{file_id + 10_000}", "/warmth-files/receipts/99999999999999999999"):
        assert (await download(clerk, bad)).status_code == 404
    assert (await clerk.client.get(url)).status_code == 401
    assert len(await sql(pt, "SELECT id FROM audit_record WHERE action = 'warmth.receipt.download'")) == 1


RECEIPT_URL = """query($id: ID!) { warmthCampaign(id: $id) { beneficiaries { id receiptFileUrl } } }"""
FILE = """mutation($c: ID!) { warmthLedgerFileStart(campaignId: $c) { jobId downloadUrl errors { field code message } } }"""


async def download(who: Any, url: str) -> Any:
    return await who.client.get(url, headers={"authorization": f"Bearer {who.token}"})


async def test_the_ledger_file_lists_each_beneficiary_by_unit_with_masked_ids_and_is_only_the_starters(
        api, plugin_tenant, money, clerk, approver, in_process_jobs, tmp_path) -> None:
    import io
    import zipfile

    from core.actor import Actor
    from core.context import tenant_scope
    from core.jobs import runner
    from core.tenancy.services import create_unit
    from core.xlsx.reader import rows as xlsx_rows

    pt = plugin_tenant
    tenant = await pt.context()
    with tenant_scope(tenant):
        root = (await sql(pt, "SELECT id FROM org_unit WHERE code = {}", pt.root_unit))[0]
        code = f"{pt.code}-a{uuid.uuid4().hex[:4]}"
        await create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=code, name="直属工会",
                          level="grassroots")
    people = await new_members(pt, 2)
    district_people = await new_members(pt, 1, code)
    cid = await submitted(pt, clerk, people + district_people)
    assert (await step(approver, cid, "approve"))["errors"] == []
    await step(clerk, cid, "distribute")
    await runner.drain_local(60)
    started = (await clerk.data(FILE, {"c": cid}))["warmthLedgerFileStart"]
    assert started["errors"] == [] and started["downloadUrl"].startswith("/warmth-files/")
    await runner.drain_local(60)
    assert (await clerk.data(JOB, {"id": started["jobId"]}))["job"]["status"] == "SUCCEEDED"
    got = await download(clerk, started["downloadUrl"])
    assert got.status_code == 200, got.text
    table = [r for _, r in xlsx_rows(zipfile.ZipFile(io.BytesIO(got.content)), 10_000)]
    assert table[0][:4] == ["工会", "姓名", "身份证号", "家庭编号"]
    body = table[1:]
    assert len(body) == 3
    # grouped by unit (each union's rows together, in tree order)
    assert sorted(r[0] for r in body) == sorted([f"{pt.code} 测试企业工会"] * 2 + ["直属工会"])
    assert len([k for k, _ in itertools.groupby(r[0] for r in body)]) == 2
    shown = {r[2]: r for r in body}
    for m in people + district_people:
        number = m["values"]["id_number"]
        r = shown[number[:6] + "********" + number[-4:]]
        assert number not in str(table) and (r[5], r[8]) == (100, "未签收")
    # only the user who started it, and never another tenant
    other_clerk = await persona(api, pt.code, "clerk", pt.root_unit)
    assert (await download(other_clerk.api, started["downloadUrl"])).status_code == 404
    other = await create_plugin_tenant(["warmth"], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    assert (await download(outsider.api, started["downloadUrl"])).status_code == 404
    assert [e["code"] for e in (await outsider.api.data(FILE, {"c": cid}))["warmthLedgerFileStart"]["errors"]] == [
        "NOT_FOUND"]
    assert (await clerk.client.get(started["downloadUrl"])).status_code == 401

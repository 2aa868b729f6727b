"""Dynamic management through GraphQL on PostgreSQL: temporary (临时救助) archives convert to regular
ones or lapse on the timer; re-verification reminders are recorded once per due date and listed in
the caller's subtree; the batch re-verification re-classifies every due archive in resumable
batches, records changed classifications, and is for the province root only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, archived, household_at, run_timers

from core.testing import create_plugin_tenant, persona

SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }

[settings.hardship]
notice_days = 5
temporary_days = 30
reminder_lead_days = 10
reverify_months = 6
"""
GET = """query($id: ID!) { hardshipArchive(id: $id) { id state kind reverifyDueOn allowedActions
  classification { category ruleVersion } classificationHistory { category ruleVersion } } }"""
STEP = """mutation($id: ID!, $a: HardshipAction!, $r: [String!]) { hardshipArchiveStep(id: $id, action: $a, reasons: $r) {
  archive { id state kind } errors { field code message messageZh } } }"""
REMINDERS = """query($o: Boolean) { hardshipReminders(openOnly: $o, first: 100) { totalCount
  edges { node { archiveId dueOn kind archive { id state } } } } }"""
START = """mutation($d: Date) { hardshipReverifyStart(asOf: $d) { started
  run { id status done changed asOf } errors { code message } } }"""
RUNS = "{ hardshipReverifyRuns { id status done changed } }"


@dataclass
class World:
    code: str
    grassroots: str
    clerk: Any
    approver: Any
    district_clerk: Any
    outsider: Any
    other_tenant: Any


@pytest.fixture(scope="module")
async def world(api, app, tmp_path_factory) -> World:
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import services as tenancy

    made = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hsdyn"), SETTINGS)
    tenant = await made.context()
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        await tenancy.create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=f"{made.code}-g2",
                                  name=f"{made.code} 直属企业工会", level="grassroots")
    other = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("hsdyn2"), SETTINGS)
    return World(made.code, made.unit_ids[made.grassroots_unit], (await persona(api, made.code, "clerk")).api,
                 (await persona(api, made.code, "approver")).api,
                 (await persona(api, made.code, "clerk", made.district_unit)).api,
                 (await persona(api, made.code, "clerk", f"{made.code}-g2")).api,
                 (await persona(api, other.code, "tenant_admin")).api)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


def refused(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"], payload
    return payload["errors"][0]


async def new_archived(w: World, **over: Any) -> str:
    _, household = await household_at(w.clerk, w.grassroots)
    body = await w.clerk.gql(ARCHIVE, {"i": archive_input(household, **over)})
    archive = ok(body, "hardshipArchiveCreate")["archive"]["id"]
    await archived(w.clerk, w.approver, w.code, archive, notice_days=5)
    return archive


async def state_of(w: World, archive: str) -> dict[str, Any]:
    return (await w.clerk.gql(GET, {"id": archive}))["data"]["hardshipArchive"]


async def test_a_temporary_archive_lapses_after_its_period_unless_converted(world):
    w = world
    lapsing = await new_archived(w, temporary=True)
    assert (await state_of(w, lapsing))["kind"] == "temporary"
    # A regular archive neither converts nor lapses.
    regular = await new_archived(w)
    err = refused(await w.approver.gql(STEP, {"id": regular, "a": "CONVERT", "r": ["转为常态"]}), "hardshipArchiveStep")
    assert err["code"] == "INVALID_STATE" and err["messageZh"]
    await run_timers(w.code, 25)  # within the 30 days
    assert (await state_of(w, lapsing))["state"] == "archived"
    converted = await new_archived(w, temporary=True)
    # Converting needs reasons, and hardship.approve (a clerk holds only write).
    assert refused(await w.approver.gql(STEP, {"id": converted, "a": "CONVERT"}), "hardshipArchiveStep")["code"] \
        == "INVALID_INPUT"
    assert refused(await w.clerk.gql(STEP, {"id": converted, "a": "CONVERT", "r": ["x"]}),
                   "hardshipArchiveStep")["code"] == "FORBIDDEN"
    assert refused(await w.other_tenant.gql(STEP, {"id": converted, "a": "CONVERT", "r": ["x"]}),
                   "hardshipArchiveStep")["code"] == "NOT_FOUND"
    done = ok(await w.approver.gql(STEP, {"id": converted, "a": "CONVERT", "r": ["困难持续，转为常态帮扶"]}),
              "hardshipArchiveStep")["archive"]
    assert done["state"] == "archived" and done["kind"] == "regular"

    await run_timers(w.code, 31)
    after = await state_of(w, lapsing)
    assert after["state"] == "lapsed" and after["allowedActions"] == []
    assert (await state_of(w, converted))["state"] == "archived"
    assert (await state_of(w, regular))["state"] == "archived"
    # A lapsed archive is closed: the household may be archived again.
    hh = (await w.clerk.gql("""query($id: ID!) { hardshipArchive(id: $id) { householdId } }""",
                            {"id": lapsing}))["data"]["hardshipArchive"]["householdId"]
    ok(await w.clerk.gql(ARCHIVE, {"i": archive_input(hh)}), "hardshipArchiveCreate")


async def test_reminders_are_recorded_once_and_listed_in_the_subtree(world):
    from huijia_hardship import reverify

    from core.context import tenant_scope
    from core.tenancy.queries import get_tenant

    w = world
    archive = await new_archived(w)
    due = dt.date.fromisoformat((await state_of(w, archive))["reverifyDueOn"])
    assert dt.date.today() + dt.timedelta(days=150) < due  # six months
    tenant = await get_tenant(code=w.code)
    with tenant_scope(tenant):
        before = await reverify.record_reminders(tenant, today=due - dt.timedelta(days=11))
        first = await reverify.record_reminders(tenant, today=due - dt.timedelta(days=9))
        again = await reverify.record_reminders(tenant, today=due - dt.timedelta(days=5))
    assert before == 0 and first >= 1 and again == 0

    def mine(body: dict[str, Any]) -> list[dict[str, Any]]:
        assert "errors" not in body, body
        return [e["node"] for e in body["data"]["hardshipReminders"]["edges"] if e["node"]["archiveId"] == archive]

    listed = mine(await w.district_clerk.gql(REMINDERS, {}))
    assert len(listed) == 1 and listed[0]["dueOn"] == due.isoformat() and listed[0]["archive"]["id"] == archive
    assert mine(await w.outsider.gql(REMINDERS, {})) == []
    other = await w.other_tenant.gql(REMINDERS, {})
    assert other["data"]["hardshipReminders"]["totalCount"] == 0


async def test_batch_reverification_reclassifies_due_archives_resumably(world, in_process_jobs):
    from huijia_hardship import reverify

    from core.context import tenant_scope
    from core.graphql.base import from_global_id
    from core.jobs.runner import drain_local
    from core.sdk import SYSTEM, raw
    from core.tenancy.queries import get_tenant

    w = world
    archives = [await new_archived(w) for _ in range(3)]
    tenant = await get_tenant(code=w.code)
    stale = from_global_id(archives[0])[1]
    with tenant_scope(tenant):  # as if classified under an older rule
        await raw("UPDATE hardship_archive SET classification = {} WHERE tenant_id = {} AND id = {}",
                  '{"category": "deep", "reasons": [], "rule_version": "national-2019", "excluded": false}',
                  tenant.id, stale)
    as_of = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    assert refused(await w.district_clerk.gql(START, {"d": as_of}), "hardshipReverifyStart")["code"] == "FORBIDDEN"

    # Start, then let one batch of one archive commit before the job runs (an interrupted run).
    with tenant_scope(tenant):
        due = (await raw("SELECT count(*) AS n FROM hardship_archive a JOIN workflow_case c ON c.tenant_id = "
                         "a.tenant_id AND c.case_type = 'archive' AND c.case_id = a.id AND c.state = 'archived' "
                         "WHERE a.tenant_id = {}", tenant.id))[0]["n"]
        run_id, _ = await reverify.start_run(tenant, SYSTEM, dt.date.fromisoformat(as_of))
        assert await reverify.run_batch(tenant, run_id, batch=1) is False
    started = ok(await w.clerk.gql(START, {"d": as_of}), "hardshipReverifyStart")
    assert started["started"] is False and started["run"]["status"] == "running"
    await drain_local()
    runs = (await w.clerk.gql(RUNS))["data"]["hardshipReverifyRuns"]
    assert runs[0]["status"] == "finished" and runs[0]["done"] == due and runs[0]["changed"] == 1
    fresh = await state_of(w, archives[0])
    # (2,000 − 500) ÷ 1 person = 1,500 元: under twice the 1,000 元 line, 相对困难 by today's rule.
    assert fresh["classification"] == {"category": "relative", "ruleVersion": "national-2026.1"}
    assert fresh["classificationHistory"][0]["ruleVersion"] == "national-2026.1"
    assert dt.date.fromisoformat(fresh["reverifyDueOn"]) > dt.date.today() + dt.timedelta(days=150)
    # Unchanged archives get no new history row, only the next due date.
    untouched = await state_of(w, archives[1])
    assert len(untouched["classificationHistory"]) == 2  # at creation and at the civil-affairs check
    # Nothing is due today any more: a new run (as of today) finds nothing.
    again = ok(await w.clerk.gql(START, {}), "hardshipReverifyStart")
    assert again["started"] is True
    await drain_local()
    assert (await w.clerk.gql(RUNS))["data"]["hardshipReverifyRuns"][0]["done"] == 0
    # Another province sees no run of this one.
    assert (await w.other_tenant.gql(RUNS))["data"]["hardshipReverifyRuns"] == []


async def test_two_workers_on_one_batch_commit_it_once(world):
    import asyncio

    from huijia_hardship import reverify

    from core.context import tenant_scope
    from core.sdk import SYSTEM, raw
    from core.tenancy.queries import get_tenant

    w = world
    await new_archived(w)
    tenant = await get_tenant(code=w.code)
    as_of = dt.date.today() + dt.timedelta(days=800)
    with tenant_scope(tenant):
        run_id, _ = await reverify.start_run(tenant, SYSTEM, as_of)

        async def one() -> str:
            try:
                return "done" if await reverify.run_batch(tenant, run_id, batch=1) else "batch"
            except reverify._Taken:
                return "taken"

        outcomes = sorted(await asyncio.gather(one(), one()))
        run = await reverify.get_run(tenant, run_id)
    # When both read the same cursor, the second's cursor update finds it moved and its batch rolls
    # back ("taken"); when one waited for a connection it took the next batch. Either way every
    # archive done counts once.
    assert outcomes in (["batch", "taken"], ["batch", "batch"]), outcomes
    assert run["done"] == outcomes.count("batch"), (outcomes, run)
    with tenant_scope(tenant):
        await reverify.run(tenant, run_id)
        finished = await reverify.get_run(tenant, run_id)
        archived_n = (await raw("SELECT count(*) AS n FROM workflow_case WHERE tenant_id = {} AND capability = "
                                "'hardship' AND case_type = 'archive' AND state = 'archived'", tenant.id))[0]["n"]
    assert finished["status"] == "finished" and finished["done"] == archived_n

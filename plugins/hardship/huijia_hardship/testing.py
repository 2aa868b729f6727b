"""The hardship capability's share of core's subtree walk (a pytest plugin, entry point ``pytest11``):
how to make a ``HardshipArchive`` at a place, through the API."""

from __future__ import annotations

import random
from typing import Any

import pytest

MEMBER = """mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { code message } } }"""
HOUSEHOLD = """mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code message } } }"""
ARCHIVE = """mutation($i: HardshipArchiveInput!) {
  hardshipArchiveCreate(input: $i) { archive { id } errors { field code message } }
}"""



async def household_at(api: Any, unit_gid: str, name: str = "样本职工") -> tuple[str, str]:
    """A member of ``unit_gid`` (a grassroots union) and a household of their own: (member, household) ids."""
    for _ in range(20):
        born = f"19{random.randint(60, 99)}0{random.randint(1, 9)}1{random.randint(0, 9)}"
        body = f"110105{born}{random.randint(0, 999):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        idn = body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
        made = await api.gql(MEMBER, {"i": {"name": name, "idNumber": idn, "orgUnitId": unit_gid}})
        payload = made["data"]["memberCreate"]
        if not payload["errors"]:
            break
    assert not payload["errors"], payload
    member = payload["member"]["id"]
    hh = (await api.gql(HOUSEHOLD, {"m": member}))["data"]["householdCreate"]
    assert not hh["errors"], hh
    return member, hh["household"]["id"]


def archive_input(household: str, **over: Any) -> dict[str, Any]:
    value = {"householdId": household, "tier": "GRASSROOTS", "areaCode": "110105",
             "finances": {"monthlyIncomeFen": 200_000, "monthlyRigidExpenseFen": 50_000}}
    value.update(over)
    return value


async def make_archive(ctx: Any, place: dict[str, str]) -> str:
    clerk = await ctx.who("clerk", place["unit"])
    _, household = await household_at(clerk.api, await ctx.unit_gid(place["grassroots"]))
    body = await clerk.api.gql(ARCHIVE, {"i": archive_input(household)})
    assert "errors" not in body, body
    payload = body["data"]["hardshipArchiveCreate"]
    assert payload["errors"] == [], payload
    return payload["archive"]["id"]


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_subtree_samples() -> dict[str, Any]:
    return {"HardshipArchive": make_archive}


async def seed_archives(province: Any) -> dict[str, Any]:
    """100 archives at the province's grassroots union, every tenth with both consent documents
    and reviewed (so steps, classifications and documents vary from archive to archive)."""
    from core.sdk import to_global_id

    api = province.api  # tenant_admin and approver at the root
    unit = to_global_id("OrgUnit", province.grassroots["id"])
    for i in range(100):
        _, household = await household_at(api, unit, f"困难职工{i}")
        body = await api.gql(ARCHIVE, {"i": archive_input(household)})
        assert "errors" not in body, body
        payload = body["data"]["hardshipArchiveCreate"]
        assert payload["errors"] == [], payload
        if i % 10 == 0:
            archive_id = payload["archive"]["id"]
            for kind in ("APPLICATION_LETTER", "CONSENT_AUTHORISATION"):
                added = await api.gql(ATTACH, {"id": archive_id, "k": kind, "f": "a.pdf", "b": PDF_B64})
                assert added["data"]["hardshipAttachmentAdd"]["errors"] == [], added
            stepped = await api.gql(STEP, {"id": archive_id, "a": "REVIEW"})
            assert stepped["data"]["hardshipArchiveStep"]["errors"] == [], stepped
    return {}


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_query_budgets() -> dict[str, Any]:
    """Core's query-count check of every connection field: the archives list batches each archive's
    steps, classifications and documents (one query each for the page)."""
    return {"Query.hardshipArchives": (
        {"queries": 8, "why": "tenant, token, count, page, steps, classifications, documents, household names"}, seed_archives, {}),
        "Query.hardshipReminders": (
        {"queries": 9, "why": "tenant, token, count, page, archives, their steps, classifications, documents, household names"},
        seed_reminders, {"openOnly": "Boolean"})}


async def seed_reminders(province: Any) -> dict[str, Any]:
    """100 archives (as for the archive list), each with a recorded re-verification reminder."""
    from core.sdk import raw, tenant_scope, utcnow

    await seed_archives(province)
    with tenant_scope(province.ctx):
        await raw("INSERT INTO hardship_reminder (tenant_id, org_unit_id, archive_id, kind, due_on, created_at) "
                  "SELECT tenant_id, org_unit_id, id, 'reverify', {}, {} FROM hardship_archive WHERE tenant_id = {} "
                  "ON CONFLICT DO NOTHING", utcnow().date(), utcnow(), province.ctx.id)
    return {"openOnly": False}  # the seeded archives are not archived yet


STEP = """mutation($id: ID!, $a: HardshipAction!, $r: [String!]) {
  hardshipArchiveStep(id: $id, action: $a, reasons: $r) { archive { id state } errors { field code message } } }"""
CHECK = """mutation($id: ID!, $p: Boolean!) { hardshipCivilCheck(id: $id, passed: $p) {
  archive { id state } errors { field code message } } }"""
ATTACH = """mutation($id: ID!, $k: HardshipAttachmentKind!, $f: String!, $b: String!) {
  hardshipAttachmentAdd(archiveId: $id, kind: $k, filename: $f, contentBase64: $b) { attachment { id } errors { code } } }"""
PDF_B64 = "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKdHJhaWxlcjw8Pj4KJSVFT0YK"  # a minimal %PDF- file


async def run_timers(tenant_code: str, days: int) -> None:
    """Run the archive machine's timers as if ``days`` had passed (no waiting in tests)."""
    import datetime as dt

    from core.sdk import get_tenant, tenant_scope, utcnow, workflow_run_timers
    from huijia_hardship.workflow import ARCHIVE as MACHINE

    tenant = await get_tenant(code=tenant_code)
    with tenant_scope(tenant):
        await workflow_run_timers(tenant, [MACHINE], now=utcnow() + dt.timedelta(days=days))


async def archived(clerk: Any, approver: Any, tenant_code: str, archive_id: str, notice_days: int = 7) -> None:
    """Take an applied archive through review, visit, check, notice and approval."""

    def ok(body: dict[str, Any], name: str) -> None:
        assert "errors" not in body, body
        assert body["data"][name]["errors"] == [], body

    for kind in ("APPLICATION_LETTER", "CONSENT_AUTHORISATION"):
        ok(await clerk.gql(ATTACH, {"id": archive_id, "k": kind, "f": "a.pdf", "b": PDF_B64}), "hardshipAttachmentAdd")
    ok(await approver.gql(STEP, {"id": archive_id, "a": "REVIEW"}), "hardshipArchiveStep")
    ok(await clerk.gql(STEP, {"id": archive_id, "a": "VISIT"}), "hardshipArchiveStep")
    ok(await clerk.gql(CHECK, {"id": archive_id, "p": True}), "hardshipCivilCheck")
    ok(await clerk.gql(STEP, {"id": archive_id, "a": "PUBLISH"}), "hardshipArchiveStep")
    await run_timers(tenant_code, notice_days + 1)
    ok(await approver.gql(STEP, {"id": archive_id, "a": "APPROVE"}), "hardshipArchiveStep")

"""A grant at a district covers that district: no user, object or job above it or beside it can be
read or changed through any field, and the lists show only what lies inside."""

from __future__ import annotations

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.fixtures.subtree_walk import (
    INSIDE,
    INSIDE_PLACE,
    PLACES,
    SAMPLES,
    STAFF_ROLES,
    WalkContext,
    audit_actions_by,
    calls_for,
    every_capability_enabled,
    fresh_id,
    id_fields,
    list_fields,
    listed_ids,
    make_samples,
    missing_node_types,
    node_types,
    refused,
    tenant_fingerprint,
)

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.fixture(autouse=True)
def _jobs_run_in_process(in_process_jobs):
    return None


async def test_every_node_type_has_a_sample_maker_or_a_reason_it_has_no_unit():
    from core.graphql.schema import schema

    assert missing_node_types(schema) == []
    assert {"Member", "Job", "User", "MemberTransfer", "LedgerEntry"} <= set(node_types(schema))
    # A capability's Node type gets its maker from the capability's own test code (a pytest hook).
    from tests.capability_dummy.walk_samples import make_item

    assert SAMPLES["TestcapItem"] is make_item


@pytest.fixture(scope="module")
async def walk(api):
    """Sample objects of every Node type at the root and in a sibling district (outside), the same
    inside the district, and a walker per staff role granted at the district. The province enables
    every installed capability while the module runs, so capabilities' fields are walked too."""
    from core.graphql.schema import schema

    async with every_capability_enabled() as capabilities:
        with runner.jobs_in_process():
            ctx = WalkContext(api)
            samples = await make_samples(ctx, schema)
            walkers = {role: await ctx.who(role, INSIDE) for role in STAFF_ROLES}
            inside = {t: await SAMPLES[t](ctx, INSIDE_PLACE) for t in samples}
            await runner.drain_local()
        yield {"samples": samples, "walkers": walkers, "inside": inside, "capabilities": capabilities,
               "outside": {gid for by_place in samples.values() for gid in by_place.values()}}


async def test_every_id_taking_field_refuses_objects_outside_a_district_users_subtree(walk):
    from core.graphql.schema import schema

    samples, walkers, inside, outside = walk["samples"], walk["walkers"], walk["inside"], walk["outside"]
    # Control: the same kinds of objects, made inside the district, are visible to the district's
    # staff, so a refusal below is the subtree rule at work and not a malformed call.
    for type_name, gid in inside.items():
        seen = [r for r, p in walkers.items() if (await p.api.gql(NODE, {"id": gid}))["data"]["node"]]
        assert seen, f"no district role sees its own {type_name}"
    fields = id_fields(schema)
    assert {"node", "job", "memberTransfer", "member"} <= set(fields["query"])
    assert {"userSetActive", "roleGrant", "memberReveal", "memberTransferApprove"} <= set(fields["mutation"])

    before = await tenant_fingerprint()
    audited_before = await audit_actions_by([p.username for p in walkers.values()])
    leaks = []
    checked = 0
    walked: dict[str, set[str]] = {}
    for type_name, by_place in samples.items():
        for place, gid in by_place.items():
            for call in calls_for(schema, gid, inside):
                walked.setdefault(type_name, set()).add(call.field)
                for role, p in walkers.items():
                    body = await p.api.gql(call.text, call.variables, expect_status=None)
                    problem = refused(call, body, outside)
                    checked += 1
                    if problem:
                        if problem.startswith("HTTP"):
                            problem += " " + str(body.get("errors"))[:300]
                        leaks.append((role, call.field, type_name, place, problem[:400]))
    await runner.drain_local()
    assert leaks == [], "\n".join(sorted({f"{f} {t}@{pl} as {r}: {p}" for r, f, t, pl, p in leaks})[:80])
    assert checked >= len(samples) * len(PLACES) * len(STAFF_ROLES) * 30
    # The test capability took part like core: enabled, its items sampled outside and inside, its
    # by-id field and node(id) given their ids, and its create given units outside the district.
    assert "testcap" in walk["capabilities"]
    assert set(samples["TestcapItem"]) == set(PLACES) and "TestcapItem" in inside
    assert {"node", "testcapItem", "testcapItemCreate"} <= walked["TestcapItem"]
    assert "testcapItemCreate" in walked["OrgUnit"]
    # Nothing changed, and no refused call left an audit record of a write.
    assert await tenant_fingerprint() == before
    after = await audit_actions_by([p.username for p in walkers.values()])
    assert [a for a in after[len(audited_before):] if not a[1].endswith(".refused")] == []


async def test_every_list_field_shows_a_district_user_nothing_outside_its_subtree(walk):
    """The same samples through the unfiltered lists (every Query field returning a page of Node
    objects with no required argument): nothing made outside the district shows up."""
    from core.graphql.schema import schema

    walkers, inside, outside = walk["walkers"], walk["inside"], walk["outside"]
    lists = list_fields(schema)
    assert {"users", "memberTransfers", "members", "auditRecords", "ledgerEntries", "testcapItems"} <= {f for f, _ in lists}
    leaks, seen_inside = [], set()
    for name, text in lists:
        for role, p in walkers.items():
            body = await p.api.gql(text, expect_status=None)
            ids = listed_ids(name, body)
            seen_inside |= ids & set(inside.values())
            if ids & outside:
                leaks.append((name, role, sorted(ids & outside)))
    assert leaks == []
    # Control: the lists do show the district's own objects, the capability's among them.
    assert len(seen_inside) >= 5, seen_inside
    assert inside["TestcapItem"] in seen_inside


USERS = "{ users(first: 100) { nodes { id username grants { role orgUnit { code } } } } }"
SET_ACTIVE = """mutation($u: ID!, $a: Boolean!) { userSetActive(userId: $u, active: $a) { user { active } errors { code } } }"""


async def test_a_district_admin_cannot_deactivate_a_root_admin_nor_one_with_a_grant_above(api, sh_admin):
    district = await persona(api, "shanghai", "tenant_admin", "sh-huangpu")
    root_id = (await sh_admin.api.gql("{ me { user { id } } }"))["data"]["me"]["user"]["id"]
    res = await district.api.gql(SET_ACTIVE, {"u": root_id, "a": False})
    assert res["data"]["userSetActive"]["errors"][0]["code"] in ("NOT_FOUND", "FORBIDDEN")
    assert (await sh_admin.api.gql("{ me { user { active } } }"))["data"]["me"]["user"]["active"] is True
    # A user holding a grant in the district AND one at the root is not the district's to manage.
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant, root_unit
    from tests.fixtures.api import make_user

    both = await make_user("shanghai", "clerk", "sh-huangpu")
    tenant = await get_tenant(code="shanghai")
    with tenant_scope(tenant):
        rows = await accounts.list_users(tenant, _root_principal(tenant), username_prefix=both, offset=0, limit=1)
        user_pk = rows[0][0]["id"]
        await accounts.grant_role(tenant, Actor(None, "test"), user_pk, "approver", (await root_unit(tenant))["id"])
    from core.graphql.base import to_global_id

    res = await district.api.gql(SET_ACTIVE, {"u": to_global_id("User", user_pk), "a": False})
    assert res["data"]["userSetActive"]["errors"][0]["code"] == "FORBIDDEN"
    # One with grants only inside the district is.
    inside = await make_user("shanghai", "clerk", "sh-huangpu-bailian")
    listed = {u["username"]: u for u in (await district.api.gql(USERS))["data"]["users"]["nodes"]}
    res = await district.api.gql(SET_ACTIVE, {"u": listed[inside]["id"], "a": False})
    assert res["data"]["userSetActive"]["errors"] == [] and res["data"]["userSetActive"]["user"]["active"] is False
    # Wrong role: an auditor of the district cannot even try.
    auditor = await persona(api, "shanghai", "auditor", "sh-huangpu")
    res = await auditor.api.gql(SET_ACTIVE, {"u": listed[inside]["id"], "a": True})
    assert res["data"]["userSetActive"]["errors"][0]["code"] == "FORBIDDEN"


def _root_principal(tenant):
    from core.permissions import Grant, Principal, Role

    return Principal(user_id=0, username="test", tenant_id=tenant.id, grants=(Grant(Role.TENANT_ADMIN, 0, "/"),))


async def test_a_district_user_reader_lists_only_users_with_a_grant_inside_and_sees_only_those_grants(api, sh_admin):
    auditor = await persona(api, "shanghai", "auditor", "sh-huangpu")
    root_name = sh_admin.username
    sibling = await persona(api, "shanghai", "clerk", "sh-xuhui")
    inside = await persona(api, "shanghai", "clerk", "sh-huangpu-nanjinglu")
    listed = {u["username"]: u for u in (await auditor.api.gql(USERS))["data"]["users"]["nodes"]}
    assert inside.username in listed and auditor.username in listed
    assert root_name not in listed and sibling.username not in listed
    for u in listed.values():
        assert all(g["orgUnit"]["code"].startswith("sh-huangpu") for g in u["grants"]), u
    # A root reader still sees everyone.
    everyone = {u["username"] for u in (await sh_admin.api.gql(USERS))["data"]["users"]["nodes"]}
    assert {root_name, sibling.username, inside.username} <= everyone or len(everyone) == 100


TRANSFERS = "{ memberTransfers(first: 100) { nodes { id personName } } }"


async def test_a_district_sees_only_transfers_of_its_own_unions(api, sh_admin):
    from tests.members.members_helpers import create_member

    xuhui_clerk = await persona(api, "shanghai", "clerk", "sh-xuhui")
    m = await create_member(xuhui_clerk, "sh-xuhui-kuaidi", name="徐汇转移", idNumber=fresh_id())
    from tests.members.members_helpers import unit_gid

    res = await xuhui_clerk.api.gql("""mutation($i: MemberTransferInput!) { memberTransferRequest(input: $i) {
        transfer { id } errors { code } } }""", {"i": {"memberId": m["id"], "toOrgUnitId": await unit_gid(xuhui_clerk, "sh-xuhui-zhongshan")}})
    tid = res["data"]["memberTransferRequest"]["transfer"]["id"]
    huangpu = await persona(api, "shanghai", "approver", "sh-huangpu")
    names = [t["personName"] for t in (await huangpu.api.gql(TRANSFERS))["data"]["memberTransfers"]["nodes"]]
    assert "徐汇转移" not in names
    assert (await huangpu.api.gql("query($id: ID!) { memberTransfer(id: $id) { id } }", {"id": tid}))["data"]["memberTransfer"] is None
    assert "徐汇转移" in [t["personName"] for t in (await xuhui_clerk.api.gql(TRANSFERS))["data"]["memberTransfers"]["nodes"]]
    assert (await sh_admin.api.gql("query($id: ID!) { memberTransfer(id: $id) { id } }", {"id": tid}))["data"]["memberTransfer"]


JOB = "query($id: ID!) { job(id: $id) { id name } }"


async def test_a_job_is_read_by_its_creator_and_by_job_readers_over_its_unit_only(api, sh_admin):
    root_auditor = await persona(api, "shanghai", "auditor")
    job = (await root_auditor.api.gql("mutation { auditVerifyStart { job { id } errors { code } } }"))["data"]["auditVerifyStart"]["job"]["id"]
    district_clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    assert (await district_clerk.api.gql(JOB, {"id": job}))["data"]["job"] is None
    assert (await root_auditor.api.gql(JOB, {"id": job}))["data"]["job"]["name"] == "audit.verify"
    assert (await sh_admin.api.gql(JOB, {"id": job}))["data"]["job"]  # job.read at the root
    # A district export job: its district's staff read it, a sibling district's do not.
    res = await district_clerk.api.gql("mutation { memberExportStart(format: CSV) { memberExport { job { id } } errors { code } } }")
    export_job = res["data"]["memberExportStart"]["memberExport"]["job"]["id"]
    await runner.drain_local()
    district_approver = await persona(api, "shanghai", "approver", "sh-huangpu")
    sibling_approver = await persona(api, "shanghai", "approver", "sh-xuhui")
    assert (await district_approver.api.gql(JOB, {"id": export_job}))["data"]["job"]
    assert (await sibling_approver.api.gql(JOB, {"id": export_job}))["data"]["job"] is None


AUDIT = "{ auditRecords(first: 100) { nodes { actorName action } } }"


async def test_a_district_auditor_reads_only_the_records_of_its_own_staff(api, sh_admin):
    from tests.members.members_helpers import create_member

    inside_clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    sibling_clerk = await persona(api, "shanghai", "clerk", "sh-xuhui")
    await create_member(inside_clerk, "sh-huangpu-bailian", name="本区记录", idNumber=fresh_id())
    await create_member(sibling_clerk, "sh-xuhui-kuaidi", name="邻区记录", idNumber=fresh_id())
    await create_member(sh_admin, "sh-huangpu-bailian", name="省级记录", idNumber=fresh_id())
    auditor = await persona(api, "shanghai", "auditor", "sh-huangpu")
    actors = {r["actorName"] for r in (await auditor.api.gql(AUDIT))["data"]["auditRecords"]["nodes"]}
    assert inside_clerk.username in actors
    assert sibling_clerk.username not in actors and sh_admin.username not in actors
    assert "anonymous" not in actors and "system" not in actors
    root_auditor = await persona(api, "shanghai", "auditor")
    actors = {r["actorName"] for r in (await root_auditor.api.gql(AUDIT))["data"]["auditRecords"]["nodes"]}
    assert {inside_clerk.username, sibling_clerk.username} <= actors

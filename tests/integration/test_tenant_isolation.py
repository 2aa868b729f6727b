"""A user of one province sees, guesses and changes nothing of another's, through any field;
and PostgreSQL row-level security holds even when the app-level filter is left out."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.fixtures.api import persona

LIST_UNITS = "{ orgUnits(first: 100) { nodes { id code } } }"


@pytest.fixture(scope="module")
async def beijing_ids(bj_admin):
    units = (await bj_admin.api.gql(LIST_UNITS))["data"]["orgUnits"]["nodes"]
    users = (await bj_admin.api.gql("{ users(first: 100) { nodes { id } } }"))["data"]["users"]["nodes"]
    job = (await bj_admin.api.gql("mutation { auditVerifyStart { job { id } errors { code } } }"))["data"]["auditVerifyStart"]
    return {"units": [u["id"] for u in units], "users": [u["id"] for u in users], "job": job["job"]["id"]}


async def test_node_and_direct_lookups_find_nothing_across_tenants(sh_admin, beijing_ids):
    api = sh_admin.api
    for gid in beijing_ids["units"] + beijing_ids["users"] + [beijing_ids["job"]]:
        body = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid})
        assert body["data"]["node"] is None, gid
    for gid in beijing_ids["units"]:
        body = await api.gql("query($id: ID!) { orgUnit(id: $id) { id name } }", {"id": gid})
        assert body["data"]["orgUnit"] is None
    body = await api.gql("query($id: ID!) { job(id: $id) { id status } }", {"id": beijing_ids["job"]})
    assert body["data"]["job"] is None


# ---------------------------------------------------------------------------------------------
# Generic walks: every Node type and ID-taking field comes from the registry / the schema, so a new
# capability's types are covered without anyone adding them to a list here.
# ---------------------------------------------------------------------------------------------


async def foreign_node_ids(owner_code: str, per_type: int = 3) -> dict[str, list[str]]:
    """Global ids of ``owner``'s rows for every registered Node type backed by a table."""
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.graphql.base import to_global_id
    from core.registry import get_registry
    from core.tenancy.services import get_tenant

    owner = await get_tenant(code=owner_code)
    found: dict[str, list[str]] = {}
    for name, (node, _capability, _plugin) in get_registry().nodes.items():
        if node.table is None:
            continue
        with tenant_scope(owner):
            rows = await raw(f"SELECT id FROM {node.table} ORDER BY id LIMIT {{}}", per_type)
        found[name] = [to_global_id(name, r["id"]) for r in rows]
    return found


async def assert_node_walk_finds_nothing(who, foreign: dict[str, list[str]]) -> set[str]:
    """``node(id)`` with each foreign id returns null for ``who``; returns the types actually tried."""
    tried = set()
    for type_name, gids in foreign.items():
        for gid in gids:
            body = await who.api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid})
            assert body["data"]["node"] is None, (type_name, gid, body)
            tried.add(type_name)
    return tried


def _gated_query_fields() -> dict[str, str]:
    """Query field name -> the capability gating it (from the registry's contributions)."""
    from strawberry.utils.str_converters import to_camel_case

    from core.registry import get_registry

    gated = {}
    for c in get_registry().graphql:
        if c.graphql.capability is None:
            continue
        for cls in c.graphql.query:
            for f in cls.__strawberry_definition__.fields:
                gated[f.graphql_name or to_camel_case(f.python_name)] = c.graphql.capability
    return gated


async def assert_id_fields_refuse(who, foreign: list[str]) -> set[str]:
    """Any Query field with a single required ``id: ID!``, given foreign ids, returns null with a
    NOT_FOUND/FORBIDDEN error (or no error), never an object; a field of a capability ``who``'s tenant
    has not enabled refuses with exactly CAPABILITY_NOT_ENABLED. Returns the fields walked."""
    from core.graphql.schema import schema
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code=who.tenant)
    gated = _gated_query_fields()
    walked = set()
    for name, field in schema._schema.query_type.fields.items():
        required = [a for a, d in field.args.items() if str(d.type).endswith("!")]
        if required != ["id"] or str(field.args["id"].type) != "ID!":
            continue
        for gid in foreign:
            body = await who.api.gql(f"query($id: ID!) {{ {name}(id: $id) {{ __typename }} }}", {"id": gid},
                                     expect_status=None)
            data = (body.get("data") or {}).get(name)
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
            assert data is None, (name, gid, body)
            if name in gated and gated[name] not in tenant.capabilities:
                assert codes == {"CAPABILITY_NOT_ENABLED"}, (name, gid, body)
            else:
                assert codes <= {"NOT_FOUND", "FORBIDDEN"}, (name, gid, body)
        walked.add(name)
    return walked


async def test_every_id_taking_query_field_refuses_foreign_ids(sh_admin, beijing_ids):
    """Walk the schema: any Query field with a single required ID argument, given Beijing ids as
    a Shanghai admin, returns null or a NOT_FOUND/FORBIDDEN error, never an object."""
    node_ids = await foreign_node_ids("beijing")
    foreign = beijing_ids["units"] + beijing_ids["users"] + [beijing_ids["job"]]
    foreign += [gid for gids in node_ids.values() for gid in gids if gid not in foreign]
    walked = await assert_id_fields_refuse(sh_admin, foreign)
    assert {"node", "orgUnit", "job"} <= walked


async def test_node_walk_covers_every_registered_node_type(sh_admin, beijing_ids):
    """node(id) with Beijing's ids of every registered Node type (core's and plugins') finds nothing."""
    from core.registry import get_registry

    foreign = await foreign_node_ids("beijing")
    tried = await assert_node_walk_finds_nothing(sh_admin, foreign)
    assert {"OrgUnit", "User", "Job"} <= tried
    # Every registered Node type names its table (NodeInfo.table), so the walk reaches all of them.
    untabled = sorted(n for n, (info, _, _) in get_registry().nodes.items() if not info.table)
    assert untabled == [], f"Node types without NodeInfo.table escape the isolation walk: {untabled}"


async def test_lists_never_include_another_tenants_rows(sh_admin, bj_admin, beijing_ids):
    sh_units = {u["id"] for u in (await sh_admin.api.gql(LIST_UNITS))["data"]["orgUnits"]["nodes"]}
    assert not sh_units & set(beijing_ids["units"])
    sh_users = {u["id"] for u in (await sh_admin.api.gql("{ users(first: 100) { nodes { id } } }"))["data"]["users"]["nodes"]}
    assert not sh_users & set(beijing_ids["users"])
    sh_auditor = await persona(sh_admin.api, "shanghai", "auditor")
    records = (await sh_auditor.api.gql("{ auditRecords(first: 100) { nodes { actorName targetType targetId } } }"))
    bj_unit_pks = set()
    from core.graphql.base import from_global_id

    for gid in beijing_ids["units"]:
        bj_unit_pks.add(str(from_global_id(gid)[1]))
    for r in records["data"]["auditRecords"]["nodes"]:
        assert not (r["targetType"] == "OrgUnit" and r["targetId"] in bj_unit_pks and r["targetId"] not in
                    {str(from_global_id(g)[1]) for g in sh_units})


async def test_mutations_with_foreign_ids_change_nothing(sh_admin, bj_admin, beijing_ids):
    api = sh_admin.api
    bj_unit = beijing_ids["units"][1]
    bj_user = beijing_ids["users"][0]
    sh_root = (await api.gql(LIST_UNITS))["data"]["orgUnits"]["nodes"][0]["id"]
    attempts = [
        ("mutation($id: ID!) { orgUnitRename(id: $id, name: \"偷改\") { errors { code } } }", {"id": bj_unit}, "orgUnitRename"),
        ("mutation($id: ID!) { orgUnitDeactivate(id: $id) { errors { code } } }", {"id": bj_unit}, "orgUnitDeactivate"),
        ("mutation($id: ID!, $p: ID!) { orgUnitMove(id: $id, newParentId: $p) { errors { code } } }", {"id": bj_unit, "p": sh_root}, "orgUnitMove"),
        ("mutation($id: ID!, $p: ID!) { orgUnitMove(id: $id, newParentId: $p) { errors { code } } }", {"id": sh_root, "p": bj_unit}, "orgUnitMove"),
        ("mutation($p: ID!) { orgUnitCreate(input: {parentId: $p, code: \"evil\", name: \"x\", level: GRASSROOTS}) { errors { code } } }", {"p": bj_unit}, "orgUnitCreate"),
        ("mutation($u: ID!, $o: ID!) { roleGrant(userId: $u, grant: {role: TENANT_ADMIN, orgUnitId: $o}) { errors { code } } }", {"u": bj_user, "o": sh_root}, "roleGrant"),
        ("mutation($u: ID!, $o: ID!) { roleGrant(userId: $u, grant: {role: TENANT_ADMIN, orgUnitId: $o}) { errors { code } } }", {"u": bj_user, "o": bj_unit}, "roleGrant"),
        ("mutation($u: ID!) { userSetActive(userId: $u, active: false) { errors { code } } }", {"u": bj_user}, "userSetActive"),
        ("mutation($o: ID!) { userCreate(input: {username: \"spy\", password: \"12345678910\", grants: [{role: TENANT_ADMIN, orgUnitId: $o}]}) { errors { code } } }", {"o": bj_unit}, "userCreate"),
    ]
    for query, variables, name in attempts:
        body = await api.gql(query, variables)
        errors = body["data"][name]["errors"]
        assert errors and errors[0]["code"] == "NOT_FOUND", (name, body)
    # Beijing is untouched.
    after = (await bj_admin.api.gql(LIST_UNITS))["data"]["orgUnits"]["nodes"]
    assert [u["id"] for u in after] == beijing_ids["units"]
    assert all("偷改" not in u["code"] for u in after)
    me = await bj_admin.api.gql("{ me { user { active } } }")
    assert me["data"]["me"]["user"]["active"] is True


async def test_a_token_of_one_tenant_cannot_be_replayed_against_another(api, sh_admin):
    from core.tenancy.services import get_tenant

    beijing = await get_tenant(code="beijing")
    _, _, secret = sh_admin.token.split(".")
    forged = f"hj1.{beijing.id}.{secret}"
    body = await api.gql("{ me { user { username } } }", token=forged, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ---------------------------------------------------------------------------------------------
# The second fence: PostgreSQL row-level security
# ---------------------------------------------------------------------------------------------


async def _tenant_tables() -> list[str]:
    from core.dbutil import raw

    rows = await raw(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = 'public'"
    )
    return sorted(r["table_name"] for r in rows)


async def test_every_tenant_table_forces_rls_and_the_app_role_cannot_bypass(app):
    from core.dbutil import raw

    tables = await _tenant_tables()
    assert {"org_unit", "app_user", "role_grant", "auth_token", "audit_record", "job_record"} <= set(tables)
    flags = await raw(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY({})", tables
    )
    for row in flags:
        assert row["relrowsecurity"] and row["relforcerowsecurity"], row
    role = (await raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))[0]
    assert role == {"rolsuper": False, "rolbypassrls": False}


async def test_raw_query_without_app_filter_sees_only_current_tenant(app):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    shanghai = await get_tenant(code="shanghai")
    beijing = await get_tenant(code="beijing")
    tables = await _tenant_tables()
    for tenant in (shanghai, beijing):
        with tenant_scope(tenant):
            for table in tables:
                # Deliberately no WHERE tenant_id = …: only RLS stands between us and the others.
                rows = await raw(f"SELECT DISTINCT tenant_id FROM {table}")
                assert {r["tenant_id"] for r in rows} <= {tenant.id}, table
            units = await raw("SELECT count(*) AS n FROM org_unit")
            assert units[0]["n"] > 0
    # No tenant set: every tenant table reads as empty (fails closed).
    for table in tables:
        rows = await raw(f"SELECT count(*) AS n FROM {table}")
        assert rows[0]["n"] == 0, table


async def test_rls_blocks_writes_into_another_tenant(app):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    shanghai = await get_tenant(code="shanghai")
    beijing = await get_tenant(code="beijing")
    with tenant_scope(shanghai):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await raw("INSERT INTO org_unit (tenant_id, code, name, level, path, depth, active, created_at) "
                      "VALUES ({}, 'x-evil', 'x', 'grassroots', '/', 1, true, now())", beijing.id)
        updated = await raw("UPDATE org_unit SET name = 'pwned' WHERE tenant_id = {} RETURNING id", beijing.id)
        assert updated == []


async def test_concurrent_scoped_connections_do_not_leak(app):
    """Many interleaved queries for different tenants on a shared pool: each sees only its own."""
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    tenants = [await get_tenant(code=c) for c in ("shanghai", "beijing", "fujian")]

    async def probe(tenant) -> set[int]:
        with tenant_scope(tenant):
            await asyncio.sleep(0)
            rows = await raw("SELECT tenant_id, pg_sleep(0.002) FROM org_unit")
            return {r["tenant_id"] for r in rows}

    results = await asyncio.gather(*[probe(tenants[i % 3]) for i in range(90)])
    for i, seen in enumerate(results):
        assert seen == {tenants[i % 3].id}


async def test_a_rolled_back_rescope_does_not_confuse_the_next_borrower(app):
    """A transaction that switched tenant and then rolled back leaves the connection on its first
    tenant; whoever borrows it next must still get exactly their own rows."""
    from core.context import tenant_scope
    from core.dbutil import raw, rescope_transaction, transaction
    from core.tenancy.services import get_tenant

    shanghai = await get_tenant(code="shanghai")
    beijing = await get_tenant(code="beijing")
    for _ in range(5):
        with tenant_scope(shanghai), pytest.raises(RuntimeError):
            async with transaction():
                await rescope_transaction(beijing.id)
                raise RuntimeError("abort")
        for tenant in (beijing, shanghai, beijing):
            with tenant_scope(tenant):
                rows = await raw("SELECT DISTINCT tenant_id FROM org_unit")
            assert {r["tenant_id"] for r in rows} == {tenant.id}

"""Query-count budgets: a page of 100 of anything, with its nested fields, costs a constant number of
SQL statements (no N+1), for every connection field the schema has.

The fields are enumerated from the running schema, so a new connection field fails here until it has
a budget in BUDGETS and a seeder that gives it 100 items. A capability plugin gives its own fields
theirs from its test code, through the pytest hook ``pytest_huijia_query_budgets``
(``tests/fixtures/budget_hookspecs.py``): its province is made with every installed capability on. Each field is
queried with every field of its item type selected, nested objects two levels deep (an org unit's
parent and its ancestors, a member's tags and household, an account's unit and fund...), once for 10
items and once for 100: the page of 100 must stay within the budget and cost no more than the page
of 10.

What is counted is every statement the app sends to PostgreSQL for the request (core.db's
``capture_queries``: authentication included, on whatever pooled connections the resolvers get),
except per-connection overhead (the tenant stamp, the driver's type look-ups), whose number depends
on which pooled connections a request happens to borrow. A first request warms what a process looks
up once (a collation check); then the in-process caches (token, tenant) are emptied before each request, so every
measured request pays for authenticating from scratch and the counts do not depend on timing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)

from core.actor import Actor
from core.context import tenant_scope
from core.db import CapturedQueries, capture_queries
from core.testing import PASSWORD, Api, PluginTenant, create_plugin_tenant, login, synthetic_id_number

# slow: seeding a province with 100 of everything takes a minute or two.
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

SMALL, LARGE = 10, 100


@dataclass(frozen=True)
class Budget:
    queries: int  # the most statements one request for a page of the field may send
    why: str  # what those statements are


# One entry per connection field, "Type.field", with what its statements are. Every request here
# starts with 2: the tenant (the test empties the tenant cache; a warm process skips it) and the
# token (token, user and grants in one round trip). A DataLoader batches the loads made in one turn
# of the event loop; loads that come a turn later (objects nested in objects) make a batch of their
# own, so a field with nested look-ups may send one more batch now and then: the ledger's budgets
# have room for that, the others are what they cost.
BUDGETS: dict[str, Budget] = {
    "Query.orgUnits": Budget(6, "tenant, token, the page with each unit's parent and the total (one "
                                "query), children, units by id (ancestors), the children's children"),
    "Query.users": Budget(6, "tenant, token, page, count, grants, the grants' units"),
    "Query.auditRecords": Budget(4, "tenant, token, page, count"),
    "Query.ledgerAccounts": Budget(7, "tenant, token, page, count, units by id, units' parents/ancestors, "
                                      "units' children"),
    "Query.ledgerEntries": Budget(13, "tenant, token, page, count, postings, chain links, reversed and "
                                      "reversing entries (2), accounts, units (10; batches may split)"),
    "Query.ledgerDrafts": Budget(11, "tenant, token, page (with count), lines' accounts with paths, entries, "
                                     "accounts, postings, nested entries, chain links (9; batches may split)"),
    "Query.reservations": Budget(8, "tenant, token, page, count, accounts, units by id, nested units, children"),
    "Query.budgets": Budget(8, "tenant, token, page, count, units by id, lifts, nested units, children"),
    "Query.members": Budget(7, "tenant, token, page, count (capped), units by id, nested units, children"),
    "Query.memberTransfers": Budget(4, "tenant, token, page, count"),
    "Query.memberImports": Budget(5, "tenant, token, page, count, jobs by id"),
    "Query.pluginSettingsHistory": Budget(5, "tenant, token, the root unit (permission), page, count"),
    "Member.history": Budget(6, "tenant, token, the member, its unit (scope check), page, count"),
    "MemberImport.errors": Budget(4, "tenant, token, the import, page (one row past it: no count)"),
    "Query.portalUnits": Budget(5, "tenant, token, the worker's account, page (with parents' names), count"),
    "Query.joinApplications": Budget(4, "tenant, token, page, count"),
}


# ---------------------------------------------------------------------------------------------
# The schema's connection fields, and a selection of everything under them
# ---------------------------------------------------------------------------------------------


def _named(tp: Any) -> Any:
    while isinstance(tp, (GraphQLNonNull, GraphQLList)):
        tp = tp.of_type
    return tp


def _is_connection(tp: Any) -> bool:
    named = _named(tp)
    return isinstance(named, GraphQLObjectType) and {"pageInfo", "edges", "nodes"} <= set(named.fields)


def _graphql_schema() -> Any:
    from core.graphql.schema import schema

    return schema._schema


def connection_fields() -> list[str]:
    found = []
    for type_name, tp in sorted(_graphql_schema().type_map.items()):
        if type_name.startswith("__") or not isinstance(tp, GraphQLObjectType) or type_name == "Mutation":
            continue
        found += [f"{type_name}.{name}" for name, f in tp.fields.items() if _is_connection(f.type)]
    return found


def _plain(field: GraphQLField) -> bool:
    """Selectable without arguments (every argument has a default)."""
    return all(not isinstance(a.type, GraphQLNonNull) or a.default_value is not None for a in field.args.values())


def selection(tp: Any, depth: int = 2) -> str:
    """Every field of ``tp`` that takes no required argument; objects ``depth`` levels down. Nested
    connections are left out: each is a field of its own here, with its own budget."""
    tp = _named(tp)
    if isinstance(tp, (GraphQLUnionType, GraphQLInterfaceType)):
        return "__typename"
    parts = []
    for name, f in tp.fields.items():
        if not _plain(f) or _is_connection(f.type):
            continue
        inner = _named(f.type)
        if isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {{ {selection(inner, depth - 1)} }}")
    return " ".join(parts) or "__typename"


def connection_query(coordinate: str, args: dict[str, str]) -> str:
    """The query for a page of ``coordinate``; ``args`` maps extra argument names to GraphQL types."""
    type_name, field_name = coordinate.split(".")
    schema = _graphql_schema()
    item = _named(schema.type_map[type_name].fields[field_name].type).fields["nodes"].type
    declared = "".join(f", ${k}: {v}" for k, v in args.items())
    passed = "".join(f", {k}: ${k}" for k in args)
    page = f"{field_name}(first: $first{passed}) {{ totalCount pageInfo {{ hasNextPage }} nodes {{ {selection(item)} }} }}"
    if type_name == "Query":
        return f"query($first: Int!{declared}) {{ {page} }}"
    return f"query($first: Int!, $parent: ID!{declared}) {{ node(id: $parent) {{ ... on {type_name} {{ {page} }} }} }}"


# ---------------------------------------------------------------------------------------------
# A province of its own with 100+ items of everything
# ---------------------------------------------------------------------------------------------

ACTOR = Actor(None, "test")
_ids = itertools.count()


def person_id() -> str:
    """A new valid ID number: synthetic_id_number varies only three digits, so vary the birth date too."""
    n = next(_ids)
    born = dt.date(1970, 1, 1) + dt.timedelta(days=n // 1000)
    return synthetic_id_number(n, born=born.strftime("%Y%m%d"))


@dataclass
class Province:
    tenant: PluginTenant
    ctx: Any
    api: Api
    root: dict[str, Any]
    district: dict[str, Any]
    grassroots: dict[str, Any]
    user_id: int  # the logged-in user: every staff role at the root


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def province(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Province:
    from core.accounts.services import create_user
    from core.plugins import get_plugin_manager, host_info
    from core.tenancy import services as tenancy

    # testprov: a province plugin with settings (and the test capability it serves), for the settings
    # history; and every installed capability plugin, whose connection fields are in the schema too.
    capability_plugins = sorted(host_info(get_plugin_manager()).capabilities_of)
    made = await create_plugin_tenant(["testprov", *capability_plugins], tmp_path_factory.mktemp("budgets"))
    ctx = await made.context()
    with tenant_scope(ctx):
        root = await tenancy.get_unit_by_code(ctx, made.root_unit)
        district = await tenancy.get_unit_by_code(ctx, made.district_unit)
        grassroots = await tenancy.get_unit_by_code(ctx, made.grassroots_unit)
        username = f"budget{uuid.uuid4().hex[:8]}"
        roles = ("tenant_admin", "auditor", "finance", "approver")
        user = await create_user(ctx, ACTOR, username=username, password=PASSWORD,
                                 grants=[(r, root["id"]) for r in roles])
    token = await login(api, made.code, username)
    return Province(made, ctx, api.as_(token), root, district, grassroots, user["id"])


Seeder = Callable[[Province], Awaitable[dict[str, Any]]]


async def _org_units(p: Province) -> dict[str, Any]:
    from core.tenancy import services as tenancy

    with tenant_scope(p.ctx):
        # Cities under the root, a county under some: parents, ancestors and children all vary.
        for i in range(LARGE):
            city = await tenancy.create_unit(p.ctx, ACTOR, parent_id=p.root["id"], code=f"{p.tenant.code}-c{i}",
                                             name=f"城市{i}", level="city")
            if i % 10 == 0:
                await tenancy.create_unit(p.ctx, ACTOR, parent_id=city["id"], code=f"{p.tenant.code}-c{i}k",
                                          name=f"区县{i}", level="county")
    return {}


async def _users(p: Province) -> dict[str, Any]:
    from core.accounts.services import hash_password
    from core.accounts.tables import RoleGrant, User

    password_hash = await hash_password(PASSWORD)  # once: argon2 is slow on purpose
    units = (p.root, p.district, p.grassroots)
    with tenant_scope(p.ctx):
        rows = await User.insert(*(User(tenant_id=p.ctx.id, username=f"u{i}x{uuid.uuid4().hex[:6]}",
                                        display_name=f"用户{i}", password_hash=password_hash)
                                   for i in range(LARGE))).returning(User.id)
        await RoleGrant.insert(*(RoleGrant(tenant_id=p.ctx.id, user_id=r["id"], role=role, org_unit_id=units[i % 3]["id"])
                                 for i, r in enumerate(rows) for role in ("clerk", "auditor"))
                               )
    return {}


async def _audit_records(p: Province) -> dict[str, Any]:
    await seed(p, "Query.orgUnits")  # every unit created writes an audit record
    return {}


async def _members(p: Province) -> dict[str, Any]:
    from core.members.services import create_member

    with tenant_scope(p.ctx):
        for i in range(LARGE):
            await create_member(p.ctx, ACTOR, values={"name": f"会员{i}", "id_number": person_id(),
                                                      "employer": "测试企业"},
                                unit_id=p.grassroots["id"], scope_paths=None)
    return {}


async def _member_history(p: Province) -> dict[str, Any]:
    from core.graphql.base import to_global_id
    from core.members.services import create_member, update_member

    with tenant_scope(p.ctx):
        member = await create_member(p.ctx, ACTOR, values={"name": "变更人", "id_number": person_id(),
                                                           "employer": "测试企业"},
                                     unit_id=p.grassroots["id"], scope_paths=None)
        for i in range(LARGE):
            await update_member(p.ctx, ACTOR, member["id"], {"employer": f"企业{i}"}, scope_paths=None)
    return {"parent": to_global_id("Member", member["id"])}


async def _cities(p: Province) -> list[dict[str, Any]]:
    from core.tenancy import queries

    await seed(p, "Query.orgUnits")
    with tenant_scope(p.ctx):
        rows, _ = await queries.list_units(p.ctx, queries.UnitFilter(level="city"), limit=LARGE, with_total=False)
    assert len(rows) == LARGE
    return rows


async def _ledger(p: Province) -> dict[str, Any]:
    """Cash and income booked at 100 cities (200 accounts, 100 entries), ten of the entries reversed."""
    from core.funds.services import AccountRef, create_manual_entry, reverse_entry

    with tenant_scope(p.ctx):
        for i, city in enumerate(await _cities(p)):
            refs = [AccountRef(org_unit_id=city["id"], fund="general", code="102"),
                    AccountRef(org_unit_id=city["id"], fund="general", code="404")]
            made = await create_manual_entry(p.ctx, ACTOR, refs=refs, amounts=[100_000, -100_000],
                                             key=uuid.uuid4().hex, memo=f"拨款{i}")
            assert made.entry_id is not None
            if i % 10 == 0:
                await reverse_entry(p.ctx, ACTOR, made.entry_id, key=uuid.uuid4().hex, memo="冲销")
    return {}


async def _drafts(p: Province) -> dict[str, Any]:
    """100 entries above the approval threshold wait as drafts; ten are approved (they have an entry)."""
    from core.funds.services import AccountRef, create_manual_entry, decide_draft

    await seed(p, "Query.ledgerEntries")
    checker = Actor(p.user_id, "checker")
    with tenant_scope(p.ctx):
        for i, city in enumerate(await _cities(p)):
            refs = [AccountRef(org_unit_id=city["id"], fund="general", code="102"),
                    AccountRef(org_unit_id=city["id"], fund="general", code="404")]
            made = await create_manual_entry(p.ctx, ACTOR, refs=refs, amounts=[9_000_000, -9_000_000],
                                             key=uuid.uuid4().hex, memo=f"大额{i}")
            assert made.draft_id is not None
            if i % 10 == 0:
                await decide_draft(p.ctx, checker, made.draft_id, approve=True)
    return {}


async def _reservations(p: Province) -> dict[str, Any]:
    from core.funds.services import reserve

    await seed(p, "Query.ledgerEntries")  # the cities' cash
    with tenant_scope(p.ctx):
        for city in await _cities(p):
            await reserve(p.ctx, ACTOR, unit=city, fund="general", amount_fen=100, expense_code="501",
                          key=uuid.uuid4().hex)
    return {}


async def _budgets(p: Province) -> dict[str, Any]:
    from core.funds.services import lift_budget, set_budget, today

    approver = Actor(p.user_id, "approver")
    with tenant_scope(p.ctx):
        for i, city in enumerate(await _cities(p)):
            budget_id = await set_budget(p.ctx, ACTOR, unit=city, fund="general", year=today().year, amount_fen=500_000)
            if i % 10 == 0:
                await lift_budget(p.ctx, approver, budget_id, amount_fen=1_000, reason="追加")
    return {}


async def _settings_history(p: Province) -> dict[str, Any]:
    from core.tenancy.plugin_settings import plugin_states, update_settings

    with tenant_scope(p.ctx):
        version = next(s.version for s in await plugin_states(p.ctx) if s.plugin == "testprov")
        for i in range(LARGE):
            state = await update_settings(p.ctx, ACTOR, "testprov", {"item_limit_fen": 1_000 + i}, expected_version=version)
            version = state.version
    return {"plugin": "testprov"}


async def _new_members(p: Province, n: int, prefix: str) -> list[dict[str, Any]]:
    from core.members.services import create_member

    made = []
    with tenant_scope(p.ctx):
        for i in range(n):
            made.append(await create_member(p.ctx, ACTOR, values={"name": f"{prefix}{i}", "employer": "测试企业",
                                                                  "id_number": person_id()},
                                             unit_id=p.grassroots["id"], scope_paths=None))
    return made


async def _transfers(p: Province) -> dict[str, Any]:
    """100 members asked to move to another grassroots union of the province."""
    from core.members.services import request_transfer
    from core.tenancy import services as tenancy

    with tenant_scope(p.ctx):
        dest = await tenancy.create_unit(p.ctx, ACTOR, parent_id=p.district["id"], code=f"{p.tenant.code}-g2",
                                         name="转入工会", level="grassroots")
    for member in await _new_members(p, LARGE, "转移人"):
        with tenant_scope(p.ctx):
            await request_transfer(p.ctx, ACTOR, member["id"], reason="调动", dest_tenant=None, dest_unit_id=dest["id"])
    return {}


def _roster(rows: list[list[str]]) -> bytes:
    lines = ["姓名,身份证号码,所属工会,手机号码,工作单位,工作状态,会员标签,入会日期", *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


async def _upload(p: Province, content: bytes, filename: str) -> dict[str, Any]:
    from core.jobs import runner
    from core.members.importer import receive_upload

    async def body() -> Any:
        yield content

    with runner.jobs_in_process(), tenant_scope(p.ctx):
        made = await receive_upload(p.ctx, ACTOR, [p.root["path"]], filename, body(), 1024 * 1024)
    await runner.drain_local()
    return made


async def _imports(p: Province) -> dict[str, Any]:
    """Ten rosters previewed (each with its preview job), ninety files refused as no roster at all."""
    for i in range(LARGE):
        if i % 10 == 0:
            rows = [[f"导入{i}", person_id(), p.tenant.grassroots_unit, "", "测试企业", "", "", ""]]
            await _upload(p, _roster(rows), f"名册{i}.csv")
        else:
            await _upload(p, b"\x00\x01 not a roster", f"坏文件{i}.bin")
    return {}


async def _import_errors(p: Province) -> dict[str, Any]:
    """One roster whose 120 rows all fail validation (a wrong checksum in every ID number)."""
    from core.graphql.base import to_global_id

    rows = []
    for _ in range(LARGE + 20):
        valid = person_id()
        rows.append(["错号", valid[:-1] + ("0" if valid[-1] != "0" else "1"), p.tenant.grassroots_unit, "", "测试企业",
                     "", "", ""])
    made = await _upload(p, _roster(rows), "错误名册.csv")
    return {"parent": to_global_id("MemberImport", made["id"])}


async def _workers(p: Province, n: int) -> list[Any]:
    """``n`` worker accounts (not members), each registered from an address of its own (registration
    is throttled per address)."""
    from core.workers import services as workers

    sessions = []
    for _ in range(n):
        k = next(_ids)
        sessions.append(await workers.register(p.tenant.code, name=f"职工{k}", id_number=person_id(),
                                               phone=f"139{k:08d}", password=PASSWORD,
                                               ip=f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}"))
    return sessions


async def _join_applications(p: Province) -> dict[str, Any]:
    """100 workers applied to join the grassroots union; ten of the applications were turned down."""
    from core.workers import joining, queries

    for i, session in enumerate(await _workers(p, LARGE)):
        with tenant_scope(p.ctx):
            made = await joining.apply(p.ctx, session.account, ACTOR, unit_id=p.grassroots["id"], employer="测试企业",
                                       note=f"申请{i}")
            if i % 10 == 0:
                row = await queries.get_application(p.ctx, made["id"])
                await joining.decide(p.ctx, Actor(p.user_id, "checker"), row, approve=False, reason="材料不全",
                                     scope_paths=[p.root["path"]])
    return {}


async def _portal_units(p: Province) -> dict[str, Any]:
    """100 grassroots unions under the district (and the province's own) seen by a logged-in worker."""
    from core.tenancy import services as tenancy

    with tenant_scope(p.ctx):
        for i in range(LARGE):
            await tenancy.create_unit(p.ctx, ACTOR, parent_id=p.district["id"], code=f"{p.tenant.code}-p{i}",
                                      name=f"门户工会{i}", level="grassroots")
    (session,) = await _workers(p, 1)
    return {TOKEN: session.token}


SEEDERS: dict[str, Seeder] = {
    "Query.portalUnits": _portal_units,
    "Query.joinApplications": _join_applications,
    "Query.memberTransfers": _transfers,
    "Query.memberImports": _imports,
    "MemberImport.errors": _import_errors,
    "Query.ledgerAccounts": _ledger,
    "Query.ledgerEntries": _ledger,
    "Query.ledgerDrafts": _drafts,
    "Query.reservations": _reservations,
    "Query.budgets": _budgets,
    "Query.pluginSettingsHistory": _settings_history,
    "Query.orgUnits": _org_units,
    "Query.users": _users,
    "Query.auditRecords": _audit_records,
    "Query.members": _members,
    "Member.history": _member_history,
}

# A seeder's variables may name the caller: a token of its own (a worker's, say) instead of the staff user's.
TOKEN = "_token"

_seeded: dict[str, dict[str, Any]] = {}


async def seed(p: Province, coordinate: str) -> dict[str, Any]:
    """Seed ``coordinate``'s items once per module; returns the query's extra variables."""
    if coordinate not in _seeded:
        _seeded[coordinate] = await SEEDERS[coordinate](p)
    return _seeded[coordinate]


# Extra arguments a field needs (name -> GraphQL type); their values come from the seeder.
ARGS: dict[str, dict[str, str]] = {
    "Query.pluginSettingsHistory": {"plugin": "String!"},
}


# ---------------------------------------------------------------------------------------------
# Plugins' fields (pytest hook)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_budgets(pytestconfig: pytest.Config) -> None:
    """Merge the budgets, seeders and arguments plugins' test code contributes; a field claimed twice is
    a mistake, not an override."""
    for contributed in pytestconfig.hook.pytest_huijia_query_budgets():
        for coordinate, (budget, seeder, args) in contributed.items():
            known = BUDGETS.get(coordinate)
            if (known is not None and known != Budget(**budget)) or SEEDERS.get(coordinate, seeder) is not seeder:
                raise pytest.UsageError(f"query budgets: {coordinate} has a budget or seeder already")
            BUDGETS[coordinate] = Budget(**budget)
            SEEDERS[coordinate] = seeder
            if args:
                ARGS[coordinate] = dict(args)


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------


def _forget_caches() -> None:
    from core.accounts.services import _auth_cache
    from core.tenancy.services import clear_tenant_cache

    _auth_cache.clear()
    clear_tenant_cache()


async def measure(p: Province, coordinate: str, first: int, variables: dict[str, Any]) -> CapturedQueries:
    query = connection_query(coordinate, ARGS.get(coordinate, {}))
    variables = dict(variables)
    token = variables.pop(TOKEN, None)
    api = p.api if token is None else p.api.as_(token)
    _forget_caches()
    async with capture_queries() as captured:
        body = await api.gql(query, {"first": first, **variables})
    assert "errors" not in body, (coordinate, body.get("errors"))
    data = body["data"]
    page = data[coordinate.split(".")[1]] if coordinate.startswith("Query.") else data["node"][coordinate.split(".")[1]]
    assert len(page["nodes"]) == first, f"{coordinate}: the seeder made {len(page['nodes'])} items, {first} needed"
    return captured


async def test_every_connection_field_has_a_budget(plugin_budgets: None):
    fields = connection_fields()
    assert "Query.orgUnits" in fields and "Member.history" in fields  # the enumeration finds them
    missing = [f for f in fields if f not in BUDGETS]
    assert not missing, (
        f"connection field(s) {missing} have no query budget: add each to BUDGETS in {__name__} (most "
        f"statements one page may send, with a comment on what they are) and a seeder giving it {LARGE} items")
    stale = [f for f in BUDGETS if f not in fields]
    assert not stale, f"BUDGETS lists field(s) the schema no longer has: {stale}"


@pytest.mark.parametrize("coordinate", connection_fields())
async def test_a_page_costs_a_constant_number_of_queries(plugin_budgets: None, province: Province, coordinate: str):
    budget = BUDGETS.get(coordinate)
    if budget is None:
        pytest.fail(f"{coordinate} has no query budget (see test_every_connection_field_has_a_budget)")
    if coordinate not in SEEDERS:
        pytest.fail(f"{coordinate} has no seeder: add one to SEEDERS giving it {LARGE} items")
    variables = await seed(province, coordinate)
    await measure(province, coordinate, SMALL, variables)  # once-per-process look-ups (a collation check) out of the way
    small = await measure(province, coordinate, SMALL, variables)
    large = await measure(province, coordinate, LARGE, variables)
    # Not more at 100 than at 10 (a per-item statement shows as 90 more). It may be fewer: loads
    # that resolve in different turns of the loop make separate batches, and how the turns fall
    # depends on the data.
    assert large.count <= small.count, (
        f"{coordinate}: {small.count} statements for {SMALL} items but {large.count} for {LARGE}:\n"
        f"{SMALL} items:\n{small.report()}\n{LARGE} items:\n{large.report()}")
    assert large.count <= budget.queries, (
        f"{coordinate}: {large.count} statements, over its budget of {budget.queries} ({budget.why}):\n"
        f"{large.report()}")

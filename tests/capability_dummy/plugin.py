"""A small capability plugin for the tests: everything a real capability (hardship, warmth, ...) owns.

Its own table and migrations with RLS, GraphQL query + mutation + Node type, permissions, a job, a
cron job, a CLI command, its own hookspec (implemented by ``tests.capability_dummy.province``), and
one capability a tenant enables with ``capabilities = ["testcap"]``. It imports only ``core.sdk``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from core.sdk import CapabilityInfo, JobContext, PluginInfo, Role, enqueue, hookimpl, job, list_tenants
from tests.capability_dummy.workflow import NOTICE

NAME = "testcap"

# Set by the job and the CLI command, so tests can see they ran (never holds personal data).
RAN: list[tuple[str, Any]] = []


class TestcapSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    greeting: str = "你好"


PLUGIN = PluginInfo(name=NAME, province_code=None, version="0.0.1", min_core="0.1", settings_schema=TestcapSettings)
CAPABILITY = CapabilityInfo(code="testcap", label_zh="测试能力", settings_schema=TestcapSettings,
                            workflows=(NOTICE,))


@job("count")
async def count_items(ctx: JobContext) -> dict[str, Any]:
    from core.sdk import raw

    rows = await raw("SELECT count(*) AS n FROM testcap_item WHERE tenant_id = {}", ctx.tenant.id)
    RAN.append(("job", ctx.tenant.code))
    return {"items": rows[0]["n"]}


async def cron_count(ctx: dict[str, Any]) -> int:
    n = 0
    for tenant in await list_tenants():
        if NAME in tenant.capabilities:
            await enqueue(tenant, "testcap.count", key=f"testcap.count:{tenant.id}")
            n += 1
    return n


def add_commands(sub: Any) -> None:
    p = sub.add_parser("testcap", help="test capability")
    p.set_defaults(fn=lambda args: RAN.append(("cli", None)) or 0)


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from tests.capability_dummy import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["tests.capability_dummy.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {
        "testcap.read": [Role.TENANT_ADMIN, Role.CLERK, Role.AUDITOR],
        "testcap.write": [Role.TENANT_ADMIN, "clerk"],
        "testcap.approve": [Role.APPROVER],
    }


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution, NodeInfo
    from tests.capability_dummy.graphql import TestcapItem, TestcapMutation, TestcapQuery, resolve_item

    return [GraphQLContribution(query=[TestcapQuery], mutation=[TestcapMutation], types=[TestcapItem],
                                nodes=[NodeInfo("TestcapItem", resolve_item, "testcap_item")])]


@hookimpl
def register_jobs() -> list[Any]:
    return [count_items]


@hookimpl
def register_cron() -> list[Any]:
    from arq import cron

    return [cron(cron_count, name="testcap.cron.count", hour=4, minute=0, unique=True)]


@hookimpl
def register_cli() -> list[Any]:
    return [add_commands]


async def items_csv(request: Request) -> Response:
    """GET /testcap/items.csv: the tenant's items as CSV (a file GraphQL cannot carry)."""
    from core.sdk import raw, scope_clause, tenant_scope

    state = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if tenant is None or principal is None:
        return Response({"code": "UNAUTHENTICATED"}, status_code=401)
    # No capability check here on purpose: the host mounts a capability's routes behind its fence.
    if not principal.can("testcap.read"):
        return Response({"code": "FORBIDDEN"}, status_code=403)
    # Like the GraphQL list: only items whose unit lies in the caller's testcap.read subtree.
    scope, params = scope_clause(principal, "testcap.read", "t.org_unit_id", tenant.id)
    with tenant_scope(tenant):
        rows = await raw(f"SELECT t.title, t.amount_fen FROM testcap_item t WHERE t.tenant_id = {{}} AND {scope} "
                         "ORDER BY t.id", tenant.id, *params)
    body = "title,amount_fen\n" + "".join(f"{r['title']},{r['amount_fen']}\n" for r in rows)
    return Response(body, media_type="text/csv")


async def public_count(tenant_code: str) -> dict[str, Any]:
    """GET /public/testcap/<province>/count, no login: how many items the province has (a public
    figure, like a published service list). Nothing here checks the capability: the host does."""
    from core.sdk import get_tenant, raw, tenant_scope

    tenant = await get_tenant(code=tenant_code)
    with tenant_scope(tenant):
        rows = await raw("SELECT count(*) AS n FROM testcap_item WHERE tenant_id = {}", tenant.id)
    return {"province": tenant.code, "items": rows[0]["n"]}


async def shutdown() -> None:
    RAN.append(("shutdown", None))


@hookimpl
def register_routes() -> list[Any]:
    from litestar import get

    return [get("/testcap/items.csv", name="testcap-items-csv")(items_csv),
            get("/public/testcap/{tenant_code:str}/count", name="testcap-public-count")(public_count)]


@hookimpl
def register_shutdown() -> list[Any]:
    return [shutdown]


@hookimpl
def testcap_item_limit(tenant: Any) -> int | None:
    # The capability's own default answer comes last (registered before province plugins: LIFO).
    return None

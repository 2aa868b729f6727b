"""The tenancy domain as a plugin: its app, GraphQL and Node types go through the register_* hooks."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.tenancy.piccolo_app"]


@hookimpl
def register_graphql() -> list[Any]:
    from core.interface import GraphQLContribution, NodeInfo
    from core.tenancy.graphql import OrgUnit, TenancyMutation, TenancyQuery, Tenant, resolve_org_unit

    return [GraphQLContribution(query=[TenancyQuery], mutation=[TenancyMutation], types=[OrgUnit, Tenant],
                                nodes=[NodeInfo("OrgUnit", resolve_org_unit, "org_unit")])]

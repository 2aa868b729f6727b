"""The accounts domain as a plugin: core's permission table, its app and GraphQL."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def register_permissions() -> dict[str, Any]:
    from core.permissions import PERMISSIONS

    return dict(PERMISSIONS)


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.accounts.piccolo_app"]


@hookimpl
def register_graphql() -> list[Any]:
    from core.accounts.graphql import AccountsMutation, AccountsQuery, User, resolve_user
    from core.interface import GraphQLContribution, NodeInfo

    return [GraphQLContribution(query=[AccountsQuery], mutation=[AccountsMutation], types=[User],
                                nodes=[NodeInfo("User", resolve_user, "app_user")])]

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


@hookimpl
def register_cron() -> list[Any]:
    from core.accounts.login_audit import cron_jobs

    return cron_jobs()


@hookimpl
def register_shutdown() -> list[Any]:
    # The embedded default's pending login-failure summaries live in this process only.
    from core.accounts.login_audit import flush_on_shutdown

    return [flush_on_shutdown]

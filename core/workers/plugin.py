"""The workers domain as a plugin: worker accounts, online joining, the member card, the portal."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def register_permissions() -> dict[str, Any]:
    from core.workers.access import PERMISSIONS

    return dict(PERMISSIONS)


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.workers.piccolo_app"]


@hookimpl
def register_graphql() -> list[Any]:
    from core.interface import GraphQLContribution
    from core.workers.graphql import TYPES, WorkersMutation, WorkersQuery

    return [GraphQLContribution(query=[WorkersQuery], mutation=[WorkersMutation], types=TYPES)]


@hookimpl
def register_routes() -> list[Any]:
    # The download of a worker's own data (a file GraphQL cannot carry).
    from core.workers.http import ROUTES

    return list(ROUTES)


@hookimpl
def register_cron() -> list[Any]:
    from core.workers.phone import cron_jobs

    return cron_jobs()


@hookimpl
def register_encrypted_columns() -> list[Any]:
    # Worker accounts are encrypted with the members' keyring; their key commands rotate them.
    from core.members.keys import worker_columns

    return worker_columns()

"""The members domain as a plugin: app, GraphQL, jobs, cron, `huijia keys`, and the start-up key check."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl

NODE_TABLES = {
    "Member": "member",
    "Household": "household",
    "HouseholdPerson": "household_person",
    "MemberTransfer": "member_transfer",
    "MemberImport": "member_import",
    "MemberExport": "member_export",
}


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.members.piccolo_app"]


@hookimpl
def register_graphql() -> list[Any]:
    from core.interface import GraphQLContribution, NodeInfo
    from core.members.graphql import NODE_RESOLVERS, NODE_TYPES, MembersMutation, MembersQuery

    nodes = [NodeInfo(name, fn, NODE_TABLES.get(name)) for name, fn in NODE_RESOLVERS.items()]
    return [GraphQLContribution(query=[MembersQuery], mutation=[MembersMutation], types=NODE_TYPES, nodes=nodes)]


@hookimpl
def register_jobs() -> list[Any]:
    from core.members import jobs

    return [jobs.import_preview, jobs.import_commit, jobs.export, jobs.purge]


@hookimpl
def register_cron() -> list[Any]:
    from core.members.jobs import cron_jobs

    return cron_jobs()


@hookimpl
def register_cli() -> list[Any]:
    from core.members.keys import add_commands

    return [add_commands]


@hookimpl
def register_startup_checks() -> list[Any]:
    # A process that writes members (web app, worker) must refuse to start without the blind-index
    # keys its stored rows need.
    from core.members.keys import check_index_keys

    return [check_index_keys]


@hookimpl
def register_routes() -> list[Any]:
    # Roster upload, templates, error reports, export downloads: files GraphQL cannot carry.
    from core.members.http import ROUTES

    return list(ROUTES)


@hookimpl
def register_encrypted_columns() -> list[Any]:
    # What `huijia keys rotate` / `rotate-index` walk for members.
    from core.members.keys import member_columns

    return member_columns()


@hookimpl
def register_file_stores() -> list[Any]:
    # Roster uploads and member exports: backups, restores and province exports carry them.
    from core.members.filestore import STORE

    return [STORE]

"""The funds domain as a plugin: ledger app, GraphQL, jobs, cron and `huijia ledger`."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl

# Node type -> the tenant-owned table behind it (the isolation tests walk these).
NODE_TABLES = {
    "Fund": "ledger_fund",
    "LedgerAccount": "ledger_account",
    "LedgerEntry": "ledger_entry",
    "LedgerDraft": "ledger_draft",
    "Reservation": "ledger_reservation",
    "Budget": "ledger_budget",
}


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.funds.piccolo_app"]


@hookimpl
def register_graphql() -> list[Any]:
    from core.funds.graphql import NODE_RESOLVERS, NODE_TYPES, FundsMutation, FundsQuery
    from core.interface import GraphQLContribution, NodeInfo

    nodes = [NodeInfo(name, fn, NODE_TABLES.get(name)) for name, fn in NODE_RESOLVERS.items()]
    return [GraphQLContribution(query=[FundsQuery], mutation=[FundsMutation], types=NODE_TYPES, nodes=nodes)]


@hookimpl
def register_jobs() -> list[Any]:
    from core.funds import jobs

    return [jobs.special_allocation_job, jobs.expire_reservations_job, jobs.chain_job, jobs.verify_job,
            jobs.report_file_job, jobs.purge_report_files_job]


@hookimpl
def register_routes() -> list[Any]:
    # Report files are downloaded over HTTP, not carried base64 inside GraphQL.
    from core.funds.http import ROUTES

    return list(ROUTES)


@hookimpl
def register_cron() -> list[Any]:
    from core.funds.jobs import cron_jobs

    return cron_jobs()


@hookimpl
def register_cli() -> list[Any]:
    from core.funds.cli import add_commands

    return [add_commands]


@hookimpl
def register_shutdown() -> list[Any]:
    # Posting links entries into the hash chain in the background; let those tasks finish.
    from core.funds.chain import wait_background

    return [wait_background]


@hookimpl
def register_file_stores() -> list[Any]:
    # Report files (exports of the ledger): backups, restores and province exports carry them.
    from core.funds.exports import file_store

    return [file_store()]

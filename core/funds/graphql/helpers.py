"""Shared look-ups of the funds GraphQL layer and the tenant-scoped node resolvers (invisible objects are null)."""

from __future__ import annotations

from typing import Any

from core.context import TenantContext
from core.dbutil import written
from core.errors import DomainError, ErrorCode, not_found
from core.funds import queries, reports, services
from core.funds.graphql.inputs import (
    ReportInput,
)
from core.funds.graphql.types import (
    Budget,
    Fund,
    LedgerAccount,
    LedgerDraft,
    LedgerEntry,
    Reservation,
    _load_fund,
)
from core.graphql.base import (
    Info,
    from_global_id,
    to_global_id,
)
from core.tenancy import queries as unit_queries

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


async def _unit(tenant: TenantContext, gid: Any, field: str = "orgUnitId") -> dict[str, Any]:
    from core.tenancy.queries import get_unit

    _, pk = from_global_id(gid, "OrgUnit", field)
    row = await get_unit(tenant, pk)
    if row is None:
        raise not_found("org unit", field)
    return row


async def _root_path(tenant: TenantContext) -> str:
    from core.tenancy.queries import root_unit

    root = await root_unit(tenant)
    assert root is not None
    return root["path"]


def _require_all(info: Info, action: str, paths: list[str]) -> None:
    for p in paths:
        info.context.require(action, p)


async def _entry_row(info: Info, entry_id: int) -> dict[str, Any]:
    tenant, _ = info.context.authenticated()
    row = await queries.get_entry(tenant, entry_id)
    if row is None:
        raise not_found("ledger entry")
    return row


async def _entry_payload(tenant: TenantContext, entry_id: int | None, draft_id: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if entry_id:
        out["entry"] = LedgerEntry.from_row(written(await queries.get_entry(tenant, entry_id), "ledger entry"))
    if draft_id:
        out["draft"] = LedgerDraft.from_row(written(await queries.get_draft(tenant, draft_id), "ledger draft"))
    return out


async def _fund_id(tenant: TenantContext, code: str | None) -> int | None:
    if code is None:
        return None
    return (await services.get_fund(tenant, code))["id"]


async def _report_scope(info: Info, inp: ReportInput) -> tuple[TenantContext, reports.ReportScope, dict[str, Any]]:
    tenant, principal = info.context.require("report.read")
    if inp.subtree_of is not None:
        unit = await _unit(tenant, inp.subtree_of, "subtreeOf")
    else:
        paths = principal.scope_paths("report.read")
        if len(paths) != 1:
            raise DomainError(ErrorCode.INVALID_INPUT, "you hold several subtrees; choose one with subtreeOf", "subtreeOf")
        unit = await _unit(tenant, to_global_id("OrgUnit", unit_queries.path_ids(paths[0])[-1]), "subtreeOf")
    info.context.require("report.read", unit["path"])
    scope = reports.ReportScope(unit["path"], inp.date_from, inp.date_to, await _fund_id(tenant, inp.fund)).check()
    return tenant, scope, unit


# ---------------------------------------------------------------------------------------------
# Node resolvers (tenant-scoped; invisible objects are null)
# ---------------------------------------------------------------------------------------------


def _in_scope(principal: Any, action: str, paths: list[str]) -> bool:
    return any(principal.can(action, p) for p in paths)


async def resolve_fund(info: Info, pk: int) -> Fund | None:
    info.context.require("ledger.read")
    row = await _load_fund(info, pk)
    return row


async def resolve_account(info: Info, pk: int) -> LedgerAccount | None:
    tenant, principal = info.context.require("ledger.read")
    row = await info.context.loader("ledger_account_by_id", queries.accounts_by_ids).load(pk)
    if row is None:
        return None
    unit = await info.context.loader("org_unit_by_id", unit_queries.units_by_ids).load(row["org_unit_id"])
    if unit is None or not principal.can("ledger.read", unit["path"]):
        return None
    return LedgerAccount.from_row(row)


async def resolve_entry(info: Info, pk: int) -> LedgerEntry | None:
    tenant, principal = info.context.require("ledger.read")
    row = await info.context.loader("ledger_entry_by_id", queries.entries_by_ids).load(pk)
    if row is None or not _in_scope(principal, "ledger.read", await queries.entry_unit_paths(tenant, pk)):
        return None
    return LedgerEntry.from_row(row)


async def resolve_draft(info: Info, pk: int) -> LedgerDraft | None:
    tenant, principal = info.context.require("ledger.read")
    row = await queries.get_draft(tenant, pk)
    if row is None or not _in_scope(principal, "ledger.read", await queries.draft_unit_paths(tenant, row)):
        return None
    return LedgerDraft.from_row(row)


async def resolve_reservation(info: Info, pk: int) -> Reservation | None:
    tenant, principal = info.context.require("ledger.read")
    row = await queries.get_reservation(tenant, pk)
    if row is None:
        return None
    unit = await info.context.loader("org_unit_by_id", unit_queries.units_by_ids).load(row["org_unit_id"])
    if unit is None or not principal.can("ledger.read", unit["path"]):
        return None
    return Reservation.from_row(row)


async def resolve_budget(info: Info, pk: int) -> Budget | None:
    tenant, principal = info.context.require("ledger.read")
    row = await queries.get_budget(tenant, pk)
    if row is None:
        return None
    unit = await info.context.loader("org_unit_by_id", unit_queries.units_by_ids).load(row["org_unit_id"])
    if unit is None or not principal.can("ledger.read", unit["path"]):
        return None
    return Budget.from_row(row)


NODE_RESOLVERS = {
    "Fund": resolve_fund,
    "LedgerAccount": resolve_account,
    "LedgerEntry": resolve_entry,
    "LedgerDraft": resolve_draft,
    "Reservation": resolve_reservation,
    "Budget": resolve_budget,
}
NODE_TYPES = [Fund, LedgerAccount, LedgerEntry, LedgerDraft, Reservation, Budget]

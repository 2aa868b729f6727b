"""The funds Query fields."""

from __future__ import annotations

import base64

import strawberry

from core.audit.graphql import ChainCheckpoint
from core.errors import DomainError, ErrorCode
from core.funds import queries, reports, services
from core.funds.chart import CHART
from core.funds.graphql.helpers import (
    _fund_id,
    _report_scope,
    _root_path,
    _unit,
)
from core.funds.graphql.inputs import (
    BudgetFilter,
    LedgerAccountFilter,
    LedgerEntryFilter,
    ReportInput,
    ReservationFilter,
)
from core.funds.graphql.reports import (
    CategoryAmount,
    ExpenditureStructure,
    FlowRow,
    FundStatementRow,
    GrassrootsShare,
    HierarchyFlows,
    LevelSpending,
    ReportFile,
    TrialBalance,
    TrialBalanceRow,
)
from core.funds.graphql.types import (
    AccountType,
    Budget,
    DraftStatus,
    EntrySide,
    ExportFormat,
    Fund,
    LedgerAccount,
    LedgerConfig,
    LedgerDraft,
    LedgerEntry,
    LedgerPeriod,
    LedgerReport,
    LedgerVerification,
    Reservation,
    TransferDirection,
    _gid,
)
from core.graphql.base import (
    BigInt,
    Connection,
    Info,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
)

# ---------------------------------------------------------------------------------------------
# Query
# ---------------------------------------------------------------------------------------------


def _text_arg(name: str, value: str | None, max_len: int = 100) -> str | None:
    if value is not None and len(value) > max_len:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{name} is too long", name)
    return value


@strawberry.type(description="An account of the chart of accounts (工会会计制度); every unit and fund has the same chart.")
class ChartAccount:
    code: str
    name: str
    type: AccountType
    no_negative: bool = strawberry.field(description="Money the fund holds: may never go below zero (nor below what is reserved).")
    normal_balance: EntrySide = strawberry.field(description="The side its balance is counted on (assets and expenses: debit).")


@strawberry.type
class FundsQuery:
    @strawberry.field(description=perm("ledger.read", "The chart of accounts, by code."))
    @for_query
    async def chart_of_accounts(self, info: Info) -> list[ChartAccount]:
        info.context.require("ledger.read")
        return [ChartAccount(code=d.code, name=d.name, type=AccountType(d.type), no_negative=d.no_negative,
                             normal_balance=EntrySide(d.normal_balance))
                for d in sorted(CHART.values(), key=lambda d: d.code)]

    @strawberry.field(description=perm("ledger.read", "The tenant's funds."))
    @for_query
    async def funds(self, info: Info) -> list[Fund]:
        tenant, _ = info.context.require("ledger.read")
        if not await queries.list_funds(tenant):
            await services.ensure_standard_funds(tenant)
        return [Fund.from_row(r) for r in await queries.list_funds(tenant)]

    @strawberry.field(description=perm("ledger.read", "Accounts with their balances, within your subtree."))
    @for_query
    async def ledger_accounts(self, info: Info, filter: LedgerAccountFilter | None = None, first: int | None = 50,
                              after: str | None = None) -> Connection[LedgerAccount]:
        tenant, principal = info.context.require("ledger.read")
        page = page_args(first, after)
        f = filter or LedgerAccountFilter()
        flt = queries.AccountFilter(
            org_unit_id=from_global_id(f.org_unit_id, "OrgUnit", "orgUnitId")[1] if f.org_unit_id else None,
            subtree_path=(await _unit(tenant, f.subtree_of, "subtreeOf"))["path"] if f.subtree_of else None,
            fund_id=await _fund_id(tenant, f.fund), code=_text_arg("code", f.code, 8),
            type=f.type.value if f.type else None, nonzero=f.non_zero)
        rows, total = await queries.list_accounts(tenant, flt, scope_paths=principal.scope_paths("ledger.read"),
                                                  offset=page.offset, limit=page.limit)
        return connection([LedgerAccount.from_row(r) for r in rows], total, page)

    @strawberry.field(description=perm("ledger.read", "Entries touching your subtree, newest first."))
    @for_query
    async def ledger_entries(self, info: Info, filter: LedgerEntryFilter | None = None, first: int | None = 50,
                             after: str | None = None) -> Connection[LedgerEntry]:
        tenant, principal = info.context.require("ledger.read")
        page = page_args(first, after)
        f = filter or LedgerEntryFilter()
        flt = queries.EntryFilter(
            account_id=from_global_id(f.account_id, "LedgerAccount", "accountId")[1] if f.account_id else None,
            org_unit_id=from_global_id(f.org_unit_id, "OrgUnit", "orgUnitId")[1] if f.org_unit_id else None,
            subtree_path=(await _unit(tenant, f.subtree_of, "subtreeOf"))["path"] if f.subtree_of else None,
            fund_id=await _fund_id(tenant, f.fund), date_from=f.date_from, date_to=f.date_to,
            source_type=_text_arg("sourceType", f.source_type, 32), source_id=_text_arg("sourceId", f.source_id, 64),
            kind=f.kind.value if f.kind else None, key=_text_arg("idempotencyKey", f.idempotency_key, 200))
        rows, total = await queries.list_entries(tenant, flt, scope_paths=principal.scope_paths("ledger.read"),
                                                 offset=page.offset, limit=page.limit)
        return connection([LedgerEntry.from_row(r) for r in rows], total, page)

    @strawberry.field(description=perm("ledger.read", "Manual entries waiting for (or past) approval."))
    @for_query
    async def ledger_drafts(self, info: Info, status: DraftStatus | None = None, first: int | None = 50,
                            after: str | None = None) -> Connection[LedgerDraft]:
        tenant, principal = info.context.require("ledger.read")
        page = page_args(first, after)
        rows, total = await queries.list_drafts(tenant, status=status.value if status else None,
                                                scope_paths=principal.scope_paths("ledger.read"),
                                                offset=page.offset, limit=page.limit)
        return connection([LedgerDraft.from_row(r) for r in rows], total, page)

    @strawberry.field(description=perm("ledger.read", "Reservations within your subtree, newest first."))
    @for_query
    async def reservations(self, info: Info, filter: ReservationFilter | None = None, first: int | None = 50,
                           after: str | None = None) -> Connection[Reservation]:
        tenant, principal = info.context.require("ledger.read")
        page = page_args(first, after)
        f = filter or ReservationFilter()
        rows, total = await queries.list_reservations(
            tenant, status=f.status.value if f.status else None,
            org_unit_id=from_global_id(f.org_unit_id, "OrgUnit", "orgUnitId")[1] if f.org_unit_id else None,
            fund_id=await _fund_id(tenant, f.fund), source_type=_text_arg("sourceType", f.source_type, 32),
            source_id=_text_arg("sourceId", f.source_id, 64), scope_paths=principal.scope_paths("ledger.read"),
            offset=page.offset, limit=page.limit)
        return connection([Reservation.from_row(r) for r in rows], total, page)

    @strawberry.field(description=perm("ledger.read", "Budgets within your subtree."))
    @for_query
    async def budgets(self, info: Info, filter: BudgetFilter | None = None, first: int | None = 50,
                      after: str | None = None) -> Connection[Budget]:
        tenant, principal = info.context.require("ledger.read")
        page = page_args(first, after)
        f = filter or BudgetFilter()
        rows, total = await queries.list_budgets(
            tenant, year=f.year, org_unit_id=from_global_id(f.org_unit_id, "OrgUnit", "orgUnitId")[1] if f.org_unit_id else None,
            fund_id=await _fund_id(tenant, f.fund), scope_paths=principal.scope_paths("ledger.read"),
            offset=page.offset, limit=page.limit)
        return connection([Budget.from_row(r) for r in rows], total, page)

    @strawberry.field(description=perm("ledger.read", "Closed accounting months, latest first."))
    @for_query
    async def ledger_periods(self, info: Info) -> list[LedgerPeriod]:
        tenant, _ = info.context.require("ledger.read")
        return [LedgerPeriod(period=r["period"], closed_at=r["closed_at"], closed_by_id=_gid("User", r["closed_by"]))
                for r in await queries.list_periods(tenant)]

    @strawberry.field(description=perm("ledger.read", "Ledger settings of your tenant."))
    @for_query
    async def ledger_config(self, info: Info) -> LedgerConfig:
        tenant, _ = info.context.require("ledger.read")
        return LedgerConfig(manual_entry_threshold_fen=BigInt(await services.manual_threshold(tenant)))

    @strawberry.field(description=perm("ledger.verify", "Link pending entries, then recompute the whole hash chain and compare its anchored head; given a `checkpoint` document from `ledgerCheckpoint`, also prove the chain still holds its head (granted at the province root)."))
    @for_query
    async def ledger_verify(self, info: Info, checkpoint: str | None = None) -> LedgerVerification:
        from core.audit.graphql import parse_checkpoint_arg
        from core.funds.chain import verify

        tenant, _ = info.context.require("ledger.verify", await _root_path(info.context.authenticated()[0]))
        doc = parse_checkpoint_arg(checkpoint, "ledger", tenant)
        r = await verify(tenant, checkpoint=doc)
        return LedgerVerification(ok=r.ok, checked=r.checked, pending=r.pending, problems=r.problems[:100])

    @strawberry.field(description=perm("ledger.verify", "Link pending entries, then a signed checkpoint of the ledger "
                                       "chain's head, for an auditor to keep outside the platform (granted at the "
                                       "province root)."))
    @for_query
    async def ledger_checkpoint(self, info: Info) -> ChainCheckpoint:
        from core.audit.graphql import make_checkpoint
        from core.funds.chain import checkpoint

        tenant, _ = info.context.require("ledger.verify", await _root_path(info.context.authenticated()[0]))
        return await make_checkpoint(checkpoint, tenant)

    # Reports -------------------------------------------------------------------------------

    @strawberry.field(description=perm("report.read", "Trial balance (试算平衡表) over a subtree and date range."))
    @for_query
    async def trial_balance(self, info: Info, input: ReportInput) -> TrialBalance:
        tenant, scope, _ = await _report_scope(info, input)
        tb = await reports.trial_balance(tenant, scope)
        return TrialBalance(rows=[TrialBalanceRow(code=r.code, name=r.name, type=AccountType(r.type),
                                                  opening_fen=BigInt(r.opening_fen), debit_fen=BigInt(r.debit_fen),
                                                  credit_fen=BigInt(r.credit_fen), closing_fen=BigInt(r.closing_fen)) for r in tb.rows],
                            total_debit_fen=BigInt(tb.total_debit_fen), total_credit_fen=BigInt(tb.total_credit_fen), balanced=tb.balanced)

    @strawberry.field(description=perm("report.read", "Fund statement per org unit and fund: opening cash, income, spending, closing cash."))
    @for_query
    async def fund_statement(self, info: Info, input: ReportInput) -> list[FundStatementRow]:
        tenant, scope, _ = await _report_scope(info, input)
        return [FundStatementRow(opening_cash_fen=BigInt(r.opening_cash_fen), income_fen=BigInt(r.income_fen), expense_fen=BigInt(r.expense_fen),
                                 other_cash_fen=BigInt(r.other_cash_fen), closing_cash_fen=BigInt(r.closing_cash_fen),
                                 reserved_fen=BigInt(r.reserved_fen), unit_pk=r.org_unit_id, fund_pk=r.fund_id)
                for r in await reports.fund_statement(tenant, scope)]

    @strawberry.field(description=perm("report.read", "Spending by category 501-508."))
    @for_query
    async def expenditure_structure(self, info: Info, input: ReportInput) -> ExpenditureStructure:
        tenant, scope, _ = await _report_scope(info, input)
        es = await reports.expenditure_structure(tenant, scope)
        return ExpenditureStructure(total_fen=BigInt(es.total_fen), rows=[
            CategoryAmount(code=r.code, name=r.name, amount_fen=BigInt(r.amount_fen), share_bp=r.share_bp) for r in es.rows])

    @strawberry.field(description=perm("report.read", "Share of spending at grassroots level (经费向基层一线倾斜)."))
    @for_query
    async def grassroots_share(self, info: Info, input: ReportInput) -> GrassrootsShare:
        tenant, scope, _ = await _report_scope(info, input)
        g = await reports.grassroots_share(tenant, scope)
        return GrassrootsShare(total_spending_fen=BigInt(g.total_spending_fen), grassroots_spending_fen=BigInt(g.grassroots_spending_fen),
                               share_bp=g.share_bp, by_level=[LevelSpending(level=r.level, spending_fen=BigInt(r.spending_fen),
                                                                            share_bp=r.share_bp) for r in g.by_level])

    @strawberry.field(description=perm("report.read", "Money flowing up (levy shares, 上解) and down (补助下级, refunds)."))
    @for_query
    async def hierarchy_flows(self, info: Info, input: ReportInput) -> HierarchyFlows:
        tenant, scope, _ = await _report_scope(info, input)
        fl = await reports.flows(tenant, scope)
        return HierarchyFlows(up_fen=BigInt(fl.up_fen), down_fen=BigInt(fl.down_fen), rows=[
            FlowRow(direction=TransferDirection(r.direction), kind=r.kind, amount_fen=BigInt(r.amount_fen), count=r.count,
                    from_pk=r.from_unit_id, to_pk=r.to_unit_id) for r in fl.rows])

    @strawberry.field(description=perm("report.read", "A report as a CSV or XLSX file (base64)."),
                      deprecation_reason="Use the ledgerReportFileStart mutation: it writes the file in a job and "
                                         "serves it from an audited download route instead of base64 in the response.")
    @for_query
    async def ledger_report_export(self, info: Info, report: LedgerReport, format: ExportFormat,
                                   input: ReportInput) -> ReportFile:
        from core.funds.exports import export_report

        tenant, scope, unit = await _report_scope(info, input)
        f = await export_report(tenant, report.value, format.value, scope, unit["code"], await queries.fund_codes(tenant))
        return ReportFile(filename=f.filename, content_type=f.content_type,
                          content_base64=base64.b64encode(f.data).decode(), row_count=f.row_count)

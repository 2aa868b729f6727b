"""The funds Mutation fields."""

from __future__ import annotations

from typing import Any

import strawberry

from core.context import TenantContext
from core.dbutil import written
from core.errors import DomainError, ErrorCode, not_found
from core.funds import queries, services
from core.funds.graphql.helpers import (
    _entry_payload,
    _entry_row,
    _report_scope,
    _require_all,
    _root_path,
    _unit,
)
from core.funds.graphql.inputs import (
    BudgetInput,
    BudgetLiftInput,
    BudgetPayload,
    FundCreateInput,
    FundPayload,
    FundsJobPayload,
    LedgerConfigPayload,
    LedgerEntryInput,
    LedgerEntryPayload,
    LedgerEntryReverseInput,
    LedgerPeriodPayload,
    LedgerReportFilePayload,
    LedgerTransferInput,
    LedgerTransferPayload,
    LevyInput,
    LevyPayload,
    ReportInput,
    ReservationInput,
    ReservationPayload,
    ReservationPostInput,
    SmallPayerRefundInput,
    SmallPayerRefundPayload,
)
from core.funds.graphql.types import (
    Budget,
    ExportFormat,
    Fund,
    LedgerConfig,
    LedgerPeriod,
    LedgerReport,
    Reservation,
    TransferDirection,
    _gid,
)
from core.graphql.base import (
    BigInt,
    Info,
    from_global_id,
    perm,
    run_mutation,
)
from core.jobs.graphql import Job

# ---------------------------------------------------------------------------------------------
# Mutation
# ---------------------------------------------------------------------------------------------


@strawberry.type
class FundsMutation:
    @strawberry.mutation(description=perm("ledger.post", "Post a manual entry (units within your subtree). Above the tenant's threshold it waits for an approver and `draft` is returned."))
    async def ledger_entry_create(self, info: Info, input: LedgerEntryInput) -> LedgerEntryPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.post")
            refs = []
            for p in input.postings:
                if p.account_id is not None:
                    if p.org_unit_id is not None or p.fund is not None or p.code is not None:
                        # Two ways of naming the account in one line could disagree; picking one
                        # silently could post to an account the caller did not mean.
                        raise DomainError(ErrorCode.INVALID_INPUT, "give accountId, or orgUnitId with fund and code, "
                                          "not both", "accountId")
                    refs.append(services.AccountRef(account_id=from_global_id(p.account_id, "LedgerAccount", "accountId")[1]))
                else:
                    if p.org_unit_id is None:
                        raise DomainError(ErrorCode.INVALID_INPUT, "give accountId, or orgUnitId with fund and code",
                                          "accountId")
                    refs.append(services.AccountRef(org_unit_id=from_global_id(p.org_unit_id, "OrgUnit", "orgUnitId")[1],
                                                    fund=p.fund, code=p.code))
            amounts = services.signed_lines([(p.side.value, p.amount_fen) for p in input.postings])
            resolved = await services.resolve(tenant, refs)
            _require_all(info, "ledger.post", [r.unit["path"] for r in resolved])
            res = await services.create_manual_entry(
                tenant, info.context.actor, refs=refs, amounts=amounts, key=input.idempotency_key,
                entry_date=input.entry_date, memo=input.memo, source_type=input.source_type, source_id=input.source_id,
                resolved=resolved, origin=services.USER)
            return await _entry_payload(tenant, res.entry_id, res.draft_id)

        return await run_mutation(LedgerEntryPayload, work)

    @strawberry.mutation(description=perm("ledger.approve", "Approve (post) a pending manual entry; not your own (SELF_APPROVAL)."))
    async def ledger_draft_approve(self, info: Info, id: strawberry.ID) -> LedgerEntryPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.approve")
            draft = await queries.get_draft(tenant, from_global_id(id, "LedgerDraft")[1])
            if draft is None:
                raise not_found("draft entry")
            _require_all(info, "ledger.approve", await queries.draft_unit_paths(tenant, draft))
            res = await services.decide_draft(tenant, info.context.actor, draft["id"], approve=True)
            return await _entry_payload(tenant, res.entry_id, res.draft_id)

        return await run_mutation(LedgerEntryPayload, work)

    @strawberry.mutation(description=perm("ledger.approve", "Reject a pending manual entry, with a reason; not your own."))
    async def ledger_draft_reject(self, info: Info, id: strawberry.ID, reason: str) -> LedgerEntryPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.approve")
            draft = await queries.get_draft(tenant, from_global_id(id, "LedgerDraft")[1])
            if draft is None:
                raise not_found("draft entry")
            _require_all(info, "ledger.approve", await queries.draft_unit_paths(tenant, draft))
            res = await services.decide_draft(tenant, info.context.actor, draft["id"], approve=False, reason=reason)
            return await _entry_payload(tenant, None, res.draft_id)

        return await run_mutation(LedgerEntryPayload, work)

    @strawberry.mutation(description=perm("ledger.post", "Reverse an entry: post its mirror image, linked to it. A reversal cannot be reversed."))
    async def ledger_entry_reverse(self, info: Info, input: LedgerEntryReverseInput) -> LedgerEntryPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.post")
            row = await _entry_row(info, from_global_id(input.id, "LedgerEntry")[1])
            _require_all(info, "ledger.post", await queries.entry_unit_paths(tenant, row["id"]))
            res = await services.reverse_entry(tenant, info.context.actor, row["id"], key=input.idempotency_key,
                                               memo=input.memo, entry_date=input.entry_date, origin=services.USER)
            return await _entry_payload(tenant, res.entry_id, res.draft_id)

        return await run_mutation(LedgerEntryPayload, work)

    @strawberry.mutation(description=perm("ledger.post", "Transfer between levels, both sides in one entry: to an ancestor (上解) or to a descendant (补助下级). You need ledger.post at the paying unit."))
    async def ledger_transfer(self, info: Info, input: LedgerTransferInput) -> LedgerTransferPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.post")
            src = await _unit(tenant, input.from_org_unit_id, "fromOrgUnitId")
            dst = await _unit(tenant, input.to_org_unit_id, "toOrgUnitId")
            info.context.require("ledger.post", src["path"])
            res = await services.transfer(
                tenant, info.context.actor, from_unit=src, to_unit=dst, fund=input.fund, amount_fen=input.amount_fen,
                key=input.idempotency_key, memo=input.memo, entry_date=input.entry_date, origin=services.USER)
            return {**await _entry_payload(tenant, res.entry_id, res.draft_id),
                    "direction": TransferDirection(res.direction)}

        return await run_mutation(LedgerTransferPayload, work)

    @strawberry.mutation(description=perm("ledger.post", "Record a grassroots union's levy (拨缴经费) and split it between levels (hook fund_levy_split; national default 60/40)."))
    async def levy_record(self, info: Info, input: LevyInput) -> LevyPayload:
        async def work() -> dict[str, Any]:
            from core.tenancy.queries import get_unit

            tenant, _ = info.context.require("ledger.post")
            unit = await _unit(tenant, input.org_unit_id)
            info.context.require("ledger.post", unit["path"])
            parent = await get_unit(tenant, unit["parent_id"]) if unit["parent_id"] else None
            if parent is None:
                raise DomainError(ErrorCode.INVALID_HIERARCHY, "the union has no upper level", "orgUnitId")
            r = await services.record_levy(
                tenant, info.context.actor, unit=unit, parent=parent, period_start=input.period_start,
                period_end=input.period_end, payroll_fen=input.payroll_fen, levy_fen=input.levy_fen,
                key=input.idempotency_key, upward_settled=input.upward_settled, entry_date=input.entry_date,
                origin=services.USER)
            return {**await _entry_payload(tenant, r.entry_id), "levy_fen": r.levy_fen,
                    "grassroots_fen": r.grassroots_fen, "upward_fen": r.upward_fen, "rule": r.rule}

        return await run_mutation(LevyPayload, work)

    @strawberry.mutation(description=perm("ledger.post", "Small-payer full refund (小额缴费工会全额返还) for one policy year, if hook fund_small_payer_refund allows it (NOT_ELIGIBLE otherwise). You need ledger.post at every level that pays back."))
    async def small_payer_refund(self, info: Info, input: SmallPayerRefundInput) -> SmallPayerRefundPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.post")
            unit = await _unit(tenant, input.org_unit_id)
            r = await services.small_payer_refund(
                tenant, info.context.actor, unit=unit, policy_year=input.policy_year, is_soe=input.is_soe,
                is_budget_funded=input.is_budget_funded, claims_micro_refund=input.claims_micro_refund,
                staff_count=input.staff_count, entry_date=input.entry_date,
                authorize=lambda payers: _require_all(info, "ledger.post", [u["path"] for u in payers]))
            return {**await _entry_payload(tenant, r.entry_id, r.draft_id), "upward_paid_fen": r.upward_paid_fen}

        return await run_mutation(SmallPayerRefundPayload, work)

    @strawberry.mutation(description=perm("ledger.reserve", "Reserve money of a fund at a unit for a later payment."))
    async def reservation_create(self, info: Info, input: ReservationInput) -> ReservationPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.reserve")
            unit = await _unit(tenant, input.org_unit_id)
            info.context.require("ledger.reserve", unit["path"])
            res_id = await services.reserve(
                tenant, info.context.actor, unit=unit, fund=input.fund, amount_fen=input.amount_fen,
                expense_code=input.expense_code, key=input.idempotency_key, funding_code=input.funding_code,
                expires_at=input.expires_at, memo=input.memo, source_type=input.source_type, source_id=input.source_id,
                origin=services.USER)
            return {"reservation": Reservation.from_row(written(await queries.get_reservation(tenant, res_id), "reservation"))}

        return await run_mutation(ReservationPayload, work)

    @strawberry.mutation(description=perm("ledger.approve", "Approve a reservation above the approval threshold so it can be paid; not your own (SELF_APPROVAL). To refuse it, void it."))
    async def reservation_approve(self, info: Info, id: strawberry.ID) -> ReservationPayload:
        async def work() -> dict[str, Any]:
            from core.tenancy.queries import get_unit

            tenant, _ = info.context.require("ledger.approve")
            res = await queries.get_reservation(tenant, from_global_id(id, "Reservation")[1])
            if res is None:
                raise not_found("reservation")
            unit = await get_unit(tenant, res["org_unit_id"])
            info.context.require("ledger.approve", unit["path"] if unit else None)
            row = await services.approve_reservation(tenant, info.context.actor, res["id"])
            return {"reservation": Reservation.from_row(row)}

        return await run_mutation(ReservationPayload, work)

    @strawberry.mutation(description=perm("ledger.reserve", "Pay from a reservation, fully or in part."))
    async def reservation_post(self, info: Info, input: ReservationPostInput) -> ReservationPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.reserve")
            res = await _reservation(info, tenant, input.id)
            entry_id = await services.post_reservation(
                tenant, info.context.actor, res["id"], key=input.idempotency_key, amount_fen=input.amount_fen,
                final=input.final, memo=input.memo, entry_date=input.entry_date)
            return {"reservation": Reservation.from_row(written(await queries.get_reservation(tenant, res["id"]), "reservation")),
                    **await _entry_payload(tenant, entry_id)}

        return await run_mutation(ReservationPayload, work)

    @strawberry.mutation(description=perm("ledger.reserve", "Void a reservation: release what is left."))
    async def reservation_void(self, info: Info, id: strawberry.ID, reason: str | None = None) -> ReservationPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("ledger.reserve")
            res = await _reservation(info, tenant, id)
            row = await services.void_reservation(tenant, info.context.actor, res["id"], reason=reason)
            return {"reservation": Reservation.from_row(row)}

        return await run_mutation(ReservationPayload, work)

    @strawberry.mutation(description=perm("budget.write", "Set the annual budget of a fund at a unit."))
    async def budget_set(self, info: Info, input: BudgetInput) -> BudgetPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("budget.write")
            unit = await _unit(tenant, input.org_unit_id)
            info.context.require("budget.write", unit["path"])
            bid = await services.set_budget(tenant, info.context.actor, unit=unit, fund=input.fund, year=input.year,
                                            amount_fen=input.amount_fen)
            return {"budget": Budget.from_row(written(await queries.get_budget(tenant, bid), "budget"))}

        return await run_mutation(BudgetPayload, work)

    @strawberry.mutation(description=perm("budget.lift", "Lift (raise) a budget so spending past it is allowed; audited with the reason."))
    async def budget_lift(self, info: Info, input: BudgetLiftInput) -> BudgetPayload:
        async def work() -> dict[str, Any]:
            from core.tenancy.queries import get_unit

            tenant, _ = info.context.require("budget.lift")
            b = await queries.get_budget(tenant, from_global_id(input.id, "Budget")[1])
            if b is None:
                raise not_found("budget")
            unit = await get_unit(tenant, b["org_unit_id"])
            info.context.require("budget.lift", unit["path"] if unit else None)
            bid = await services.lift_budget(tenant, info.context.actor, b["id"], amount_fen=input.amount_fen,
                                             reason=input.reason)
            return {"budget": Budget.from_row(written(await queries.get_budget(tenant, bid), "budget"))}

        return await run_mutation(BudgetPayload, work)

    @strawberry.mutation(description=perm("ledger.close", "Close an accounting month for the whole tenant (granted at the province root)."))
    async def ledger_period_close(self, info: Info, period: str) -> LedgerPeriodPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            info.context.require("ledger.close", await _root_path(tenant))
            r = await services.close_period(tenant, info.context.actor, period)
            return {"period": LedgerPeriod(period=r["period"], closed_at=r["closed_at"],
                                           closed_by_id=_gid("User", r["closed_by"]))}

        return await run_mutation(LedgerPeriodPayload, work)

    @strawberry.mutation(description=perm("ledger.post", "Start the yearly special-fund allocation for a year that has ended (granted at the province root). Each run allocates per unit only what is still due, so running again after late income or a skipped unit tops up. Poll `job(id)`."))
    async def special_allocation_run(self, info: Info, year: int) -> FundsJobPayload:
        async def work() -> dict[str, Any]:
            from core.dbutil import utcnow
            from core.funds.jobs import SPECIAL_ALLOCATION, special_allocation_key
            from core.jobs.runner import enqueue, get_job
            from core.jobs.tables import JobRecord

            tenant, principal = info.context.authenticated()
            info.context.require("ledger.post", await _root_path(tenant))
            services.check_allocation_year(year)
            # Every run recomputes what is still due, so a run after the year-end one (late levies,
            # units skipped for lack of cash) must start a new job, not find the finished one. A run
            # already queued or running for the year is returned instead of a second one.
            base = special_allocation_key(year)
            busy = await JobRecord.select(JobRecord.id).where(
                (JobRecord.tenant_id == tenant.id) & (JobRecord.name == SPECIAL_ALLOCATION)
                & JobRecord.status.is_in(["queued", "running"])
                & ((JobRecord.job_key == base) | JobRecord.job_key.like(f"{base}:%"))).first()
            if busy is not None:
                job_id = busy["id"]
            else:
                job_id = await enqueue(tenant, SPECIAL_ALLOCATION, year, key=f"{base}:{utcnow().isoformat()}",
                                       created_by=principal.user_id)
            return {"job": Job.from_row(written(await get_job(tenant, job_id), "job"))}

        return await run_mutation(FundsJobPayload, work)

    @strawberry.mutation(description=perm("report.read", "Write a report of a subtree as a CSV or XLSX file in a job "
                                                         "(report.read over the unit asked for). Poll `job(id)`, then "
                                                         "download `downloadUrl`; every download is audited."))
    async def ledger_report_file_start(self, info: Info, report: LedgerReport, format: ExportFormat,
                                       input: ReportInput) -> LedgerReportFilePayload:
        async def work() -> dict[str, Any]:
            from core.funds.exports import download_url, start_report_file
            from core.jobs.runner import get_job

            tenant, scope, unit = await _report_scope(info, input)
            job_id = await start_report_file(tenant, info.context.actor, report.value, format.value, scope, unit)
            return {"job": Job.from_row(written(await get_job(tenant, job_id), "job")), "download_url": download_url(job_id)}

        return await run_mutation(LedgerReportFilePayload, work)

    @strawberry.mutation(description=perm("fund.write", "Create a fund for a mutual-aid plan (granted at the province root)."))
    async def fund_create(self, info: Info, input: FundCreateInput) -> FundPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            info.context.require("fund.write", await _root_path(tenant))
            row = await services.create_fund(tenant, info.context.actor, kind=input.kind.value, code=input.code,
                                             name=input.name)
            return {"fund": Fund.from_row(row)}

        return await run_mutation(FundPayload, work)

    @strawberry.mutation(description=perm("ledger.configure", "Set the approval threshold for money moving out (null: platform default)."))
    async def ledger_config_update(self, info: Info, manual_entry_threshold_fen: BigInt | None) -> LedgerConfigPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            info.context.require("ledger.configure", await _root_path(tenant))
            value = await services.set_manual_threshold(tenant, info.context.actor, manual_entry_threshold_fen)
            return {"config": LedgerConfig(manual_entry_threshold_fen=BigInt(value))}

        return await run_mutation(LedgerConfigPayload, work)


async def _reservation(info: Info, tenant: TenantContext, gid: Any) -> dict[str, Any]:
    from core.tenancy.queries import get_unit

    res = await queries.get_reservation(tenant, from_global_id(gid, "Reservation")[1])
    if res is None:
        raise not_found("reservation")
    unit = await get_unit(tenant, res["org_unit_id"])
    info.context.require("ledger.reserve", unit["path"] if unit else None)
    return res

"""GraphQL inputs and mutation payloads of union funds."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.funds.graphql.types import (
    AccountType,
    Budget,
    EntryKind,
    EntrySide,
    Fund,
    FundKind,
    LedgerConfig,
    LedgerDraft,
    LedgerEntry,
    LedgerPeriod,
    Reservation,
    ReservationStatus,
    TransferDirection,
)
from core.graphql.base import (
    BigInt,
    UserError,
)
from core.jobs.graphql import Job

# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@strawberry.input(description="An account by id, or by org unit + fund code + account code (created on first use).")
class PostingInput:
    side: EntrySide
    amount_fen: BigInt = strawberry.field(description="Positive fen.")
    account_id: strawberry.ID | None = None
    org_unit_id: strawberry.ID | None = None
    fund: str | None = strawberry.field(default=None, description="Fund code, e.g. `general`, `hardship`.")
    code: str | None = strawberry.field(default=None, description="Account code, e.g. `102`, `501`.")


@strawberry.input
class LedgerEntryInput:
    idempotency_key: str = strawberry.field(description="Unique per tenant: repeating the request returns the first result.")
    postings: list[PostingInput]
    memo: str | None = None
    entry_date: dt.date | None = strawberry.field(default=None, description="Defaults to today (China time).")
    source_type: str | None = None
    source_id: str | None = None


@strawberry.input
class LedgerEntryReverseInput:
    id: strawberry.ID
    idempotency_key: str
    memo: str | None = None
    entry_date: dt.date | None = None


@strawberry.input
class LedgerTransferInput:
    from_org_unit_id: strawberry.ID
    to_org_unit_id: strawberry.ID = strawberry.field(description="An ancestor (上解) or a descendant (补助下级).")
    amount_fen: BigInt
    idempotency_key: str
    fund: str = "general"
    memo: str | None = None
    entry_date: dt.date | None = None


@strawberry.input
class LevyInput:
    org_unit_id: strawberry.ID = strawberry.field(description="The grassroots union.")
    period_start: dt.date
    period_end: dt.date
    payroll_fen: BigInt
    idempotency_key: str
    levy_fen: BigInt | None = strawberry.field(default=None, description="Defaults to 2 % of payrollFen.")
    upward_settled: bool = strawberry.field(default=True, description="True: the collector paid the upper level its share directly (税务代征); false: the union owes it (221) until 上解.")
    entry_date: dt.date | None = None


@strawberry.input
class SmallPayerRefundInput:
    org_unit_id: strawberry.ID
    policy_year: int = strawberry.field(description="2024 = 2024-10-01 .. 2025-09-30.")
    is_soe: bool = False
    is_budget_funded: bool = False
    claims_micro_refund: bool = False
    staff_count: int | None = None
    entry_date: dt.date | None = None


@strawberry.input
class ReservationInput:
    org_unit_id: strawberry.ID
    fund: str
    amount_fen: BigInt
    expense_code: str = strawberry.field(description="The spending account (501-508) a payment will go to.")
    idempotency_key: str
    funding_code: str = "102"
    expires_at: dt.datetime | None = None
    memo: str | None = None
    source_type: str | None = None
    source_id: str | None = None


@strawberry.input
class ReservationPostInput:
    id: strawberry.ID
    idempotency_key: str
    amount_fen: BigInt | None = strawberry.field(default=None, description="Defaults to what remains.")
    final: bool = strawberry.field(default=False, description="Release whatever remains after this payment.")
    memo: str | None = None
    entry_date: dt.date | None = None


@strawberry.input
class BudgetInput:
    org_unit_id: strawberry.ID
    fund: str
    year: int
    amount_fen: BigInt


@strawberry.input
class BudgetLiftInput:
    id: strawberry.ID
    amount_fen: BigInt
    reason: str


@strawberry.input
class FundCreateInput:
    kind: FundKind
    code: str = strawberry.field(description="For a mutual-aid plan: the plan code (stored as `mutual_aid.<code>`).")
    name: str


@strawberry.input
class LedgerAccountFilter:
    org_unit_id: strawberry.ID | None = None
    subtree_of: strawberry.ID | None = None
    fund: str | None = None
    code: str | None = None
    type: AccountType | None = None
    non_zero: bool = False


@strawberry.input
class LedgerEntryFilter:
    account_id: strawberry.ID | None = None
    org_unit_id: strawberry.ID | None = None
    subtree_of: strawberry.ID | None = None
    fund: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    source_type: str | None = None
    source_id: str | None = None
    kind: EntryKind | None = None
    idempotency_key: str | None = None


@strawberry.input
class ReservationFilter:
    status: ReservationStatus | None = None
    org_unit_id: strawberry.ID | None = None
    fund: str | None = None
    source_type: str | None = None
    source_id: str | None = None


@strawberry.input
class BudgetFilter:
    year: int | None = None
    org_unit_id: strawberry.ID | None = None
    fund: str | None = None


@strawberry.input(description="Report scope: a subtree (default: your own top unit), a date range, optionally one fund.")
class ReportInput:
    date_to: dt.date
    date_from: dt.date | None = strawberry.field(default=None, description="Omitted: from the first entry.")
    subtree_of: strawberry.ID | None = None
    fund: str | None = None


# ---------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------


@strawberry.type
class LedgerEntryPayload:
    entry: LedgerEntry | None = None
    draft: LedgerDraft | None = strawberry.field(default=None, description="Set when the entry waits for approval.")
    errors: list[UserError]


@strawberry.type
class LedgerTransferPayload:
    entry: LedgerEntry | None = None
    draft: LedgerDraft | None = strawberry.field(default=None, description="Set when the transfer is above the approval threshold and waits for an approver.")
    direction: TransferDirection | None = None
    errors: list[UserError]


@strawberry.type
class LevyPayload:
    entry: LedgerEntry | None = None
    levy_fen: BigInt | None = None
    grassroots_fen: BigInt | None = None
    upward_fen: BigInt | None = None
    rule: str | None = strawberry.field(default=None, description="The split rule applied (from hook fund_levy_split).")
    errors: list[UserError]


@strawberry.type
class SmallPayerRefundPayload:
    entry: LedgerEntry | None = None
    draft: LedgerDraft | None = strawberry.field(default=None, description="Set when the refund is above the approval threshold and waits for an approver.")
    upward_paid_fen: BigInt | None = None
    errors: list[UserError]


@strawberry.type
class ReservationPayload:
    reservation: Reservation | None = None
    entry: LedgerEntry | None = None
    errors: list[UserError]


@strawberry.type
class BudgetPayload:
    budget: Budget | None = None
    errors: list[UserError]


@strawberry.type
class LedgerPeriodPayload:
    period: LedgerPeriod | None = None
    errors: list[UserError]


@strawberry.type
class FundPayload:
    fund: Fund | None = None
    errors: list[UserError]


@strawberry.type
class LedgerConfigPayload:
    config: LedgerConfig | None = None
    errors: list[UserError]


@strawberry.type
class FundsJobPayload:
    job: Job | None = None
    errors: list[UserError]


@strawberry.type(description="A report file being written. Poll `job(id)`; once it has SUCCEEDED, GET `downloadUrl` "
                             "(with the same bearer token).")
class LedgerReportFilePayload:
    job: Job | None = None
    download_url: str | None = strawberry.field(default=None, description="`/report-files/<id>`: the file, for you only.")
    errors: list[UserError]

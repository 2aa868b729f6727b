"""GraphQL for union funds: accounts, entries, balances, reservations, budgets, periods, reports.

Roles (core/permissions.py): finance posts (ledger.post, ledger.reserve, budget.write,
ledger.close), approvers approve manual entries above the threshold and lift budgets, auditors read
everything, clerks read their own subtree. Amounts are BigInt fen; posting inputs carry a side and a
positive amount.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
from typing import Any

import strawberry

from core.audit.graphql import ChainCheckpoint
from core.context import TenantContext
from core.errors import DomainError, ErrorCode, not_found
from core.funds import queries, reports, services
from core.funds.posting import shown_key
from core.graphql.base import (
    BigInt,
    Connection,
    Info,
    Node,
    UserError,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
)
from core.jobs.graphql import Job
from core.tenancy import queries as unit_queries
from core.tenancy.graphql import OrgUnit

# ---------------------------------------------------------------------------------------------
# Enums
# ---------------------------------------------------------------------------------------------


@strawberry.enum(description="What a fund is for.")
class FundKind(enum.Enum):
    GENERAL = "general"
    HARDSHIP = "hardship"
    WARMTH = "warmth"
    MUTUAL_AID = "mutual_aid"
    PROCUREMENT = "procurement"


@strawberry.enum(description="Account class in the union accounting system (工会会计制度).")
class AccountType(enum.Enum):
    ASSET = "asset"
    LIABILITY = "liability"
    NET_ASSET = "net_asset"
    INCOME = "income"
    EXPENSE = "expense"


@strawberry.enum(description="Debit or credit.")
class EntrySide(enum.Enum):
    DEBIT = "debit"
    CREDIT = "credit"


@strawberry.enum(description="Where an entry came from.")
class EntryKind(enum.Enum):
    MANUAL = "manual"
    LEVY = "levy"
    TRANSFER_UP = "transfer_up"
    TRANSFER_DOWN = "transfer_down"
    SMALL_PAYER_REFUND = "small_payer_refund"
    SPECIAL_ALLOCATION = "special_allocation"
    PAYOUT = "payout"
    REVERSAL = "reversal"
    SYSTEM = "system"


@strawberry.enum
class DraftStatus(enum.Enum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


@strawberry.enum
class ReservationStatus(enum.Enum):
    PENDING_APPROVAL = "pending_approval"
    OPEN = "open"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@strawberry.enum
class TransferDirection(enum.Enum):
    UP = "up"
    DOWN = "down"


@strawberry.enum(description="Ledger reports that can be exported.")
class LedgerReport(enum.Enum):
    TRIAL_BALANCE = "trial_balance"
    FUND_STATEMENT = "fund_statement"
    EXPENDITURE_STRUCTURE = "expenditure_structure"
    GRASSROOTS_SHARE = "grassroots_share"
    FLOWS = "flows"


@strawberry.enum
class ExportFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"


def _gid(type_name: str, pk: int | None) -> strawberry.ID | None:
    return strawberry.ID(to_global_id(type_name, pk)) if pk else None


# ---------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------


async def _load_unit(info: Info, pk: int) -> OrgUnit | None:
    row = await info.context.loader("org_unit_by_id", unit_queries.units_by_ids).load(pk)
    return OrgUnit.from_row(row) if row else None


async def _load_fund(info: Info, pk: int) -> Fund | None:
    row = await info.context.loader("fund_by_id", queries.funds_by_ids).load(pk)
    return Fund.from_row(row) if row else None


async def _load_account(info: Info, pk: int) -> LedgerAccount | None:
    row = await info.context.loader("ledger_account_by_id", queries.accounts_by_ids).load(pk)
    return LedgerAccount.from_row(row) if row else None


@strawberry.type(description="A fund: 工会经费 (general), 帮扶资金 (hardship special fund), 送温暖, one per mutual-aid plan, the procurement budget.")
class Fund(Node):
    id: strawberry.ID
    code: str
    kind: FundKind
    name: str
    active: bool

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Fund:
        return cls(id=strawberry.ID(to_global_id("Fund", r["id"])), code=r["code"], kind=FundKind(r["kind"]),
                   name=r["name"], active=r["active"])


@strawberry.type(description="An account: (org unit, fund, account code). Balances are in fen.")
class LedgerAccount(Node):
    id: strawberry.ID
    code: str
    name: str
    type: AccountType
    normal_balance: EntrySide = strawberry.field(description="The side the balance normally sits on.")
    no_negative: bool = strawberry.field(description="The available balance may never go below zero.")
    balance_fen: BigInt = strawberry.field(description="Balance on the normal side (negative if it swung over).")  # type: ignore[valid-type]
    debit_balance_fen: BigInt = strawberry.field(description="Sum of postings, debits positive.")  # type: ignore[valid-type]
    reserved_fen: BigInt = strawberry.field(description="Held by open reservations.")  # type: ignore[valid-type]
    available_fen: BigInt = strawberry.field(description="balanceFen - reservedFen.")  # type: ignore[valid-type]
    pk: strawberry.Private[int]
    unit_pk: strawberry.Private[int]
    fund_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LedgerAccount:
        normal = r["normal_sign"] * r["balance_fen"]
        return cls(id=strawberry.ID(to_global_id("LedgerAccount", r["id"])), code=r["code"], name=r["name"],
                   type=AccountType(r["type"]), normal_balance=EntrySide.DEBIT if r["normal_sign"] == 1 else EntrySide.CREDIT,
                   no_negative=r["no_negative"], balance_fen=normal, debit_balance_fen=r["balance_fen"],
                   reserved_fen=r["reserved_fen"], available_fen=normal - r["reserved_fen"], pk=r["id"],
                   unit_pk=r["org_unit_id"], fund_pk=r["fund_id"])

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.unit_pk)

    @strawberry.field
    async def fund(self, info: Info) -> Fund | None:
        return await _load_fund(info, self.fund_pk)


@strawberry.type(description="One line of an entry.")
class LedgerPosting:
    code: str
    side: EntrySide
    amount_fen: BigInt = strawberry.field(description="Always positive; see `side`.")  # type: ignore[valid-type]
    signed_amount_fen: BigInt = strawberry.field(description="Debit positive, credit negative.")  # type: ignore[valid-type]
    account_pk: strawberry.Private[int]
    unit_pk: strawberry.Private[int]
    fund_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LedgerPosting:
        a = r["amount_fen"]
        return cls(code=r["code"], side=EntrySide.DEBIT if a > 0 else EntrySide.CREDIT, amount_fen=abs(a),
                   signed_amount_fen=a, account_pk=r["account_id"], unit_pk=r["org_unit_id"], fund_pk=r["fund_id"])

    @strawberry.field
    async def account(self, info: Info) -> LedgerAccount | None:
        return await _load_account(info, self.account_pk)

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.unit_pk)

    @strawberry.field
    async def fund(self, info: Info) -> Fund | None:
        return await _load_fund(info, self.fund_pk)


@strawberry.type(description="An immutable, balanced ledger entry. Corrections are reversing entries.")
class LedgerEntry(Node):
    id: strawberry.ID
    idempotency_key: str
    kind: EntryKind
    memo: str
    source_type: str = strawberry.field(description="e.g. `aid_grant`, `claim`, `campaign_payment`, `milestone`.")
    source_id: str
    entry_date: dt.date
    created_at: dt.datetime
    created_by_id: strawberry.ID | None = strawberry.field(description="The maker (a User id).")
    approved_by_id: strawberry.ID | None = strawberry.field(description="The checker, for approved manual entries.")
    pk: strawberry.Private[int]
    reverses_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LedgerEntry:
        return cls(id=strawberry.ID(to_global_id("LedgerEntry", r["id"])),
                   idempotency_key=shown_key(r["idempotency_key"]),
                   kind=EntryKind(r["kind"]), memo=r["memo"], source_type=r["source_type"], source_id=r["source_id"],
                   entry_date=services._as_date(r["entry_date"]), created_at=r["created_at"],
                   created_by_id=_gid("User", r["created_by"]), approved_by_id=_gid("User", r["approved_by"]),
                   pk=r["id"], reverses_pk=r["reverses_id"])

    @strawberry.field
    async def postings(self, info: Info) -> list[LedgerPosting]:
        rows = await info.context.loader("ledger_postings_by_entry", queries.postings_for_entries).load(self.pk)
        return [LedgerPosting.from_row(r) for r in rows]

    @strawberry.field(description="Sum of the debits.")
    async def total_fen(self, info: Info) -> BigInt:  # type: ignore[valid-type]
        rows = await info.context.loader("ledger_postings_by_entry", queries.postings_for_entries).load(self.pk)
        return sum(r["amount_fen"] for r in rows if r["amount_fen"] > 0)

    @strawberry.field(description="The entry this one reverses.")
    async def reverses(self, info: Info) -> LedgerEntry | None:
        if self.reverses_pk is None:
            return None
        row = await info.context.loader("ledger_entry_by_id", queries.entries_by_ids).load(self.reverses_pk)
        return LedgerEntry.from_row(row) if row else None

    @strawberry.field(description="The entry that reverses this one, if any.")
    async def reversed_by(self, info: Info) -> LedgerEntry | None:
        row = await info.context.loader("ledger_reversal_of", queries.reversals_of).load(self.pk)
        return LedgerEntry.from_row(row) if row else None

    @strawberry.field(description="Position in the tenant's hash chain; null until linked (normally milliseconds).")
    async def chain_seq(self, info: Info) -> BigInt | None:  # type: ignore[valid-type]
        row = await info.context.loader("ledger_chain_of", queries.chain_links).load(self.pk)
        return row["seq"] if row else None

    @strawberry.field
    async def chain_hash(self, info: Info) -> str | None:
        row = await info.context.loader("ledger_chain_of", queries.chain_links).load(self.pk)
        return row["hash"] if row else None


@strawberry.type
class DraftLine:
    side: EntrySide
    amount_fen: BigInt  # type: ignore[valid-type]
    account_pk: strawberry.Private[int]

    @strawberry.field
    async def account(self, info: Info) -> LedgerAccount | None:
        return await _load_account(info, self.account_pk)


@strawberry.type(description="An entry above the tenant's approval threshold (a manual entry, reversal, transfer between levels or small-payer refund), waiting for a second person (maker-checker).")
class LedgerDraft(Node):
    id: strawberry.ID
    idempotency_key: str
    kind: EntryKind = strawberry.field(description="The entry it becomes once approved.")
    status: DraftStatus
    entry_date: dt.date
    memo: str
    source_type: str
    source_id: str
    total_fen: BigInt  # type: ignore[valid-type]
    postings: list[DraftLine]
    created_by_id: strawberry.ID | None
    decided_by_id: strawberry.ID | None
    decided_at: dt.datetime | None
    reason: str
    created_at: dt.datetime
    entry_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LedgerDraft:
        import json

        lines = r["postings"] if isinstance(r["postings"], list) else json.loads(r["postings"])
        return cls(id=strawberry.ID(to_global_id("LedgerDraft", r["id"])),
                   idempotency_key=shown_key(r["idempotency_key"]), kind=EntryKind(r.get("kind") or "manual"),
                   status=DraftStatus(r["status"]), entry_date=services._as_date(r["entry_date"]), memo=r["memo"],
                   source_type=r["source_type"], source_id=r["source_id"], total_fen=r["total_fen"],
                   postings=[DraftLine(side=EntrySide.DEBIT if m > 0 else EntrySide.CREDIT, amount_fen=abs(m),
                                       account_pk=a) for a, m in lines],
                   created_by_id=_gid("User", r["created_by"]), decided_by_id=_gid("User", r["decided_by"]),
                   decided_at=r["decided_at"], reason=r["reason"], created_at=r["created_at"], entry_pk=r["entry_id"])

    @strawberry.field(description="The posted entry, once approved.")
    async def entry(self, info: Info) -> LedgerEntry | None:
        if not self.entry_pk:
            return None
        row = await info.context.loader("ledger_entry_by_id", queries.entries_by_ids).load(self.entry_pk)
        return LedgerEntry.from_row(row) if row else None


@strawberry.type(description="Money held for a later payment (two-phase: reserve → post, fully or in parts → void). Above the approval threshold it starts PENDING_APPROVAL and cannot be paid until a second person approves it.")
class Reservation(Node):
    id: strawberry.ID
    idempotency_key: str
    status: ReservationStatus
    approved_by_id: strawberry.ID | None = strawberry.field(description="The checker, for a reservation above the approval threshold.")
    amount_fen: BigInt  # type: ignore[valid-type]
    posted_fen: BigInt  # type: ignore[valid-type]
    remaining_fen: BigInt  # type: ignore[valid-type]
    expires_at: dt.datetime | None
    memo: str
    source_type: str
    source_id: str
    created_at: dt.datetime
    account_pk: strawberry.Private[int]
    expense_pk: strawberry.Private[int]
    unit_pk: strawberry.Private[int]
    fund_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Reservation:
        open_ = r["status"] in ("open", "pending_approval")
        return cls(id=strawberry.ID(to_global_id("Reservation", r["id"])),
                   idempotency_key=shown_key(r["idempotency_key"]), status=ReservationStatus(r["status"]),
                   approved_by_id=_gid("User", r.get("approved_by")), amount_fen=r["amount_fen"], posted_fen=r["posted_fen"],
                   remaining_fen=(r["amount_fen"] - r["posted_fen"]) if open_ else 0, expires_at=r["expires_at"],
                   memo=r["memo"], source_type=r["source_type"], source_id=r["source_id"], created_at=r["created_at"],
                   account_pk=r["account_id"], expense_pk=r["expense_account_id"], unit_pk=r["org_unit_id"],
                   fund_pk=r["fund_id"])

    @strawberry.field(description="The account the money is held on (cash of the fund).")
    async def account(self, info: Info) -> LedgerAccount | None:
        return await _load_account(info, self.account_pk)

    @strawberry.field(description="The spending account a payment is posted to.")
    async def expense_account(self, info: Info) -> LedgerAccount | None:
        return await _load_account(info, self.expense_pk)

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.unit_pk)

    @strawberry.field
    async def fund(self, info: Info) -> Fund | None:
        return await _load_fund(info, self.fund_pk)


@strawberry.type(description="An audited raise of a budget by an approver.")
class BudgetLift:
    amount_fen: BigInt  # type: ignore[valid-type]
    reason: str
    lifted_by_id: strawberry.ID | None
    created_at: dt.datetime


@strawberry.type(description="The annual budget of one fund at one org unit; spending (5xx) past the limit is refused.")
class Budget(Node):
    id: strawberry.ID
    year: int
    amount_fen: BigInt  # type: ignore[valid-type]
    lifted_fen: BigInt  # type: ignore[valid-type]
    limit_fen: BigInt = strawberry.field(description="amountFen + liftedFen.")  # type: ignore[valid-type]
    spent_fen: BigInt  # type: ignore[valid-type]
    reserved_fen: BigInt  # type: ignore[valid-type]
    remaining_fen: BigInt = strawberry.field(description="limitFen - spentFen - reservedFen.")  # type: ignore[valid-type]
    pk: strawberry.Private[int]
    unit_pk: strawberry.Private[int]
    fund_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Budget:
        limit = r["amount_fen"] + r["lifted_fen"]
        return cls(id=strawberry.ID(to_global_id("Budget", r["id"])), year=r["year"], amount_fen=r["amount_fen"],
                   lifted_fen=r["lifted_fen"], limit_fen=limit, spent_fen=r["spent_fen"], reserved_fen=r["reserved_fen"],
                   remaining_fen=limit - r["spent_fen"] - r["reserved_fen"], pk=r["id"], unit_pk=r["org_unit_id"],
                   fund_pk=r["fund_id"])

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.unit_pk)

    @strawberry.field
    async def fund(self, info: Info) -> Fund | None:
        return await _load_fund(info, self.fund_pk)

    @strawberry.field
    async def lifts(self, info: Info) -> list[BudgetLift]:
        info.context.authenticated()
        rows = await info.context.loader("ledger_budget_lifts", queries.budget_lifts_of).load(self.pk)
        return [BudgetLift(amount_fen=r["amount_fen"], reason=r["reason"], lifted_by_id=_gid("User", r["lifted_by"]),
                           created_at=r["created_at"]) for r in rows]


@strawberry.type(description="A closed accounting month: nothing can be posted into it.")
class LedgerPeriod:
    period: str
    closed_at: dt.datetime
    closed_by_id: strawberry.ID | None


@strawberry.type(description="Result of recomputing the tenant's ledger hash chain.")
class LedgerVerification:
    ok: bool
    checked: int
    pending: int = strawberry.field(description="Entries committed but not yet linked.")
    problems: list[str]


@strawberry.type
class LedgerConfig:
    manual_entry_threshold_fen: BigInt = strawberry.field(description="The approval threshold: a manual entry, reversal, transfer, small-payer refund or reservation moving more than this waits for a second person with ledger.approve.")  # type: ignore[valid-type]


# Reports


@strawberry.type
class TrialBalanceRow:
    code: str
    name: str
    type: AccountType
    opening_fen: BigInt = strawberry.field(description="Signed, debit positive.")  # type: ignore[valid-type]
    debit_fen: BigInt  # type: ignore[valid-type]
    credit_fen: BigInt  # type: ignore[valid-type]
    closing_fen: BigInt = strawberry.field(description="Signed, debit positive.")  # type: ignore[valid-type]


@strawberry.type(description="Trial balance (试算平衡表) of a subtree: debits equal credits.")
class TrialBalance:
    rows: list[TrialBalanceRow]
    total_debit_fen: BigInt  # type: ignore[valid-type]
    total_credit_fen: BigInt  # type: ignore[valid-type]
    balanced: bool


@strawberry.type
class FundStatementRow:
    opening_cash_fen: BigInt  # type: ignore[valid-type]
    income_fen: BigInt  # type: ignore[valid-type]
    expense_fen: BigInt  # type: ignore[valid-type]
    other_cash_fen: BigInt = strawberry.field(description="Transfers between funds or levels and other non-income cash moves.")  # type: ignore[valid-type]
    closing_cash_fen: BigInt  # type: ignore[valid-type]
    reserved_fen: BigInt = strawberry.field(description="Held by open reservations now.")  # type: ignore[valid-type]
    unit_pk: strawberry.Private[int]
    fund_pk: strawberry.Private[int]

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.unit_pk)

    @strawberry.field
    async def fund(self, info: Info) -> Fund | None:
        return await _load_fund(info, self.fund_pk)


@strawberry.type
class CategoryAmount:
    code: str
    name: str
    amount_fen: BigInt  # type: ignore[valid-type]
    share_bp: int = strawberry.field(description="Share of the total in basis points (10000 = 100 %).")


@strawberry.type(description="Spending by category 501-508.")
class ExpenditureStructure:
    total_fen: BigInt  # type: ignore[valid-type]
    rows: list[CategoryAmount]


@strawberry.type
class LevelSpending:
    level: str
    spending_fen: BigInt  # type: ignore[valid-type]
    share_bp: int


@strawberry.type(description="Share of spending at grassroots unions (经费向基层一线倾斜); 506 补助下级 excluded.")
class GrassrootsShare:
    total_spending_fen: BigInt  # type: ignore[valid-type]
    grassroots_spending_fen: BigInt  # type: ignore[valid-type]
    share_bp: int
    by_level: list[LevelSpending]


@strawberry.type
class FlowRow:
    direction: TransferDirection
    kind: str = strawberry.field(description="levy, remit (上解), grant (补助下级) or refund.")
    amount_fen: BigInt  # type: ignore[valid-type]
    count: int
    from_pk: strawberry.Private[int]
    to_pk: strawberry.Private[int]

    @strawberry.field
    async def from_org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.from_pk)

    @strawberry.field
    async def to_org_unit(self, info: Info) -> OrgUnit | None:
        return await _load_unit(info, self.to_pk)


@strawberry.type(description="Money moving up and down the hierarchy.")
class HierarchyFlows:
    up_fen: BigInt  # type: ignore[valid-type]
    down_fen: BigInt  # type: ignore[valid-type]
    rows: list[FlowRow]


@strawberry.type(description="A report file. Decode `contentBase64` and save it as `filename`.")
class ReportFile:
    filename: str
    content_type: str
    content_base64: str
    row_count: int


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@strawberry.input(description="An account by id, or by org unit + fund code + account code (created on first use).")
class PostingInput:
    side: EntrySide
    amount_fen: BigInt = strawberry.field(description="Positive fen.")  # type: ignore[valid-type]
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
    amount_fen: BigInt  # type: ignore[valid-type]
    idempotency_key: str
    fund: str = "general"
    memo: str | None = None
    entry_date: dt.date | None = None


@strawberry.input
class LevyInput:
    org_unit_id: strawberry.ID = strawberry.field(description="The grassroots union.")
    period_start: dt.date
    period_end: dt.date
    payroll_fen: BigInt  # type: ignore[valid-type]
    idempotency_key: str
    levy_fen: BigInt | None = strawberry.field(default=None, description="Defaults to 2 % of payrollFen.")  # type: ignore[valid-type]
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
    amount_fen: BigInt  # type: ignore[valid-type]
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
    amount_fen: BigInt | None = strawberry.field(default=None, description="Defaults to what remains.")  # type: ignore[valid-type]
    final: bool = strawberry.field(default=False, description="Release whatever remains after this payment.")
    memo: str | None = None
    entry_date: dt.date | None = None


@strawberry.input
class BudgetInput:
    org_unit_id: strawberry.ID
    fund: str
    year: int
    amount_fen: BigInt  # type: ignore[valid-type]


@strawberry.input
class BudgetLiftInput:
    id: strawberry.ID
    amount_fen: BigInt  # type: ignore[valid-type]
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
    levy_fen: BigInt | None = None  # type: ignore[valid-type]
    grassroots_fen: BigInt | None = None  # type: ignore[valid-type]
    upward_fen: BigInt | None = None  # type: ignore[valid-type]
    rule: str | None = strawberry.field(default=None, description="The split rule applied (from hook fund_levy_split).")
    errors: list[UserError]


@strawberry.type
class SmallPayerRefundPayload:
    entry: LedgerEntry | None = None
    draft: LedgerDraft | None = strawberry.field(default=None, description="Set when the refund is above the approval threshold and waits for an approver.")
    upward_paid_fen: BigInt | None = None  # type: ignore[valid-type]
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


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


async def _unit(tenant: TenantContext, gid: Any, field: str = "orgUnitId") -> dict[str, Any]:
    from core.tenancy.services import get_unit

    _, pk = from_global_id(gid, "OrgUnit", field)
    row = await get_unit(tenant, pk)
    if row is None:
        raise not_found("org unit", field)
    return row


async def _root_path(tenant: TenantContext) -> str:
    from core.tenancy.services import root_unit

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
        out["entry"] = LedgerEntry.from_row(await queries.get_entry(tenant, entry_id))  # type: ignore[arg-type]
    if draft_id:
        out["draft"] = LedgerDraft.from_row(await queries.get_draft(tenant, draft_id))  # type: ignore[arg-type]
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


# ---------------------------------------------------------------------------------------------
# Query
# ---------------------------------------------------------------------------------------------


def _text_arg(name: str, value: str | None, max_len: int = 100) -> str | None:
    if value is not None and len(value) > max_len:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{name} is too long", name)
    return value


@strawberry.type
class FundsQuery:
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
        return LedgerConfig(manual_entry_threshold_fen=await services.manual_threshold(tenant))

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
                                                  opening_fen=r.opening_fen, debit_fen=r.debit_fen,
                                                  credit_fen=r.credit_fen, closing_fen=r.closing_fen) for r in tb.rows],
                            total_debit_fen=tb.total_debit_fen, total_credit_fen=tb.total_credit_fen, balanced=tb.balanced)

    @strawberry.field(description=perm("report.read", "Fund statement per org unit and fund: opening cash, income, spending, closing cash."))
    @for_query
    async def fund_statement(self, info: Info, input: ReportInput) -> list[FundStatementRow]:
        tenant, scope, _ = await _report_scope(info, input)
        return [FundStatementRow(opening_cash_fen=r.opening_cash_fen, income_fen=r.income_fen, expense_fen=r.expense_fen,
                                 other_cash_fen=r.other_cash_fen, closing_cash_fen=r.closing_cash_fen,
                                 reserved_fen=r.reserved_fen, unit_pk=r.org_unit_id, fund_pk=r.fund_id)
                for r in await reports.fund_statement(tenant, scope)]

    @strawberry.field(description=perm("report.read", "Spending by category 501-508."))
    @for_query
    async def expenditure_structure(self, info: Info, input: ReportInput) -> ExpenditureStructure:
        tenant, scope, _ = await _report_scope(info, input)
        es = await reports.expenditure_structure(tenant, scope)
        return ExpenditureStructure(total_fen=es.total_fen, rows=[
            CategoryAmount(code=r.code, name=r.name, amount_fen=r.amount_fen, share_bp=r.share_bp) for r in es.rows])

    @strawberry.field(description=perm("report.read", "Share of spending at grassroots level (经费向基层一线倾斜)."))
    @for_query
    async def grassroots_share(self, info: Info, input: ReportInput) -> GrassrootsShare:
        tenant, scope, _ = await _report_scope(info, input)
        g = await reports.grassroots_share(tenant, scope)
        return GrassrootsShare(total_spending_fen=g.total_spending_fen, grassroots_spending_fen=g.grassroots_spending_fen,
                               share_bp=g.share_bp, by_level=[LevelSpending(level=r.level, spending_fen=r.spending_fen,
                                                                            share_bp=r.share_bp) for r in g.by_level])

    @strawberry.field(description=perm("report.read", "Money flowing up (levy shares, 上解) and down (补助下级, refunds)."))
    @for_query
    async def hierarchy_flows(self, info: Info, input: ReportInput) -> HierarchyFlows:
        tenant, scope, _ = await _report_scope(info, input)
        fl = await reports.flows(tenant, scope)
        return HierarchyFlows(up_fen=fl.up_fen, down_fen=fl.down_fen, rows=[
            FlowRow(direction=TransferDirection(r.direction), kind=r.kind, amount_fen=r.amount_fen, count=r.count,
                    from_pk=r.from_unit_id, to_pk=r.to_unit_id) for r in fl.rows])

    @strawberry.field(description=perm("report.read", "A report as a CSV or XLSX file (base64)."))
    @for_query
    async def ledger_report_export(self, info: Info, report: LedgerReport, format: ExportFormat,
                                   input: ReportInput) -> ReportFile:
        from core.funds.exports import export_report

        tenant, scope, unit = await _report_scope(info, input)
        f = await export_report(tenant, report.value, format.value, scope, unit["code"], await queries.fund_codes(tenant))
        return ReportFile(filename=f.filename, content_type=f.content_type,
                          content_base64=base64.b64encode(f.data).decode(), row_count=f.row_count)


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
            from core.tenancy.services import get_unit

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
            return {"reservation": Reservation.from_row(await queries.get_reservation(tenant, res_id))}  # type: ignore[arg-type]

        return await run_mutation(ReservationPayload, work)

    @strawberry.mutation(description=perm("ledger.approve", "Approve a reservation above the approval threshold so it can be paid; not your own (SELF_APPROVAL). To refuse it, void it."))
    async def reservation_approve(self, info: Info, id: strawberry.ID) -> ReservationPayload:
        async def work() -> dict[str, Any]:
            from core.tenancy.services import get_unit

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
            return {"reservation": Reservation.from_row(await queries.get_reservation(tenant, res["id"])),  # type: ignore[arg-type]
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
            return {"budget": Budget.from_row(await queries.get_budget(tenant, bid))}  # type: ignore[arg-type]

        return await run_mutation(BudgetPayload, work)

    @strawberry.mutation(description=perm("budget.lift", "Lift (raise) a budget so spending past it is allowed; audited with the reason."))
    async def budget_lift(self, info: Info, input: BudgetLiftInput) -> BudgetPayload:
        async def work() -> dict[str, Any]:
            from core.tenancy.services import get_unit

            tenant, _ = info.context.require("budget.lift")
            b = await queries.get_budget(tenant, from_global_id(input.id, "Budget")[1])
            if b is None:
                raise not_found("budget")
            unit = await get_unit(tenant, b["org_unit_id"])
            info.context.require("budget.lift", unit["path"] if unit else None)
            bid = await services.lift_budget(tenant, info.context.actor, b["id"], amount_fen=input.amount_fen,
                                             reason=input.reason)
            return {"budget": Budget.from_row(await queries.get_budget(tenant, bid))}  # type: ignore[arg-type]

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
            return {"job": Job.from_row(await get_job(tenant, job_id))}

        return await run_mutation(FundsJobPayload, work)

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
    async def ledger_config_update(self, info: Info, manual_entry_threshold_fen: BigInt | None) -> LedgerConfigPayload:  # type: ignore[valid-type]
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            info.context.require("ledger.configure", await _root_path(tenant))
            value = await services.set_manual_threshold(tenant, info.context.actor, manual_entry_threshold_fen)
            return {"config": LedgerConfig(manual_entry_threshold_fen=value)}

        return await run_mutation(LedgerConfigPayload, work)


async def _reservation(info: Info, tenant: TenantContext, gid: Any) -> dict[str, Any]:
    from core.tenancy.services import get_unit

    res = await queries.get_reservation(tenant, from_global_id(gid, "Reservation")[1])
    if res is None:
        raise not_found("reservation")
    unit = await get_unit(tenant, res["org_unit_id"])
    info.context.require("ledger.reserve", unit["path"] if unit else None)
    return res

"""GraphQL enums and object types of union funds."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from core.funds import queries, services
from core.funds.posting import shown_key
from core.graphql.base import (
    BigInt,
    Info,
    Node,
    to_global_id,
)
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
    balance_fen: BigInt = strawberry.field(description="Balance on the normal side (negative if it swung over).")
    debit_balance_fen: BigInt = strawberry.field(description="Sum of postings, debits positive.")
    reserved_fen: BigInt = strawberry.field(description="Held by open reservations.")
    available_fen: BigInt = strawberry.field(description="balanceFen - reservedFen.")
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
    amount_fen: BigInt = strawberry.field(description="Always positive; see `side`.")
    signed_amount_fen: BigInt = strawberry.field(description="Debit positive, credit negative.")
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
    async def total_fen(self, info: Info) -> BigInt:
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
    async def chain_seq(self, info: Info) -> BigInt | None:
        row = await info.context.loader("ledger_chain_of", queries.chain_links).load(self.pk)
        return row["seq"] if row else None

    @strawberry.field
    async def chain_hash(self, info: Info) -> str | None:
        row = await info.context.loader("ledger_chain_of", queries.chain_links).load(self.pk)
        return row["hash"] if row else None


@strawberry.type
class DraftLine:
    side: EntrySide
    amount_fen: BigInt
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
    total_fen: BigInt
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
    amount_fen: BigInt
    posted_fen: BigInt
    remaining_fen: BigInt
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
                   remaining_fen=BigInt(r["amount_fen"] - r["posted_fen"] if open_ else 0), expires_at=r["expires_at"],
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
    amount_fen: BigInt
    reason: str
    lifted_by_id: strawberry.ID | None
    created_at: dt.datetime


@strawberry.type(description="The annual budget of one fund at one org unit; spending (5xx) past the limit is refused.")
class Budget(Node):
    id: strawberry.ID
    year: int
    amount_fen: BigInt
    lifted_fen: BigInt
    limit_fen: BigInt = strawberry.field(description="amountFen + liftedFen.")
    spent_fen: BigInt
    reserved_fen: BigInt
    remaining_fen: BigInt = strawberry.field(description="limitFen - spentFen - reservedFen.")
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
    manual_entry_threshold_fen: BigInt = strawberry.field(description="The approval threshold: a manual entry, reversal, transfer, small-payer refund or reservation moving more than this waits for a second person with ledger.approve.")

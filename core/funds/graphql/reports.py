"""GraphQL types of the funds reports."""

from __future__ import annotations

import strawberry

from core.funds.graphql.types import (
    AccountType,
    Fund,
    TransferDirection,
    _load_fund,
    _load_unit,
)
from core.graphql.base import (
    BigInt,
    Info,
)
from core.tenancy.graphql import OrgUnit

# Reports


@strawberry.type
class TrialBalanceRow:
    code: str
    name: str
    type: AccountType
    opening_fen: BigInt = strawberry.field(description="Signed, debit positive.")
    debit_fen: BigInt
    credit_fen: BigInt
    closing_fen: BigInt = strawberry.field(description="Signed, debit positive.")


@strawberry.type(description="Trial balance (试算平衡表) of a subtree: debits equal credits.")
class TrialBalance:
    rows: list[TrialBalanceRow]
    total_debit_fen: BigInt
    total_credit_fen: BigInt
    balanced: bool


@strawberry.type
class FundStatementRow:
    opening_cash_fen: BigInt
    income_fen: BigInt
    expense_fen: BigInt
    other_cash_fen: BigInt = strawberry.field(description="Transfers between funds or levels and other non-income cash moves.")
    closing_cash_fen: BigInt
    reserved_fen: BigInt = strawberry.field(description="Held by open reservations now.")
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
    amount_fen: BigInt
    share_bp: int = strawberry.field(description="Share of the total in basis points (10000 = 100 %).")


@strawberry.type(description="Spending by category 501-508.")
class ExpenditureStructure:
    total_fen: BigInt
    rows: list[CategoryAmount]


@strawberry.type
class LevelSpending:
    level: str
    spending_fen: BigInt
    share_bp: int


@strawberry.type(description="Share of spending at grassroots unions (经费向基层一线倾斜); 506 补助下级 excluded.")
class GrassrootsShare:
    total_spending_fen: BigInt
    grassroots_spending_fen: BigInt
    share_bp: int
    by_level: list[LevelSpending]


@strawberry.type
class FlowRow:
    direction: TransferDirection
    kind: str = strawberry.field(description="levy, remit (上解), grant (补助下级) or refund.")
    amount_fen: BigInt
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
    up_fen: BigInt
    down_fen: BigInt
    rows: list[FlowRow]


@strawberry.type(description="A report file. Decode `contentBase64` and save it as `filename`.")
class ReportFile:
    filename: str
    content_type: str
    content_base64: str
    row_count: int

"""The chart of accounts (工会会计制度) and the standard funds.

Accounts are (tenant, org unit, fund, code). The codes follow the union accounting system (工会会计制度, income 4xx,
expense 5xx, payables 2xx), plus the asset side of the balance sheet (101 现金, 102 银行存款). Every (org unit, fund)
pair has the same chart; an account row is created the first time it is used.

Amounts are integer fen. A posting's ``amount_fen`` is signed: debit positive, credit negative. An
account's *normal* balance is its balance seen from its normal side: ``normal_sign * sum(postings)``
where ``normal_sign`` is +1 for debit-normal accounts (assets, expenses) and -1 for credit-normal
ones (liabilities, net assets, income).
"""

from __future__ import annotations

from dataclasses import dataclass

ASSET = "asset"
LIABILITY = "liability"
NET_ASSET = "net_asset"
INCOME = "income"
EXPENSE = "expense"
ACCOUNT_TYPES = (ASSET, LIABILITY, NET_ASSET, INCOME, EXPENSE)


@dataclass(frozen=True, slots=True)
class AccountDef:
    code: str
    name: str
    type: str
    no_negative: bool = False

    @property
    def normal_sign(self) -> int:
        return 1 if self.type in (ASSET, EXPENSE) else -1

    @property
    def normal_balance(self) -> str:
        return "debit" if self.normal_sign == 1 else "credit"


# Money a fund actually holds: these may never go below zero (nor below what is reserved on them).
_DEFS = [
    AccountDef("101", "库存现金", ASSET, no_negative=True),
    AccountDef("102", "银行存款", ASSET, no_negative=True),
    # Cross-level current accounts (往来): may swing either way.
    AccountDef("131", "应收上级经费", ASSET),
    AccountDef("132", "应收下级经费", ASSET),
    AccountDef("221", "应付上级经费", LIABILITY),
    AccountDef("222", "应付下级经费", LIABILITY),
    # Net assets
    AccountDef("301", "固定基金", NET_ASSET),
    AccountDef("302", "在建工程占用资金", NET_ASSET),
    AccountDef("303", "投资基金", NET_ASSET),
    AccountDef("311", "工会资金结转", NET_ASSET),
    AccountDef("321", "工会资金结余", NET_ASSET),
    # Income
    AccountDef("401", "会费收入", INCOME),
    AccountDef("402", "拨缴经费收入", INCOME),
    AccountDef("403", "上级补助收入", INCOME),
    AccountDef("404", "政府补助收入", INCOME),
    AccountDef("405", "行政补助收入", INCOME),
    AccountDef("406", "事业收入", INCOME),
    AccountDef("407", "投资收益", INCOME),
    AccountDef("408", "其他收入", INCOME),
    # Spending (the expenditure-structure report's categories)
    AccountDef("501", "职工活动支出", EXPENSE),
    AccountDef("502", "维权支出", EXPENSE),
    AccountDef("503", "业务支出", EXPENSE),
    AccountDef("504", "行政支出", EXPENSE),
    AccountDef("505", "资本性支出", EXPENSE),
    AccountDef("506", "补助下级支出", EXPENSE),
    AccountDef("507", "事业支出", EXPENSE),
    AccountDef("508", "其他支出", EXPENSE),
]

CHART: dict[str, AccountDef] = {d.code: d for d in _DEFS}
EXPENSE_CODES = tuple(c for c, d in CHART.items() if d.type == EXPENSE)
INCOME_CODES = tuple(c for c, d in CHART.items() if d.type == INCOME)

# Standard funds every tenant has; mutual-aid funds ("mutual_aid.<plan>") are created on demand.
GENERAL = "general"
HARDSHIP = "hardship"
WARMTH = "warmth"
PROCUREMENT = "procurement"
MUTUAL_AID = "mutual_aid"
FUND_KINDS = (GENERAL, HARDSHIP, WARMTH, MUTUAL_AID, PROCUREMENT)
STANDARD_FUNDS = {
    GENERAL: (GENERAL, "工会经费"),
    HARDSHIP: (HARDSHIP, "解困脱困专项资金(帮扶资金)"),
    WARMTH: (WARMTH, "送温暖资金"),
    PROCUREMENT: (PROCUREMENT, "购买服务预算"),
}

# Entry kinds
MANUAL = "manual"
LEVY = "levy"
TRANSFER_UP = "transfer_up"
TRANSFER_DOWN = "transfer_down"
REFUND = "small_payer_refund"
ALLOCATION = "special_allocation"
PAYOUT = "payout"
REVERSAL = "reversal"
ENTRY_KINDS = (MANUAL, LEVY, TRANSFER_UP, TRANSFER_DOWN, REFUND, ALLOCATION, PAYOUT, REVERSAL, "system")

CASH = "102"  # where funds hold their money

# Liabilities whose balance may not swing over (not flagged no-negative on the account row, so
# existing rows need no change): 221 应付上级经费 is what a unit owes upward; below zero it would
# mean the unit remitted (上解) more than it owed, e.g. a share the tax collector already paid the
# upper level directly (settled-mode levy). The engine refuses such an entry like an overdraft.
OWED_UPWARD = "221"
NO_SWING_CODES = frozenset({OWED_UPWARD})

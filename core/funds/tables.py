"""The double-entry ledger: funds, accounts, immutable entries and postings, the hash chain,
reservations, budgets, accounting periods and cross-level transfers. All tenant-owned.

``ledger_entry``, ``ledger_posting``, ``ledger_chain`` and ``ledger_transfer`` are append-only: on
PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE (see the fence migration), and services have
no update path. ``ledger_account`` carries the running balance and the reserved amount, updated in the
same transaction as the postings; a CHECK constraint keeps ``no_negative`` accounts at or above zero.
"""

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import OrgUnit, Tenant


class Fund(Table, tablename="ledger_fund"):
    """工会经费, 帮扶资金, 送温暖, one per mutual-aid plan, the procurement budget."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    code = Varchar(length=64)  # general | hardship | warmth | procurement | mutual_aid.<plan>
    kind = Varchar(length=16)
    name = Varchar(length=100)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Account(Table, tablename="ledger_account"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict)
    fund_id = ForeignKey(Fund, null=False, on_delete=OnDelete.restrict)
    code = Varchar(length=8)
    name = Varchar(length=100)
    type = Varchar(length=16)  # asset | liability | net_asset | income | expense
    normal_sign = Integer(default=1)  # +1 debit-normal, -1 credit-normal
    no_negative = Boolean(default=False)
    balance_fen = BigInt(default=0)  # sum of postings, debit positive
    reserved_fen = BigInt(default=0)  # open reservations against this account
    created_at = Timestamptz(default=TimestamptzNow())


class Entry(Table, tablename="ledger_entry"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    idempotency_key = Varchar(length=300)  # namespaced: user:<key>, app:<key>, sys:<...>
    kind = Varchar(length=24)
    memo = Varchar(length=500, default="")
    source_type = Varchar(length=32, default="")
    source_id = Varchar(length=64, default="")
    entry_date = Date()
    reverses_id = BigInt(null=True, default=None)
    created_by = BigInt(null=True, default=None)
    approved_by = BigInt(null=True, default=None)
    request_hash = Varchar(length=64, default="")
    content_hash = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Posting(Table, tablename="ledger_posting"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    entry_id = ForeignKey(Entry, null=False, index=True, on_delete=OnDelete.restrict)
    account_id = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    # Copied from the account and the entry so reports aggregate without joins.
    org_unit_id = BigInt()
    fund_id = BigInt()
    code = Varchar(length=8)
    entry_date = Date()
    amount_fen = BigInt()  # debit positive, credit negative, never zero


class ChainLink(Table, tablename="ledger_chain"):
    """One link of the tenant's hash chain over entries (seq 1, 2, 3 … without gaps)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    seq = BigInt()
    entry_id = ForeignKey(Entry, null=False, on_delete=OnDelete.restrict)
    content_hash = Varchar(length=64)
    prev_hash = Varchar(length=64, default="")
    hash = Varchar(length=64)
    chained_at = Timestamptz(default=TimestamptzNow())


class Unchained(Table, tablename="ledger_unchained"):
    """Entries committed but not yet linked into the chain (the chainer empties it in batches)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    entry_id = BigInt()
    content_hash = Varchar(length=64)


class Draft(Table, tablename="ledger_draft"):
    """An entry above the tenant's approval threshold (manual, reversal, transfer, refund), waiting for a
    second person's approval."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    idempotency_key = Varchar(length=300)  # namespaced: user:<key>, app:<key>, sys:<...>
    status = Varchar(length=20, default="pending_approval")  # pending_approval | approved | rejected
    entry_date = Date()
    memo = Varchar(length=500, default="")
    source_type = Varchar(length=32, default="")
    source_id = Varchar(length=64, default="")
    postings = JSON(default=[])  # [[account_id, amount_fen], ...]
    total_fen = BigInt(default=0)  # what it moves, compared with the threshold (a manual entry: its debits)
    request_hash = Varchar(length=64, default="")
    created_by = BigInt(null=True, default=None)
    decided_by = BigInt(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reason = Varchar(length=500, default="")
    entry_id = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(length=32, default="manual")  # the entry kind it becomes: manual | reversal | transfer_* | refund
    reverses_id = BigInt(null=True, default=None)
    transfers = JSON(default=[])  # [[kind, direction, from_unit_id, to_unit_id, fund_id, amount_fen], ...]


class Reservation(Table, tablename="ledger_reservation"):
    """Two-phase spending: money held on ``account_id`` until posted (to ``expense_account_id``) or voided."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    idempotency_key = Varchar(length=300)  # namespaced: user:<key>, app:<key>, sys:<...>
    account_id = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    expense_account_id = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    budget_id = BigInt(null=True, default=None)
    org_unit_id = BigInt()
    fund_id = BigInt()
    amount_fen = BigInt()
    posted_fen = BigInt(default=0)
    status = Varchar(length=16, default="open")  # pending_approval | open | posted | voided | expired
    expires_at = Timestamptz(null=True, default=None)
    source_type = Varchar(length=32, default="")
    source_id = Varchar(length=64, default="")
    memo = Varchar(length=500, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    approved_by = BigInt(null=True, default=None)  # the checker, above the approval threshold
    approved_at = Timestamptz(null=True, default=None)


class Budget(Table, tablename="ledger_budget"):
    """The annual spending budget of one fund at one org unit (5xx debits count as spending)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict)
    fund_id = ForeignKey(Fund, null=False, on_delete=OnDelete.restrict)
    year = Integer()
    amount_fen = BigInt(default=0)
    lifted_fen = BigInt(default=0)  # raised by approvers (each lift is audited)
    spent_fen = BigInt(default=0)
    reserved_fen = BigInt(default=0)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class BudgetLift(Table, tablename="ledger_budget_lift"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    budget_id = ForeignKey(Budget, null=False, index=True, on_delete=OnDelete.restrict)
    amount_fen = BigInt()
    reason = Varchar(length=500, default="")
    lifted_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Period(Table, tablename="ledger_period"):
    """A closed accounting month ("2026-03"). Months without a row are open."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    period = Varchar(length=7)
    closed_by = BigInt(null=True, default=None)
    closed_at = Timestamptz(default=TimestamptzNow())


class Transfer(Table, tablename="ledger_transfer"):
    """Money moving between levels (上解, 补助下级, levy shares, refunds): the flows report reads these."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    entry_id = ForeignKey(Entry, null=False, index=True, on_delete=OnDelete.restrict)
    kind = Varchar(length=24)  # remit | grant | levy | refund
    direction = Varchar(length=4)  # up | down
    from_unit_id = BigInt()
    to_unit_id = BigInt()
    fund_id = BigInt()
    amount_fen = BigInt()  # negative on a reversal
    entry_date = Date()


class LedgerConfig(Table, tablename="ledger_config"):
    """Per-tenant ledger settings; a missing row means the platform defaults."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    manual_entry_threshold_fen = BigInt(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES = [Fund, Account, Entry, Posting, ChainLink, Unchained, Draft, Reservation, Budget, BudgetLift, Period,
          Transfer, LedgerConfig]

"""Writes to the ledger. Every function takes the tenant first, then the actor, owns its transaction,
enforces the invariants and writes the audit record last (after every row lock, so the audit chain's
per-tenant lock is never held while waiting for an account).

The posting engine itself is :mod:`core.funds.posting`; these services turn business actions (a
manual entry, a levy, a transfer, a reservation) into balanced entries.

This package is the facade: callers import from ``core.funds.services``; the modules below it hold
the code by concern (``accounts``: input cleaning, funds, accounts and the audited post; ``manual``:
manual entries, maker-checker and reversals; ``transfers``: transfers, levy, refund and the special
allocation; ``reservations``; ``periods``: budgets and closing).
"""
from core.funds.services.accounts import (
    APP,
    CHINA,
    MAX_FEN,
    USER,
    AccountRef,
    Resolved,
    account_ids,
    clean_amount,
    clean_date,
    clean_key,
    create_fund,
    ensure_accounts,
    ensure_mutual_aid_fund,
    ensure_standard_funds,
    get_fund,
    resolve,
    stored_key,
    today,
)
from core.funds.services.manual import (
    ManualResult,
    _as_date,
    create_manual_entry,
    decide_draft,
    manual_threshold,
    needs_approval,
    reverse_entry,
    set_manual_threshold,
    signed_lines,
)
from core.funds.services.periods import (
    clean_period,
    close_period,
    lift_budget,
    set_budget,
)
from core.funds.services.reservations import (
    approve_reservation,
    expire_reservations,
    post_reservation,
    post_reservation_many,
    reserve,
    void_reservation,
)
from core.funds.services.transfers import (
    LevyResult,
    RefundResult,
    TransferResult,
    allocate_special_fund,
    check_allocation_year,
    record_levy,
    region_code_of,
    small_payer_refund,
    transfer,
    upward_paid,
)

__all__ = [
    "CHINA",
    "MAX_FEN",
    "today",
    "clean_key",
    "USER",
    "APP",
    "stored_key",
    "clean_amount",
    "clean_date",
    "ensure_standard_funds",
    "get_fund",
    "create_fund",
    "ensure_mutual_aid_fund",
    "AccountRef",
    "Resolved",
    "resolve",
    "ensure_accounts",
    "account_ids",
    "manual_threshold",
    "set_manual_threshold",
    "needs_approval",
    "ManualResult",
    "signed_lines",
    "create_manual_entry",
    "decide_draft",
    "_as_date",
    "reverse_entry",
    "TransferResult",
    "transfer",
    "LevyResult",
    "record_levy",
    "region_code_of",
    "RefundResult",
    "upward_paid",
    "small_payer_refund",
    "check_allocation_year",
    "allocate_special_fund",
    "reserve",
    "approve_reservation",
    "post_reservation",
    "post_reservation_many",
    "void_reservation",
    "expire_reservations",
    "set_budget",
    "lift_budget",
    "clean_period",
    "close_period",
]

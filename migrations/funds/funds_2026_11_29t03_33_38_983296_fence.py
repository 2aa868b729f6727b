from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.migration_sql import index_sql, run_statements, tenant_tables

ID = "2026-11-29T03:33:38:983297"
VERSION = "1.38.0"
DESCRIPTION = "funds: unique keys, report indexes, row-level security, append-only ledger, balance checks"

TABLES = [
    "ledger_fund", "ledger_account", "ledger_entry", "ledger_posting", "ledger_chain", "ledger_unchained",
    "ledger_draft", "ledger_reservation", "ledger_budget", "ledger_budget_lift", "ledger_period",
    "ledger_transfer", "ledger_config",
]

UNIQUES = {
    "ledger_fund": [("tenant_id", "code")],
    "ledger_account": [("tenant_id", "org_unit_id", "fund_id", "code")],
    "ledger_entry": [("tenant_id", "idempotency_key"), ("reverses_id",)],
    "ledger_chain": [("tenant_id", "seq"), ("entry_id",)],
    "ledger_draft": [("tenant_id", "idempotency_key")],
    "ledger_reservation": [("tenant_id", "idempotency_key")],
    "ledger_budget": [("tenant_id", "org_unit_id", "fund_id", "year")],
    "ledger_period": [("tenant_id", "period")],
    "ledger_config": [("tenant_id",)],
}

INDEXES = [
    index_sql("ledger_entry", ("tenant_id", "entry_date")),
    index_sql("ledger_entry", ("tenant_id", "source_type", "source_id")),
    index_sql("ledger_posting", ("tenant_id", "account_id", "entry_date")),
    index_sql("ledger_posting", ("tenant_id", "org_unit_id", "entry_date")),
    index_sql("ledger_reservation", ("tenant_id", "status", "expires_at")),
    index_sql("ledger_transfer", ("tenant_id", "entry_date")),
    index_sql("ledger_draft", ("tenant_id", "status")),
]

APPEND_ONLY = ["ledger_entry", "ledger_posting", "ledger_chain", "ledger_transfer"]

PG_ONLY = [
    # Posted rows never change, not even through raw SQL from the application role.
    """CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$""",
    *[s for t in APPEND_ONLY for s in (
        f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}",
        f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
        f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}",
        f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()",
    )],
    # Second fence behind the services' checks.
    "ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_no_negative "
    "CHECK (NOT no_negative OR normal_sign * balance_fen - reserved_fen >= 0)",
    "ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_reserved_nonneg CHECK (reserved_fen >= 0)",
    "ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_sign CHECK (normal_sign IN (1, -1))",
    "ALTER TABLE ledger_posting ADD CONSTRAINT ledger_posting_nonzero CHECK (amount_fen <> 0)",
    "ALTER TABLE ledger_reservation ADD CONSTRAINT ledger_reservation_amounts "
    "CHECK (amount_fen > 0 AND posted_fen >= 0 AND posted_fen <= amount_fen)",
    "ALTER TABLE ledger_budget ADD CONSTRAINT ledger_budget_amounts "
    "CHECK (amount_fen >= 0 AND lifted_fen >= 0 AND reserved_fen >= 0)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funds", description=DESCRIPTION)

    async def run():
        await tenant_tables(TABLES, UNIQUES, INDEXES)
        await run_statements([], PG_ONLY)

    manager.add_raw(run)
    return manager

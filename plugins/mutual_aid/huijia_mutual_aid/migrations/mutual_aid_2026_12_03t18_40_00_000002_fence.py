"""The new mutual_aid tables: unique keys (a premium per enrolment, term and payer; an automatic claim per
hospital stay; a settlement per plan and term), the lookups caps and settlements make, row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "2026-12-03T18:40:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "mutual_aid premiums, claims, documents, settlements: unique keys, indexes, row-level security"

TABLES = ["mutual_aid_premium", "mutual_aid_claim", "mutual_aid_claim_document", "mutual_aid_settlement",
          "mutual_aid_stay_file"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mutual_aid", description=DESCRIPTION)

    async def run():
        claims = ("CREATE INDEX IF NOT EXISTS ix_mutual_aid_claim_member ON mutual_aid_claim "
                  "(tenant_id, member_id, plan_code)")
        docs = ("CREATE INDEX IF NOT EXISTS ix_mutual_aid_claim_document_claim ON mutual_aid_claim_document "
                "(tenant_id, claim_id)")
        enrol = ("CREATE INDEX IF NOT EXISTS ix_mutual_aid_enrolment_plan_term ON mutual_aid_enrolment "
                 "(tenant_id, plan_code, term_start)")
        await tenant_tables(TABLES, {
            "mutual_aid_premium": [("tenant_id", "enrolment_id", "term_start", "level")],
            "mutual_aid_claim": [("tenant_id", "stay_key")],
            "mutual_aid_settlement": [("tenant_id", "plan_code", "term_start")],
        }, [(claims, claims), (docs, docs), (enrol, enrol)])

    manager.add_raw(run)
    return manager

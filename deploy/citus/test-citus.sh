#!/usr/bin/env bash
# make test-citus: build Citus if missing, start a throw-away cluster (coordinator + 2 workers), run the
# suites that matter most on it (each run's database is created on every node, migrated and
# distributed by huijia migrate), then tear the cluster down whatever happened.
#   CITUS_SRC      Citus source (the vendored tarball, or the folder holding it); default ../shared/vendor
#   CITUS_PORT     the coordinator's port (workers: the next two); default 55432
#   CITUS_TESTS    what pytest runs; default below
set -euo pipefail
cd "$(dirname "$0")/../.."
here=deploy/citus
port="${CITUS_PORT:-55432}"
uv="${UV:-python3 -m uv}"
# Tenant isolation (both fences), the rules Citus needs, the cluster's own checks (append-only triggers on
# every shard, ids unique across shards, isolating and moving a province, a stopped worker, a transfer
# killed half-way), the ledger's posting under concurrency, its tamper drills and the audit chain's,
# member transfers, the members import's write paths (create, update with tags, row errors, rejoin,
# crash and resume), every capability's tenant walk, and the capabilities' bulk writes that take a
# Citus-only path (warmth's freezing and marking paid; mutual aid's stays import, whose second test counts
# on the cap the first one paid). The subtree walk and the rest of the import tests pass too but take
# minutes more. CITUS_TESTS runs what you name.
te=tests/integration/test_tamper_evidence.py
ma=plugins/mutual_aid/tests/test_mutual_aid_stays.py
imp=tests/members/test_members_import.py
tests="${CITUS_TESTS:-tests/citus tests/contract/test_citus_rules.py tests/integration/test_tenant_isolation.py
  tests/funds/test_funds_concurrency.py tests/funds/test_funds_entries.py tests/members/test_members_transfers.py
  tests/funds/test_funds_integrity.py tests/integration/test_capability_tenant_walk.py
  $te::test_truncate_is_refused_on_every_append_only_table_by_privilege_and_by_trigger
  $te::test_emptied_audit_log_fails_verify_instead_of_reporting_ok_zero_records
  $te::test_deleting_the_newest_audit_records_fails_verify
  $te::test_force_row_level_security_still_fences_owner_and_app
  tests/integration/test_audit.py::test_verify_detects_edited_and_deleted_records
  plugins/warmth/tests/test_warmth_money.py::test_distribution_gives_goods_from_stock_and_runs_once_even_when_started_twice_at_once
  $ma::test_a_second_stay_is_paid_up_to_the_yearly_cap_with_the_reason
  $ma::test_a_hospital_stay_file_creates_approved_claims_once_and_reports_the_unmatched
  $imp::test_csv_preview_commit_and_idempotent_rerun $imp::test_reimport_with_changes_updates_and_keeps_history
  $imp::test_bad_rows_are_reported_by_row_and_column_and_not_written
  $imp::test_existing_members_in_other_units_transfers_and_left
  tests/members/test_members_import_resume.py::test_crash_between_batches_then_resume}"

"$here/cluster.sh" build
dir="$(mktemp -d "${TMPDIR:-/tmp}/huijia-citus.XXXXXX")"
trap '"$here/cluster.sh" stop "$dir"' EXIT
CITUS_PORT="$port" CITUS_WORKERS=2 "$here/cluster.sh" start "$dir"

start=$(date +%s)
# shellcheck disable=SC2086 # word splitting of the test list is wanted
HUIJIA_TEST_CITUS_DIR="$dir" \
HUIJIA_TEST_PG_ADMIN="postgresql://postgres@127.0.0.1:$port/postgres" \
HUIJIA_TEST_CITUS_WORKERS="127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2))" \
  $uv run --frozen pytest -q $tests
echo "test-citus: the suites took $(( $(date +%s) - start )) s on the cluster"

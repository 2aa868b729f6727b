"""Tests that only mean something on a Citus cluster: collected only under make test-citus (which sets
HUIJIA_TEST_CITUS_WORKERS); the rules Citus needs are checked on plain PostgreSQL by
tests/contract/test_citus_rules.py."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("HUIJIA_TEST_CITUS_WORKERS") else ["test_*.py"]

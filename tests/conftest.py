"""Test set-up for core's suite: ``huijia.testing`` (core/testing/) provides the database, Redis and app.

That pytest plugin, installed with core as the ``pytest11`` entry point ``huijia``, sets the
environment in ``pytest_configure`` (before any test module imports core), creates a fresh
PostgreSQL database per run (``core.testing.create_test_database``: owned by an owner role that runs
the migrations, while the tests connect as a NOSUPERUSER NOBYPASSRLS app role that owns nothing),
migrates it as the owner, syncs tenants/*.toml and drops it at the end; plugin packages get the same
fixtures. This file adds what only core's suite needs.
"""

from __future__ import annotations

import os

from core.testing import current_environment

# A small capability plugin and a province plugin serving it (tests/capability_dummy), installed for the
# whole run as a real one would be: its tables migrate with core's and the isolation tests walk them.
# Set at import, before huijia.testing's pytest_configure, which keeps it.
_EXTRA = "tests.capability_dummy.plugin,tests.capability_dummy.province"
os.environ["HUIJIA_PLUGINS_EXTRA"] = ",".join(
    p for p in dict.fromkeys([*os.environ.get("HUIJIA_PLUGINS_EXTRA", "").split(","), *_EXTRA.split(",")]) if p
)

ENV = current_environment()
RUN_ID = ENV.run_id
PG_ADMIN_DSN = ENV.admin_dsn
APP_ROLE = ENV.app_role
OWNER_ROLE = ENV.owner_role
OWNER_DSN = ENV.owner_url
TEST_DB = ENV.database
REDIS_URL = ENV.redis_url
QUEUE = ENV.queue

# The subtree walk's hooks, and the test capability's contribution to it (a real capability package
# would load its own through a ``pytest11`` entry point instead).
pytest_plugins = ["tests.fixtures.api", "tests.fixtures.subtree_walk", "tests.capability_dummy.walk_samples"]

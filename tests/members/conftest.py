"""Members tests keep their encrypted upload/export files in a temporary directory, not var/."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _members_file_store(tmp_path_factory):
    from core.members import filestore

    root = tmp_path_factory.mktemp("members-store")
    previous = filestore.use_root(root)
    yield root
    filestore.use_root(previous)


@pytest.fixture
def members_file_root():
    """Keep member files under another directory for this test: ``members_file_root(tmp_path)``.
    The session's store is back after the test."""
    from core.members import filestore

    previous = filestore.use_root(None)
    filestore.use_root(previous)
    yield filestore.use_root
    filestore.use_root(previous)


@pytest.fixture
def pii_keyring():
    """Run this process with another PII keyring, as after a change of HUIJIA_PII_KEYS or
    HUIJIA_PII_INDEX_KEYS: ``pii_keyring(Keyring(...))``; ``pii_keyring(None)`` goes back to the
    settings' keyring. The settings' keyring is back after the test."""
    from core.members import pii_keys

    previous = pii_keys.use(None)
    pii_keys.use(previous)
    yield pii_keys.use
    pii_keys.use(previous)


@pytest.fixture
def import_options():
    """Run this test's roster imports with other ``ImportOptions`` (core/members/import_options.py):
    ``import_options(batch_rows=10, after_batch=crash, pg_store=FlakyStore)``. Each call changes the
    given fields of what is in effect (``import_options(after_batch=None)`` takes a crash back out);
    the imports the jobs run, in process, use them. The defaults are back after the test."""
    from dataclasses import replace

    from core.members import import_options as options

    previous = options.configure(None)

    def change(**fields):
        return options.configure(replace(options.in_effect(), **fields))

    yield change
    options.configure(previous)

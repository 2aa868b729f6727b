"""Members tests keep their encrypted upload/export files in a temporary directory, not var/."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _members_file_store(tmp_path_factory):
    from core.members import filestore

    root = tmp_path_factory.mktemp("members-store")
    original = filestore.root
    filestore.root = lambda: root
    yield root
    filestore.root = original

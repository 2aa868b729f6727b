"""Fixtures that change how the platform runs for one test: settings, and where jobs run."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest


@pytest.fixture
def settings_override() -> Any:
    """``settings_override(login_ip_max_failures=6)`` changes those settings for every caller of
    ``get_settings`` until the test ends (``core.settings.override_settings``); returns them."""
    from core.settings import override_settings

    with contextlib.ExitStack() as stack:
        yield lambda **changes: stack.enter_context(override_settings(**changes))


@pytest.fixture
def in_process_jobs() -> Any:
    """Jobs enqueued during the test run in the test's own process, as on the embedded default,
    although the test environment has Redis; ``await core.jobs.runner.drain_local()`` waits for
    them. (``run_jobs`` runs queued jobs under a real arq worker instead.)"""
    from core.jobs.runner import jobs_in_process

    with jobs_in_process():
        yield

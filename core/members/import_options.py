"""How a roster import runs: its batch size, worker processes, and the seams tests inject faults at.

Production runs with ``ImportOptions()``. :func:`core.members.importer.run_preview` and
:func:`~core.members.importer.run_commit` take ``options=`` directly. The import jobs carry nothing
but an import id, so when they are called without options they run with :func:`in_effect`, which
:func:`configure` replaces (the ``import_options`` fixture of ``tests/members`` does this for one
test, and restores the defaults after it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BATCH_ROWS = 5000


@dataclass(frozen=True, slots=True)
class ImportOptions:
    batch_rows: int = BATCH_ROWS
    # Worker processes for validation and encryption; None: HUIJIA_IMPORT_WORKERS, for large files only.
    workers: int | None = None
    # Called with the batch number after each committed batch: a test raises here to simulate a
    # crash between batches.
    after_batch: Callable[[int], None] | None = None
    # The PostgreSQL back end's class; a test passes a subclass of ``import_store.PgStore`` whose
    # ``write`` or ``lock_existing`` fails, hangs or races. None: ``PgStore``.
    pg_store: type[Any] | None = None


_in_effect = ImportOptions()


def in_effect() -> ImportOptions:
    return _in_effect


def configure(options: ImportOptions | None) -> ImportOptions:
    """Make ``options`` (None: the defaults) the options of imports run without any; returns the
    options that were in effect."""
    global _in_effect
    previous, _in_effect = _in_effect, options or ImportOptions()
    return previous

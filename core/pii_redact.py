"""Redaction before anything is written to the audit log (one implementation: core.pii.masking)."""

from __future__ import annotations

from typing import Any

from core.pii.masking import redact


def redact_changes(value: Any) -> Any:
    return redact(value)

"""Domain errors: the typed failures services raise and GraphQL turns into payload errors.

Codes are stable API (an enum in the schema). Messages are English for the API. A refusal a person
will read can also carry ``message_zh``, the Chinese sentence for this very case (which rule, which
field); the UI shows it before its own text keyed by the code, which stays the fallback.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    INVALID_HIERARCHY = "INVALID_HIERARCHY"
    INACTIVE = "INACTIVE"
    PLUGIN_CONFIG = "PLUGIN_CONFIG"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    UNBALANCED = "UNBALANCED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    PERIOD_CLOSED = "PERIOD_CLOSED"
    SELF_APPROVAL = "SELF_APPROVAL"
    INVALID_STATE = "INVALID_STATE"
    # A case step taken out of order (the case is not in a state the step leaves).
    INVALID_TRANSITION = "INVALID_TRANSITION"
    # An amount over a yearly cap (extensions: capFen, usedFen, allowedFen).
    CAP_EXCEEDED = "CAP_EXCEEDED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    # What a worker offered to prove they are a member (the phone on file, a union's code) does not match.
    PROOF_MISMATCH = "PROOF_MISMATCH"
    # A member card's QR code: past its time, or not one this platform signed.
    CARD_EXPIRED = "CARD_EXPIRED"
    CARD_INVALID = "CARD_INVALID"
    # The tenant has not enabled the capability (plugin) that owns the field.
    CAPABILITY_NOT_ENABLED = "CAPABILITY_NOT_ENABLED"
    # A database node cannot be reached (a Citus worker down, the database restarting): nothing was
    # changed, retry shortly (extensions: retryAfterSeconds). Answered with HTTP 503 and Retry-After.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


class DomainError(Exception):
    """A user's mistake or a refused action: never a server error."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None, message_zh: str | None = None,
                 extensions: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.message_zh = message_zh
        # Machine-readable details beside the code (e.g. ``retryAfterSeconds``); never personal data.
        self.extensions = extensions

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, field={self.field!r})"


class DomainErrors(DomainError):
    """Several field problems found at once (validation reports all, not just the first)."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(errors[0].code, errors[0].message, errors[0].field, errors[0].message_zh)
        self.errors = errors


def not_found(what: str, field: str | None = "id", message_zh: str | None = None) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found", field, message_zh)


def forbidden(action: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, f"not allowed: {action}")

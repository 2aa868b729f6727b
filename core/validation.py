"""Input checks shared by services: done before the database sees a value (SQLite would accept
what PostgreSQL rejects, and a raw driver error must never reach a client)."""

from __future__ import annotations

import re
import unicodedata

from core.errors import DomainError, ErrorCode

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_SAFE_INT = 2**63 - 1


def clean_text(field: str, value: str | None, *, max_len: int, required: bool = True, label_zh: str | None = None) -> str:
    """``label_zh``: the field's Chinese name, for the errors' Chinese text (``message_zh``)."""
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is required", field,
                              f"请填写{label_zh}" if label_zh else None)
        return ""
    if len(value) > max_len:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is longer than {max_len} characters", field,
                          f"{label_zh}不能超过 {max_len} 个字" if label_zh else None)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} contains control characters", field,
                          f"{label_zh}含有不可见的控制字符" if label_zh else None)
    return value


def clean_code(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if not _CODE_RE.match(value):
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{field} must be 1-64 letters, digits, '-', '_' or '.'", field
        )
    return value


def clean_area_code(field: str, value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) not in (6, 9, 12):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be a 6, 9 or 12 digit area code", field)
    return value


def clean_int(field: str, value: int, *, minimum: int = 0, maximum: int = MAX_SAFE_INT) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not (minimum <= value <= maximum):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be an integer in [{minimum}, {maximum}]", field)
    return value

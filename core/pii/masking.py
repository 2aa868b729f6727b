"""Display masking of personal information, and redaction of structures for audit logs.

No national display standard exists; these follow common practice in Chinese public services: ID numbers show
the first 6 and last 4 characters, mobiles the first 3 and last 4, landlines the area code and last 4,
names only the first character. Every function accepts None/empty/odd input and then reveals less,
never more: too-short values are masked completely. Masks keep the value's length.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from core.pii.phone import PhoneError, normalize_phone, phone_kind

__all__ = ["DEFAULT_SENSITIVE_KEYS", "REDACTED", "mask_id_number", "mask_name", "mask_phone", "redact"]

MASK = "*"
REDACTED = "***"

DEFAULT_SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "id_number",
        "id_card",
        "idcard",
        "id_no",
        "phone",
        "mobile",
        "telephone",
        "tel",
        "bank_card",
        "bank_account",
        "card_number",
        "account_number",
        "address",
        "password",
        "password_hash",
        "health",
        "token",
        "secret",
        "birth_date",
        "income",
        "diagnosis",
        "illness",
        "disability",
    }
)


def _text(value: object) -> str:
    if value is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split())


def mask_id_number(value: str | None) -> str:
    """``11010519491231002X`` -> ``110105********002X``.

    18 or more characters: first 6 and last 4 visible. 15-character legacy numbers: first 6 and last
    3 (the last 4 would include a birth-date digit). Anything shorter is fully masked.
    """
    text = _text(value).upper()
    if len(text) >= 18:
        return text[:6] + MASK * (len(text) - 10) + text[-4:]
    if len(text) >= 15:
        return text[:6] + MASK * (len(text) - 9) + text[-3:]
    return MASK * len(text)


def mask_phone(value: str | None) -> str:
    """``13812345678`` -> ``138****5678``; ``021-12345678`` -> ``021-****5678``.

    The input is normalised first (``+86``, spaces and dashes are accepted); an extension is masked
    too. A value that is not a valid phone number is masked completely.
    """
    text = _text(value)
    if not text:
        return ""
    try:
        number = normalize_phone(text)
    except PhoneError:
        return MASK * len(text)
    if phone_kind(number) == "mobile":
        return number[:3] + MASK * 4 + number[-4:]
    area, subscriber, *extension = number.split("-")
    masked = f"{area}-{MASK * (len(subscriber) - 4)}{subscriber[-4:]}"
    return masked + (f"-{MASK * len(extension[0])}" if extension else "")


def mask_name(value: str | None) -> str:
    """``张三丰`` -> ``张**``; only the first character is kept, and only for names of 2+ characters."""
    text = unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""
    if len(text) < 2:
        return MASK * len(text)
    return text[0] + MASK * (len(text) - 1)


def _norm_key(key: str) -> str:
    # snake_case, kebab-case, camelCase (GraphQL) and spaced forms of a name all match.
    return "".join(ch for ch in key.casefold() if ch not in "_- ")


def redact(data: Any, sensitive_keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS) -> Any:
    """A deep copy of ``data`` with the values of sensitive keys replaced by ``"***"``.

    Keys match ignoring case, '_', '-' and spaces, so "id_number", "idNumber" (GraphQL) and
    "ID-Number" are the same key. Nested mappings, lists, tuples and sets are walked; a sensitive
    key's whole value is replaced, whatever its type, except None (absence reveals nothing and keeps
    "field cleared" visible in audit diffs). The input is not modified; mappings come back as dicts. Reference cycles are cut with
    the string "<cycle>".
    """
    if isinstance(sensitive_keys, str):
        raise TypeError("sensitive_keys must be a collection of key names, not a str")
    keys = frozenset(_norm_key(k) for k in sensitive_keys)
    return _redact(data, keys, set())


def _redact(value: Any, keys: frozenset[str], active: set[int]) -> Any:
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        marker = id(value)
        if marker in active:
            return "<cycle>"
        active.add(marker)
        try:
            if isinstance(value, Mapping):
                return {
                    k: (
                        REDACTED
                        if isinstance(k, str) and _norm_key(k) in keys and v is not None
                        else _redact(v, keys, active)
                    )
                    for k, v in value.items()
                }
            if isinstance(value, list):
                return [_redact(v, keys, active) for v in value]
            if isinstance(value, tuple):
                return tuple(_redact(v, keys, active) for v in value)
            return type(value)(_redact(v, keys, active) for v in value)
        finally:
            active.discard(marker)
    return value

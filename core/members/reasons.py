"""Reasons for seeing personal data unmasked: chosen from the tenant's list, or "其他：" + text.

A reason is what an auditor reads later to judge an access, so "True", "1" or "aaaa" will not do.
The list is ``pii_access_reasons`` under ``[settings.builtin]`` in the tenant manifest (defaults:
审计核查, 上级调阅, 帮扶审批).
"""

from __future__ import annotations

import unicodedata

from core.context import TenantContext
from core.errors import DomainError, ErrorCode

MIN_FREE_TEXT = 4
# Words that say nothing about why (what a script or a careless click sends).
EMPTY_WORDS = frozenset({
    "true", "false", "yes", "no", "y", "n", "ok", "null", "none", "nil", "undefined", "nan", "test", "测试",
    "是", "否", "无", "有", "对", "错", "好", "n/a", "na", "x", "xx", "xxx", "xxxx", "-", "...", "其他", "reason", "理由",
})


def tenant_reasons(tenant: TenantContext) -> list[str]:
    from core.builtin_hooks import BuiltinSettings
    from core.plugins import BUILTIN_PLUGIN, tenant_settings

    return list(tenant_settings(tenant, BUILTIN_PLUGIN, BuiltinSettings).pii_access_reasons)


def _real_chars(text: str) -> str:
    """Letters and digits (CJK included), without spaces, punctuation or symbols."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in ("L", "N"))


def check_access_reason(tenant: TenantContext, reason: str | None, field: str = "reason") -> str:
    """The cleaned reason, or INVALID_INPUT naming what a valid one looks like."""
    text = unicodedata.normalize("NFKC", (reason or "")).strip()
    listed = tenant_reasons(tenant)
    if text in listed:
        return text
    hint = f"choose a reason ({', '.join(listed)}) or write 其他：followed by at least {MIN_FREE_TEXT} characters"
    if text.startswith("其他:"):  # NFKC made a full-width colon ASCII
        free = text[len("其他:"):].strip()
        real = _real_chars(free)
        if (len(real) < MIN_FREE_TEXT or len(set(real.casefold())) < 2 or free.casefold() in EMPTY_WORDS
                or real.casefold() in EMPTY_WORDS):
            raise DomainError(ErrorCode.INVALID_INPUT, f"the reason says too little: {hint}", field)
        if len(free) > 200:
            raise DomainError(ErrorCode.INVALID_INPUT, "the reason is longer than 200 characters", field)
        return f"其他：{free}"
    raise DomainError(ErrorCode.INVALID_INPUT, hint, field)

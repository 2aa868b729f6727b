"""Small helpers every part of the capability shares: input cleaning, JSON columns, the caller's organisation."""

from __future__ import annotations

import json
from typing import Any

from core.sdk import DomainError, ErrorCode, Principal, Role, TenantContext, raw


def invalid(message: str, field: str | None, message_zh: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, field, message_zh)


def text(field: str, value: str | None, max_len: int, label_zh: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise invalid(f"{field} is required", field, f"请填写{label_zh}")
    if len(value) > max_len or "\x00" in value:
        raise invalid(f"{field} must have at most {max_len} characters", field, f"{label_zh}不能超过{max_len}个字")
    return value


def json_value(value: Any) -> Any:
    # raw() returns JSON columns as text on SQLite and sometimes on PostgreSQL.
    return json.loads(value) if isinstance(value, str) else value


def social_org_unit(principal: Principal) -> int | None:
    """The org unit of the caller's social_org grant (the union it applies to), or None."""
    return next((g.org_unit_id for g in principal.grants if g.role is Role.SOCIAL_ORG), None)


def is_social_org(principal: Principal) -> bool:
    return social_org_unit(principal) is not None


async def own_org(tenant: TenantContext, principal: Principal) -> dict[str, Any] | None:
    """The organisation the caller's login acts for (None: not an organisation's login, or not applied)."""
    if not is_social_org(principal):
        return None
    rows = await raw("SELECT * FROM procurement_org WHERE tenant_id = {} AND user_id = {}", tenant.id,
                     principal.user_id)
    return rows[0] if rows else None

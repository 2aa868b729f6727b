from __future__ import annotations

import datetime as dt
from typing import Any

from core.audit.tables import AuditRecord
from core.tenancy.context import TenantContext


async def list_records(tenant: TenantContext, *, action_prefix: str | None, actor_id: int | None,
                       target_type: str | None, target_id: str | None, since: dt.datetime | None,
                       until: dt.datetime | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    cond = AuditRecord.tenant_id == tenant.id
    if action_prefix:
        cond &= AuditRecord.action.like(action_prefix.replace("%", "") + "%")
    if actor_id is not None:
        cond &= AuditRecord.actor_id == actor_id
    if target_type:
        cond &= AuditRecord.target_type == target_type
    if target_id:
        cond &= AuditRecord.target_id == target_id
    if since:
        cond &= AuditRecord.at >= since
    if until:
        cond &= AuditRecord.at < until
    rows = await AuditRecord.select().where(cond).order_by(AuditRecord.seq, ascending=False).offset(offset).limit(limit)
    return rows, await AuditRecord.count().where(cond)

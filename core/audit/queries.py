from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.custom_types import Combinable

from core.audit.tables import AuditRecord
from core.context import TenantContext


async def list_records(tenant: TenantContext, *, action_prefix: str | None, actor_id: int | None,
                       target_type: str | None, target_id: str | None, since: dt.datetime | None,
                       until: dt.datetime | None, offset: int, limit: int,
                       principal: Any = None) -> tuple[list[dict[str, Any]], int]:
    """Newest first. With ``principal``, only what its ``audit.read`` subtree covers: everything
    for a grant at the root; below it, the records of actors whose every grant lies inside the
    subtree (a district audits its own staff). Anonymous and system records (failed logins, jobs)
    and the actions of province-level staff are for root auditors only."""
    cond: Combinable = AuditRecord.tenant_id == tenant.id
    if principal is not None:
        from piccolo.columns.combination import WhereRaw

        from core.scope import users_covered_clause

        clause, args = users_covered_clause(principal, "audit.read", tenant.id, "actor_id")
        if clause != "1 = 1":
            cond &= WhereRaw(clause, *args)
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

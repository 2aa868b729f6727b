"""Needs from requests (需求导向): a union clerk turns one or more service requests into an item on the
procurement need list, through the procurement capability's implementation of
``service_network_open_need``; the requests record the need, the need records the requests. Neither
plugin imports the other; without procurement the step is refused."""

from __future__ import annotations

from typing import Any

from core.sdk import (
    DomainError,
    ErrorCode,
    TenantContext,
    audit_record,
    capability_enabled,
    hooks_for,
    raw,
    require_in_subtree,
    transaction,
)

MAX_REQUESTS = 50


async def open_need(tenant: TenantContext, principal: Any, actor: Any, request_ids: list[int],
                    need: dict[str, Any]) -> int:
    if not capability_enabled(tenant, "procurement"):
        raise DomainError(ErrorCode.CAPABILITY_NOT_ENABLED, "the procurement capability is not enabled in this province",
                          "ids", "本省未启用购买服务，不能将诉求列入需求清单")
    ids = sorted(set(request_ids))
    if not ids or len(ids) > MAX_REQUESTS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"give 1 to {MAX_REQUESTS} service requests", "ids",
                          f"请选择1至{MAX_REQUESTS}条诉求")
    async with transaction():
        from huijia_service_network.requests import _on_pg

        lock = " FOR UPDATE OF r" if _on_pg() else ""
        placeholders = ", ".join("{}" for _ in ids)
        # Locked first, so two clerks turning the same request into needs make one.
        rows = await raw("SELECT r.id, r.category, r.summary, r.org_unit_id, r.need_id, o.path FROM sn_request r "
                         "JOIN org_unit o ON o.id = r.org_unit_id AND o.tenant_id = r.tenant_id WHERE r.tenant_id = {} "
                         f"AND r.id IN ({placeholders}) ORDER BY r.id" + lock, tenant.id, *ids)
        if len(rows) != len(ids):
            raise DomainError(ErrorCode.NOT_FOUND, "service request not found", "ids", "未找到该诉求")
        for r in rows:
            require_in_subtree(principal, "service_network.handle", r["path"], what="service request", field="ids",
                               read_action="service_network.read")
        if any(r["need_id"] is not None for r in rows):
            raise DomainError(ErrorCode.INVALID_STATE, "a request is on a need list already", "ids",
                              "所选诉求已列入需求清单")
        pending = hooks_for(tenant).service_network_open_need(
            tenant=tenant, principal=principal, actor=actor,
            requests=[{"id": int(r["id"]), "category": r["category"], "summary": r["summary"],
                       "org_unit_id": int(r["org_unit_id"])} for r in rows], need=dict(need))
        if pending is None:
            raise DomainError(ErrorCode.CAPABILITY_NOT_ENABLED, "no capability keeps a need list here", "ids",
                              "本省未启用购买服务，不能将诉求列入需求清单")
        made = await pending
        need_id = int(made["need_id"])
        await raw(f"UPDATE sn_request SET need_capability = {{}}, need_id = {{}} WHERE tenant_id = {{}} "
                  f"AND id IN ({placeholders})", str(made["capability"]), need_id, tenant.id, *ids)
        for r in rows:
            await audit_record(tenant, actor, "service_network.request.open_need", "ServiceRequest", int(r["id"]),
                               {"capability": made["capability"], "need_id": need_id})
    return need_id

"""The service_network capability's hooks, answered from this register: referral of service requests (service_network) to social organisations under contract: the
answer to service_network's ``service_network_referral_contract`` hook, from this register.

An organisation is referable for a category when it is approved, not blacklisted today, and holds a
signed contract whose call's category is the request's and which is not finished (a milestone is
still unpaid; a terminated contract's are closed). The organisation is identified by its unified social credit code, else by its exact
registered name. Procurement is the register where it is enabled: an organisation it does not know
is not under contract (the settings list does not overrule it)."""

from __future__ import annotations

from typing import Any

from core.sdk import TenantContext, raw, utcnow
from huijia_procurement import registry


async def referral_contract(tenant: TenantContext, org: dict[str, Any], category: str) -> dict[str, Any]:
    code, name = (org.get("credit_code") or "").strip().upper(), (org.get("name") or "").strip()
    refused = {"contracted": False, "capability": "procurement", "org_id": None, "contract_id": None,
               "name": name or code}
    if code:
        orgs = await raw("SELECT id, name FROM procurement_org WHERE tenant_id = {} AND credit_code = {} "
                         "AND status = 'approved'", tenant.id, code)
    elif name:
        orgs = await raw("SELECT id, name FROM procurement_org WHERE tenant_id = {} AND name = {} "
                         "AND status = 'approved' ORDER BY id", tenant.id, name)
    else:
        return refused
    if len(orgs) != 1:  # unknown, or a name two organisations share: not identifiable as under contract
        return refused
    o = orgs[0]
    refused.update(org_id=int(o["id"]), name=o["name"])
    entries = (await registry.blacklist_of(tenant, [int(o["id"])])).get(int(o["id"]), [])
    if registry.blacklisted(entries, utcnow().date()) is not None:
        return refused
    rows = await raw("SELECT k.id FROM procurement_contract k JOIN procurement_call c ON c.tenant_id = k.tenant_id "
                     "AND c.id = k.call_id WHERE k.tenant_id = {} AND k.org_id = {} AND c.category = {} AND EXISTS "
                     "(SELECT 1 FROM procurement_milestone m WHERE m.tenant_id = k.tenant_id AND m.contract_id = k.id "
                     "AND m.status IN ('pending', 'delivered', 'accepted')) ORDER BY k.signed_at DESC, k.id DESC LIMIT 1",
                     tenant.id, int(o["id"]), category)
    if not rows:
        return refused
    return {**refused, "contracted": True, "contract_id": int(rows[0]["id"])}


async def open_need(tenant: TenantContext, principal: Any, actor: Any, requests: list[dict[str, Any]],
                    need: dict[str, Any]) -> dict[str, Any]:
    """需求导向: a need-list item made from service requests, with procurement's own checks (the need
    permission on the unit, categories, budget cap, negative list); it records the requests."""
    from huijia_procurement import needs

    made = await needs.create_need(
        tenant, principal, actor, unit_id=int(need["org_unit_id"]), category=str(need["category"]),
        title=str(need["title"]), description=str(need.get("description") or ""), budget_fen=int(need["budget_fen"]),
        source_capability="service_network", source_ids=[int(r["id"]) for r in requests])
    return {"capability": "procurement", "need_id": int(made["id"])}

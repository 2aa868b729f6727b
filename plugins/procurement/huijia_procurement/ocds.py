"""Open data: OCDS 1.1 releases of a tenant's published calls (planning, tender, awards, contracts and
their implementation), and the public list of awarded contracts.

Only what the public may know goes out: the buying union, the call, and once the tender deadline has
passed the bidding organisations (legal entities, identified by their credit code), the award and the
contract with its milestones and payments. No person appears: not the staff who drafted or decided,
not the evaluators and their scores, not the questions' askers, not complaint or delivery texts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.sdk import TenantContext, raw, utcnow
from huijia_procurement import bids
from huijia_procurement.settings import for_tenant

TENDER_STATUS = {"enquiries": "active", "bidding": "active", "evaluation": "active", "standstill": "active",
                 "complaint": "active", "awarded": "complete", "contracted": "complete", "cancelled": "cancelled",
                 "unsuccessful": "unsuccessful"}
_CALLS = ("SELECT c.*, o.code AS unit_code, o.name AS unit_name, o.path AS unit_path, w.state, w.version, "
          "w.updated_at FROM procurement_call c JOIN org_unit o ON o.id = c.org_unit_id AND o.tenant_id = c.tenant_id "
          "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'procurement' AND w.case_type = 'call' "
          "AND w.case_id = c.id WHERE c.tenant_id = {} AND w.state <> 'draft'")


def _money(fen: int) -> dict[str, Any]:
    # OCDS amounts are in the currency's main unit; fen are exact to two decimals.
    return {"amount": int(fen) / 100, "currency": "CNY"}


def _ts(value: Any) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def ocid(tenant: TenantContext, call_id: int) -> str:
    return f"{for_tenant(tenant).ocid_prefix}-{tenant.code}-{call_id}"


def _party(org: dict[str, Any], roles: list[str]) -> dict[str, Any]:
    return {"id": f"CN-USCC-{org['credit_code']}", "name": org["name"], "roles": roles,
            "identifier": {"scheme": "CN-USCC", "id": org["credit_code"], "legalName": org["name"]}}


async def _children(tenant: TenantContext, sql: str, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return await raw(sql.replace("{ids}", ", ".join(str(int(i)) for i in ids)), tenant.id)


async def releases(tenant: TenantContext, call_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """The latest release of each published call (one call when ``call_id`` is given)."""
    sql, args = _CALLS, [tenant.id]
    if call_id is not None:
        sql += " AND c.id = {}"
        args.append(call_id)
    calls = await raw(sql + f" ORDER BY c.id DESC LIMIT {int(limit)}", *args)
    ids = [int(c["id"]) for c in calls]
    all_bids = await _children(tenant, "SELECT b.id, b.call_id, b.price_enc, g.name, g.credit_code FROM procurement_bid b "
                               "JOIN procurement_org g ON g.tenant_id = b.tenant_id AND g.id = b.org_id "
                               "WHERE b.tenant_id = {} AND b.call_id IN ({ids}) ORDER BY b.id", ids)
    contracts = await _children(tenant, "SELECT * FROM procurement_contract WHERE tenant_id = {} AND call_id IN ({ids})", ids)
    milestones = await _children(tenant, "SELECT * FROM procurement_milestone WHERE tenant_id = {} AND contract_id IN "
                                 "({ids}) ORDER BY seq", [int(k["id"]) for k in contracts])
    return [_release(tenant, c, [b for b in all_bids if int(b["call_id"]) == int(c["id"])],
                     next((k for k in contracts if int(k["call_id"]) == int(c["id"])), None), milestones)
            for c in calls]


def _release(tenant: TenantContext, c: dict[str, Any], call_bids: list[dict[str, Any]], contract: dict[str, Any] | None,
             milestones: list[dict[str, Any]]) -> dict[str, Any]:
    the_ocid = ocid(tenant, int(c["id"]))
    buyer = {"id": f"CN-UNION-{c['unit_code']}", "name": c["unit_name"]}
    parties = [{**buyer, "roles": ["buyer", "procuringEntity"]}]
    tender: dict[str, Any] = {
        "id": f"{the_ocid}-tender", "title": c["title"], "description": c["description"] or c["title"],
        "status": TENDER_STATUS.get(c["state"], "active"), "value": _money(c["budget_fen"]),
        "procuringEntity": buyer, "procurementMethod": "open", "mainProcurementCategory": "services",
        "awardCriteria": "ratedCriteria", "enquiryPeriod": {"startDate": _ts(c["published_at"]), "endDate": _ts(c["enquiry_end"])},
        "tenderPeriod": {"startDate": _ts(c["enquiry_end"]), "endDate": _ts(c["tender_end"])},
    }
    tags = ["tender"]
    opened = bids.is_open(c)
    if opened:  # the bidders are sealed with their bids until the deadline
        tenderers = {b["credit_code"]: b for b in call_bids}
        tender["numberOfTenderers"] = len(tenderers)
        tender["tenderers"] = [{"id": f"CN-USCC-{b['credit_code']}", "name": b["name"]} for b in tenderers.values()]
        parties += [_party(b, ["tenderer"]) for b in tenderers.values()]
    awards = []
    winner = next((b for b in call_bids if c["award_bid_id"] is not None and int(b["id"]) == int(c["award_bid_id"])), None)
    if opened and winner is not None:
        price = bids.price_of(tenant, {"price_enc": winner["price_enc"]}, c)
        supplier = {"id": f"CN-USCC-{winner['credit_code']}", "name": winner["name"]}
        for p in parties:
            if p["id"] == supplier["id"]:
                p["roles"] = [*p["roles"], "supplier"]
        awards.append({"id": f"{the_ocid}-award-{int(winner['id'])}", "status": "active" if c["state"] in
                       ("awarded", "contracted") else "pending", "value": _money(price), "suppliers": [supplier],
                       "date": _ts(c["updated_at"])})
        tags.append("award")
    out: dict[str, Any] = {
        "ocid": the_ocid, "id": f"{the_ocid}-{int(c['version'])}", "date": _ts(c["updated_at"]), "tag": tags,
        "initiationType": "tender", "language": "zh", "parties": parties, "buyer": buyer,
        "planning": {"budget": {"amount": _money(c["budget_fen"]), "description": c["category"]}}, "tender": tender,
    }
    if c["state"] == "cancelled":
        tags.append("tenderCancellation")
    if awards:
        out["awards"] = awards
    if contract is not None and awards:
        mine = [m for m in milestones if int(m["contract_id"]) == int(contract["id"])]
        paid = [m for m in mine if m["status"] == "paid"]
        out["contracts"] = [{
            "id": f"{the_ocid}-contract-{int(contract['id'])}", "awardID": awards[0]["id"],
            "status": "terminated" if contract.get("status") == "terminated" else "active",
            "value": _money(contract["value_fen"]), "dateSigned": _ts(contract["signed_at"]),
            "milestones": [{"id": f"milestone-{int(m['seq'])}", "title": m["title"],
                            "description": f"{m['deliverable']}（合同金额的{int(m['percent'])}%）", "type": "delivery",
                            "status": MILESTONE_STATUS.get(m["status"], "scheduled")} for m in mine],
            "implementation": {"transactions": [{
                "id": f"payment-{int(m['seq'])}", "date": _ts(m["paid_at"]), "value": _money(m["amount_fen"]),
                "payer": buyer, "payee": awards[0]["suppliers"][0]} for m in paid]},
        }]
        tags[:] = [t for t in tags if t != "award"] + ["contract"] + (["implementation"] if paid else [])
    return out


# OCDS milestoneStatus codes; a terminated contract's unpaid milestones were not met
MILESTONE_STATUS = {"accepted": "met", "paid": "met", "closed": "notMet"}


def package(tenant: TenantContext, uri: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"uri": uri, "version": "1.1", "publishedDate": _ts(utcnow()),
            "publisher": {"name": tenant.name},
            "license": "https://creativecommons.org/licenses/by/4.0/", "releases": items}


async def awarded_contracts(tenant: TenantContext, limit: int = 500) -> list[dict[str, Any]]:
    rows = await raw("SELECT k.id, k.call_id, k.value_fen, k.signed_at, k.status, c.title, c.category, o.name AS unit_name, "
                     "g.name AS org_name, g.credit_code FROM procurement_contract k "
                     "JOIN procurement_call c ON c.tenant_id = k.tenant_id AND c.id = k.call_id "
                     "JOIN org_unit o ON o.tenant_id = k.tenant_id AND o.id = k.org_unit_id "
                     "JOIN procurement_org g ON g.tenant_id = k.tenant_id AND g.id = k.org_id "
                     f"WHERE k.tenant_id = {{}} ORDER BY k.id DESC LIMIT {int(limit)}", tenant.id)
    return [{"ocid": ocid(tenant, int(r["call_id"])), "title": r["title"], "category": r["category"],
             "buyer": r["unit_name"], "supplier": {"name": r["org_name"], "creditCode": r["credit_code"]},
             "valueFen": int(r["value_fen"]), "signedAt": _ts(r["signed_at"]),
             "status": r["status"] or "active"} for r in rows]




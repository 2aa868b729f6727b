"""Sealed bids. Only an approved organisation that is not on the negative list bids (and the
province's ``procurement_eligibility`` rule, if any), during the bidding period, at most the call's
budget. The price is encrypted and the documents sit encrypted in the file store; this module is the
only reader of either, and it opens them only once the call's tender deadline has passed and the call
has left bidding: before that nobody reads them, the union's own admins and the bidder included.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    as_utc,
    audit_record,
    files,
    hooks_for,
    on_postgres,
    pii_decrypt,
    pii_encrypt,
    raw,
    transaction,
    utcnow,
)
from huijia_procurement import calls, registry
from huijia_procurement.common import invalid, json_value, own_org
from huijia_procurement.interface import BidderInfo, CallInfo
from huijia_procurement.settings import for_tenant
from huijia_procurement.tables import ProcurementBid, ProcurementBidDocument

PRICE_CONTEXT = ("procurement_bid", "price")
MAX_DOCUMENTS = 10
SEALED_STATES = ("draft", "enquiries", "bidding")


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes


def is_open(call: dict[str, Any]) -> bool:
    """Whether the call's bids may be read: past the tender deadline AND out of bidding (both: a
    timer that has not run yet cannot open them early, nor a clock that runs late)."""
    return (call["tender_end"] is not None and utcnow() >= call["tender_end"]
            and call["state"] not in SEALED_STATES)


def sealed_error(call: dict[str, Any]) -> DomainError:
    until = call["tender_end"].isoformat() if call["tender_end"] is not None else None
    return DomainError(ErrorCode.INVALID_STATE, "bids are sealed until the tender deadline", "callId",
                       "投标截止前，任何人都不能查看投标内容", extensions={"sealedUntil": until})


def require_open(call: dict[str, Any]) -> None:
    if not is_open(call):
        raise sealed_error(call)


def bidder_info(org: dict[str, Any]) -> BidderInfo:
    return BidderInfo(org_id=int(org["id"]), name=org["name"], credit_code=org["credit_code"],
                      service_areas=tuple(json_value(org["service_areas"]) or ()),
                      has_own_union=bool(org["has_own_union"]), score_bp=int(org["score_bp"]))


def call_info(call: dict[str, Any]) -> CallInfo:
    return CallInfo(call_id=int(call["id"]), org_unit_id=int(call["org_unit_id"]), category=call["category"],
                    area_code=call["area_code"] or "", budget_fen=int(call["budget_fen"]))


async def _eligible_org(tenant: TenantContext, principal: Principal, call: dict[str, Any]) -> dict[str, Any]:
    org = await own_org(tenant, principal)
    if org is None or org["status"] != "approved":
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "only a registered (approved) organisation may bid", None,
                          "仅已入库的社会组织可以投标")
    entries = (await registry.blacklist_of(tenant, [int(org["id"])])).get(int(org["id"]), [])
    entry = registry.blacklisted(entries, utcnow().date())
    if entry is not None:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "the organisation is on the negative list", None,
                          f"该组织已被列入黑名单（至{entry['ends_on']}），不能投标")
    refusal = hooks_for(tenant).procurement_eligibility(tenant=tenant, org=bidder_info(org), call=call_info(call))
    if refusal is not None:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, refusal.message, None, refusal.message_zh)
    return org


async def submit(tenant: TenantContext, principal: Principal, actor: Actor, call_id: int, price_fen: int,
                 documents: list[Document]) -> dict[str, Any]:
    """Place (or, before the deadline, replace) the organisation's bid on a call."""
    call = await calls.visible(tenant, principal, call_id)
    org = await _eligible_org(tenant, principal, call)
    if call["state"] != "bidding" or call["tender_end"] is None or utcnow() >= call["tender_end"]:
        raise DomainError(ErrorCode.INVALID_STATE, "bids are taken during the bidding period only", "callId",
                          "不在投标期内（投标已截止或尚未开始）")
    if price_fen <= 0:
        raise invalid("priceFen must be positive", "priceFen", "报价须大于0")
    cap = min(int(call["budget_fen"]), for_tenant(tenant).budget_cap_fen)
    if price_fen > cap:
        raise DomainError(ErrorCode.CAP_EXCEEDED, "priceFen is above the call's budget", "priceFen",
                          f"报价不得超过项目预算{cap / 100:,.2f}元", extensions={"capFen": cap})
    if not documents or len(documents) > MAX_DOCUMENTS:
        raise invalid(f"a bid needs 1 to {MAX_DOCUMENTS} documents", "documents", f"投标须附1至{MAX_DOCUMENTS}份文件")
    checked = [(d, registry.check_document(d.content, None)) for d in documents]
    store = files.store(registry.FILE_AREA)
    async with transaction():
        # Two submissions of one organisation at the same moment: the call's row lock makes the second
        # wait and then replace the first bid, instead of failing on the (call, org) unique index.
        # (SQLite serialises writers on its own.) The deadline is checked again under the lock.
        if on_postgres():
            await raw("SELECT id FROM procurement_call WHERE tenant_id = {} AND id = {} FOR UPDATE", tenant.id, call_id)
        deadline = await raw("SELECT tender_end FROM procurement_call WHERE tenant_id = {} AND id = {}",
                             tenant.id, call_id)
        if not deadline or deadline[0]["tender_end"] is None or utcnow() >= as_utc(deadline[0]["tender_end"]):
            raise DomainError(ErrorCode.INVALID_STATE, "bids are taken during the bidding period only", "callId",
                              "不在投标期内（投标已截止或尚未开始）")
        existing = await raw("SELECT id FROM procurement_bid WHERE tenant_id = {} AND call_id = {} AND org_id = {}",
                             tenant.id, call_id, org["id"])
        enc = pii_encrypt(str(price_fen), *PRICE_CONTEXT, tenant.id)
        if existing:
            bid_id = int(existing[0]["id"])
            old = await raw("SELECT id FROM procurement_bid_document WHERE tenant_id = {} AND bid_id = {}", tenant.id, bid_id)
            await raw("DELETE FROM procurement_bid_document WHERE tenant_id = {} AND bid_id = {}", tenant.id, bid_id)
            await raw("UPDATE procurement_bid SET price_enc = {}, submitted_at = {} WHERE tenant_id = {} AND id = {}",
                      enc, utcnow(), tenant.id, bid_id)
        else:
            old = []
            rows = await ProcurementBid.insert(ProcurementBid(tenant_id=tenant.id, call_id=call_id, org_id=org["id"],
                                                              price_enc=enc, submitted_at=utcnow())).returning(ProcurementBid.id)
            bid_id = int(rows[0]["id"])
        for d, ctype in checked:
            name = (d.filename or "file").replace("/", "_").replace("\\", "_")[:200]
            doc = await ProcurementBidDocument.insert(ProcurementBidDocument(
                tenant_id=tenant.id, bid_id=bid_id, filename=name, content_type=ctype, size=len(d.content),
                sha256=hashlib.sha256(d.content).hexdigest(), created_at=utcnow())).returning(ProcurementBidDocument.id)
            store.store_stream(iter([d.content]), "bid_document", tenant.id, int(doc[0]["id"]))
        # the price is not audited: the chain is readable by auditors before the deadline
        await audit_record(tenant, actor, "procurement.bid.submit", "ProcurementCall", call_id,
                           {"bid_id": bid_id, "documents": len(checked), "replaced": bool(existing)})
    for r in old:
        store.delete_stored("bid_document", tenant.id, int(r["id"]))
    return {"id": bid_id, "call_id": call_id, "org_id": int(org["id"])}


def price_of(tenant: TenantContext, bid: dict[str, Any], call: dict[str, Any]) -> int:
    """The bid's price: only through here, and only once the call is open."""
    require_open(call)
    return int(pii_decrypt(bid["price_enc"], *PRICE_CONTEXT, tenant.id))


async def bids_of_call(tenant: TenantContext, principal: Principal, call_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every bid on a call with its price, for staff of the call's union; refused while sealed."""
    call = await calls.visible(tenant, principal, call_id)
    if not principal.can("procurement.read", call["unit_path"]):
        raise DomainError(ErrorCode.FORBIDDEN, "not allowed: procurement.read")
    require_open(call)
    from huijia_procurement import scoring

    await scoring.require_declared(tenant, principal, call_id)
    rows = await raw("SELECT b.*, g.name AS org_name, g.has_own_union, g.score_bp FROM procurement_bid b "
                     "JOIN procurement_org g ON g.tenant_id = b.tenant_id AND g.id = b.org_id "
                     "WHERE b.tenant_id = {} AND b.call_id = {} ORDER BY b.id", tenant.id, call_id)
    return call, [{**r, "price_fen": price_of(tenant, r, call)} for r in rows]


async def my_bids(tenant: TenantContext, principal: Principal) -> list[dict[str, Any]]:
    """The organisation's own bids; their prices only for calls already open."""
    org = await own_org(tenant, principal)
    if org is None:
        return []
    # one query with each bid's call and its state: no query per bid
    rows = await raw("SELECT b.id, b.call_id, b.org_id, b.price_enc, b.submitted_at, c.tender_end, w.state "
                     "FROM procurement_bid b JOIN procurement_call c ON c.tenant_id = b.tenant_id AND c.id = b.call_id "
                     "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'procurement' "
                     "AND w.case_type = 'call' AND w.case_id = c.id WHERE b.tenant_id = {} AND b.org_id = {} "
                     "ORDER BY b.id DESC LIMIT 500", tenant.id, org["id"])
    return [{**r, "price_fen": price_of(tenant, r, r) if is_open(r) else None} for r in rows]


async def document_for_download(tenant: TenantContext, principal: Principal, document_id: int) -> tuple[dict[str, Any], Any]:
    """A bid document's row and an open reader: the call's staff after the deadline, or its bidder after
    the deadline; before it, nobody (INVALID_STATE); outside what the caller may see, NOT_FOUND."""
    rows = await raw("SELECT d.*, b.call_id, b.org_id FROM procurement_bid_document d JOIN procurement_bid b "
                     "ON b.tenant_id = d.tenant_id AND b.id = d.bid_id WHERE d.tenant_id = {} AND d.id = {}",
                     tenant.id, document_id)
    if not rows:
        raise DomainError(ErrorCode.NOT_FOUND, "document not found", "id")
    doc = rows[0]
    call = await calls.load(tenant, int(doc["call_id"]))
    assert call is not None
    org = await own_org(tenant, principal)
    own = org is not None and int(org["id"]) == int(doc["org_id"])
    if not own and not principal.can("procurement.read", call["unit_path"]):
        raise DomainError(ErrorCode.NOT_FOUND, "document not found", "id")
    require_open(call)
    return doc, files.store(registry.FILE_AREA).open_stored("bid_document", tenant.id, document_id)

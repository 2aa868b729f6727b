"""Proof of receipt: the worker confirms their own benefit in the portal, or a clerk records a
signature or photo (kept in core's encrypted file store, its type decided by its bytes); notes of
follow-up calls to those who have not confirmed. Also the campaign's goods stock."""

from __future__ import annotations

import hashlib
from typing import Any

from core.sdk import (
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    in_subtree,
    on_postgres,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)

MAX_FILE = 10 * 1024 * 1024
SNIFF = (("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"), ("application/pdf", b"%PDF-"))
FILE_KINDS = {"signature": "签字", "photo": "照片", "fingerprint": "指印"}
MAX_NOTE = 500


def sniff(content: bytes) -> str | None:
    return next((ctype for ctype, magic in SNIFF if content.startswith(magic)), None)


_ROW = ("SELECT b.*, o.path AS unit_path, w.state FROM warmth_beneficiary b "
        "JOIN warmth_campaign c ON c.tenant_id = b.tenant_id AND c.id = b.campaign_id "
        "JOIN org_unit o ON o.tenant_id = c.tenant_id AND o.id = c.org_unit_id "
        "JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'warmth' AND w.case_type = 'campaign' "
        "AND w.case_id = c.id WHERE b.tenant_id = {} AND b.id = {}")


async def _served(tenant: TenantContext, beneficiary_id: int, principal: Principal | None) -> dict[str, Any]:
    rows = await raw(_ROW + (" FOR UPDATE OF b" if on_postgres() else ""), tenant.id, beneficiary_id)
    if not rows or (principal is not None and not in_subtree(principal, "warmth.read", rows[0]["unit_path"])):
        raise DomainError(ErrorCode.NOT_FOUND, "beneficiary not found", "beneficiaryId")
    if principal is not None:
        require_in_subtree(principal, "warmth.write", rows[0]["unit_path"], what="beneficiary", field="beneficiaryId",
                           read_action="warmth.read")
    return rows[0]


def _check_receivable(row: dict[str, Any]) -> None:
    if row["paid_at"] is None:
        raise DomainError(ErrorCode.INVALID_STATE, "nothing was given to this beneficiary yet", "beneficiaryId",
                          "尚未发放，不能确认签收")
    if row["receipt_at"] is not None:
        raise DomainError(ErrorCode.DUPLICATE, "receipt was already confirmed", "beneficiaryId", "已确认签收")


async def confirm_by_worker(tenant: TenantContext, worker: Any, actor: Any, beneficiary_id: int) -> dict[str, Any]:
    """The worker portal: only the worker whose own row it is may confirm (another's reads as NOT_FOUND)."""
    async with transaction():
        rows = await raw(_ROW + (" FOR UPDATE OF b" if on_postgres() else ""), tenant.id, beneficiary_id)
        worker.require_own_member(rows[0]["member_id"] if rows else None, "beneficiary")
        row = rows[0]
        _check_receivable(row)
        out = (await raw("UPDATE warmth_beneficiary SET receipt_at = {}, receipt_method = 'portal', receipt_by = {} "
                         "WHERE tenant_id = {} AND id = {} RETURNING *", utcnow(), actor.user_id, tenant.id,
                         beneficiary_id))[0]
        await audit_record(tenant, actor, "warmth.receipt.confirm", "WarmthCampaign", row["campaign_id"],
                           {"beneficiary_id": beneficiary_id, "method": "portal"})
    return out


async def record_by_clerk(tenant: TenantContext, principal: Principal, actor: Any, beneficiary_id: int, kind: str,
                          content: bytes) -> dict[str, Any]:
    """A clerk records a signature, fingerprint or photo (JPEG, PNG or PDF by its bytes) as the receipt."""
    from core.sdk import files

    if kind not in FILE_KINDS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"kind must be one of {', '.join(FILE_KINDS)}", "kind",
                          "签收凭证类型不正确")
    if not content or len(content) > MAX_FILE:
        raise DomainError(ErrorCode.INVALID_INPUT, f"a file must have 1 byte to {MAX_FILE} bytes", "content",
                          "文件为空或超过10MB")
    ctype = sniff(content)
    if ctype is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file is not a JPEG, PNG or PDF", "content",
                          "文件内容不是JPG、PNG或PDF格式")
    async with transaction():
        row = await _served(tenant, beneficiary_id, principal)
        _check_receivable(row)
        file_id = int((await raw(
            "INSERT INTO warmth_receipt_file (tenant_id, campaign_id, beneficiary_id, kind, content_type, size_bytes, "
            "sha256, created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
            tenant.id, row["campaign_id"], beneficiary_id, kind, ctype, len(content),
            hashlib.sha256(content).hexdigest(), actor.user_id, utcnow()))[0]["id"])
        # Written before the transaction commits: a failed write leaves no row pointing at nothing.
        files.store("warmth").store_stream(iter([content]), "receipt", tenant.id, file_id)
        out = (await raw("UPDATE warmth_beneficiary SET receipt_at = {}, receipt_method = {}, receipt_file_id = {}, "
                         "receipt_by = {} WHERE tenant_id = {} AND id = {} RETURNING *", utcnow(), kind, file_id,
                         actor.user_id, tenant.id, beneficiary_id))[0]
        await audit_record(tenant, actor, "warmth.receipt.record", "WarmthCampaign", row["campaign_id"],
                           {"beneficiary_id": beneficiary_id, "method": kind, "file_id": file_id, "size": len(content)})
    return out


async def add_followup(tenant: TenantContext, principal: Principal, actor: Any, beneficiary_id: int,
                       note: str) -> dict[str, Any]:
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise DomainError(ErrorCode.INVALID_INPUT, f"a note of 1 to {MAX_NOTE} characters is required", "note",
                          "回访记录须为1至500个字符")
    async with transaction():
        row = await _served(tenant, beneficiary_id, principal)
        out = (await raw("INSERT INTO warmth_followup (tenant_id, campaign_id, beneficiary_id, note, created_by, created_at) "
                         "VALUES ({}, {}, {}, {}, {}, {}) RETURNING *", tenant.id, row["campaign_id"], beneficiary_id,
                         note, actor.user_id, utcnow()))[0]
        await audit_record(tenant, actor, "warmth.followup.add", "WarmthCampaign", row["campaign_id"],
                           {"beneficiary_id": beneficiary_id})
    return out


async def set_stock(tenant: TenantContext, principal: Principal, actor: Any, campaign_id: int, item: str,
                    quantity: int) -> dict[str, Any]:
    """Set how many units of an in-kind item the campaign holds (before or during distribution)."""
    from huijia_warmth.beneficiaries import _campaign_for_update

    if quantity < 0 or quantity > 10_000_000:
        raise DomainError(ErrorCode.INVALID_INPUT, "quantity must be 0 to 10,000,000", "quantity", "库存数量不正确")
    async with transaction():
        c = await _campaign_for_update(tenant, campaign_id)
        if c is None or not in_subtree(principal, "warmth.read", c["unit_path"]):
            raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
        require_in_subtree(principal, "warmth.write", c["unit_path"], what="campaign", field="campaignId",
                           read_action="warmth.read")
        if c["state"] in ("distributed", "closed", "cancelled"):
            raise DomainError(ErrorCode.INVALID_STATE, f"the campaign is {c['state']}", "campaignId", "活动已结束")
        items = {r["item"] for r in await raw("SELECT item FROM warmth_campaign_group WHERE tenant_id = {} AND "
                                              "campaign_id = {} AND form = 'in_kind'", tenant.id, campaign_id)}
        if item not in items:
            raise DomainError(ErrorCode.INVALID_INPUT, "the campaign gives no such item", "item", "本活动没有该慰问品")
        out = await raw("UPDATE warmth_stock SET quantity = {} WHERE tenant_id = {} AND campaign_id = {} AND item = {} "
                        "RETURNING *", quantity, tenant.id, campaign_id, item)
        if not out:
            out = await raw("INSERT INTO warmth_stock (tenant_id, campaign_id, item, quantity, given) VALUES "
                            "({}, {}, {}, {}, 0) RETURNING *", tenant.id, campaign_id, item, quantity)
        await audit_record(tenant, actor, "warmth.stock.set", "WarmthCampaign", campaign_id,
                           {"item": item, "quantity": quantity})
    return out[0]

"""Social-organisation registry (社会组织库): application through the organisation's own login, the
union's decision, qualification documents, the negative list (blacklist) and the performance score.

An organisation applies to the union where its login was granted ``social_org``; staff of that union
or above decide. Every object an organisation's login reads is its own: another organisation's
record is NOT_FOUND for it, like a thing outside a staff member's subtree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    audit_record,
    files,
    get_unit,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
)
from huijia_procurement import credit_code
from huijia_procurement.common import invalid, own_org, social_org_unit, text
from huijia_procurement.settings import for_tenant
from huijia_procurement.tables import (
    ProcurementBlacklist,
    ProcurementOrg,
    ProcurementOrgDocument,
    ProcurementOrgScore,
)

FILE_AREA = "procurement"
MAX_DOCUMENT = 10 * 1024 * 1024
SNIFF = (("application/pdf", b"%PDF-"), ("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"))
DOCUMENT_KINDS = {"registration_certificate": "登记证书", "charter": "章程", "qualification": "资质证明",
                  "audit_report": "审计报告", "other": "其他"}
NOT_FOUND_ZH = "社会组织不存在，或您无权查看"


@dataclass(frozen=True)
class Application:
    name: str
    credit_code: str
    registration_no: str
    registration_authority: str
    service_areas: tuple[str, ...]
    has_own_union: bool


def clean_credit_code(raw_code: str) -> str:
    code = credit_code.normalize(raw_code or "")
    why = credit_code.problem(code)
    if why is not None:
        raise invalid(f"creditCode is not a valid unified social credit code: {why}", "creditCode",
                      "统一社会信用代码不正确（须为18位，且校验位符合GB 32100）")
    if code[0] != credit_code.CIVIL_AFFAIRS:
        raise DomainError(ErrorCode.NOT_ELIGIBLE, "the credit code is not one 民政 (civil affairs) registered",
                          "creditCode", "只有在民政部门登记的社会组织可以入库（信用代码首位为5）")
    return code


def _areas(values: tuple[str, ...]) -> list[str]:
    areas = sorted({v.strip() for v in values if v and v.strip()})
    if not areas or len(areas) > 50 or any(not a.isdigit() or len(a) not in (2, 4, 6) for a in areas):
        raise invalid("serviceAreas must list 1 to 50 administrative division codes (2, 4 or 6 digits)",
                      "serviceAreas", "服务区域须为1至50个行政区划代码")
    return areas


async def apply(tenant: TenantContext, principal: Principal, actor: Actor, a: Application) -> dict[str, Any]:
    unit_id = social_org_unit(principal)
    if unit_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "only an organisation's own login (role social_org) applies")
    code = clean_credit_code(a.credit_code)
    values = {
        "name": text("name", a.name, 200, "组织名称"),
        "registration_no": text("registrationNo", a.registration_no, 64, "登记证号"),
        "registration_authority": text("registrationAuthority", a.registration_authority, 100, "登记管理机关"),
        "service_areas": _areas(a.service_areas),
    }
    async with transaction():
        mine = await own_org(tenant, principal)
        if mine is not None and mine["status"] != "rejected":
            raise DomainError(ErrorCode.DUPLICATE, "this login has applied already", None, "该账号已提交入库申请")
        taken = await raw("SELECT id FROM procurement_org WHERE tenant_id = {} AND credit_code = {}", tenant.id, code)
        if taken and (mine is None or int(taken[0]["id"]) != int(mine["id"])):
            raise DomainError(ErrorCode.DUPLICATE, "an organisation with this credit code is registered", "creditCode",
                              "该统一社会信用代码已登记")
        if mine is not None:  # a rejected organisation applies again with corrected data
            await ProcurementOrg.update({
                ProcurementOrg.name: values["name"], ProcurementOrg.credit_code: code,
                ProcurementOrg.registration_no: values["registration_no"],
                ProcurementOrg.registration_authority: values["registration_authority"],
                ProcurementOrg.service_areas: values["service_areas"], ProcurementOrg.has_own_union: a.has_own_union,
                ProcurementOrg.status: "pending", ProcurementOrg.decision_reasons: [],
                ProcurementOrg.decided_by: None, ProcurementOrg.decided_at: None,
            }).where((ProcurementOrg.tenant_id == tenant.id) & (ProcurementOrg.id == mine["id"]))
            org_id = int(mine["id"])
        else:
            rows = await ProcurementOrg.insert(ProcurementOrg(
                tenant_id=tenant.id, org_unit_id=unit_id, user_id=principal.user_id, credit_code=code,
                has_own_union=a.has_own_union, score_bp=for_tenant(tenant).initial_score_bp, created_at=utcnow(),
                **values)).returning(ProcurementOrg.id)
            org_id = int(rows[0]["id"])
        await audit_record(tenant, actor, "procurement.org.apply", "SocialOrg", org_id, {"credit_code": code})
    org = await load(tenant, org_id)
    assert org is not None
    return org


async def load(tenant: TenantContext, org_id: int) -> dict[str, Any] | None:
    rows = await raw("SELECT g.*, o.path AS unit_path FROM procurement_org g JOIN org_unit o ON o.id = g.org_unit_id "
                     "AND o.tenant_id = g.tenant_id WHERE g.tenant_id = {} AND g.id = {}", tenant.id, org_id)
    return rows[0] if rows else None


async def visible(tenant: TenantContext, principal: Principal, org_id: int, *, field: str = "orgId") -> dict[str, Any]:
    """The organisation if the caller may read it: its own login, or staff whose subtree holds its union."""
    org = await load(tenant, org_id)
    if org is None or (int(org["user_id"]) != principal.user_id and not principal.can("procurement.read", org["unit_path"])):
        raise DomainError(ErrorCode.NOT_FOUND, "social organisation not found", field, NOT_FOUND_ZH)
    return org


async def decide(tenant: TenantContext, principal: Principal, actor: Actor, org_id: int, approve: bool,
                 reasons: list[str]) -> dict[str, Any]:
    reasons = [text("reasons", r, 500, "理由") for r in reasons if r and r.strip()][:20]
    if not approve and not reasons:
        raise invalid("a rejection needs at least one reason", "reasons", "不予入库须说明理由")
    async with transaction():
        org = await load(tenant, org_id)
        if org is None:
            raise DomainError(ErrorCode.NOT_FOUND, "social organisation not found", "orgId", NOT_FOUND_ZH)
        require_in_subtree(principal, "procurement.org.decide", org["unit_path"], what="social organisation",
                           field="orgId", read_action="procurement.read", message_zh=NOT_FOUND_ZH)
        if principal.user_id == int(org["user_id"]):
            raise DomainError(ErrorCode.SELF_APPROVAL, "an organisation cannot approve itself", "orgId")
        # Compare-and-set: two approvers racing, the second finds the application decided.
        done = await raw("UPDATE procurement_org SET status = {}, decision_reasons = {}, decided_by = {}, decided_at = {} "
                         "WHERE tenant_id = {} AND id = {} AND status = 'pending' RETURNING id",
                         "approved" if approve else "rejected", json.dumps(reasons, ensure_ascii=False),
                         principal.user_id, utcnow(), tenant.id, org_id)
        if not done:
            raise DomainError(ErrorCode.INVALID_STATE, f"the application is {org['status']}, not pending", "orgId",
                              "该申请已处理")
        if approve:
            await ProcurementOrgScore.insert(ProcurementOrgScore(
                tenant_id=tenant.id, org_id=org_id, score_bp=int(org["score_bp"]), source="registered",
                note="入库初始分", created_at=utcnow()))
        await audit_record(tenant, actor, f"procurement.org.{'approve' if approve else 'reject'}", "SocialOrg", org_id,
                           {"reasons": len(reasons)})
    out = await load(tenant, org_id)
    assert out is not None
    return out


def sniff(content: bytes) -> str | None:
    return next((ctype for ctype, magic in SNIFF if content.startswith(magic)), None)


def check_document(content: bytes, claimed_type: str | None) -> str:
    if not content or len(content) > MAX_DOCUMENT:
        raise invalid(f"a file must have 1 byte to {MAX_DOCUMENT} bytes", "content", "文件为空或超过10MB")
    ctype = sniff(content)
    if ctype is None or (claimed_type and claimed_type != ctype):
        raise invalid("the file is not the PDF, JPEG or PNG it claims to be", "content",
                      "文件内容不是所声明的PDF、JPG或PNG格式")
    return ctype


async def add_document(tenant: TenantContext, principal: Principal, actor: Actor, org_id: int, kind: str,
                       filename: str, content: bytes, claimed_type: str | None = None) -> dict[str, Any]:
    """Store a qualification document; only the organisation's own login adds them (its type is read
    from its bytes, never from its name)."""
    org = await visible(tenant, principal, org_id)
    if int(org["user_id"]) != principal.user_id:
        raise DomainError(ErrorCode.FORBIDDEN, "only the organisation itself adds its documents")
    if kind not in DOCUMENT_KINDS:
        raise invalid(f"unknown document kind {kind!r}", "kind", "材料类型不正确")
    ctype = check_document(content, claimed_type)
    name = (filename or "file").replace("/", "_").replace("\\", "_")[:200]
    async with transaction():
        rows = await ProcurementOrgDocument.insert(ProcurementOrgDocument(
            tenant_id=tenant.id, org_id=org_id, kind=kind, filename=name, content_type=ctype, size=len(content),
            sha256=hashlib.sha256(content).hexdigest(), created_by=actor.user_id, created_at=utcnow(),
        )).returning(*ProcurementOrgDocument.all_columns())
        doc = rows[0]
        # Written before the transaction commits: a failed write leaves no row pointing at nothing.
        files.store(FILE_AREA).store_stream(iter([content]), "org_document", tenant.id, int(doc["id"]))
        await audit_record(tenant, actor, "procurement.org.document.add", "SocialOrg", org_id,
                           {"document_id": int(doc["id"]), "kind": kind, "content_type": ctype, "size": len(content)})
    return doc


def blacklisted(entries: list[dict[str, Any]], today: dt.date) -> dict[str, Any] | None:
    """The entry in force on ``today``, if any."""
    return next((e for e in entries if e["lifted_at"] is None and _date(e["starts_on"]) <= today <= _date(e["ends_on"])),
                None)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


async def blacklist_of(tenant: TenantContext, org_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not org_ids:
        return {}
    ids = ", ".join(str(int(i)) for i in org_ids)
    rows = await raw(f"SELECT * FROM procurement_blacklist WHERE tenant_id = {{}} AND org_id IN ({ids}) ORDER BY id",
                     tenant.id)
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(int(r["org_id"]), []).append(r)
    return out


async def add_to_blacklist(tenant: TenantContext, principal: Principal, actor: Actor, org_id: int, reason: str,
                           starts_on: dt.date, ends_on: dt.date) -> dict[str, Any]:
    reason = text("reason", reason, 500, "列入理由")
    if ends_on < starts_on or (ends_on - starts_on).days > 3660:
        raise invalid("endsOn must be on or after startsOn, within ten years", "endsOn", "期限结束日须不早于开始日，且不超过十年")
    org = await visible(tenant, principal, org_id)
    require_in_subtree(principal, "procurement.org.decide", org["unit_path"], what="social organisation",
                       field="orgId", read_action="procurement.read", message_zh=NOT_FOUND_ZH)
    async with transaction():
        rows = await ProcurementBlacklist.insert(ProcurementBlacklist(
            tenant_id=tenant.id, org_id=org_id, reason=reason, starts_on=starts_on, ends_on=ends_on,
            created_by=actor.user_id, created_at=utcnow())).returning(*ProcurementBlacklist.all_columns())
        await audit_record(tenant, actor, "procurement.org.blacklist", "SocialOrg", org_id,
                           {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return rows[0]


async def lift_blacklist(tenant: TenantContext, principal: Principal, actor: Actor, entry_id: int) -> dict[str, Any]:
    rows = await raw("SELECT * FROM procurement_blacklist WHERE tenant_id = {} AND id = {}", tenant.id, entry_id)
    if not rows:
        raise DomainError(ErrorCode.NOT_FOUND, "negative-list entry not found", "entryId")
    org = await visible(tenant, principal, int(rows[0]["org_id"]), field="entryId")
    require_in_subtree(principal, "procurement.org.decide", org["unit_path"], what="social organisation",
                       field="entryId", read_action="procurement.read", message_zh=NOT_FOUND_ZH)
    done = await raw("UPDATE procurement_blacklist SET lifted_at = {} WHERE tenant_id = {} AND id = {} "
                     "AND lifted_at IS NULL RETURNING *", utcnow(), tenant.id, entry_id)
    if not done:
        raise DomainError(ErrorCode.INVALID_STATE, "the entry was lifted already", "entryId", "该记录已解除")
    await audit_record(tenant, actor, "procurement.org.blacklist.lift", "SocialOrg", int(org["id"]), {"entry_id": entry_id})
    return done[0]


async def record_score(tenant: TenantContext, org_id: int, score_bp: int, source: str, source_id: int | None,
                       note: str) -> None:
    """Set the organisation's score and keep the change in its history (inside the caller's transaction)."""
    await raw("UPDATE procurement_org SET score_bp = {} WHERE tenant_id = {} AND id = {}", score_bp, tenant.id, org_id)
    await ProcurementOrgScore.insert(ProcurementOrgScore(tenant_id=tenant.id, org_id=org_id, score_bp=score_bp,
                                                         source=source, source_id=source_id, note=note[:200],
                                                         created_at=utcnow()))


async def unit_of(tenant: TenantContext, unit_id: int) -> dict[str, Any] | None:
    return await get_unit(tenant, unit_id)

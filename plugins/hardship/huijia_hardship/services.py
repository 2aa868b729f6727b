"""Writes to hardship archives: create, take workflow steps, civil-affairs check, re-verify, attach.

Each public function opens its own transaction and raises ``DomainError`` (nothing written) on a
refusal. Steps go through core's case state machine (``workflow_step``), which checks the order,
the actor's permission on the archive's unit, reasons and concurrency; the guards and effects of
``huijia_hardship.workflow`` call back into the functions at the bottom of this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.sdk import (
    Actor,
    DomainError,
    ErrorCode,
    Principal,
    TenantContext,
    get_household,
    get_unit,
    hooks_for,
    household_people,
    pii_decrypt,
    pii_encrypt,
    raw,
    require_in_subtree,
    roles_for,
    transaction,
    utcnow,
    workflow_open,
    workflow_step,
    workflow_timeline,
)
from huijia_hardship.interface import Classification, HouseholdFacts
from huijia_hardship.settings import for_tenant
from huijia_hardship.tables import HardshipArchive, HardshipAttachment, HardshipClassification
from huijia_hardship.workflow import ARCHIVE

TABLE = "hardship_archive"
TIERS = {"national": 0, "province": 1, "city": 2, "county": 3, "grassroots": 4}
TIERS_ZH = {"national": "全国级", "province": "省级", "city": "地市级", "county": "区县级", "grassroots": "基层"}
LEVEL_RANK = {"province": 1, "city": 2, "county": 3, "grassroots": 4, "industry": 4}
HEALTH = {
    "healthy": "健康", "chronic": "慢性病", "serious_illness": "重大疾病", "malignant_tumour": "恶性肿瘤",
    "end_stage_renal": "终末期肾病", "disabled_1": "残疾一级", "disabled_2": "残疾二级", "disabled_3": "残疾三级",
    "disabled_4": "残疾四级",
}
WORK_STATUS = {"on_duty": "在岗", "laid_off": "下岗", "unemployed": "失业", "retired": "退休", "sick_leave": "病休",
               "internal_retired": "内退", "migrant": "农民工"}
ATTACHMENT_KINDS = {"application_letter": "帮扶申请书", "consent_authorisation": "家庭经济状况核对授权委托书",
                    "other": "其他材料"}
CONSENT_KINDS = ("application_letter", "consent_authorisation")
MAX_FEN = 10**12
_AREA = re.compile(r"^\d{6}$")
_CARD = re.compile(r"^\d{12,19}$")


@dataclass(frozen=True)
class Finances:
    """The household's figures (all encrypted at rest): monthly fen, yearly fen for costs."""

    monthly_income_fen: int
    monthly_rigid_expense_fen: int
    yearly_hardship_cost_fen: int = 0
    accident: bool = False
    employment_months: int = 0
    homes: int = 1
    business_owner: bool = False
    private_school_fee_fen: int = 0
    public_school_fee_fen: int = 0
    study_abroad_self_paid: bool = False
    civil_check_failed: bool = False
    person_income_fen: Mapping[int, int] = field(default_factory=dict)

    def problems(self) -> list[DomainError]:
        out = []
        for name in ("monthly_income_fen", "monthly_rigid_expense_fen", "yearly_hardship_cost_fen",
                     "private_school_fee_fen", "public_school_fee_fen"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_FEN:
                camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
                out.append(DomainError(ErrorCode.INVALID_INPUT, f"{camel} must be between 0 and {MAX_FEN}", camel,
                                       "金额须为非负数"))
        if not 0 <= self.employment_months <= 1200 or not 0 <= self.homes <= 100:
            out.append(DomainError(ErrorCode.INVALID_INPUT, "employmentMonths or homes out of range", "homes"))
        if any(not 0 <= v <= MAX_FEN for v in self.person_income_fen.values()):
            out.append(DomainError(ErrorCode.INVALID_INPUT, "a person's income is out of range", "people",
                                   "家庭成员收入须为非负数"))
        return out

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "person_income_fen"}
        d["person_income_fen"] = {str(k): v for k, v in self.person_income_fen.items()}
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Finances:
        d = dict(d)
        d["person_income_fen"] = {int(k): int(v) for k, v in (d.get("person_income_fen") or {}).items()}
        return cls(**d)


@dataclass(frozen=True)
class ArchiveInput:
    household_id: int
    tier: str
    finances: Finances
    area_code: str | None = None
    kind: str = "regular"
    migrant: bool = False
    work_status: str = "on_duty"
    housing: str = ""
    medical_insurance: str = ""
    single_parent: bool = False
    zero_employment: bool = False
    main_cause: str = ""
    secondary_causes: tuple[str, ...] = ()
    person_health: Mapping[int, str] = field(default_factory=dict)
    bank_card: str | None = None


def _enc(tenant: TenantContext, field_name: str, value: Any) -> str:
    return pii_encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True), TABLE, field_name, tenant.id)


def _dec(tenant: TenantContext, field_name: str, token: str) -> Any:
    return json.loads(pii_decrypt(token, TABLE, field_name, tenant.id)) if token else None


def mask_card(tenant: TenantContext, token: str) -> str | None:
    """Bank card shown as its last four digits only."""
    if not token:
        return None
    try:
        return "**** " + str(_dec(tenant, "bank_card", token))[-4:]
    except Exception:  # a removed key must not fail the whole page
        return "****"


_ARCHIVE_SQL = ("SELECT a.*, o.path AS unit_path, w.state, w.version, w.state_since FROM hardship_archive a "
                "JOIN org_unit o ON o.id = a.org_unit_id AND o.tenant_id = a.tenant_id "
                "JOIN workflow_case w ON w.tenant_id = a.tenant_id AND w.capability = 'hardship' "
                "AND w.case_type = 'archive' AND w.case_id = a.id WHERE a.tenant_id = {}")


async def load(tenant: TenantContext, archive_id: int) -> dict[str, Any] | None:
    rows = await raw(_ARCHIVE_SQL + " AND a.id = {}", tenant.id, archive_id)
    return rows[0] if rows else None


def finances_of(tenant: TenantContext, row: Mapping[str, Any]) -> Finances:
    return Finances.from_json(_dec(tenant, "finances", row["finances_enc"]) or {})


async def prior_aid(tenant: TenantContext, household_id: int) -> int:
    """Aid paid to the household in the last 365 days (fen)."""
    rows = await raw("SELECT coalesce(sum(g.amount_fen), 0) AS n FROM hardship_grant g JOIN workflow_case w "
                     "ON w.tenant_id = g.tenant_id AND w.capability = 'hardship' AND w.case_type = 'grant' "
                     "AND w.case_id = g.id WHERE g.tenant_id = {} AND g.household_id = {} AND w.state = 'paid' "
                     "AND w.state_since >= {}", tenant.id, household_id, utcnow() - dt.timedelta(days=365))
    return int(rows[0]["n"])


def dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    return hooks_for(tenant).hardship_dibao_line(tenant=tenant, region_code=region_code, year=year)


def facts_of(tenant: TenantContext, row: Mapping[str, Any], fin: Finances, year: int,
             prior_aid_fen: int = 0, *, dibao: int | None | bool = False) -> HouseholdFacts:
    # dibao=False: ask the hook; a batch passes the line it looked up once per region.
    if dibao is False:
        dibao = dibao_line(tenant, row["area_code"], year)
    return HouseholdFacts(
        region_code=row["area_code"], year=year, household_size=int(row["household_size"]),
        monthly_income_fen=fin.monthly_income_fen, monthly_rigid_expense_fen=fin.monthly_rigid_expense_fen,
        dibao_line_fen=dibao, accident=fin.accident, yearly_hardship_cost_fen=fin.yearly_hardship_cost_fen,
        migrant=bool(row["migrant"]), employment_months=fin.employment_months, homes=fin.homes,
        business_owner=fin.business_owner, private_school_fee_fen=fin.private_school_fee_fen,
        public_school_fee_fen=fin.public_school_fee_fen, study_abroad_self_paid=fin.study_abroad_self_paid,
        civil_check_failed=fin.civil_check_failed, prior_aid_yearly_fen=prior_aid_fen)


async def _classify_and_store(tenant: TenantContext, actor: Actor, archive_id: int, row: Mapping[str, Any],
                              fin: Finances, *, count_prior_aid: bool = False) -> Classification:
    from huijia_hardship.plugin import classify

    now = utcnow()
    prior = await prior_aid(tenant, int(row["household_id"])) if count_prior_aid else 0
    facts = facts_of(tenant, row, fin, now.year, prior)
    result = classify(tenant, facts)
    inputs = {"facts": {k: getattr(facts, k) for k in facts.__dataclass_fields__}}
    stored = {"category": result.category, "reasons": list(result.reasons), "rule_version": result.rule_version,
              "excluded": result.excluded}
    await HardshipClassification.insert(HardshipClassification(
        tenant_id=tenant.id, archive_id=archive_id, category=result.category, excluded=result.excluded,
        reasons=list(result.reasons), rule_version=result.rule_version,
        inputs_enc=_enc(tenant, "classification_inputs", inputs), actor_id=actor.user_id, at=now))
    await HardshipArchive.update({
        HardshipArchive.category: result.category, HardshipArchive.classification: stored,
        HardshipArchive.classified_at: now, HardshipArchive.finances_enc: _enc(tenant, "finances", fin.to_json()),
        HardshipArchive.updated_at: now,
    }).where((HardshipArchive.tenant_id == tenant.id) & (HardshipArchive.id == archive_id))
    return result


def _validate(inp: ArchiveInput, people_ids: set[int]) -> list[DomainError]:
    problems = list(inp.finances.problems())
    if inp.tier not in TIERS:
        problems.append(DomainError(ErrorCode.INVALID_INPUT, f"unknown tier {inp.tier!r}", "tier", "建档级别不正确"))
    if inp.kind not in ("regular", "temporary"):
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "kind must be regular or temporary", "kind"))
    if inp.area_code is not None and not _AREA.match(inp.area_code):
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "areaCode must be 6 digits", "areaCode",
                                    "地区代码须为6位民政区划代码"))
    if inp.work_status not in WORK_STATUS:
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "unknown work status", "workStatus", "工作状态不正确"))
    for pid, health in inp.person_health.items():
        if pid not in people_ids:
            problems.append(DomainError(ErrorCode.INVALID_INPUT, "a person is not of this household", "people",
                                        "所填人员不是该家庭成员"))
        if health not in HEALTH:
            problems.append(DomainError(ErrorCode.INVALID_INPUT, f"unknown health status {health!r}", "people",
                                        "健康状况不在规定选项内"))
    if any(pid not in people_ids for pid in inp.finances.person_income_fen):
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "a person is not of this household", "people",
                                    "所填人员不是该家庭成员"))
    if inp.bank_card is not None and not _CARD.match(inp.bank_card):
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "bankCard must be 12 to 19 digits", "bankCard",
                                    "银行卡号须为12至19位数字"))
    for name in ("housing", "medical_insurance", "main_cause"):
        if len(getattr(inp, name)) > 32:
            problems.append(DomainError(ErrorCode.INVALID_INPUT, f"{name} is too long", name))
    if len(inp.secondary_causes) > 10 or any(len(c) > 32 for c in inp.secondary_causes):
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "too many or too long secondary causes", "secondaryCauses"))
    return problems


def _is_unique_violation(exc: BaseException) -> bool:
    return type(exc).__name__ in ("UniqueViolationError", "IntegrityError") and "uq_hardship_archive_open" in str(exc) \
        or "UNIQUE constraint failed: hardship_archive" in str(exc)


def _duplicate() -> DomainError:
    return DomainError(ErrorCode.DUPLICATE, "the household already has an open archive", "householdId",
                       "该家庭已有在档档案（一户一档），不能重复建档")


async def create_archive(tenant: TenantContext, principal: Principal, actor: Actor, inp: ArchiveInput, *,
                         own_household: bool = False) -> int:
    """Open an archive for a household of the tenant at the household's union, classify it, and
    start its workflow (applied). ``own_household``: a worker applies for the household the caller
    has already proved is their own (the portal), so no staff subtree applies."""
    from core.sdk import DomainErrors

    household = await get_household(tenant, inp.household_id)
    if household is None:
        raise DomainError(ErrorCode.NOT_FOUND, "household not found", "householdId", "家庭不存在，或您无权查看")
    unit = await get_unit(tenant, household["org_unit_id"])
    assert unit is not None
    if not own_household:
        require_in_subtree(principal, "hardship.write", unit["path"], what="household", field="householdId",
                           read_action="hardship.read", message_zh="家庭不存在，或您无权查看")
    people = await household_people(tenant, inp.household_id)
    problems = _validate(inp, {int(p["id"]) for p in people})
    area = inp.area_code or (unit.get("area_code") or "")[:6]
    if not _AREA.match(area or ""):
        problems.append(DomainError(ErrorCode.INVALID_INPUT, "areaCode is required (the union has none)", "areaCode",
                                    "请填写家庭所在地的6位民政区划代码"))
    if problems:
        raise problems[0] if len(problems) == 1 else DomainErrors(problems)
    now = utcnow()
    try:
        async with transaction():
            if await raw("SELECT 1 FROM hardship_archive WHERE tenant_id = {} AND household_id = {} "
                         "AND closed_at IS NULL", tenant.id, inp.household_id):
                raise _duplicate()
            rows = await HardshipArchive.insert(HardshipArchive(
                tenant_id=tenant.id, org_unit_id=unit["id"], household_id=inp.household_id, kind=inp.kind,
                tier=inp.tier, area_code=area, household_size=max(len(people), 1), migrant=inp.migrant,
                work_status=inp.work_status, housing=inp.housing, medical_insurance=inp.medical_insurance,
                single_parent=inp.single_parent, zero_employment=inp.zero_employment, main_cause=inp.main_cause,
                secondary_causes=list(inp.secondary_causes),
                health_enc=_enc(tenant, "health", {str(k): v for k, v in inp.person_health.items()}),
                finances_enc=_enc(tenant, "finances", inp.finances.to_json()),
                bank_card_enc=_enc(tenant, "bank_card", inp.bank_card) if inp.bank_card else "",
                category="none", classification={}, created_by=actor.user_id, created_at=now,
                updated_at=now)).returning(HardshipArchive.id)
            archive_id = int(rows[0]["id"])
            await workflow_open(tenant, ARCHIVE, archive_id, unit["id"], actor,
                                payload={"household_id": inp.household_id, "tier": inp.tier, "kind": inp.kind})
            row = await load(tenant, archive_id)
            assert row is not None
            await _classify_and_store(tenant, actor, archive_id, row, inp.finances)
    except DomainError:
        raise
    except Exception as exc:  # two clerks racing on one household: the partial unique index decides
        if _is_unique_violation(exc):
            raise _duplicate() from None
        raise
    return archive_id


async def take_step(tenant: TenantContext, principal: Principal, actor: Actor, archive_id: int, action: str, *,
                    reasons: Sequence[str] = (), expected_version: int | None = None,
                    payload: Mapping[str, Any] | None = None) -> None:
    await workflow_step(tenant, ARCHIVE, archive_id, action, actor=actor, principal=principal, reasons=reasons,
                        payload=dict(payload or {}), expected_version=expected_version)


async def recheck(tenant: TenantContext, principal: Principal, actor: Actor, archive_id: int, fin: Finances, *,
                  expected_version: int | None = None) -> tuple[dict[str, Any], Classification]:
    """复核: classify again with this year's figures and rules; the old classification stays in the
    history and is returned beside the new one."""
    from core.sdk import DomainErrors

    problems = fin.problems()
    if problems:
        raise problems[0] if len(problems) == 1 else DomainErrors(problems)
    async with transaction():
        row = await load(tenant, archive_id)
        if row is None:
            raise DomainError(ErrorCode.NOT_FOUND, "hardship archive not found", "id")
        old = json.loads(row["classification"]) if isinstance(row["classification"], str) else row["classification"]
        # The step first: it checks order, permission and the version before anything is written.
        await workflow_step(tenant, ARCHIVE, archive_id, "recheck", actor=actor, principal=principal,
                            expected_version=expected_version, payload={"previous_category": old.get("category")})
        keep_civil = finances_of(tenant, row).civil_check_failed
        fin = Finances.from_json({**fin.to_json(), "civil_check_failed": keep_civil})
        new = await _classify_and_store(tenant, actor, archive_id, row, fin,
                                        count_prior_aid=for_tenant(tenant).prior_aid_counts_as_income)
        months = for_tenant(tenant).reverify_months
        await raw("UPDATE hardship_archive SET reverify_due_on = {} WHERE tenant_id = {} AND id = {}",
                  _add_months(utcnow().date(), months), tenant.id, archive_id)
    return old, new


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- attachments -----------------------------------------------------------------------------------

MAX_ATTACHMENT = 10 * 1024 * 1024
SNIFF = (("application/pdf", b"%PDF-"), ("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"))


def sniff(content: bytes) -> str | None:
    return next((ctype for ctype, magic in SNIFF if content.startswith(magic)), None)


async def add_attachment(tenant: TenantContext, principal: Principal, actor: Actor, archive_id: int, kind: str,
                         filename: str, content: bytes, claimed_type: str | None = None) -> int:
    """Store a PDF, JPEG or PNG for an archive; its type is decided by its bytes, not its name."""
    from core.sdk import audit_record
    from huijia_hardship.storage import storage

    row = await load(tenant, archive_id)
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, "hardship archive not found", "archiveId")
    require_in_subtree(principal, "hardship.write", row["unit_path"], what="hardship archive", field="archiveId",
                       read_action="hardship.read")
    if kind not in ATTACHMENT_KINDS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"unknown attachment kind {kind!r}", "kind", "材料类型不正确")
    if not content or len(content) > MAX_ATTACHMENT:
        raise DomainError(ErrorCode.INVALID_INPUT, f"a file must have 1 byte to {MAX_ATTACHMENT} bytes", "content",
                          "文件为空或超过10MB")
    ctype = sniff(content)
    if ctype is None or (claimed_type and claimed_type != ctype):
        raise DomainError(ErrorCode.INVALID_INPUT, "the file is not the PDF, JPEG or PNG it claims to be", "content",
                          "文件内容不是所声明的PDF、JPG或PNG格式")
    name = (filename or "file").replace("/", "_").replace("\\", "_")[:200]
    async with transaction():
        rows = await HardshipAttachment.insert(HardshipAttachment(
            tenant_id=tenant.id, archive_id=archive_id, kind=kind, filename=name, content_type=ctype,
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), created_by=actor.user_id,
            created_at=utcnow())).returning(HardshipAttachment.id)
        att_id = int(rows[0]["id"])
        # Written before the transaction commits: a failed write leaves no row pointing at nothing.
        storage().put(tenant.id, att_id, iter([content]))
        await audit_record(tenant, actor, "hardship.attachment.add", "HardshipArchive", archive_id,
                           {"attachment_id": att_id, "kind": kind, "content_type": ctype, "size": len(content)})
    return att_id


async def attachments(tenant: TenantContext, archive_id: int) -> list[dict[str, Any]]:
    return await raw("SELECT * FROM hardship_attachment WHERE tenant_id = {} AND archive_id = {} ORDER BY id",
                     tenant.id, archive_id)


# -- guards and effects of the archive machine ------------------------------------------------------


async def consent_refusals(ctx: Any) -> list[Any]:
    have = {r["kind"] for r in await attachments(ctx.tenant, ctx.case.case_id)}
    missing = [ATTACHMENT_KINDS[k] for k in CONSENT_KINDS if k not in have]
    if not missing:
        return []
    return [DomainError(ErrorCode.NOT_ELIGIBLE, "the signed application letter and the economic-check authorisation "
                        "must be attached first", "attachments", f"请先上传签字的{'、'.join(missing)}")]


async def objection_refusals(ctx: Any, *, want_open: bool) -> list[Any]:
    steps = await workflow_timeline(ctx.tenant, ctx.machine, ctx.case.case_id)
    # Only objections of the current notice period count (a returned case may have been noticed before).
    since = max((s.seq for s in steps if s.transition == "publish"), default=0)
    open_ = sum(1 for s in steps if s.seq > since and s.transition == "object") - \
        sum(1 for s in steps if s.seq > since and s.transition == "resolve")
    if want_open and open_ <= 0:
        return ["当前没有待处理的异议"]
    if not want_open and open_ > 0:
        return [f"公示期内有{open_}条异议尚未处理"]
    return []


async def eligibility_refusals(ctx: Any) -> list[Any]:
    row = await load(ctx.tenant, ctx.case.case_id)
    assert row is not None
    if row["category"] == "none":
        c = json.loads(row["classification"]) if isinstance(row["classification"], str) else row["classification"]
        return [DomainError(ErrorCode.NOT_ELIGIBLE, "the household does not qualify for an archive", "category",
                            "不符合建档条件：" + "；".join(c.get("reasons") or []))]
    return []


async def approval_refusals(ctx: Any) -> list[Any]:
    row = await load(ctx.tenant, ctx.case.case_id)
    assert row is not None
    out: list[Any] = []
    if ctx.principal is None:
        return out
    if row["created_by"] is not None and row["created_by"] == ctx.actor.user_id:
        out.append(DomainError(ErrorCode.SELF_APPROVAL, "the applicant's clerk cannot approve the archive", "id",
                               "建档经办人不能审批本人经办的档案"))
    # Approval at the archive's tier: a grant at a unit of that level or above, covering the archive.
    need = max(TIERS[row["tier"]], 1)  # national archives are approved at the province, then reported up
    ranks = []
    approvers = roles_for("hardship.approve")
    for grant in ctx.principal.grants:
        if grant.role in approvers and row["unit_path"].startswith(grant.org_unit_path):
            unit = await get_unit(ctx.tenant, grant.org_unit_id)
            if unit is not None:
                ranks.append(LEVEL_RANK.get(unit["level"], 4))
    if not ranks or min(ranks) > need:
        out.append(DomainError(ErrorCode.FORBIDDEN, f"a {row['tier']} archive is approved at that level or above", "id",
                               f"{TIERS_ZH[row['tier']]}档案须由相应级别或以上工会审批"))
    return out


async def record_civil_check(ctx: Any) -> None:
    passed = ctx.payload.get("passed")
    if not isinstance(passed, bool):
        raise DomainError(ErrorCode.INVALID_INPUT, "passed is required", "passed", "请填写民政核对结果")
    row = await load(ctx.tenant, ctx.case.case_id)
    assert row is not None
    fin = Finances.from_json({**finances_of(ctx.tenant, row).to_json(), "civil_check_failed": not passed})
    result = await _classify_and_store(ctx.tenant, ctx.actor, ctx.case.case_id, row, fin)
    ctx.payload["category"] = result.category


async def on_archived(ctx: Any) -> None:
    settings = for_tenant(ctx.tenant)
    months = settings.reverify_months
    row = await load(ctx.tenant, ctx.case.case_id)
    assert row is not None
    if row["kind"] == "temporary":  # lapses unless converted (the machine's temporary_period timer)
        ctx.due_at = ctx.now + dt.timedelta(days=settings.temporary_days)
    await raw("UPDATE hardship_archive SET reverify_due_on = {}, updated_at = {} WHERE tenant_id = {} AND id = {}",
              _add_months(ctx.now.date(), months), ctx.now, ctx.tenant.id, ctx.case.case_id)


async def temporary_refusals(ctx: Any) -> list[Any]:
    row = await load(ctx.tenant, ctx.case.case_id)
    assert row is not None
    if row["kind"] != "temporary":
        return [DomainError(ErrorCode.INVALID_STATE, "only a temporary (临时救助) archive converts or lapses", "id",
                            "只有临时救助档案可以转为常态档案或到期失效")]
    if ctx.transition.name == "convert" and row["category"] == "none":
        return [DomainError(ErrorCode.NOT_ELIGIBLE, "the household does not qualify for a regular archive", "category",
                            "不符合常态建档条件，不能转为常态档案")]
    return []


async def convert_temporary(ctx: Any) -> None:
    """A temporary archive becomes a regular one: no lapse any more, re-verified like the others."""
    ctx.due_at = None
    due = _add_months(ctx.now.date(), for_tenant(ctx.tenant).reverify_months)
    await raw("UPDATE hardship_archive SET kind = 'regular', reverify_due_on = {}, updated_at = {} "
              "WHERE tenant_id = {} AND id = {}", due, ctx.now, ctx.tenant.id, ctx.case.case_id)


async def close_archive(ctx: Any) -> None:
    if "cancel_reason" in ctx.payload:
        ctx.payload["cancel_reason_zh"] = _cancel_zh(ctx.payload["cancel_reason"])
    await raw("UPDATE hardship_archive SET closed_at = {}, updated_at = {} WHERE tenant_id = {} AND id = {}",
              ctx.now, ctx.now, ctx.tenant.id, ctx.case.case_id)


def _cancel_zh(code: str) -> str:
    from huijia_hardship.workflow import CANCEL_REASONS

    return CANCEL_REASONS.get(code, code)


async def reopen_archive(ctx: Any) -> None:
    row = await load(ctx.tenant, ctx.case.case_id)
    assert row is not None
    if await raw("SELECT 1 FROM hardship_archive WHERE tenant_id = {} AND household_id = {} AND closed_at IS NULL "
                 "AND id <> {}", ctx.tenant.id, row["household_id"], row["id"]):
        raise _duplicate()
    await raw("UPDATE hardship_archive SET closed_at = NULL, updated_at = {} WHERE tenant_id = {} AND id = {}",
              ctx.now, ctx.tenant.id, ctx.case.case_id)

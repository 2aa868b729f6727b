"""Cross-matching (十条线): an outside line's list (civil-affairs low-income, work injury, poor
students ...) matched to the tenant's members by ID number through core's blind index.

The file (CSV or XLSX) is read in memory and nothing of it is stored: the answer gives, per bad row, its row number
and the error (never the number itself), the members matched inside the campaign's tree (on the
list already, or new), and the archived hardship households the campaign's list misses. Only the
counts go to the audit log."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.sdk import (
    BadXlsx,
    DomainError,
    ErrorCode,
    IdNumberError,
    JobContext,
    JobFailed,
    Principal,
    TenantContext,
    audit_record,
    find_members_by_id_number,
    in_subtree,
    job,
    normalize_id_number,
    raw,
    xlsx_read_rows,
)

LINES = {"civil_affairs_low_income": "民政低收入人口", "work_injury": "人社工伤职工", "poor_students": "教育困难学生",
         "disabled": "残联残疾人", "other": "其他部门名单"}
ID_HEADERS = ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number", "idnumber")
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_ROW_CHARS = 64 * 1024
XLSX_MAX_UNPACKED = 400 * 1024 * 1024
XLSX_MAX_RATIO = 200


@dataclass
class Matched:
    member_id: int
    org_unit_id: int
    on_list: bool


@dataclass
class CrossMatch:
    line: str
    rows: int = 0
    invalid: int = 0
    unmatched: int = 0
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, code, English, Chinese)
    members: list[Matched] = field(default_factory=list)
    missed: list[Any] = field(default_factory=list)  # archived households not on the list


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(ErrorCode.INVALID_INPUT, "the file is neither UTF-8 nor GB18030 text", "content",
                      "文件编码无法识别，请另存为UTF-8的CSV")


def _cell(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold: an ID number typed as a number has no ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    """The first visible worksheet's rows, streamed by core's XLSX reader, as lists of text."""
    try:
        z = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError(ErrorCode.INVALID_INPUT, "the file is not a valid XLSX file", "content",
                          "文件已损坏，或不是有效的XLSX文件") from None
    with z:
        infos = z.infolist()
        unpacked = sum(i.file_size for i in infos)
        # A zip bomb is refused before anything is inflated.
        if unpacked > XLSX_MAX_UNPACKED or unpacked / (sum(i.compress_size for i in infos) or 1) > XLSX_MAX_RATIO:
            raise DomainError(ErrorCode.INVALID_INPUT, "the XLSX file is too large once unpacked", "content",
                              "XLSX文件解压后过大，请拆分或改用CSV")
        try:
            for _, row in xlsx_read_rows(z, MAX_ROW_CHARS):
                yield [_cell(v) for v in row]
        except BadXlsx:
            raise DomainError(ErrorCode.INVALID_INPUT, "the XLSX file cannot be read (damaged or encrypted)",
                              "content", "无法读取该XLSX文件（文件可能已损坏或加密），请在Excel中重新保存") from None


def read_id_numbers(content: bytes) -> tuple[list[tuple[int, str]], list[tuple[int, str, str, str]], int]:
    """(row number, canonical ID number) of the good rows, the bad rows' errors, and the data row count.
    Row numbers count the header as row 1, as a spreadsheet shows them. CSV (UTF-8 or GB18030) or XLSX
    (told apart by the bytes, not the name)."""
    if not content or len(content) > MAX_BYTES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"the file must have 1 byte to {MAX_BYTES} bytes", "content",
                          "文件为空或超过20MB")
    reader: Iterator[list[str]] = (_xlsx_rows(content) if content.startswith(b"PK\x03\x04")
                                   else csv.reader(io.StringIO(_decode(content))))
    header = next(reader, None)
    names = [(h or "").strip().lower() for h in (header or [])]
    col = next((i for i, h in enumerate(names) if h in ID_HEADERS), None)
    if col is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file has no ID number column (身份证号)", "content",
                          "文件缺少“身份证号”列")
    good: list[tuple[int, str]] = []
    bad: list[tuple[int, str, str, str]] = []
    count = 0
    for n, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        if count > MAX_ROWS:
            raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_ROWS} rows per file", "content",
                              f"每个文件最多{MAX_ROWS}行")
        try:
            good.append((n, normalize_id_number(row[col] if col < len(row) else "")))
        except IdNumberError as exc:
            bad.append((n, exc.code, exc.message_en, exc.message_zh))
    return good, bad, count


async def _campaign(tenant: TenantContext, principal: Principal | None, campaign_id: int, line: str) -> dict[str, Any]:
    if line not in LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"line must be one of {', '.join(LINES)}", "line", "名单来源不正确")
    c = await raw("SELECT c.id, c.org_unit_id, o.path AS unit_path FROM warmth_campaign c JOIN org_unit o ON "
                  "o.tenant_id = c.tenant_id AND o.id = c.org_unit_id WHERE c.tenant_id = {} AND c.id = {}",
                  tenant.id, campaign_id)
    if not c or (principal is not None and not in_subtree(principal, "warmth.read", c[0]["unit_path"])):
        raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
    return c[0]


async def cross_match(tenant: TenantContext, principal: Principal | None, actor: Any, campaign_id: int, line: str,
                      content: bytes) -> CrossMatch:
    """Match in the request (``principal`` None: the job, which checked it when it was started)."""
    from huijia_warmth.targeting import _hardship_candidates

    path = str((await _campaign(tenant, principal, campaign_id, line))["unit_path"])
    good, bad, count = read_id_numbers(content)
    out = CrossMatch(line=line, rows=count, invalid=len(bad), errors=bad)
    found = await find_members_by_id_number(tenant, [number for _, number in good])
    ids = sorted(set(found.values()))
    listed = {r["member_id"]: r["household_id"] for r in await raw(
        "SELECT member_id, household_id FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {}",
        tenant.id, campaign_id)}
    inside: dict[int, int] = {}
    for i in range(0, len(ids), 5000):
        part = ids[i:i + 5000]
        # Members outside the campaign's tree count as unmatched: the caller learns nothing about them.
        rows = await raw("SELECT m.id, m.org_unit_id FROM member m JOIN org_unit o ON o.tenant_id = m.tenant_id AND "
                         "o.id = m.org_unit_id WHERE m.tenant_id = {} AND o.path LIKE {} AND m.id IN (" +
                         ", ".join("{}" for _ in part) + ")", tenant.id, path + "%", *part)
        inside.update({r["id"]: r["org_unit_id"] for r in rows})
    out.unmatched = sum(1 for _, number in good if found.get(number) not in inside)
    out.members = [Matched(m, inside[m], m in listed) for m in sorted(inside)]
    covered_households = {h for h in listed.values() if h is not None}
    out.missed = [h for h in await _hardship_candidates(tenant, path)
                  if h.household_id not in covered_households and h.member_id not in listed]
    await audit_record(tenant, actor, "warmth.crossmatch", "WarmthCampaign", campaign_id,
                       {"line": line, "rows": count, "matched": len(out.members), "unmatched": out.unmatched,
                        "invalid": len(bad), "missed_households": len(out.missed)})
    return out


# ---------------------------------------------------------------------------------------------
# Large files: a job
# ---------------------------------------------------------------------------------------------

JOB = "warmth.crossmatch"
KIND = "crossmatch"
# Above this the request answers with a job to poll: matching 200,000 rows takes longer than a request should.
SYNC_MAX_BYTES = 2 * 1024 * 1024


def store() -> Any:
    from core.sdk import files

    return files.store("warmth")


async def start_job(tenant: TenantContext, principal: Principal, actor: Any, campaign_id: int, line: str,
                    content: bytes) -> int:
    """Keep the file (encrypted, in the capability's file store) only until its job has read it, and
    enqueue the match. The job's result holds what the synchronous answer holds: row numbers, codes,
    member ids and counts, never an ID number."""
    import secrets

    from core.sdk import enqueue

    c = await _campaign(tenant, principal, campaign_id, line)
    if not content or len(content) > MAX_BYTES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"the file must have 1 byte to {MAX_BYTES} bytes", "content",
                          "文件为空或超过20MB")
    file_id = secrets.randbits(62) | 1
    store().store_stream(iter([content]), KIND, tenant.id, file_id)
    job_id = await enqueue(tenant, JOB, campaign_id, line, file_id, key=f"{JOB}:{campaign_id}:{file_id}",
                           created_by=actor.user_id, org_unit_id=c["org_unit_id"])
    await audit_record(tenant, actor, "warmth.crossmatch.start", "WarmthCampaign", campaign_id,
                       {"line": line, "job_id": job_id, "size": len(content)})
    return job_id


def result_json(r: CrossMatch) -> dict[str, Any]:
    """The answer as the job's JSON result, in the GraphQL field names."""
    from core.sdk import to_global_id

    return {
        "line": r.line, "rows": r.rows, "matched": len(r.members), "new": sum(1 for m in r.members if not m.on_list),
        "unmatched": r.unmatched, "invalid": r.invalid,
        "errors": [{"row": n, "code": code, "message": en, "messageZh": zh} for n, code, en, zh in r.errors[:1000]],
        "members": [{"memberId": to_global_id("Member", m.member_id), "orgUnitId": to_global_id("OrgUnit", m.org_unit_id),
                     "onList": m.on_list} for m in r.members],
        "missedHouseholds": [{"householdId": to_global_id("Household", h.household_id),
                              "memberId": to_global_id("Member", h.member_id) if h.member_id is not None else None,
                              "orgUnitId": to_global_id("OrgUnit", h.org_unit_id)} for h in r.missed],
    }


@job("crossmatch")
async def crossmatch_job(ctx: JobContext, campaign_id: int, line: str, file_id: int) -> dict[str, Any]:
    from core.sdk import Actor, get_job

    tenant = ctx.tenant
    row = await get_job(tenant, ctx.job_id)
    actor = Actor(row["created_by"] if row else None, "crossmatch")
    if not store().stored_exists(KIND, tenant.id, file_id):
        raise JobFailed("the uploaded file is no longer kept: upload it again", code="INVALID_STATE",
                        message_zh="上传的文件已不存在，请重新上传")
    try:
        with store().open_stored(KIND, tenant.id, file_id) as f:
            content = f.read()
        try:
            r = await cross_match(tenant, None, actor, campaign_id, line, content)
        except DomainError as exc:
            raise JobFailed(exc.message, code=exc.code.value, message_zh=exc.message_zh) from None
    finally:
        # Read once, then gone: nothing of the outside list outlives its match.
        store().delete_stored(KIND, tenant.id, file_id)
    return result_json(r)

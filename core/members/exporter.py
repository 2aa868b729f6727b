"""Export of filtered members to CSV or XLSX, masked by default.

The export job walks the members in keyset pages (constant memory) and writes the file through the
encrypted store (``filestore``), so even a masked export (names plus masked IDs) is not left in
plain text on disk. An unmasked export needs ``member.export_unmasked`` and a reason from the
tenant's list (``core/members/reasons.py``); starting it, or being refused it,
and every download are audited. Files are served by ``GET /exports/<id>`` to their creator.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import transaction, utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.members import filestore, personal, queries
from core.members.tables import MemberExport
from core.members.vocab import STATES, WORK_STATUSES, tag_vocabulary
from core.pii import mask_id_number, mask_phone
from core.xlsx.writer import XlsxStreamWriter

KIND = "exports"
HEADER = ["姓名", "身份证号码", "性别", "出生年份", "手机号码", "所属工会", "工会代码", "工作单位", "工作状态", "会员标签",
          "会员状态", "入会日期"]
WIDTHS = [10, 22, 6, 10, 15, 28, 14, 28, 10, 18, 10, 12]
_COLUMNS = ("m.id, m.org_unit_id, m.name, m.gender, m.birth_date, m.id_number_enc, m.phone_enc, m.employer, "
            "m.work_status, m.tags, m.state, m.joined_on")


async def start_export(tenant: TenantContext, actor: Actor, *, flt: queries.MemberFilter, scope_paths: Sequence[str],
                       fmt: str, unmasked: bool, reason: str) -> dict[str, Any]:
    from core.jobs.runner import enqueue
    from core.validation import clean_text

    if fmt not in ("csv", "xlsx"):
        raise DomainError(ErrorCode.INVALID_INPUT, "format must be CSV or XLSX", "format", "导出格式应为 CSV 或 XLSX")
    if unmasked:
        from core.members.reasons import check_access_reason

        reason = check_access_reason(tenant, reason)
    else:
        reason = clean_text("reason", reason, max_len=200, required=False, label_zh="导出原因")
    async with transaction():
        export_id = (await MemberExport.insert(MemberExport(
            tenant_id=tenant.id, created_by=actor.user_id, created_by_name=actor.username[:100],
            scope_paths=list(scope_paths), filter=flt.to_json(), format=fmt, unmasked=unmasked, reason=reason,
        )).returning(MemberExport.id))[0]["id"]
        await record(tenant, actor, "member.export", "MemberExport", export_id,
                     {"format": fmt, "unmasked": unmasked, "reason": reason, "filter": sorted(flt.to_json())})
    from core.scope import unit_of_scope

    job_id = await enqueue(tenant, "member.export", export_id, key=f"member.export:{export_id}", created_by=actor.user_id,
                           org_unit_id=unit_of_scope(scope_paths))
    await MemberExport.update({MemberExport.job_id: job_id}).where(
        (MemberExport.tenant_id == tenant.id) & (MemberExport.id == export_id))
    return written(await queries.get_export(tenant, export_id), "export")


async def live_filter(tenant: TenantContext, flt: queries.MemberFilter) -> queries.MemberFilter:
    """The stored filter with its exact ID/phone blind indexes computed now, from the encrypted
    values, under the tenant's current index keys: an export that waited in the queue while the
    index key was rotated still finds its people. (Filters stored before the values were kept
    encrypted have only their blind indexes.)"""
    import dataclasses

    changes: dict[str, Any] = {}
    if flt.id_enc:
        plain = personal.decrypt(flt.id_enc, "member_export", "filter_id_number", tenant.id)
        changes["id_bidx"] = tuple((await personal.index_keys(tenant)).id_bidxs(plain))
    if flt.phone_enc:
        plain = personal.decrypt(flt.phone_enc, "member_export", "filter_phone", tenant.id)
        changes["phone_bidx"] = tuple((await personal.index_keys(tenant)).phone_bidxs(plain))
    return dataclasses.replace(flt, **changes) if changes else flt


class _Sink(io.RawIOBase):
    """A write-only, unseekable binary stream into the encrypted store (for csv and the XLSX writer)."""

    def __init__(self, writer: filestore.EncryptedWriter) -> None:
        super().__init__()
        self.writer = writer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.writer.write(bytes(data))


async def run_export(tenant: TenantContext, export_id: int, progress: Any = None) -> dict[str, Any]:
    from core.tenancy.queries import units_by_ids

    exp = await queries.get_export(tenant, export_id)
    if exp is None:
        raise not_found("export", message_zh="导出记录不存在，或您无权查看")
    if exp["status"] == "ready":
        return {"status": "ready", "rows": exp["row_count"]}
    if exp["status"] == "expired":  # waited in the queue past its retention (core/members/retention.py)
        return {"status": "expired"}
    await MemberExport.update({MemberExport.status: "running"}).where(
        (MemberExport.tenant_id == tenant.id) & (MemberExport.id == export_id))
    flt = await live_filter(tenant, queries.MemberFilter.from_json(exp["filter"] or {}))
    unmasked = exp["unmasked"]
    vocab = tag_vocabulary(tenant)
    units: dict[int, tuple[str, str]] = {}
    writer = filestore.EncryptedWriter(filestore.path_for(KIND, tenant.id, export_id), KIND, tenant.id, export_id)
    sink = _Sink(writer)
    count = 0
    add: Callable[[Iterable[Any]], object]
    try:
        if exp["format"] == "xlsx":
            # Streamed into the encrypted store: no plain-text temporary file (core/xlsx/writer.py).
            book = XlsxStreamWriter(sink, "会员名册", widths=WIDTHS)  # type: ignore[arg-type]  # raw stream: zipfile only writes
            book.header(HEADER)
            add = book.row
        else:
            text = io.TextIOWrapper(io.BufferedWriter(sink, 256 * 1024), encoding="utf-8-sig", newline="")
            out = csv.writer(text)
            out.writerow(HEADER)
            add = out.writerow
        async for m in queries.iter_members(tenant, flt, scope_paths=exp["scope_paths"], columns=_COLUMNS):
            unit_id = m["org_unit_id"]
            if unit_id not in units:
                row = (await units_by_ids(tenant, [unit_id]))[0]
                units[unit_id] = (row["name"], row["code"]) if row else ("", "")
            id_plain = personal.decrypt(m["id_number_enc"], "member", "id_number", tenant.id)
            phone_plain = personal.decrypt(m["phone_enc"], "member", "phone", tenant.id) if m["phone_enc"] else ""
            add([
                m["name"], id_plain if unmasked else mask_id_number(id_plain), "男" if m["gender"] == "M" else "女",
                m["birth_date"].year, phone_plain if unmasked else mask_phone(phone_plain), units[unit_id][0],
                units[unit_id][1], m["employer"], WORK_STATUSES.get(m["work_status"], m["work_status"]),
                "、".join(vocab.tags[t].label_zh if t in vocab.tags else t for t in (m["tags"] or [])),
                STATES.get(m["state"], m["state"]), m["joined_on"].isoformat() if m["joined_on"] else "",
            ])
            count += 1
            if progress and count % 5000 == 0:
                await progress(count, None)
        if exp["format"] == "xlsx":
            book.finish()
        else:
            text.flush()
            text.detach().flush()
        writer.close()
    except BaseException:
        writer.abort()
        await MemberExport.update({MemberExport.status: "failed", MemberExport.finished_at: utcnow()}).where(
            (MemberExport.tenant_id == tenant.id) & (MemberExport.id == export_id))
        raise
    await MemberExport.update({MemberExport.status: "ready", MemberExport.row_count: count,
                               MemberExport.size_bytes: writer.size, MemberExport.finished_at: utcnow()}).where(
        (MemberExport.tenant_id == tenant.id) & (MemberExport.id == export_id))
    if progress:
        await progress(count, count)
    return {"status": "ready", "rows": count}


async def note_download(tenant: TenantContext, actor: Actor, exp: dict[str, Any]) -> None:
    async with transaction():
        await MemberExport.update({MemberExport.downloads: MemberExport.downloads + 1}).where(
            (MemberExport.tenant_id == tenant.id) & (MemberExport.id == exp["id"]))
        await record(tenant, actor, "member.export.download", "MemberExport", exp["id"],
                     {"unmasked": exp["unmasked"], "rows": exp["row_count"]})

"""The campaign's 台账 as an XLSX file: a job streams it into the encrypted file store (core's xlsx
writer, one row at a time, never a clear copy on disk), and ``GET /warmth-files/<job id>`` gives it to
the user who started it while they still read the campaign. Rows are grouped by org unit (sorted by
the unit's place in the tree): union, name, masked ID number, household, group, amount or goods,
date given, receipt status."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.response import Stream

from core.sdk import (
    JobContext,
    TenantContext,
    XlsxStreamWriter,
    audit_record,
    enqueue,
    files,
    job,
    mask_id_number,
    pii_decrypt,
    raw,
)

KIND = "ledger"
JOB = "warmth.ledger_file"
HEADERS = ["工会", "姓名", "身份证号", "家庭编号", "慰问对象类别", "慰问金（元）", "慰问品", "发放日期", "签收状态", "签收方式"]
WIDTHS = [28, 10, 22, 10, 22, 12, 16, 12, 10, 10]
RECEIPT_ZH = {"portal": "本人确认", "signature": "签字", "fingerprint": "指印", "photo": "照片"}
PAGE = 2000


def store() -> Any:
    return files.store("warmth")


class _Sink(io.RawIOBase):
    """A write-only, unseekable binary stream into the encrypted store (what the XLSX writer needs)."""

    def __init__(self, writer: Any) -> None:
        super().__init__()
        self.writer = writer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return int(self.writer.write(bytes(data)))


def _masked(token: str | None, tenant_id: int) -> str:
    if not token:
        return ""
    try:
        return mask_id_number(pii_decrypt(token, "member", "id_number", tenant_id))
    except Exception:
        return "******************"  # a key removed too early: the row still shows


async def start(tenant: TenantContext, actor: Any, campaign: dict[str, Any]) -> int:
    import datetime as dt

    job_id = await enqueue(tenant, JOB, campaign["id"], created_by=actor.user_id, org_unit_id=campaign["org_unit_id"],
                           key=f"{JOB}:{campaign['id']}:{actor.user_id}:{dt.datetime.now(dt.UTC).isoformat()}")
    await audit_record(tenant, actor, "warmth.ledger_file", "WarmthCampaign", campaign["id"], {"job_id": job_id})
    return job_id


@job("ledger_file")
async def ledger_file_job(ctx: JobContext, campaign_id: int) -> dict[str, Any]:
    from huijia_warmth.interface import BUILTIN_GROUPS

    tenant = ctx.tenant
    c = (await raw("SELECT name FROM warmth_campaign WHERE tenant_id = {} AND id = {}", tenant.id, campaign_id))[0]
    labels = {g.code: g.label_zh for g in BUILTIN_GROUPS}
    total = int((await raw("SELECT COUNT(*) AS n FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {}",
                           tenant.id, campaign_id))[0]["n"])
    writer = store().writer(KIND, tenant.id, ctx.job_id)
    done, last = 0, ("", 0)
    try:
        with XlsxStreamWriter(_Sink(writer), "送温暖台账", widths=WIDTHS) as book:  # type: ignore[arg-type]
            book.header(HEADERS)
            while True:
                # Keyset pages in (unit path, id) order: memory stays at one page whatever the size.
                rows = await raw(
                    "SELECT b.id, b.household_id, b.group_code, b.amount_fen, b.item_given, b.paid_at, b.receipt_at, "
                    "b.receipt_method, g.form, o.path, o.name AS unit_name, m.name, m.id_number_enc FROM "
                    "warmth_beneficiary b JOIN org_unit o ON o.tenant_id = b.tenant_id AND o.id = b.org_unit_id "
                    "JOIN warmth_campaign_group g ON g.tenant_id = b.tenant_id AND g.campaign_id = b.campaign_id AND "
                    "g.group_code = b.group_code LEFT JOIN member m ON m.tenant_id = b.tenant_id AND m.id = b.member_id "
                    "WHERE b.tenant_id = {} AND b.campaign_id = {} AND (o.path, b.id) > ({}, {}) "
                    "ORDER BY o.path, b.id LIMIT {}", tenant.id, campaign_id, last[0], last[1], PAGE)
                if not rows:
                    break
                for r in rows:
                    cash = r["form"] != "in_kind"
                    book.row([r["unit_name"], r["name"] or "", _masked(r["id_number_enc"], tenant.id),
                              r["household_id"] or "", labels.get(r["group_code"], r["group_code"]),
                              (r["amount_fen"] or 0) / 100 if cash else "", r["item_given"] or ("" if cash else "未发放"),
                              r["paid_at"].date().isoformat() if r["paid_at"] else "未发放",
                              "已签收" if r["receipt_at"] else ("未签收" if r["paid_at"] else ""),
                              RECEIPT_ZH.get(r["receipt_method"] or "", "")])
                done += len(rows)
                last = (rows[-1]["path"], rows[-1]["id"])
                await ctx.progress(done, total)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return {"filename": f"{c['name']}-台账.xlsx", "rowCount": done, "sizeBytes": writer.size,
            "downloadUrl": f"/warmth-files/{ctx.job_id}",
            "contentType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def routes() -> list[Any]:
    def error(status: int, code: str, message: str, zh: str) -> Response[Any]:
        return Response({"error": {"code": code, "message": message, "messageZh": zh}}, status_code=status)

    @get("/warmth-files/{job_id:int}")
    async def download_warmth_file(request: Request[Any, Any, Any], job_id: int) -> Response[Any]:
        from core.sdk import Actor, get_job, in_subtree

        state: dict[str, Any] = request.scope.get("state", {})
        principal = state.get("principal")
        if principal is None:
            return error(401, "UNAUTHENTICATED", "log in first (Authorization: Bearer <token>)", "请先登录")
        tenant = state["tenant"]
        if "warmth" not in tenant.capabilities:
            return error(404, "CAPABILITY_NOT_ENABLED", "the warmth capability is not enabled", "未开通送温暖功能")
        row = await get_job(tenant, job_id) if 0 < job_id < 2**63 else None
        if row is None or row["name"] != JOB or row["created_by"] != principal.user_id:
            return error(404, "NOT_FOUND", "file not found", "文件不存在，或您无权查看")
        unit = await raw("SELECT path FROM org_unit WHERE tenant_id = {} AND id = {}", tenant.id, row["org_unit_id"])
        # Checked again at download: a role withdrawn since the job started no longer reads the file.
        if not unit or not in_subtree(principal, "warmth.read", unit[0]["path"]):
            return error(403, "FORBIDDEN", "not allowed: warmth.read", "无权查看该活动的台账")
        if row["status"] != "succeeded" or not store().stored_exists(KIND, tenant.id, job_id):
            return error(409, "INVALID_STATE", f"the file is {row['status']}", "台账文件尚未生成")
        import json

        result = row["result"] if isinstance(row["result"], dict) else json.loads(row["result"] or "{}")
        await audit_record(tenant, Actor(principal.user_id, principal.username), "warmth.ledger_file.download", "Job",
                           job_id, {"rows": result.get("rowCount")})

        def chunks() -> Iterator[bytes]:
            with store().open_stored(KIND, tenant.id, job_id) as f:
                yield from iter(lambda: f.read(256 * 1024), b"")

        name = result.get("filename") or f"warmth-{job_id}.xlsx"
        return Stream(chunks, media_type=result.get("contentType", "application/octet-stream"),
                      headers={"content-disposition": f"attachment; filename=\"warmth-{job_id}.xlsx\"; "
                                                      f"filename*=UTF-8''{quote(name)}"})

    return [download_warmth_file]

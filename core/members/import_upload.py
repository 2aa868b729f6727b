"""Roster import, the upload: the request body streamed into the encrypted store, checked to be a roster,
and the preview job started. Also the import record's status and audit helpers the jobs share.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import transaction, utcnow, written
from core.members import filestore, queries, roster
from core.members.tables import MemberImport
from core.members.validation import (
    FIELDS,
)

KIND = "imports"


def safe_filename(name: str) -> str:
    import unicodedata

    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "<>:\"|?*")
    return name.strip()[:200] or "roster"


async def receive_upload(tenant: TenantContext, actor: Actor, scope_paths: Sequence[str], filename: str,
                         body: AsyncIterator[bytes], max_bytes: int) -> dict[str, Any]:
    """Store the upload encrypted, check that it can be a roster, and start the preview job."""
    from core.jobs.runner import enqueue

    async with transaction():
        import_id = (await MemberImport.insert(MemberImport(
            tenant_id=tenant.id, created_by=actor.user_id, created_by_name=actor.username[:100],
            scope_paths=list(scope_paths), filename=safe_filename(filename), status="uploading",
        )).returning(MemberImport.id))[0]["id"]
    digest = hashlib.sha256()
    writer = filestore.EncryptedWriter(filestore.path_for(KIND, tenant.id, import_id), KIND, tenant.id, import_id)
    too_large = False
    try:
        async for piece in body:
            if writer.size + len(piece) > max_bytes:
                too_large = True
                break
            digest.update(piece)
            writer.write(piece)
    except BaseException as exc:
        writer.abort()
        # A multipart form found broken after its file part says why (core.multipart.MultipartProblem).
        message = getattr(exc, "message_zh", None) or "上传中断"
        await _mark(tenant, import_id, status="failed", file_error={"code": "UPLOAD", "message": message, "row": None, "column": ""})
        raise
    if too_large:
        writer.abort()
        await _mark(tenant, import_id, status="invalid", file_error={
            "code": "FILE_TOO_LARGE", "row": None, "column": "",
            "message": f"文件超过{max_bytes // (1024 * 1024)}MB上限：请拆分为多个文件后分别导入"})
        return written(await queries.get_import(tenant, import_id), "import")
    writer.close()
    values: dict[Any, Any] = {MemberImport.size_bytes: writer.size, MemberImport.sha256: digest.hexdigest()}
    try:
        header, sniffed = await asyncio.to_thread(_check_file, tenant.id, import_id)
    except roster.FileProblem as problem:
        filestore.delete_stored(KIND, tenant.id, import_id)
        await _mark(tenant, import_id, status="invalid", file_error=problem.as_dict(), extra=values)
        await _audit(tenant, actor, "member.import.upload", import_id, {"size": writer.size, "invalid": problem.code})
        return written(await queries.get_import(tenant, import_id), "import")
    values.update({MemberImport.format: sniffed.format, MemberImport.encoding: sniffed.encoding,
                   MemberImport.header: [{"field": f, "column": FIELDS[f][0], "index": i} for f, i in header.columns.items()]
                   + [{"field": None, "column": u, "index": None} for u in header.unknown]})
    await _mark(tenant, import_id, status="uploaded", extra=values)
    await _audit(tenant, actor, "member.import.upload", import_id,
                 {"size": writer.size, "format": sniffed.format, "encoding": sniffed.encoding})
    job_id = await enqueue(tenant, "member.import.preview", import_id, key=f"member.import.preview:{import_id}",
                           created_by=actor.user_id)
    await _mark(tenant, import_id, extra={MemberImport.preview_job_id: job_id})
    return written(await queries.get_import(tenant, import_id), "import")


def _check_file(tenant_id: int, import_id: int) -> tuple[roster.Header, roster.Sniffed]:
    with filestore.open_stored(KIND, tenant_id, import_id) as f:
        sniffed = roster.sniff(f)
        rows = roster.open_rows(f, sniffed)
        try:
            header = roster.find_header(rows)
            # Read one more row so that a file whose body is undecodable fails now, not in the job.
            next(iter(rows), None)
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
    return header, sniffed


async def _mark(tenant: TenantContext, import_id: int, *, status: str | None = None,
                file_error: dict[str, Any] | None = None, extra: dict[Any, Any] | None = None) -> None:
    values: dict[Any, Any] = {MemberImport.updated_at: utcnow(), **(extra or {})}
    if status is not None:
        values[MemberImport.status] = status
        if status in ("committed", "invalid", "failed", "discarded"):
            values[MemberImport.finished_at] = utcnow()
    if file_error is not None:
        values[MemberImport.file_error] = file_error
    await MemberImport.update(values).where((MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id))


async def _audit(tenant: TenantContext, actor: Actor, action: str, import_id: int, changes: dict[str, Any]) -> None:
    async with transaction():
        await record(tenant, actor, action, "MemberImport", import_id, changes)

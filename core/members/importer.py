"""Roster import: upload, dry-run preview, and a resumable bulk commit.

The flow (docs/members.md has the whole story):

1. ``receive_upload`` streams the request body into an encrypted store file (``filestore``), then
   sniffs the type and encoding and finds the header row. A file that cannot be a roster (empty,
   wrong type, unknown encoding, no matching header, garbage) is refused here, before any job.
2. The ``member.import.preview`` job reads every row and applies every rule (GB 11643, phone, unit
   in this tenant and in the uploader's scope, grassroots level, tags, dates, the tenant's
   ``member_validate`` plugin rules, duplicates within the file, and what the row would do to an
   existing member), without writing any member. It stores counts and the row errors.
3. ``memberImportCommit`` starts the ``member.import.commit`` job. Rows are validated again and
   written in batches. Each batch is one transaction that also advances the import's
   ``committed_through_row`` checkpoint, so after a crash the import record says exactly which rows
   went in, and running the commit again continues after the checkpoint. Re-importing the same
   people updates them (dedup by the blind index of the ID number); unchanged rows write nothing but
   a marker.

The bulk path on PostgreSQL: per batch, ``COPY`` (asyncpg ``copy_records_to_table`` on the
transaction's own pooled connection) into temporary staging tables, then one ``INSERT ... SELECT``
for new members and one ``UPDATE ... FROM`` for changed ones, each writing its history rows in the
same statement. (``COPY`` straight into ``member`` is impossible: PostgreSQL refuses ``COPY FROM``
into tables with row-level security, and the upsert needs the staging step anyway.) On SQLite (the
embedded default) the same batches go through ``executemany``; on Citus too (``INSERT ... VALUES`` and
single-row ``UPDATE``s: Citus runs an ``INSERT ... SELECT`` from a local table as a ``COPY`` into the
shards, which row-level security refuses).

The module runs the jobs; the rows' preparation and classification are in
:mod:`core.members.import_rows`, the writing back ends in :mod:`core.members.import_store`, the upload
in :mod:`core.members.import_upload`.

Row validation and encryption run off the event loop: in a helper thread, or in
``HUIJIA_IMPORT_WORKERS`` worker processes. Personal data stays in memory: job arguments are the
import id, error messages never quote values, and the stored file is encrypted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.db import tenant_connection
from core.dbutil import engine, on_postgres, transaction, utcnow, written
from core.errors import DomainError, ErrorCode, not_found
from core.members import filestore, personal, queries, roster

# Names that callers, tests and benchmarks use through this module.
from core.members.import_options import BATCH_ROWS as BATCH_ROWS
from core.members.import_options import ImportOptions as ImportOptions
from core.members.import_options import in_effect
from core.members.import_rows import Plan as Plan
from core.members.import_rows import Prepared as Prepared
from core.members.import_rows import Preparer as Preparer
from core.members.import_rows import RowError as RowError
from core.members.import_rows import _lookup_bidxs as _lookup_bidxs
from core.members.import_rows import plan_batch as plan_batch
from core.members.import_rows import prepare_batch as prepare_batch
from core.members.import_store import _CUSTOM_PLANS as _CUSTOM_PLANS
from core.members.import_store import IMPORT_LOCK_NAMESPACE as IMPORT_LOCK_NAMESPACE
from core.members.import_store import MAX_STORED_ERRORS as MAX_STORED_ERRORS
from core.members.import_store import PgStore as PgStore
from core.members.import_store import SqliteStore as SqliteStore
from core.members.import_store import _commit_batch as _commit_batch
from core.members.import_store import _first as _first
from core.members.import_store import _Statistics as _Statistics
from core.members.import_upload import KIND as KIND
from core.members.import_upload import _audit as _audit
from core.members.import_upload import _mark as _mark
from core.members.import_upload import receive_upload as receive_upload
from core.members.import_upload import safe_filename as safe_filename
from core.members.tables import MemberImport, MemberImportError
from core.members.validation import (
    DUPLICATE,
    RowContext,
)

log = logging.getLogger("huijia.members.import")


PIPELINE_DEPTH = 2
FAIL_FAST_ROWS = 1000
STALE_SECONDS = 600


# ---------------------------------------------------------------------------------------------
# Reading rows in batches
# ---------------------------------------------------------------------------------------------


def _batches(tenant_id: int, import_id: int, after_row: int = 0, where: dict[str, int] | None = None,
             batch_rows: int = BATCH_ROWS) -> Generator[tuple[list[tuple[int, dict[str, Any]]], int], None, None]:
    """(rows, last row number) per batch, for the data rows after ``after_row``. ``where`` (if
    given) is kept up to date with the bytes read so far (``pos``) of the file's ``size``."""
    with filestore.open_stored(KIND, tenant_id, import_id) as f:
        if where is not None:
            where["size"] = f.raw.size  # type: ignore[attr-defined]  # open_stored buffers an EncryptedReader
        sniffed = roster.sniff(f)
        rows = roster.open_rows(f, sniffed)
        header = roster.find_header(rows)
        batch: list[tuple[int, dict[str, Any]]] = []
        last = header.row
        for row_no, values in roster.data_rows(rows, header):
            last = row_no
            if row_no <= after_row:
                continue
            batch.append((row_no, values))
            if len(batch) >= batch_rows:
                if where is not None:
                    where["pos"] = f.tell()
                yield batch, last
                batch = []
        if where is not None:
            where["pos"] = where.get("size", 0)
        if batch or last > after_row:
            yield batch, last


def _context(tenant: TenantContext, units: Any, scope_paths: Sequence[str]) -> RowContext:
    from core.members.services import row_context

    return row_context(tenant, units, scope_paths)


# ---------------------------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------------------------


async def _prepared_batches(it: Iterator[Any], preparer: Any, timing: dict[str, float] | None = None) -> Any:
    """Yield (prepared rows, errors, row count, last row number) per batch, in file order, while up to
    PIPELINE_DEPTH later batches are already being prepared in the worker processes, and the batch
    after those is being read (decrypted, decoded, parsed) in a helper thread while the caller writes.
    Reading ahead took the reading (about a tenth of a commit) off the write path: it used to wait
    between one batch's write and the next batch's submission."""
    import time

    clock = time.perf_counter
    pending: deque[tuple[asyncio.Future[Any], int, int]] = deque()
    reading: asyncio.Future[Any] | None = None
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < PIPELINE_DEPTH:
                t0 = clock()
                if reading is None:
                    reading = _start_read(it)
                nxt = await _read_result(reading)
                reading = None
                if timing is not None:
                    timing["read_s"] += clock() - t0
                if nxt is None:
                    exhausted = True
                    break
                rows, last = nxt
                pending.append((preparer.submit(rows), len(rows), last))
            if not pending:
                return
            if not exhausted and reading is None:
                reading = _start_read(it)
            fut, n, last = pending.popleft()
            t0 = clock()
            prepared, errors = await fut
            if timing is not None:
                timing["prepare_wait_s"] += clock() - t0
            yield prepared, errors, n, last
    finally:
        if reading is not None:
            # The thread cannot be stopped: let it finish its batch, so the caller can close the
            # file's generator (closing it while a thread runs it raises "generator already executing").
            await asyncio.wait([reading])
            if not reading.cancelled():
                reading.exception()  # retrieved: whatever stopped the loop is what the caller hears about


def _start_read(it: Iterator[Any]) -> asyncio.Future[Any]:
    return asyncio.ensure_future(asyncio.to_thread(next, it, None))


async def _read_result(read: asyncio.Future[Any]) -> Any:
    """A read's result. A stopping worker cancels the job: the read is shielded, and the caller's
    clean-up waits for it (see _prepared_batches)."""
    return await asyncio.shield(read)


def _estimated_rows(done: int, where: Mapping[str, int]) -> int:
    """The preview's total, before the file has been read to its end: the rows so far scaled by the
    share of the file's bytes they took (rows are about the same size), so the UI can show a
    percentage. Never below ``done``; exact once the file has been read."""
    pos, size = where.get("pos", 0), where.get("size", 0)
    if pos <= 0 or size <= 0:
        return done
    return max(done, round(done * size / pos))


async def run_preview(tenant: TenantContext, import_id: int, progress: Any = None,
                      options: ImportOptions | None = None) -> dict[str, Any]:
    from core.members.services import unit_directory

    opts = options or in_effect()
    imp = await queries.get_import(tenant, import_id)
    if imp is None:
        raise not_found("import", message_zh="导入记录不存在，或您无权查看")
    if imp["status"] not in ("uploaded", "previewing"):
        return {"status": imp["status"]}
    await _mark(tenant, import_id, status="previewing")
    await MemberImportError.delete().where((MemberImportError.tenant_id == tenant.id)
                                           & (MemberImportError.import_id == import_id) & (MemberImportError.phase == "preview"))
    ctx = _context(tenant, await unit_directory(tenant), imp["scope_paths"])
    preparer = Preparer(ctx, encrypt=False, workers=_workers(size=imp["size_bytes"], options=opts),
                        ix=await personal.index_keys(tenant))
    counts = {"total": 0, "valid": 0, "c": 0, "u": 0, "n": 0, "errors": 0}
    stored = 0
    where: dict[str, int] = {}

    async def run(store: Any) -> None:
        nonlocal stored
        await store.seen_start()
        it = _batches(tenant.id, import_id, where=where, batch_rows=opts.batch_rows)
        batches = _prepared_batches(it, preparer)
        try:
            await _preview_loop(store, batches)
        finally:
            await batches.aclose()  # waits for a read still running ahead, which holds the file's generator
            it.close()
        if counts["total"] == 0:
            raise roster.FileProblem("NO_DATA_ROWS", "名册中没有数据行（只有表头）：空文件不能导入，请在表头下逐行填写会员信息后重新上传")
        dups, dup_counts = await store.seen_duplicates(MAX_STORED_ERRORS)
        dup_errors = [(r, "id_number", DUPLICATE, f"与第{first}行是同一人（身份证号码重复）") for r, first in dups]
        room = max(0, MAX_STORED_ERRORS - stored)
        await store.add_errors(import_id, "preview", dup_errors[:room])
        for kind, n in dup_counts.items():
            counts[kind] -= n
        counts["errors"] += sum(dup_counts.values())  # duplicates are found among valid rows only
        await store.seen_end()

    async def _preview_loop(store: Any, batches: Any) -> None:
        nonlocal stored
        async for prepared, errors, n, _last in batches:
            counts["total"] += n
            plan = plan_batch(prepared, await store.existing(_lookup_bidxs(prepared)), None)
            errors = errors + plan.errors
            kinds = [(r.row_no, r.id_bidx, "c") for r in plan.creates] + \
                    [(r.row_no, r.id_bidx, "u") for r, _, _ in plan.updates] + \
                    [(r.row_no, r.id_bidx, "n") for r, _ in plan.unchanged]
            await store.seen_add(kinds)
            counts["c"] += len(plan.creates)
            counts["u"] += len(plan.updates)
            counts["n"] += len(plan.unchanged)
            counts["errors"] += len({e[0] for e in errors})  # a batch's rows are its own: constant memory
            if stored < MAX_STORED_ERRORS:
                chunk = errors[: MAX_STORED_ERRORS - stored]
                await store.add_errors(import_id, "preview", chunk)
                stored += len(chunk)
            if counts["total"] >= FAIL_FAST_ROWS and counts["c"] + counts["u"] + counts["n"] == 0:
                raise roster.FileProblem("NO_VALID_ROWS", f"前{counts['total']}行没有一行有效，已停止检查：请确认这是会员名册，并对照下面的错误修改")
            if progress:
                await progress(counts["total"], _estimated_rows(counts["total"], where))

    try:
        if on_postgres():
            # Fenced to the tenant: on Citus the workers see only what a transaction set locally.
            problem: roster.FileProblem | None = None
            async with tenant_connection() as conn:
                try:
                    await run((opts.pg_store or PgStore)(conn, tenant))
                except roster.FileProblem as found:
                    # Raised after the transaction: on Citus it must commit, or the row errors stored
                    # so far (shown with the refused file) would be rolled back with it.
                    problem = found
                finally:
                    await conn.execute("DROP TABLE IF EXISTS _import_seen")
            if problem is not None:
                raise problem
        else:
            await run(SqliteStore(None, tenant))
    except roster.FileProblem as problem:
        await _mark(tenant, import_id, status="invalid", file_error=problem.as_dict(), extra={
            MemberImport.total_rows: counts["total"], MemberImport.error_rows: counts["errors"]})
        return {"status": "invalid", "error": problem.code}
    finally:
        preparer.close()
    valid = counts["c"] + counts["u"] + counts["n"]
    if progress:
        await progress(counts["total"], counts["total"])
    await _mark(tenant, import_id, status="previewed", extra={
        MemberImport.total_rows: counts["total"], MemberImport.valid_rows: valid,
        MemberImport.error_rows: counts["errors"], MemberImport.would_create: counts["c"],
        MemberImport.would_update: counts["u"], MemberImport.would_unchange: counts["n"],
    })
    return {"status": "previewed", "total": counts["total"], "valid": valid, "errors": counts["errors"]}


# Below this many rows (or bytes, before the row count is known) a helper thread is used: starting
# worker processes costs about a second.
PROCESS_MIN_ROWS = 20_000
PROCESS_MIN_BYTES = 2 * 1024 * 1024


def _workers(rows: int = 0, size: int = 0, options: ImportOptions | None = None) -> int:
    """Worker processes for validation and encryption: the options' ``workers`` if set, else
    HUIJIA_IMPORT_WORKERS, or by default (-1) up to 2 (one core is left for the database on small
    machines) for large files, else none."""
    if options is not None and options.workers is not None:
        return options.workers
    import os

    from core.settings import get_settings

    configured = get_settings().import_workers
    if configured == 0 or (rows < PROCESS_MIN_ROWS and size < PROCESS_MIN_BYTES):
        return 0
    if configured > 0:
        return configured
    cpus = os.cpu_count() or 1
    return 0 if cpus < 2 else min(2, cpus)


# ---------------------------------------------------------------------------------------------
# Commit
# ---------------------------------------------------------------------------------------------


async def commit_activity(tenant: TenantContext, imp: dict[str, Any]) -> str:
    """Whether a commit is under way for this import: "live" (its job is queued or running with a
    fresh heartbeat), or "stopped" (no commit job, or it was interrupted, failed or finished). The
    job's status is read through ``get_job``, which marks a run with a stale heartbeat interrupted,
    so a commit whose worker died counts as stopped as soon as its heartbeat is stale. Resume and
    discard both decide from this one answer."""
    from core.jobs.runner import get_job

    if imp["status"] not in ("committing", "interrupted"):
        return "stopped"
    if not imp["commit_job_id"]:
        # A commit being started: the status moved and the job is about to be recorded.
        return "live" if (utcnow() - imp["updated_at"]).total_seconds() < STALE_SECONDS else "stopped"
    job = await get_job(tenant, imp["commit_job_id"])
    if job is None:
        return "stopped"
    if job["status"] == "running":
        return "live"
    if job["status"] == "queued":
        # A queued job has no heartbeat yet; one no worker took for this long is presumed lost.
        return "live" if (utcnow() - job["updated_at"]).total_seconds() < STALE_SECONDS else "stopped"
    return "stopped"


async def shown_status(tenant: TenantContext, imp: dict[str, Any]) -> str:
    """The status to report, from the commit job rather than the import row alone: a commit whose
    job stopped (its worker died) is INTERRUPTED and may be resumed; one whose job runs is COMMITTING."""
    if imp["status"] in ("committing", "interrupted"):
        return "committing" if await commit_activity(tenant, imp) == "live" else "interrupted"
    return imp["status"]


BEING_COMMITTED = "this import is being committed right now: wait for it to finish"
BEING_COMMITTED_ZH = "该名册正在导入中，请等待完成"


async def start_commit(tenant: TenantContext, actor: Actor, import_id: int, *, allow_errors: bool) -> dict[str, Any]:
    """Check that the import may be committed (or resumed) and start the commit job."""
    from core.jobs.runner import enqueue
    from core.settings import get_settings

    async with transaction():
        imp = await queries.get_import(tenant, import_id)
        if imp is None:
            raise not_found("import", message_zh="导入记录不存在，或您无权查看")
        status = imp["status"]
        if status in ("committing", "interrupted"):
            if await commit_activity(tenant, imp) == "live":
                raise DomainError(ErrorCode.INVALID_STATE, BEING_COMMITTED, "id", BEING_COMMITTED_ZH)
        elif status == "committed":
            raise DomainError(ErrorCode.INVALID_STATE, "this import is already committed", "id", "该名册已导入完成")
        elif status == "discarded":
            raise DomainError(ErrorCode.INVALID_STATE, "this import was discarded: upload the file again", "id",
                              "该名册已放弃，请重新上传")
        elif status == "expired":
            raise DomainError(ErrorCode.INVALID_STATE, "the upload has expired (its file was deleted after "
                              f"{get_settings().import_retention_hours} hours without activity): upload it again", "id",
                              f"上传的名册已过期（{get_settings().import_retention_hours} 小时未操作，文件已删除），请重新上传")
        elif status != "previewed":
            raise DomainError(ErrorCode.INVALID_STATE, f"an import can be committed after its preview (status: {status})", "id",
                              "名册须先完成校验预览才能导入")
        if imp["valid_rows"] == 0:
            raise DomainError(ErrorCode.INVALID_STATE, "the preview found no valid rows", "id", "校验未发现有效的数据行，不能导入")
        stored = await MemberImportError.count().where((MemberImportError.tenant_id == tenant.id)
                                                       & (MemberImportError.import_id == import_id)
                                                       & (MemberImportError.phase == "preview"))
        if stored >= MAX_STORED_ERRORS:
            raise DomainError(ErrorCode.INVALID_INPUT, f"the preview found more than {MAX_STORED_ERRORS} errors: fix the "
                              "file and upload it again", "id",
                              f"校验发现超过 {MAX_STORED_ERRORS} 处错误，请修改文件后重新上传")
        if imp["error_rows"] and not (allow_errors or imp["allow_errors"]):
            raise DomainError(ErrorCode.INVALID_INPUT, f"the preview found {imp['error_rows']} rows with errors: fix the "
                              "file and upload it again, or commit with allowErrors to skip those rows", "allowErrors",
                              f"校验发现 {imp['error_rows']} 行有错误：请修改文件后重新上传，或选择跳过这些行导入")
        if not filestore.stored_exists(KIND, tenant.id, import_id):
            raise DomainError(ErrorCode.INVALID_STATE, "the uploaded file is no longer stored; upload it again", "id",
                              "上传的文件已不存在，请重新上传")
        # Only from the status read above: the retention job may have expired the import (and
        # deleted its file) since; its own update checks status and age the same way.
        # Compare-and-set on the commit job too: two resumes of a stopped commit both read the same
        # status, and only the first may start a job. The job id is cleared until the new job is
        # recorded, so the stopped job no longer speaks for the import.
        same_job = (MemberImport.commit_job_id == imp["commit_job_id"]) if imp["commit_job_id"] \
            else MemberImport.commit_job_id.is_null()
        moved = await MemberImport.update({MemberImport.status: "committing",
                                           MemberImport.allow_errors: bool(allow_errors or imp["allow_errors"]),
                                           MemberImport.commit_job_id: None,
                                           MemberImport.updated_at: utcnow()}).where(
            (MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id) & (MemberImport.status == status)
            & same_job
        ).returning(MemberImport.id)
        if not moved:
            raise DomainError(ErrorCode.INVALID_STATE, "the import changed meanwhile (expired or taken by another "
                              "commit); reload it", "id")
        await record(tenant, actor, "member.import.commit", "MemberImport", import_id,
                     {"resume_after_row": imp["committed_through_row"], "allow_errors": bool(allow_errors)})
    job_id = await enqueue(tenant, "member.import.commit", import_id, created_by=actor.user_id)
    await _mark(tenant, import_id, extra={MemberImport.commit_job_id: job_id})
    return written(await queries.get_import(tenant, import_id), "import")


async def run_commit(tenant: TenantContext, import_id: int, progress: Any = None,
                     options: ImportOptions | None = None) -> dict[str, Any]:
    from core.members.services import joined_notice, unit_directory

    opts = options or in_effect()
    imp = await queries.get_import(tenant, import_id)
    if imp is None:
        raise not_found("import", message_zh="导入记录不存在，或您无权查看")
    if imp["status"] == "committed":
        return {"status": "committed"}
    if imp["status"] not in ("committing", "interrupted"):
        return {"status": imp["status"]}
    actor = Actor(imp["created_by"], imp["created_by_name"] or "import")
    with filestore.open_stored(KIND, tenant.id, import_id) as f:
        if await asyncio.to_thread(_sha256, f) != imp["sha256"]:
            await _mark(tenant, import_id, status="failed", file_error={"code": "FILE_CHANGED", "row": None, "column": "",
                                                                        "message": "存储的文件与预览时不一致：请重新上传"})
            return {"status": "failed"}
    await _mark(tenant, import_id, status="committing")
    start = imp["committed_through_row"]
    ctx = _context(tenant, await unit_directory(tenant), imp["scope_paths"])
    duplicates = await _preview_duplicates(tenant, import_id)
    preparer = Preparer(ctx, encrypt=True, workers=_workers(rows=imp["total_rows"], options=opts),
                        ix=await personal.index_keys(tenant))
    notify_joins = _has_join_listeners(tenant)
    done_rows = 0
    batch_no = 0
    timing = {"read_s": 0.0, "prepare_wait_s": 0.0, "write_s": 0.0}
    clock = __import__("time").perf_counter
    it = _batches(tenant.id, import_id, after_row=start, batch_rows=opts.batch_rows)
    stats = await _Statistics.start() if on_postgres() else None
    batches = _prepared_batches(it, preparer, timing)
    try:
        async for prepared, errors, n, last in batches:
            t0 = clock()
            for attempt in range(3):
                try:
                    created = await _commit_batch(tenant, import_id, actor, prepared, errors, last, n, duplicates,
                                                  preparer.ix, pg_store=opts.pg_store)
                    break
                except Exception as exc:  # a single create raced the batch: look the people up again
                    from core.members.member_common import _unique_violation

                    if attempt == 2 or not _unique_violation(exc):
                        raise
            if stats is not None and stats.note(len(created)):
                await stats.refresh()
            timing["write_s"] += clock() - t0
            done_rows += n
            batch_no += 1
            if progress:
                await progress(start_rows(imp, done_rows), imp["total_rows"] or None)
            if notify_joins:
                for member_id, _ in created:
                    await joined_notice(tenant, member_id)
            if opts.after_batch is not None:
                opts.after_batch(batch_no)
    except roster.FileProblem as problem:
        await _mark(tenant, import_id, status="failed", file_error=problem.as_dict())
        return {"status": "failed", "error": problem.code}
    except BaseException:
        _forget_broken_transaction()
        try:
            # Only from committing: a run declared dead and replaced by a resume must not mark the
            # import interrupted behind the resume's back (or after it committed).
            await MemberImport.update({MemberImport.status: "interrupted", MemberImport.updated_at: utcnow()}).where(
                (MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id)
                & (MemberImport.status == "committing"))
        except Exception:
            log.warning("could not mark import interrupted", extra={"job_id": import_id})
        raise
    finally:
        await batches.aclose()  # waits for a read still running ahead, which holds the file's generator
        it.close()
        preparer.close()
    if stats is not None and stats.stale():
        await stats.refresh()  # leave searches (and the next import) with the table as it now is
    final = await queries.get_import(tenant, import_id)
    assert final is not None
    await _mark(tenant, import_id, status="committed")
    filestore.delete_stored(KIND, tenant.id, import_id)
    result = {"created": final["created_count"], "updated": final["updated_count"],
              "unchanged": final["unchanged_count"], "failed": final["failed_count"],
              "committed_through_row": final["committed_through_row"]}
    await _audit(tenant, actor, "member.import.finish", import_id, result)
    return {"status": "committed", **result, "timing": {k: round(v, 2) for k, v in timing.items()}}


def _forget_broken_transaction() -> None:
    """When a connection dies inside a transaction, piccolo's rollback raises before it clears its
    "current transaction" context variable, and every later query in this task would try the dead
    connection. We are outside our own transactions here, so clear it."""
    current = getattr(engine(), "current_transaction", None)
    if current is not None and current.get() is not None:
        current.set(None)


def start_rows(imp: dict[str, Any], done: int) -> int:
    return done + (imp["created_count"] + imp["updated_count"] + imp["unchanged_count"] + imp["failed_count"])


def _sha256(f: Any) -> str:
    digest = hashlib.sha256()
    for piece in iter(lambda: f.read(1024 * 1024), b""):
        digest.update(piece)
    return digest.hexdigest()


def _has_join_listeners(tenant: TenantContext) -> bool:
    from core.plugins import hooks_for

    return bool(hooks_for(tenant).on_member_joined.get_hookimpls())


async def _preview_duplicates(tenant: TenantContext, import_id: int) -> dict[int, str]:
    """Rows the preview found to repeat an earlier row's person (the file is the same: its SHA-256
    is checked). The commit skips them, so rows that change nothing need not be marked."""
    rows = await MemberImportError.select(MemberImportError.row_no, MemberImportError.message).where(
        (MemberImportError.tenant_id == tenant.id) & (MemberImportError.import_id == import_id)
        & (MemberImportError.phase == "preview") & (MemberImportError.code == DUPLICATE))
    return {r["row_no"]: r["message"] for r in rows}


async def discard(tenant: TenantContext, actor: Actor, import_id: int) -> dict[str, Any]:
    """Drop an import that was not committed (deletes the stored file; the record stays)."""
    imp = await queries.get_import(tenant, import_id)
    if imp is None:
        raise not_found("import", message_zh="导入记录不存在，或您无权查看")
    status = imp["status"]
    if status in ("committing", "interrupted"):
        if await commit_activity(tenant, imp) == "live":
            raise DomainError(ErrorCode.INVALID_STATE, BEING_COMMITTED, "id", BEING_COMMITTED_ZH)
        if imp["committed_through_row"]:
            raise DomainError(ErrorCode.INVALID_STATE, "rows of this import were already written: resume it to "
                              "finish (memberImportCommit continues after the last committed row)", "id",
                              "该名册已有部分数据写入，请继续导入以完成")
    elif status == "committed":
        raise DomainError(ErrorCode.INVALID_STATE, "this import is already committed", "id", "该名册已导入完成")
    elif status == "discarded":
        raise DomainError(ErrorCode.INVALID_STATE, "this import is already discarded", "id", "该名册已放弃")
    elif status == "expired":
        raise DomainError(ErrorCode.INVALID_STATE, "the upload has expired; its file is already deleted", "id",
                              "上传的名册已过期，文件已删除")
    filestore.delete_stored(KIND, tenant.id, import_id)
    await _mark(tenant, import_id, status="discarded")
    await _audit(tenant, actor, "member.import.discard", import_id, {})
    return written(await queries.get_import(tenant, import_id), "import")


def error_report_rows(errors: Sequence[dict[str, Any]]) -> Iterator[list[Any]]:
    yield ["行号", "列", "错误说明"]
    for e in errors:
        yield [e["row_no"], e["column_name"], e["message"]]


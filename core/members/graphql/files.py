"""GraphQL for roster imports (名册导入) and member exports."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from core.context import TenantContext
from core.errors import DomainError, not_found
from core.graphql.base import (
    BigInt,
    Connection,
    Info,
    Node,
    UserError,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
)
from core.jobs.graphql import Job
from core.members import queries
from core.members.graphql.helpers import (
    _audit_refusal,
    _check_inputs,
    build_filter,
)
from core.members.graphql.inputs import (
    MemberFilter,
)


@strawberry.enum(name="MemberImportStatus", description="Where an import stands. UPLOADED/PREVIEWING → PREVIEWED (or INVALID) → COMMITTING → COMMITTED; INTERRUPTED can be resumed. EXPIRED: not committed or discarded within the retention period, so its file was deleted (upload again).")
class ImportStatus(enum.Enum):
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    PREVIEWING = "previewing"
    PREVIEWED = "previewed"
    INVALID = "invalid"
    COMMITTING = "committing"
    INTERRUPTED = "interrupted"
    COMMITTED = "committed"
    FAILED = "failed"
    DISCARDED = "discarded"
    EXPIRED = "expired"


@strawberry.enum(name="MemberImportPhase")
class ImportPhase(enum.Enum):
    PREVIEW = "preview"
    COMMIT = "commit"


@strawberry.type(name="MemberImportFileError", description="Why a whole file cannot be imported (Chinese message; row/column when known).")
class ImportFileError:
    code: str
    message: str
    row: int | None
    column: str


@strawberry.type(name="MemberImportRowError", description="One problem with one row (never quoting the personal value).")
class ImportRowError:
    row: int
    column: str
    code: str
    message: str


@strawberry.type(name="MemberImportColumn", description="A column of the uploaded file's header and the field it was mapped to (null: ignored).")
class ImportColumn:
    field: str | None
    column: str


@strawberry.type(description="An uploaded roster (名册): its dry-run preview, and its commit with checkpoints.")
class MemberImport(Node):
    id: strawberry.ID
    filename: str
    format: str
    encoding: str = strawberry.field(description="utf-8-sig, utf-16 or gb18030 (GBK files are detected and decoded).")
    status: ImportStatus
    size_bytes: BigInt
    total_rows: int
    valid_rows: int
    error_rows: int
    would_create: int
    would_update: int
    would_leave_unchanged: int
    allow_errors: bool
    committed_through_row: int = strawberry.field(description="Every row up to this one is committed (or reported); a resumed commit continues after it.")
    batches_committed: int
    created: int
    updated: int
    unchanged: int
    failed: int
    file_error: ImportFileError | None
    columns: list[ImportColumn]
    created_by_name: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error_report_csv_url: str
    error_report_xlsx_url: str
    pk: strawberry.Private[int]
    tenant: strawberry.Private[TenantContext]
    preview_job_pk: strawberry.Private[int | None]
    commit_job_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, tenant: TenantContext, r: dict[str, Any]) -> MemberImport:
        fe = r["file_error"] or None
        return cls(
            id=strawberry.ID(to_global_id("MemberImport", r["id"])), filename=r["filename"], format=r["format"],
            encoding=r["encoding"], status=ImportStatus(r["status"]), size_bytes=r["size_bytes"], total_rows=r["total_rows"],
            valid_rows=r["valid_rows"], error_rows=r["error_rows"], would_create=r["would_create"],
            would_update=r["would_update"], would_leave_unchanged=r["would_unchange"], allow_errors=r["allow_errors"],
            committed_through_row=r["committed_through_row"], batches_committed=r["batches_committed"],
            created=r["created_count"], updated=r["updated_count"], unchanged=r["unchanged_count"], failed=r["failed_count"],
            file_error=ImportFileError(code=fe.get("code", ""), message=fe.get("message", ""), row=fe.get("row"),
                                       column=fe.get("column") or "") if fe else None,
            columns=[ImportColumn(field=c.get("field"), column=c.get("column", "")) for c in (r["header"] or [])],
            created_by_name=r["created_by_name"], created_at=r["created_at"], finished_at=r["finished_at"],
            error_report_csv_url=f"/imports/{r['id']}/errors.csv", error_report_xlsx_url=f"/imports/{r['id']}/errors.xlsx",
            pk=r["id"], tenant=tenant, preview_job_pk=r["preview_job_id"], commit_job_pk=r["commit_job_id"],
        )

    @strawberry.field(description="Row errors of a phase (default: the commit's once it started, else the preview's), by row.")
    async def errors(self, phase: ImportPhase | None = None, first: int | None = 20,
                     after: str | None = None) -> Connection[ImportRowError]:
        page = page_args(first, after)
        if phase is None:
            phase = ImportPhase.COMMIT if self.status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED,
                                                          ImportStatus.INTERRUPTED) else ImportPhase.PREVIEW
        rows = await queries.import_errors(self.tenant, self.pk, phase.value, page.offset, page.limit + 1)
        total = page.offset + len(rows)
        items = [ImportRowError(row=r["row_no"], column=r["column_name"], code=r["code"], message=r["message"])
                 for r in rows[: page.limit]]
        return connection(items, total, page)

    @strawberry.field(description="The preview (dry-run) job.")
    async def preview_job(self, info: Info) -> Job | None:
        return await _job(info, self.preview_job_pk)

    @strawberry.field(description="The latest commit job.")
    async def commit_job(self, info: Info) -> Job | None:
        return await _job(info, self.commit_job_pk)


async def _job(info: Info, pk: int | None) -> Job | None:
    from core.jobs.runner import jobs_by_ids

    if pk is None:
        return None
    row = await info.context.loader("job_by_id", jobs_by_ids).load(pk)
    return Job.from_row(row) if row else None


@strawberry.enum(name="MemberExportFormat")
class ExportFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"


@strawberry.enum(name="MemberExportStatus", description="EXPIRED: the file was deleted after the retention period (export again).")
class ExportStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


@strawberry.type(description="An export of filtered members; download from `downloadUrl` (your own exports only).")
class MemberExport(Node):
    id: strawberry.ID
    format: ExportFormat
    unmasked: bool
    reason: str
    status: ExportStatus
    row_count: int
    size_bytes: BigInt
    downloads: int
    created_by_name: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download_url: str | None
    job_pk: strawberry.Private[int | None]
    tenant: strawberry.Private[TenantContext]

    @classmethod
    def from_row(cls, tenant: TenantContext, r: dict[str, Any]) -> MemberExport:
        return cls(id=strawberry.ID(to_global_id("MemberExport", r["id"])), format=ExportFormat(r["format"]),
                   unmasked=r["unmasked"], reason=r["reason"], status=ExportStatus(r["status"]), row_count=r["row_count"],
                   size_bytes=r["size_bytes"], downloads=r["downloads"], created_by_name=r["created_by_name"],
                   created_at=r["created_at"], finished_at=r["finished_at"],
                   download_url=f"/exports/{r['id']}" if r["status"] == "ready" else None, job_pk=r["job_id"], tenant=tenant)

    @strawberry.field
    async def job(self, info: Info) -> Job | None:
        return await _job(info, self.job_pk)


@strawberry.type
class MemberImportPayload:
    member_import: MemberImport | None = None
    errors: list[UserError]


@strawberry.type
class MemberExportPayload:
    member_export: MemberExport | None = None
    errors: list[UserError]


def sees_all_imports(principal: Any) -> bool:
    """Imports (their counts and row errors) are visible to their uploader, and to everyone who may
    import anywhere in the tenant (``member.import`` at the province root)."""
    return any(p.count("/") == 2 for p in principal.scope_paths("member.import"))


def can_see_import(principal: Any, row: dict[str, Any]) -> bool:
    return row["created_by"] == principal.user_id or sees_all_imports(principal)


async def resolve_import(info: Info, pk: int) -> MemberImport | None:
    tenant, principal = info.context.authenticated()
    row = await queries.get_import(tenant, pk)
    if row is None or not can_see_import(principal, row):
        return None
    return await _shown_import(tenant, row)


async def _shown_import(tenant: TenantContext, row: dict[str, Any]) -> MemberImport:
    """An import as reported: a commit whose job stopped (its worker died) shows INTERRUPTED."""
    from core.members.importer import shown_status

    return MemberImport.from_row(tenant, {**row, "status": await shown_status(tenant, row)})


async def resolve_export(info: Info, pk: int) -> MemberExport | None:
    tenant, principal = info.context.authenticated()
    row = await queries.get_export(tenant, pk)
    if row is None or row["created_by"] != principal.user_id:
        return None
    return MemberExport.from_row(tenant, row)


@strawberry.type
class MemberFilesQuery:
    @strawberry.field(description=perm("member.import", "One roster import: status, preview counts, first errors, checkpoint."))
    @for_query
    async def member_import(self, info: Info, id: strawberry.ID) -> MemberImport | None:
        info.context.require("member.import")
        return await resolve_import(info, from_global_id(id, "MemberImport")[1])

    @strawberry.field(description=perm("member.import", "Roster imports, newest first: your own, or all of the tenant's for importers at the province root. Upload with `POST /imports?filename=…` (the body is the file)."))
    @for_query
    async def member_imports(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[MemberImport]:
        tenant, principal = info.context.require("member.import")
        page = page_args(first, after)
        rows, total = await queries.list_imports(tenant, page.offset, page.limit,
                                                 None if sees_all_imports(principal) else principal.user_id)
        return connection([await _shown_import(tenant, r) for r in rows], total, page)

    @strawberry.field(description=perm("member.export", "One of your exports."))
    @for_query
    async def member_export(self, info: Info, id: strawberry.ID) -> MemberExport | None:
        info.context.require("member.export")
        return await resolve_export(info, from_global_id(id, "MemberExport")[1])


@strawberry.type
class MemberFilesMutation:
    @strawberry.mutation(description=perm("member.import", "Commit a previewed import (or resume an interrupted one after its checkpoint). Refused when the preview found errors, unless allowErrors: then those rows are skipped and reported."))
    async def member_import_commit(self, info: Info, id: strawberry.ID, allow_errors: bool = False) -> MemberImportPayload:
        from core.members import importer

        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.import")
            found = await resolve_import(info, from_global_id(id, "MemberImport")[1])
            if found is None:
                raise not_found("import", message_zh="导入记录不存在，或您无权查看")
            row = await importer.start_commit(tenant, info.context.actor, found.pk, allow_errors=allow_errors)
            return {"member_import": MemberImport.from_row(tenant, row)}

        return await run_mutation(MemberImportPayload, work)

    @strawberry.mutation(description=perm("member.import", "Discard an import that was not committed (its stored file is deleted)."))
    async def member_import_discard(self, info: Info, id: strawberry.ID) -> MemberImportPayload:
        from core.members import importer

        async def work() -> dict[str, Any]:
            tenant, _ = info.context.require("member.import")
            found = await resolve_import(info, from_global_id(id, "MemberImport")[1])
            if found is None:
                raise not_found("import", message_zh="导入记录不存在，或您无权查看")
            return {"member_import": MemberImport.from_row(tenant, await importer.discard(tenant, info.context.actor, found.pk))}

        return await run_mutation(MemberImportPayload, work)

    @strawberry.mutation(description=perm("member.export", "Export the members matching a filter (within your scope) to CSV or XLSX, masked. `unmasked: true` needs `member.export_unmasked` and a reason; it is audited."))
    async def member_export_start(self, info: Info, filter: MemberFilter | None = None, format: ExportFormat = ExportFormat.XLSX,
                                  unmasked: bool = False, reason: str = "") -> MemberExportPayload:
        from core.members import exporter

        async def attempt() -> dict[str, Any]:
            try:
                return await work()
            except DomainError as exc:
                if unmasked:
                    await _audit_refusal(info, "member.export.refused", None, {"unmasked": True, "reason": reason}, exc)
                raise

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("member.export")
            if unmasked:
                info.context.require("member.export_unmasked")
            _check_inputs({"reason": reason})
            flt = await build_filter(info, tenant, filter, seal=True)
            scope = principal.scope_paths("member.export_unmasked" if unmasked else "member.export")
            read_scope = principal.scope_paths("member.read")
            scope = [p for p in scope if any(p.startswith(r) for r in read_scope)]
            row = await exporter.start_export(tenant, info.context.actor, flt=flt, scope_paths=scope, fmt=format.value,
                                              unmasked=unmasked, reason=reason)
            return {"member_export": MemberExport.from_row(tenant, row)}

        return await run_mutation(MemberExportPayload, attempt)

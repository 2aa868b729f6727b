"""Retention of stored roster uploads and export files (``members.purge``, hourly).

An uploaded roster is the tenant's personal data in bulk; encrypted at rest, but still a copy that
should not outlive its use. Committing or discarding an import deletes its file at once; this job
deletes what nobody came back for:

- an import that still holds its file (uploading, uploaded, previewing, previewed, committing,
  interrupted) and has not moved for ``HUIJIA_IMPORT_RETENTION_HOURS`` (default 72; "moved" is
  ``updated_at``, which every commit batch and status change advances, so a running commit is never
  stale);
- an export ``HUIJIA_EXPORT_RETENTION_HOURS`` (default 24) after it was finished, or after it was
  started when its job never finished.

The rows stay for the audit trail with status ``expired``; one audit record per run lists what was
purged (ids and counts only). Each row is expired by a conditional update (status and age
re-checked in the statement) before its file is deleted, in one transaction, so a commit starting at
that moment either wins (the import is no longer stale) or finds the import expired; running the job
twice purges nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import transaction, utcnow
from core.members import filestore
from core.members.tables import MemberExport, MemberImport

PURGE_JOB = "members.purge"
ACTOR = Actor(None, PURGE_JOB)
# Statuses in which an import or export may still have a stored file.
IMPORT_HOLDING = ("uploading", "uploaded", "previewing", "previewed", "committing", "interrupted")
EXPORT_PENDING = ("queued", "running")
MAX_IDS_AUDITED = 1000


async def purge_expired(tenant: TenantContext, now: dt.datetime | None = None) -> dict[str, Any]:
    """Expire this tenant's stale imports and exports and delete their files. ``now``: for tests."""
    from core.members.exporter import KIND as EXPORTS
    from core.members.importer import KIND as IMPORTS
    from core.settings import get_settings

    settings = get_settings()
    now = now or utcnow()
    import_cutoff = now - dt.timedelta(hours=settings.import_retention_hours)
    export_cutoff = now - dt.timedelta(hours=settings.export_retention_hours)

    stale_import = (MemberImport.tenant_id == tenant.id) & MemberImport.status.is_in(list(IMPORT_HOLDING)) \
        & (MemberImport.updated_at < import_cutoff)
    imports: list[int] = []
    files = 0
    for row in await MemberImport.select(MemberImport.id).where(stale_import).order_by(MemberImport.id):
        async with transaction():
            hit = await MemberImport.update({MemberImport.status: "expired", MemberImport.finished_at: now,
                                             MemberImport.updated_at: now}).where(
                stale_import & (MemberImport.id == row["id"])).returning(MemberImport.id)
            if hit:
                files += filestore.purge_stored(IMPORTS, tenant.id, row["id"])
                imports.append(row["id"])

    stale_export = (MemberExport.tenant_id == tenant.id) & (
        ((MemberExport.status == "ready") & (MemberExport.finished_at < export_cutoff))
        | (MemberExport.status.is_in(list(EXPORT_PENDING)) & (MemberExport.created_at < export_cutoff)))
    exports: list[int] = []
    for row in await MemberExport.select(MemberExport.id).where(stale_export).order_by(MemberExport.id):
        async with transaction():
            hit = await MemberExport.update({MemberExport.status: "expired", MemberExport.finished_at: now}).where(
                stale_export & (MemberExport.id == row["id"])).returning(MemberExport.id)
            if hit:
                files += filestore.purge_stored(EXPORTS, tenant.id, row["id"])
                exports.append(row["id"])

    result = {"imports_expired": len(imports), "exports_expired": len(exports), "files_deleted": files,
              "import_retention_hours": settings.import_retention_hours,
              "export_retention_hours": settings.export_retention_hours}
    async with transaction():
        await record(tenant, ACTOR, "member.purge", "MemberFiles", "",
                     {**result, "import_ids": imports[:MAX_IDS_AUDITED], "export_ids": exports[:MAX_IDS_AUDITED]})
    return result

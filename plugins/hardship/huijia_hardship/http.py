"""HTTP route for attachment downloads (GraphQL does not carry files well). Bearer-authenticated
like /graphql: the edge middleware has already resolved tenant and user.

- ``GET /hardship/attachments/<id>``: the document's bytes, for staff holding ``hardship.read`` over
  the archive's union (its subtree), or for the worker whose household the archive is (worker
  portal). Every download is audited. 404 for an unknown id, another tenant's document, one outside
  the caller's subtree, or a tenant without the capability (nothing tells them apart); 401 without a
  login. Content-Type is the type sniffed at upload; the file is always served as an attachment.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.sdk import (
    Actor,
    audit_record,
    capability_enabled,
    household_people,
    http_error,
    in_subtree,
    private_attachment,
    raw,
    worker_member_id,
)
from huijia_hardship.settings import NAME
from huijia_hardship.storage import storage

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is no row (and would be a driver error)
PATH = "/hardship/attachments"


def download_url(attachment_id: int) -> str:
    return f"{PATH}/{int(attachment_id)}"


def _not_found() -> Response[Any]:
    return http_error(404, "NOT_FOUND", "attachment not found", "材料不存在，或您无权查看")


async def _worker_owns(tenant: Any, principal: Any, household_id: int) -> bool:
    member_id = await worker_member_id(tenant, principal)
    return member_id is not None and any(p["member_id"] == member_id for p in await household_people(tenant, household_id))


@get(f"{PATH}/{{attachment_id:int}}")
async def download_attachment(request: Request[Any, Any, Any], attachment_id: int) -> Response[Any]:
    state: dict[str, Any] = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if principal is None or tenant is None:
        return http_error(401, "UNAUTHENTICATED", "log in first (Authorization: Bearer <token>)", "请先登录")
    if not capability_enabled(tenant, NAME) or not 0 < attachment_id <= MAX_ID:
        return _not_found()
    rows = await raw("SELECT t.id, t.archive_id, t.filename, t.content_type, t.size, a.household_id, o.path "
                     "FROM hardship_attachment t JOIN hardship_archive a ON a.tenant_id = t.tenant_id AND "
                     "a.id = t.archive_id JOIN org_unit o ON o.tenant_id = a.tenant_id AND o.id = a.org_unit_id "
                     "WHERE t.tenant_id = {} AND t.id = {}", tenant.id, attachment_id)
    if not rows:
        return _not_found()
    row = rows[0]
    as_worker = False
    if not in_subtree(principal, "hardship.read", row["path"]):
        as_worker = await _worker_owns(tenant, principal, int(row["household_id"]))
        if not as_worker:
            return _not_found()
    backend = storage()
    if not backend.exists(tenant.id, attachment_id):
        return http_error(410, "INVALID_STATE", "the attachment's file is gone", "材料文件已不存在")
    await audit_record(tenant, Actor(principal.user_id, principal.username), "hardship.attachment.download",
                       "HardshipArchive", int(row["archive_id"]),
                       {"attachment_id": attachment_id, "as_worker": as_worker})
    return private_attachment(lambda: backend.open(tenant.id, attachment_id), row["filename"], row["content_type"])


ROUTES = [download_attachment]

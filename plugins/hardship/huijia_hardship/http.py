"""HTTP route for attachment downloads (GraphQL does not carry files well). Bearer-authenticated
like /graphql: the edge middleware has already resolved tenant and user.

- ``GET /hardship/attachments/<id>``: the document's bytes, for staff holding ``hardship.read`` over
  the archive's union (its subtree), or for the worker whose household the archive is (worker
  portal). Every download is audited. 404 for an unknown id, another tenant's document, one outside
  the caller's subtree, or a tenant without the capability (nothing tells them apart); 401 without a
  login. Content-Type is the type sniffed at upload; the file is always served as an attachment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.response import Stream

from core.sdk import Actor, audit_record, capability_enabled, household_people, in_subtree, raw, worker_of
from huijia_hardship.settings import NAME
from huijia_hardship.storage import storage

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is no row (and would be a driver error)
PATH = "/hardship/attachments"


def download_url(attachment_id: int) -> str:
    return f"{PATH}/{int(attachment_id)}"


def _error(status: int, code: str, message: str, message_zh: str) -> Response[Any]:
    return Response({"error": {"code": code, "message": message, "messageZh": message_zh}}, status_code=status)


def _not_found() -> Response[Any]:
    return _error(404, "NOT_FOUND", "attachment not found", "材料不存在，或您无权查看")


def disposition(filename: str) -> str:
    # The stored name is the uploader's: quote it for RFC 6266 and give old clients an ASCII fallback
    # with nothing that could end the header or the quoted string.
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _worker_owns(tenant: Any, principal: Any, household_id: int) -> bool:
    if not principal.can("worker.self"):
        return False
    try:
        me = await worker_of(tenant, principal)
    except Exception:  # no worker account: the document simply does not exist for them
        return False
    if me.member_id is None:
        return False
    return any(p["member_id"] == me.member_id for p in await household_people(tenant, household_id))


@get(f"{PATH}/{{attachment_id:int}}")
async def download_attachment(request: Request[Any, Any, Any], attachment_id: int) -> Response[Any]:
    state: dict[str, Any] = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if principal is None or tenant is None:
        return _error(401, "UNAUTHENTICATED", "log in first (Authorization: Bearer <token>)", "请先登录")
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
        return _error(410, "INVALID_STATE", "the attachment's file is gone", "材料文件已不存在")
    await audit_record(tenant, Actor(principal.user_id, principal.username), "hardship.attachment.download",
                       "HardshipArchive", int(row["archive_id"]),
                       {"attachment_id": attachment_id, "as_worker": as_worker})

    def chunks() -> Iterator[bytes]:
        with backend.open(tenant.id, attachment_id) as f:
            yield from iter(lambda: f.read(256 * 1024), b"")

    return Stream(chunks, media_type=row["content_type"],
                  headers={"content-disposition": disposition(row["filename"]),
                           "x-content-type-options": "nosniff", "cache-control": "private, no-store"})


ROUTES = [download_attachment]

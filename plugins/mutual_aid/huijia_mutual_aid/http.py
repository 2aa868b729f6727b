"""HTTP routes for files (GraphQL does not carry files well): claim documents and the enrolment template. Bearer-authenticated like /graphql:
the edge middleware has already resolved tenant and user.

- ``GET /mutual_aid/documents/<id>``: the document's bytes, for staff holding ``mutual_aid.read`` over the
  claim's union (its subtree), or for the worker whose claim it is (worker portal). Every download is
  audited. 404 for an unknown id, another tenant's document, one outside the caller's subtree, or a
  tenant without the capability (nothing tells them apart); 401 without a login. Content-Type is the
  type sniffed at upload; the file is always served as an attachment.
- ``GET /mutual_aid/enrolment-template/<plan>``: the plan's enrolment template (XLSX, no personal data),
  for anyone who may enrol members somewhere (``mutual_aid.enrol``); 404 for a plan the tenant has not.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.sdk import (
    Actor,
    audit_record,
    capability_enabled,
    content_disposition,
    files,
    http_error,
    in_subtree,
    private_attachment,
    raw,
    worker_member_id,
)
from huijia_mutual_aid.settings import NAME

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is no row (and would be a driver error)
PATH = "/mutual_aid/documents"
TEMPLATE_PATH = "/mutual_aid/enrolment-template"


def download_url(document_id: int) -> str:
    return f"{PATH}/{int(document_id)}"


def _not_found() -> Response[Any]:
    return http_error(404, "NOT_FOUND", "document not found", "材料不存在，或您无权查看")


@get(f"{PATH}/{{document_id:int}}")
async def download_document(request: Request[Any, Any, Any], document_id: int) -> Response[Any]:
    state: dict[str, Any] = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if principal is None or tenant is None:
        return http_error(401, "UNAUTHENTICATED", "log in first (Authorization: Bearer <token>)", "请先登录")
    if not capability_enabled(tenant, NAME) or not 0 < document_id <= MAX_ID:
        return _not_found()
    rows = await raw("SELECT d.id, d.claim_id, d.filename, d.content_type, c.member_id, o.path "
                     "FROM mutual_aid_claim_document d JOIN mutual_aid_claim c ON c.tenant_id = d.tenant_id AND "
                     "c.id = d.claim_id JOIN org_unit o ON o.tenant_id = c.tenant_id AND o.id = c.org_unit_id "
                     "WHERE d.tenant_id = {} AND d.id = {}", tenant.id, document_id)
    if not rows:
        return _not_found()
    row = rows[0]
    as_worker = False
    if not in_subtree(principal, "mutual_aid.read", row["path"]):
        as_worker = await worker_member_id(tenant, principal) == int(row["member_id"])
        if not as_worker:
            return _not_found()
    store = files.store(NAME)
    if not store.stored_exists("claim_document", tenant.id, document_id):
        return http_error(410, "INVALID_STATE", "the document's file is gone", "材料文件已不存在")
    await audit_record(tenant, Actor(principal.user_id, principal.username), "mutual_aid.document.download",
                       "MutualAidClaim", int(row["claim_id"]), {"document_id": document_id, "as_worker": as_worker})
    return private_attachment(lambda: store.open_stored("claim_document", tenant.id, document_id), row["filename"],
                              row["content_type"])


@get(f"{TEMPLATE_PATH}/{{plan_code:str}}")
async def download_template(request: Request[Any, Any, Any], plan_code: str) -> Response[Any]:
    from huijia_mutual_aid.plans import plans_for
    from huijia_mutual_aid.template import XLSX, filename, template

    state: dict[str, Any] = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if principal is None or tenant is None:
        return http_error(401, "UNAUTHENTICATED", "log in first (Authorization: Bearer <token>)", "请先登录")
    plan = plans_for(tenant).get(plan_code) if capability_enabled(tenant, NAME) else None
    if plan is None:
        return http_error(404, "NOT_FOUND", "no such mutual-aid plan", "没有该互助保障计划")
    if not principal.can("mutual_aid.enrol"):
        return http_error(403, "FORBIDDEN", "only a union that enrols members downloads the template",
                          "仅负责参保的工会可下载模板")
    return Response(template(plan), media_type=XLSX, headers={"content-disposition": content_disposition(filename(plan)),
                                                              "cache-control": "private, no-store"})


ROUTES = [download_document, download_template]

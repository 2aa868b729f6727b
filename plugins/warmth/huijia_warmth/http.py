"""HTTP route for receipt files (a clerk's signature, fingerprint or photo; GraphQL does not carry
files well). Bearer-authenticated like /graphql: the edge middleware has already resolved tenant and
user.

- ``GET /warmth-files/receipts/<id>``: the file's bytes, for staff holding ``warmth.read`` over the
  beneficiary's union (its subtree: a grant at the campaign's unit covers every union under it), or
  for the worker whose own benefit it is (worker portal). Every download is audited. 404 for an
  unknown id, another tenant's file, one outside the caller's subtree, or a tenant without the
  capability (nothing tells them apart); 401 without a login; 410 when the stored bytes are gone.
  Content-Type is the type sniffed at upload; the file is always served as an attachment, never
  sniffed by the browser and never cached.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.sdk import (
    Actor,
    audit_record,
    capability_enabled,
    files,
    http_error,
    in_subtree,
    private_attachment,
    raw,
    worker_member_id,
)

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger number is no row (and would be a driver error)
PATH = "/warmth-files/receipts"
KIND = "receipt"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def download_url(file_id: int) -> str:
    return f"{PATH}/{int(file_id)}"


def _not_found() -> Response[Any]:
    return http_error(404, "NOT_FOUND", "receipt file not found", "签收凭证不存在，或您无权查看")


@get(f"{PATH}/{{file_id:int}}")
async def download_receipt_file(request: Request[Any, Any, Any], file_id: int) -> Response[Any]:
    state: dict[str, Any] = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if principal is None or tenant is None:
        return http_error(401, "UNAUTHENTICATED", "log in first (Authorization: Bearer <token>)", "请先登录")
    if not capability_enabled(tenant, "warmth") or not 0 < file_id <= MAX_ID:
        return _not_found()
    rows = await raw("SELECT f.id, f.campaign_id, f.beneficiary_id, f.kind, f.content_type, b.member_id, o.path "
                     "FROM warmth_receipt_file f JOIN warmth_beneficiary b ON b.tenant_id = f.tenant_id AND "
                     "b.id = f.beneficiary_id JOIN org_unit o ON o.tenant_id = b.tenant_id AND o.id = b.org_unit_id "
                     "WHERE f.tenant_id = {} AND f.id = {}", tenant.id, file_id)
    if not rows:
        return _not_found()
    row = rows[0]
    as_worker = False
    if not in_subtree(principal, "warmth.read", row["path"]):
        as_worker = await worker_member_id(tenant, principal) == int(row["member_id"])
        if not as_worker:
            return _not_found()
    store = files.store("warmth")
    if not store.stored_exists(KIND, tenant.id, file_id):
        return http_error(410, "INVALID_STATE", "the receipt's file is gone", "签收凭证文件已不存在")
    await audit_record(tenant, Actor(principal.user_id, principal.username), "warmth.receipt.download",
                       "WarmthCampaign", int(row["campaign_id"]),
                       {"file_id": file_id, "beneficiary_id": int(row["beneficiary_id"]), "as_worker": as_worker})

    # The name is ours (no uploader's name is kept): kind, beneficiary and file id, ASCII only.
    name = f"receipt-{row['kind']}-{int(row['beneficiary_id'])}-{file_id}.{EXTENSIONS.get(row['content_type'], 'bin')}"
    return private_attachment(lambda: store.open_stored(KIND, tenant.id, file_id), name, row["content_type"])


ROUTES = [download_receipt_file]

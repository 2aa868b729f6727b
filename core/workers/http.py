"""``GET /m/…`` — the worker portal's page (the built ``frontend/dist/portal.html``; its client routes
all answer with it, like the staff UI's).

``POST /portal/my-data`` — a copy of the worker's own personal data (PIPL Art. 45) as a JSON
file. The body is ``{"password": "..."}``: the copy holds everything in the clear, so, like
``workerRevealMyData``, it needs the password again (throttled with the logins) and is audited.
Bearer-authenticated like /graphql (the edge middleware resolved tenant and user already).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, get, post

from core.downloads import content_disposition, http_error
from core.errors import DomainError, ErrorCode


@post("/portal/my-data", status_code=200)
async def download_my_data(request: Request[Any, Any, Any]) -> Response[Any]:
    from core.dbutil import utcnow
    from core.workers import queries, services
    from core.workers.access import worker_of

    state = request.scope.get("state", {})
    tenant, principal = state.get("tenant"), state.get("principal")
    if principal is None or tenant is None:
        return http_error(401, ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("password"), str):
        return http_error(400, ErrorCode.INVALID_INPUT, "send {\"password\": \"...\"}", "请输入登录密码")
    try:
        me = await worker_of(tenant, principal)
        account = await queries.account_by_user(tenant, me.principal.user_id)
        assert account is not None
        await services.check_password(tenant, account, principal.username, body["password"], request.client.host if request.client else "")
        data = await services.personal_data(tenant, account)
        await services.audit_worker(tenant, account, principal.username, "worker.data_export")
    except DomainError as exc:
        status = {ErrorCode.FORBIDDEN: 403, ErrorCode.TOO_MANY_ATTEMPTS: 429, ErrorCode.INVALID_CREDENTIALS: 403}.get(
            exc.code, 400)
        return http_error(status, exc.code, exc.message, exc.message_zh, **(exc.extensions or {}))
    document = {"generatedAt": utcnow().isoformat(), "province": tenant.name,
                "note": "您在本平台登记的个人信息副本（依据《个人信息保护法》第四十五条）", **data}
    filename = f"我的个人信息-{dt.date.today():%Y%m%d}.json"
    ascii_name = f"my-data-{dt.date.today():%Y%m%d}.json"
    return Response(json.dumps(document, ensure_ascii=False, indent=2).encode(), media_type="application/json",
                    headers={"content-disposition": content_disposition(filename, ascii_name),
                             "cache-control": "no-store"})


PORTAL_PAGE = Path(__file__).resolve().parents[2] / "frontend" / "dist" / "portal.html"
PORTAL_PLACEHOLDER = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>职工之家</title>"
                      "<p>职工之家尚未构建：请在 frontend/ 下运行 npm run build。</p></html>")


@get(["/m", "/m/{portal_path:path}"], media_type=MediaType.HTML, include_in_schema=False)
async def portal_page() -> str:
    return PORTAL_PAGE.read_text(encoding="utf-8") if PORTAL_PAGE.exists() else PORTAL_PLACEHOLDER


ROUTES = [download_my_data, portal_page]

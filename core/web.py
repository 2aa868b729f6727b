"""HTTP edge: the auth/tenant middleware and the GraphQL endpoint.

The GraphQL handler is a plain Litestar route calling ``schema.execute`` rather than strawberry's
controller: it skips a thread hop per request and lets us choose HTTP status codes (400 for
malformed or invalid documents, 401 for bad tokens), which the controller does not.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType
from litestar import Request, Response, get, post
from litestar.enums import ScopeType
from litestar.middleware import AbstractMiddleware
from litestar.types import Receive, Scope, Send

from core.accounts.services import TokenProblem, authenticate
from core.errors import ErrorCode
from core.graphql.base import Context
from core.logging import request_id_var
from core.tenancy.context import current_tenant

log = logging.getLogger("huijia.http")
_RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY = 1_000_000


def _json_error(status: int, code: ErrorCode, message: str) -> tuple[int, bytes]:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
    return status, json.dumps(body).encode()


class EdgeMiddleware(AbstractMiddleware):
    """Resolve request id, token, tenant and user once, in the handler's own task, so the
    ContextVars it sets are visible to everything the request runs (and to no other request)."""

    scopes = {ScopeType.HTTP}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        rid = rid if _RID_RE.match(rid) else uuid.uuid4().hex
        rid_token = request_id_var.set(rid)
        tenant_token = current_tenant.set(None)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["tenant"] = None
        state["principal"] = None
        started = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_rid(message: Any) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            auth = headers.get("authorization", "")
            if auth:
                scheme, _, token = auth.partition(" ")
                if scheme.lower() != "bearer" or not token:
                    await self._reject(send_with_rid, *_json_error(401, ErrorCode.UNAUTHENTICATED, "use Authorization: Bearer <token>"))
                    return
                try:
                    tenant, principal = await authenticate(token.strip())
                except TokenProblem as exc:
                    await self._reject(send_with_rid, *_json_error(401, exc.code, str(exc)))
                    return
                state["tenant"] = tenant
                state["principal"] = principal
                current_tenant.set(tenant)
            await self.app(scope, receive, send_with_rid)
        finally:
            path = scope.get("path", "")
            if path not in ("/health", "/metrics"):
                log.info("request", extra={"method": scope.get("method"), "path": path, "status": status_holder["status"],
                                           "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            current_tenant.reset(tenant_token)
            request_id_var.reset(rid_token)

    @staticmethod
    async def _reject(send: Send, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


_NUL_ESCAPE = re.compile(r"\\u0000", re.IGNORECASE)


def _has_nul(value: Any) -> bool:
    """PostgreSQL text cannot hold NUL; refuse it at the edge for every field at once."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


async def _execute(request: Request[Any, Any, Any], payload: Any, allow_mutations: bool) -> Response[Any]:
    from core.graphql.schema import schema

    if not isinstance(payload, dict):
        return _error_response(400, ErrorCode.INVALID_INPUT, "body must be a JSON object")
    query = payload.get("query")
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return _error_response(400, ErrorCode.INVALID_INPUT, "query must be a non-empty string")
    if isinstance(variables, str) and variables:
        try:
            variables = json.loads(variables)
        except ValueError:
            variables = 0
    if variables is not None and not isinstance(variables, dict):
        return _error_response(400, ErrorCode.INVALID_INPUT, "variables must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        return _error_response(400, ErrorCode.INVALID_INPUT, "operationName must be a string")
    if _has_nul(query) or _NUL_ESCAPE.search(query) or _has_nul(variables):
        return _error_response(400, ErrorCode.INVALID_INPUT, "strings may not contain NUL characters")
    state = request.scope["state"]
    context = Context(request_id=state.get("request_id", ""), tenant=state.get("tenant"),
                      principal=state.get("principal"), client_ip=_client_ip(request))
    allowed = {OperationType.QUERY, OperationType.MUTATION} if allow_mutations else {OperationType.QUERY}
    try:
        result = await schema.execute(query, variable_values=variables, context_value=context,
                                      operation_name=operation_name, allowed_operation_types=allowed)
    except InvalidOperationTypeError:
        return _error_response(405, ErrorCode.INVALID_INPUT, "mutations must be sent with POST")
    body: dict[str, Any] = {"data": result.data}
    status = 200
    if result.errors:
        errors = []
        for err in result.errors:
            formatted = err.formatted
            ext = formatted.setdefault("extensions", {})
            if "code" not in ext:
                ext["code"] = "GRAPHQL_VALIDATION" if err.path is None else "INTERNAL"
            errors.append(formatted)
        body["errors"] = errors
        if result.data is None:
            if all(e.path is None for e in result.errors):
                status = 400
            elif any((e.extensions or {}).get("code") in ("UNAUTHENTICATED", "TOKEN_EXPIRED") for e in result.errors):
                status = 401
    return Response(content=body, status_code=status, media_type="application/json")


def _error_response(status: int, code: ErrorCode, message: str) -> Response[Any]:
    _, body = _json_error(status, code, message)
    return Response(content=body, status_code=status, media_type="application/json")


@post("/graphql", status_code=200, request_max_body_size=MAX_BODY)
async def graphql_post(request: Request[Any, Any, Any]) -> Response[Any]:
    raw = await request.body()
    try:
        payload = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error_response(400, ErrorCode.INVALID_INPUT, "body is not valid JSON")
    return await _execute(request, payload, allow_mutations=True)


@get("/graphql", status_code=200)
async def graphql_get(request: Request[Any, Any, Any]) -> Response[Any]:
    params = request.query_params
    if "query" not in params:
        from strawberry.http.ides import get_graphql_ide_html

        return Response(get_graphql_ide_html("graphiql"), media_type="text/html")
    payload = {"query": params.get("query"), "variables": params.get("variables"),
               "operationName": params.get("operationName")}
    return await _execute(request, payload, allow_mutations=False)

"""HTTP edge: the auth/tenant middleware and the GraphQL endpoint.

The GraphQL handler is a plain Litestar route calling ``schema.execute`` rather than strawberry's
controller: it skips a thread hop per request and lets us choose HTTP status codes (400 for
malformed or invalid documents, 401 for bad tokens), which the controller does not.

Every error the edge itself answers (401, 400, 413, 5xx, Litestar's own 404/405) has the API's
one shape, ``{"data": null, "errors": [{"message", "extensions": {"code"}}]}``. A 5xx is logged
with its request id and exception type, never the body or variables (they may hold personal data).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from litestar import Request, Response, get, post
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import AbstractMiddleware
from litestar.types import Message, Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from core.accounts.services import TokenProblem, authenticate
from core.context import current_tenant
from core.errors import ErrorCode
from core.graphql.base import Context
from core.logging import request_id_var
from core.settings import ROOT
from core.unavailable import MESSAGE as UNAVAILABLE_MESSAGE
from core.unavailable import RETRY_AFTER_SECONDS, is_unavailable

log = logging.getLogger("huijia.http")
_RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY = 1_000_000
# Nesting bound for request JSON (the body, variables). Real variables are a few levels deep; the
# bound keeps every later walk over them (ours, graphql-core's coercion) far from Python's recursion
# limit.
MAX_JSON_DEPTH = 64


def _json_error(status: int, code: ErrorCode, message: str) -> tuple[int, bytes]:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
    return status, json.dumps(body).encode()


def _log_server_error(exc: BaseException, state: dict[str, Any] | None) -> None:
    """The exception type and frames (the formatter drops its message, which can quote a row)."""
    if state is not None:
        state["error_type"] = type(exc).__name__
    log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__), extra={"status": 500})


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
            # /metrics' bearer token is the scraper's (HUIJIA_METRICS_TOKEN, checked by its guard),
            # not a user's session.
            if auth and scope.get("path") != "/metrics":
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
        except Exception as exc:
            # Litestar answers a handler's exception itself (internal_error_handler); this is what
            # escapes it: a failure in this middleware, or one after the response started.
            _log_server_error(exc, state)
            if status_holder["status"]:
                raise  # mid-body: the server must abort the connection, not end it as if complete
            if is_unavailable(exc):
                await self._reject(send_with_rid, *_unavailable_error(), headers=_RETRY_AFTER)
                return
            await self._reject(send_with_rid, *_json_error(500, ErrorCode.INTERNAL, "Internal server error"))
        finally:
            path = scope.get("path", "")
            status = status_holder["status"]
            if path not in ("/health", "/metrics") or status >= 500:
                extra = {"method": scope.get("method"), "path": path, "status": status,
                         "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
                level = logging.INFO if status < 500 else logging.WARNING  # e.g. /health's 503
                if state.get("error_type"):
                    extra["error_type"] = state["error_type"]
                    level = logging.ERROR
                log.log(level, "request", extra=extra)
            current_tenant.reset(tenant_token)
            request_id_var.reset(rid_token)

    @staticmethod
    async def _reject(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *extra]})
        await send({"type": "http.response.body", "body": body, "more_body": False})


# Litestar's own errors (unknown route, wrong method, body too large, bad path parameter) in the
# API's shape. The messages are Litestar's fixed texts, which never quote the request.
_HTTP_CODES = {401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND,
               409: ErrorCode.CONFLICT, 429: ErrorCode.TOO_MANY_ATTEMPTS}


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return internal_error_handler(request, exc)
    message = f"request body is larger than {MAX_BODY} bytes" if status == 413 and request.url.path == "/graphql" \
        else exc.detail
    code = getattr(exc, "error_code", None)
    if isinstance(code, ErrorCode):  # a plain route's refusal (core.capability_routes): its own body shape
        error = {"code": code.value, "message": message, "messageZh": getattr(exc, "message_zh", None)}
        return Response(content={"error": error}, status_code=status, headers=exc.headers)
    _, body = _json_error(status, _HTTP_CODES.get(status, ErrorCode.INVALID_INPUT), message)
    return Response(content=body, status_code=status, media_type="application/json", headers=exc.headers)


_RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _unavailable_error() -> tuple[int, bytes]:
    status, body = _json_error(503, ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE)
    doc = json.loads(body)
    doc["errors"][0]["extensions"]["retryAfterSeconds"] = RETRY_AFTER_SECONDS
    return status, json.dumps(doc).encode()


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unavailable(exc):
        # Not a bug: a database node is out of reach. Logged without the trace (it is not ours).
        state = request.scope.get("state")
        if state is not None:
            state["error_type"] = type(exc).__name__
        log.warning("database unavailable", extra={"status": 503, "error_type": type(exc).__name__})
        _, body = _unavailable_error()
        return Response(content=body, status_code=503, media_type="application/json", headers=_RETRY_AFTER)
    _log_server_error(exc, request.scope.get("state"))
    _, body = _json_error(500, ErrorCode.INTERNAL, "Internal server error")
    return Response(content=body, status_code=500, media_type="application/json")


# Security headers on every response. Pages (the UI, GraphiQL) load scripts only from this origin
# and never inline; Ant Design injects <style> elements at run time, hence 'unsafe-inline' for
# styles only. Everything else (JSON, files) is never a document to render: it gets no sources at all.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    page = (headers.get("content-type") or "").startswith("text/html")
    headers["content-security-policy"] = PAGE_CSP if page else API_CSP
    headers["x-content-type-options"] = "nosniff"
    headers["x-frame-options"] = "DENY"
    headers["referrer-policy"] = "same-origin"


_NUL_ESCAPE = re.compile(r"\\u0000", re.IGNORECASE)


def _json_problem(value: Any) -> str | None:
    """Why decoded request JSON is refused, or None. PostgreSQL text cannot hold NUL, so it is
    refused at the edge for every field at once; nesting deeper than MAX_JSON_DEPTH is refused too.
    Iterative: a recursive walk is what a deeply nested body used to crash with RecursionError."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "strings may not contain NUL characters"
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                return f"JSON is nested more than {MAX_JSON_DEPTH} levels deep"
            if isinstance(item, dict):
                for key, sub in item.items():
                    if "\x00" in key:
                        return "strings may not contain NUL characters"
                    stack.append((sub, depth + 1))
            else:
                stack.extend((sub, depth + 1) for sub in item)
    return None


_OPERATION_KEYWORD = re.compile(r"\b(?:query|mutation|subscription)\b")


def _several_operations(query: str) -> bool:
    """True when the document defines more than one operation. GraphQL requires operationName then;
    strawberry would run the first. Several operations in a valid document are all named, hence at
    least two keywords: only such documents are parsed here (strawberry's cached parse comes later)."""
    if len(_OPERATION_KEYWORD.findall(query)) < 2:
        return False
    from core.settings import get_settings

    try:
        document = parse(query, max_tokens=get_settings().graphql_max_tokens)
    except GraphQLError:
        return False  # the schema reports the syntax error in its usual way
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1


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
        except RecursionError:
            return _error_response(400, ErrorCode.INVALID_INPUT, f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        except ValueError:
            variables = 0
    if variables is not None and not isinstance(variables, dict):
        return _error_response(400, ErrorCode.INVALID_INPUT, "variables must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        return _error_response(400, ErrorCode.INVALID_INPUT, "operationName must be a string")
    operation_name = operation_name or None  # "" is how some clients say "none"
    if _NUL_ESCAPE.search(query):
        return _error_response(400, ErrorCode.INVALID_INPUT, "strings may not contain NUL characters")
    problem = _json_problem(payload)
    if problem is None and variables is not payload.get("variables"):  # sent as a JSON string (GET)
        problem = _json_problem(variables)
    if problem:
        return _error_response(400, ErrorCode.INVALID_INPUT, problem)
    if not operation_name and _several_operations(query):
        return _error_response(400, ErrorCode.INVALID_INPUT,
                               "the document has several operations: name the one to run in operationName")
    state = request.scope["state"]
    context = Context(request_id=state.get("request_id", ""), tenant=state.get("tenant"),
                      principal=state.get("principal"), client_ip=_client_ip(request))
    allowed = {OperationType.QUERY, OperationType.MUTATION} if allow_mutations else {OperationType.QUERY}
    try:
        result = await schema.execute(query, variable_values=variables, context_value=context,
                                      operation_name=operation_name, allowed_operation_types=allowed)
    except InvalidOperationTypeError:
        return _error_response(405, ErrorCode.INVALID_INPUT, "mutations must be sent with POST")
    except CannotGetOperationTypeError:
        message = ("operationName does not name an operation in the document" if operation_name
                   else "the document has no operation to run")
        return _error_response(400, ErrorCode.INVALID_INPUT, message)
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
        if any((e.extensions or {}).get("code") == ErrorCode.SERVICE_UNAVAILABLE.value for e in result.errors):
            # A database node out of reach: the same 503 and Retry-After as the REST edge, the body still
            # GraphQL's (what resolved before the failure, and the errors).
            return Response(content=body, status_code=503, media_type="application/json", headers=_RETRY_AFTER)
    return Response(content=body, status_code=status, media_type="application/json")


def _error_response(status: int, code: ErrorCode, message: str) -> Response[Any]:
    _, body = _json_error(status, code, message)
    return Response(content=body, status_code=status, media_type="application/json")


# GraphiQL is built from the pinned npm package with the UI (frontend/graphiql.html) and served from
# this origin's /assets: no CDN, so it works offline and under PAGE_CSP. Off in production, where
# the API is for the UI and integrations, not for exploring by hand.
GRAPHIQL_PAGE = ROOT / "frontend" / "dist" / "graphiql.html"
GRAPHIQL_NOT_BUILT = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>GraphiQL · 会家</title></head>
<body><h1>GraphiQL 尚未构建</h1><p>请先运行 <code>make frontend</code>(构建界面与 GraphiQL),再刷新本页。</p>
<p>GraphQL 接口本身可用:POST /graphql。</p></body></html>"""


def _graphiql() -> Response[Any]:
    from core.settings import get_settings

    if get_settings().env == "production":
        return _error_response(404, ErrorCode.NOT_FOUND,
                               "GraphiQL is off in production; send a query (POST, or GET with ?query=)")
    page = GRAPHIQL_PAGE.read_text(encoding="utf-8") if GRAPHIQL_PAGE.exists() else GRAPHIQL_NOT_BUILT
    return Response(page, media_type="text/html")


@post("/graphql", status_code=200, request_max_body_size=MAX_BODY)
async def graphql_post(request: Request[Any, Any, Any]) -> Response[Any]:
    raw = await request.body()
    try:
        payload = json.loads(raw or b"null")
    except RecursionError:
        return _error_response(400, ErrorCode.INVALID_INPUT, f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    except (ValueError, UnicodeDecodeError):
        return _error_response(400, ErrorCode.INVALID_INPUT, "body is not valid JSON")
    return await _execute(request, payload, allow_mutations=True)


@get("/graphql", status_code=200)
async def graphql_get(request: Request[Any, Any, Any]) -> Response[Any]:
    params = request.query_params
    if "query" not in params:
        return _graphiql()
    payload = {"query": params.get("query"), "variables": params.get("variables"),
               "operationName": params.get("operationName")}
    return await _execute(request, payload, allow_mutations=False)

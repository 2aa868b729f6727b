"""The HTTP edge under hostile input: every failure a client can cause without logging in is a typed
4xx in the API's error shape, a real server error is a logged 500 in that shape, and every response
carries the security headers."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from core.logging import JsonFormatter

PII = "110101199003071234"  # an ID number that must never reach a log line


def assert_api_error(r, status: int, code: str) -> dict:
    """The API's error shape: {"data": null, "errors": [{"message", "extensions": {"code"}}]}."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["data"] is None and isinstance(body["errors"], list) and body["errors"], body
    error = body["errors"][0]
    assert isinstance(error["message"], str) and error["message"], body
    assert error["extensions"]["code"] == code, body
    return error


@pytest.fixture
def json_log():
    """The JSON log lines written during the test, formatted as they are written (the request id is
    a context variable, gone once the request ends)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)


# --- 1. inputs that used to be HTTP 500s -----------------------------------------------------------

@pytest.mark.parametrize("raw_token", [b"hj1.\xb2.abc", "hj1.١٢.abc".encode(), b"hj1.\xb9\xb2.abc", b"hj1.\xbd.x"],
                         ids=["superscript-two", "arabic-indic-utf8", "superscript-digits", "vulgar-half"])
async def test_bearer_token_with_non_ascii_digit_tenant_is_401(client, raw_token):
    for method in ("POST", "GET"):
        kwargs = {"json": {"query": "{ __typename }"}} if method == "POST" else {"params": {"query": "{ __typename }"}}
        r = await client.request(method, "/graphql", headers={"authorization": b"Bearer " + raw_token}, **kwargs)
        assert_api_error(r, 401, "UNAUTHENTICATED")


async def test_token_parser_refuses_unicode_digits_that_int_would_accept(database):
    """'١٢' passes isdigit() and int() reads it as 12: a second spelling of a tenant id, refused."""
    from core.accounts.services import TokenProblem, authenticate

    for token in ("hj1.١٢.abc", "hj1.².abc", "hj1.１.abc"):
        with pytest.raises(TokenProblem):
            await authenticate(token)


def nested_list(depth: int, leaf: object = "x") -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [300, 600, 5000])
async def test_deeply_nested_variables_are_a_typed_400_on_post_and_get(client, depth):
    query = "query($a: String) { __typename }"
    # Written as text: json.dumps itself recurses.
    for text in ('{"a": ' + "[" * depth + '"x"' + "]" * depth + "}", '{"a": ' + '{"a": ' * depth + "1" + "}" * depth + "}"):
        r = await client.post("/graphql", content=f'{{"query": {json.dumps(query)}, "variables": {text}}}',
                              headers={"content-type": "application/json"})
        assert "nested" in assert_api_error(r, 400, "INVALID_INPUT")["message"]
        if depth <= 1000:  # a URL has room for that much
            r = await client.get("/graphql", params={"query": query, "variables": text})
            assert "nested" in assert_api_error(r, 400, "INVALID_INPUT")["message"]


async def test_deeply_nested_body_is_a_typed_400(client):
    bodies = [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON decoder's recursion limit
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        json.dumps({"query": "{ __typename }", "extensions": nested_list(500)}).encode(),
    ]
    for body in bodies:
        r = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert_api_error(r, 400, "INVALID_INPUT")


async def test_nul_deep_inside_variables_is_still_refused(client):
    r = await client.post("/graphql", json={"query": "query($a: String) { __typename }",
                                            "variables": {"a": nested_list(40, "bad\x00value")}})
    assert "NUL" in assert_api_error(r, 400, "INVALID_INPUT")["message"]


async def test_variables_at_the_depth_bound_are_accepted(client):
    from core.web import MAX_JSON_DEPTH

    # The body is one level, "variables" a second: MAX_JSON_DEPTH - 2 more levels of lists fit.
    r = await client.post("/graphql", json={"query": "{ __typename }", "variables": {"a": nested_list(MAX_JSON_DEPTH - 2, 1)}})
    assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}, r.text


async def _both_methods(client, query: str, operation_name: str | None):
    params = {"query": query}
    if operation_name is not None:
        params["operationName"] = operation_name
    return [await client.post("/graphql", json=params), await client.get("/graphql", params=params)]


async def test_operation_name_naming_no_operation_is_a_typed_400(client):
    for r in await _both_methods(client, "query A { __typename }", "B"):
        assert "operationName" in assert_api_error(r, 400, "INVALID_INPUT")["message"]


async def test_document_with_only_a_fragment_is_a_typed_400(client):
    for r in await _both_methods(client, "fragment F on Query { __typename }", None):
        assert_api_error(r, 400, "INVALID_INPUT")
    for r in await _both_methods(client, "fragment F on Query { __typename }", "F"):
        assert_api_error(r, 400, "INVALID_INPUT")


async def test_several_operations_without_operation_name_run_none_of_them(api, sh_admin):
    # Were the first one run, the GET would answer data; were the second, the token would be revoked.
    query = "query A { me { user { username } } } mutation B { logout { ok } }"
    headers = {"authorization": f"Bearer {sh_admin.token}"}
    r = await api.client.post("/graphql", json={"query": query}, headers=headers)
    assert "operationName" in assert_api_error(r, 400, "INVALID_INPUT")["message"]
    r = await api.client.get("/graphql", params={"query": query}, headers=headers)
    assert_api_error(r, 400, "INVALID_INPUT")
    # Naming one runs exactly that one (and the session is still alive: B never ran).
    r = await api.client.post("/graphql", json={"query": "query A { __typename } query B { me { user { username } } }",
                                                "operationName": "B"}, headers=headers)
    assert r.status_code == 200 and r.json()["data"] == {"me": {"user": {"username": sh_admin.username}}}, r.text


async def test_keywords_inside_strings_or_field_names_do_not_count_as_operations(client):
    r = await client.post("/graphql", json={"query": 'query Q { loginTenants { code } } # query mutation'})
    assert r.status_code == 200 and "errors" not in r.json(), r.text


async def test_empty_operation_name_means_none(client):
    r = await client.post("/graphql", json={"query": "{ __typename }", "operationName": ""})
    assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}, r.text


async def test_file_ids_beyond_bigint_are_not_found_not_500(client, sh_admin):
    headers = {"authorization": f"Bearer {sh_admin.token}"}
    for url in ("/exports/99999999999999999999999", "/imports/99999999999999999999999/errors.csv",
                f"/exports/{2**63}", f"/imports/{2**63}/errors.xlsx"):
        r = await client.get(url, headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", (url, r.text)


# --- 2. server errors are logged and shaped ----------------------------------------------------------

async def test_resolver_crash_is_a_logged_500_in_the_api_error_shape(client, monkeypatch, json_log):
    from core.graphql import schema as schema_module

    async def boom(*args, **kwargs):
        raise RuntimeError(f"driver said: duplicate {PII}")

    monkeypatch.setattr(schema_module.schema, "execute", boom)
    r = await client.post("/graphql", json={"query": "query($id: String) { __typename }", "variables": {"id": PII}},
                          headers={"x-request-id": "edge-crash-1"})
    error = assert_api_error(r, 500, "INTERNAL")
    assert error["message"] == "Internal server error" and PII not in r.text
    assert r.headers["x-request-id"] == "edge-crash-1"
    lines = [line for line in json_log() if line.get("request_id") == "edge-crash-1"]
    assert any(line.get("error_type") == "RuntimeError" and line["level"] == "ERROR" and line.get("stack")
               for line in lines), lines
    request_line = [line for line in lines if line["msg"] == "request"]
    assert request_line and request_line[0]["status"] == 500 and request_line[0]["error_type"] == "RuntimeError"
    assert PII not in json.dumps(lines) and "driver said" not in json.dumps(lines)


async def test_middleware_crash_is_a_logged_500_not_status_0(client, monkeypatch, json_log):
    import core.web

    async def boom(token):
        raise ValueError(f"bad {PII}")

    monkeypatch.setattr(core.web, "authenticate", boom)
    r = await client.post("/graphql", json={"query": "{ __typename }"},
                          headers={"authorization": "Bearer hj1.1.x", "x-request-id": "edge-crash-2"})
    assert_api_error(r, 500, "INTERNAL")
    assert r.headers["x-request-id"] == "edge-crash-2"
    lines = [line for line in json_log() if line.get("request_id") == "edge-crash-2"]
    request_line = [line for line in lines if line["msg"] == "request"]
    assert request_line and request_line[0]["status"] == 500 and request_line[0]["error_type"] == "ValueError", lines
    assert any(line.get("error_type") == "ValueError" and line.get("stack") for line in lines if line["msg"] != "request")
    assert PII not in json.dumps(lines)


async def test_body_over_the_limit_is_a_413_in_the_api_error_shape(client):
    from core.web import MAX_BODY

    r = await client.post("/graphql", content=b"{" + b" " * (MAX_BODY + 10) + b"}", headers={"content-type": "application/json"})
    assert str(MAX_BODY) in assert_api_error(r, 413, "INVALID_INPUT")["message"]


async def test_litestar_routing_errors_use_the_api_error_shape(client):
    # Every GET path is the UI's (client-side routes), so an unknown path answers POST with 405.
    assert_api_error(await client.post("/no-such-endpoint", json={}), 405, "INVALID_INPUT")
    assert_api_error(await client.get("/imports/not-a-number/errors.csv"), 404, "NOT_FOUND")
    r = await client.delete("/graphql")
    assert_api_error(r, 405, "INVALID_INPUT")
    assert "GET" in r.headers.get("allow", "") and "POST" in r.headers.get("allow", "")


# --- 3. GraphiQL without a CDN, and security headers ----------------------------------------------

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


async def test_graphiql_page_loads_nothing_from_another_origin_and_runs_no_inline_script(client):
    r = await client.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert not EXTERNAL.search(r.text), r.text
    assert not INLINE_SCRIPT.search(r.text), r.text
    assert "unpkg" not in r.text and "jsdelivr" not in r.text
    for asset in re.findall(r"""(?:src|href)=["'](/assets/[^"']+)""", r.text):
        assert (await client.get(asset)).status_code == 200, asset


async def test_graphiql_is_off_in_production(client, settings_override):
    settings_override(env="production")
    assert_api_error(await client.get("/graphql", headers={"accept": "text/html"}), 404, "NOT_FOUND")
    # The API itself still answers GET queries.
    r = await client.get("/graphql", params={"query": "{ __typename }"})
    assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}


def assert_security_headers(r, page: bool) -> None:
    csp = r.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    assert directives.get("frame-ancestors") == ["'none'"], csp
    if page:
        assert directives["default-src"] == ["'self'"], csp
        assert directives["script-src"] == ["'self'"], csp  # no inline script, no eval, no CDN
        assert "'unsafe-inline'" not in directives.get("default-src", []), csp
    else:
        assert directives["default-src"] == ["'none'"], csp
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert r.headers.get("x-frame-options") == "DENY"
    assert r.headers.get("referrer-policy") in ("no-referrer", "same-origin")


async def test_security_headers_on_the_ui_graphiql_api_errors_and_files(client, sh_admin):
    assert_security_headers(await client.get("/"), page=True)
    assert_security_headers(await client.get("/org/some/client/route"), page=True)
    assert_security_headers(await client.get("/graphql"), page=True)
    assert_security_headers(await client.post("/graphql", json={"query": "{ __typename }"}), page=False)
    assert_security_headers(await client.post("/graphql", json={"query": "{"}), page=False)
    assert_security_headers(await client.post("/graphql", json={}, headers={"authorization": "Bearer nope"}), page=False)
    assert_security_headers(await client.delete("/graphql"), page=False)
    assert_security_headers(await client.get("/health"), page=False)
    r = await client.get("/imports/template.csv", headers={"authorization": f"Bearer {sh_admin.token}"})
    assert_security_headers(r, page=False)
    index = await client.get("/")
    for asset in re.findall(r"""(?:src|href)=["'](/assets/[^"']+)""", index.text)[:3]:
        assert_security_headers(await client.get(asset), page=False)


# --- 5. downloads ------------------------------------------------------------------------------

async def test_csv_downloads_declare_charset_once(client, sh_admin):
    r = await client.get("/imports/template.csv", headers={"authorization": f"Bearer {sh_admin.token}"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    r = await client.get("/imports/template.xlsx", headers={"authorization": f"Bearer {sh_admin.token}"})
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

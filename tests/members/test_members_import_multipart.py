"""Roster upload as ``multipart/form-data`` (browser forms, curl -F, most HTTP clients): the ``file``
part is streamed into the encrypted store like a raw body, its filename taken from the part
(``filename*`` for Chinese names), and a form that cannot be an upload is refused in English with a
Chinese ``fileError``."""

from __future__ import annotations

import dataclasses
import io
import tracemalloc
from typing import Any
from urllib.parse import quote

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.members.members_helpers import import_state, make_id, roster_csv

UNIT = "sh-pudong-zhangjiang"
BOUNDARY = "----huijia-test-boundary-7d2f"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


def form(*parts: tuple[str, bytes], boundary: str = BOUNDARY, close: bool = True) -> bytes:
    """A multipart body from (Content-Disposition parameters, content) pairs, written by hand so
    that the headers are exactly what a given client sends."""
    out = io.BytesIO()
    for disposition, content in parts:
        out.write(f"--{boundary}\r\n".encode())
        out.write(b"Content-Disposition: form-data; " + disposition.encode("utf-8") + b"\r\n")
        out.write(b"Content-Type: application/octet-stream\r\n\r\n" if b"filename" in disposition.encode() else b"\r\n")
        out.write(content + b"\r\n")
    if close:
        out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


async def post_form(p: Any, body: Any, *, boundary: str | None = BOUNDARY, params: dict[str, str] | None = None,
                    content_type: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {p.token}",
               "content-type": content_type or f"multipart/form-data; boundary={boundary}"}
    r = await p.api.client.post("/imports", content=body, params=params or {}, headers=headers)
    await runner.drain_local()
    return r


def rows(n: int, prefix: str) -> bytes:
    return roster_csv([[f"{prefix}{i}", make_id(), UNIT, "", "", "", "", ""] for i in range(n)])


async def imports_of(p: Any) -> list[dict[str, Any]]:
    res = await p.api.gql("{ memberImports(first: 100) { nodes { id status filename fileError { code message } } } }")
    return res["data"]["memberImports"]["nodes"]


def assert_form_error(r: Any, status: int, english: str, chinese: str) -> None:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == "INVALID_INPUT" and english in error["message"], error
    assert chinese in error["fileError"]["message"], error
    assert error["fileError"]["code"] == "UPLOAD"


def assert_not_stored(gid: str) -> None:
    from core.graphql.base import from_global_id
    from core.members import filestore

    pk = from_global_id(gid)[1]
    assert not any(filestore.root().joinpath("imports").rglob(f"{pk}.enc"))


async def test_browser_form_with_a_chinese_filename_previews(sh_admin):
    """httpx sends the filename as raw UTF-8, as browsers do."""
    r = await sh_admin.api.client.post("/imports", files={"file": ("浦东张江会员名册.csv", rows(3, "表单"), "text/csv")},
                                       data={"note": "一月"}, headers={"authorization": f"Bearer {sh_admin.token}"})
    await runner.drain_local()
    assert r.status_code == 201, r.text
    imp = await import_state(sh_admin, r.json()["import"]["id"])
    assert imp["filename"] == "浦东张江会员名册.csv" and imp["format"] == "csv"
    assert imp["status"] == "PREVIEWED" and (imp["totalRows"], imp["validRows"]) == (3, 3)


async def test_rfc5987_filename_and_text_fields_around_the_file(sh_admin):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号码", "所属工会"])
    wb.active.append(["表单乙", make_id(), UNIT])
    buf = io.BytesIO()
    wb.save(buf)
    body = form(('name="before"', "说明".encode()),
                (f'name="file"; filename="roster.xlsx"; filename*=UTF-8\'\'{quote("二月名册.xlsx")}', buf.getvalue()),
                ('name="after"', b"x" * 1000))
    r = await post_form(sh_admin, body, params={"filename": "ignored.csv"})
    assert r.status_code == 201, r.text
    imp = await import_state(sh_admin, r.json()["import"]["id"])
    assert imp["filename"] == "二月名册.xlsx" and imp["format"] == "xlsx" and imp["validRows"] == 1


async def test_gbk_filename_from_an_old_windows_client(sh_admin):
    body = form(('name="file"; filename="PLACEHOLDER"', rows(1, "旧客户端")))
    body = body.replace(b"PLACEHOLDER", "三月名册.csv".encode("gbk"))
    r = await post_form(sh_admin, body)
    assert r.status_code == 201, r.text
    assert r.json()["import"]["filename"] == "三月名册.csv"


async def test_without_a_filename_the_query_parameter_names_it(sh_admin):
    r = await post_form(sh_admin, form(('name="file"', rows(1, "无名"))), params={"filename": "query.csv"})
    assert r.status_code == 201 and r.json()["import"]["filename"] == "query.csv"


async def test_roster_problems_are_the_usual_422(sh_admin):
    r = await post_form(sh_admin, form(('name="file"; filename="x.csv"', "名字,证件\n张三,1\n".encode())))
    assert r.status_code == 422
    imp = r.json()["import"]
    assert imp["status"] == "INVALID" and imp["fileError"]["code"] == "HEADER" and "身份证号码" in imp["fileError"]["message"]
    assert_not_stored(imp["id"])
    empty = await post_form(sh_admin, form(('name="file"; filename=""', b"")))  # a form sent with no file chosen
    assert empty.status_code == 422 and empty.json()["import"]["fileError"]["code"] == "EMPTY_FILE"


async def test_no_file_part_is_refused_and_nothing_is_created(api):
    clerk = await persona(api, "shanghai", "clerk", "sh-pudong")
    r = await post_form(clerk, form(('name="note"', "只有说明".encode())))
    assert_form_error(r, 400, "'file' part", "没有名为“file”的文件")
    r = await post_form(clerk, form(('name="roster"; filename="a.csv"', rows(1, "错字段"))))
    assert_form_error(r, 400, "'file' part", "没有名为")
    assert await imports_of(clerk) == []


async def test_two_files_are_refused(api):
    clerk = await persona(api, "shanghai", "clerk", "sh-pudong")
    # A second file before the roster: refused before anything is stored.
    r = await post_form(clerk, form(('name="other"; filename="b.csv"', rows(1, "前")), ('name="file"; filename="a.csv"', rows(1, "后"))))
    assert_form_error(r, 400, "more than one file", "一次只能上传一个文件")
    assert await imports_of(clerk) == []
    # After it: the upload is marked failed with the reason, and its file is gone.
    r = await post_form(clerk, form(('name="file"; filename="a.csv"', rows(1, "一")), ('name="file"; filename="b.csv"', rows(1, "二"))))
    assert_form_error(r, 400, "more than one file", "一次只能上传一个文件")
    [imp] = await imports_of(clerk)
    assert imp["status"] == "FAILED" and imp["fileError"] == {"code": "UPLOAD", "message": "一次只能上传一个文件：请分别上传"}
    assert_not_stored(imp["id"])


@pytest.mark.parametrize("case", ["no-boundary", "not-multipart", "cut-short", "bad-part-header", "too-many-parts"])
async def test_malformed_forms_are_refused(api, case):
    clerk = await persona(api, "shanghai", "clerk", "sh-pudong")
    kw: dict[str, Any] = {}
    creates = False
    if case == "no-boundary":
        body, kw["content_type"] = form(('name="file"; filename="a.csv"', rows(1, "甲"))), "multipart/form-data"
    elif case == "not-multipart":
        body = b"this is not a multipart body at all"
    elif case == "cut-short":
        body, creates = form(('name="file"; filename="a.csv"', rows(50, "断")), close=False)[:-200], True
    elif case == "bad-part-header":
        body = f"--{BOUNDARY}\r\nContent-Disposition form-data name=file\r\n\r\nabc\r\n--{BOUNDARY}--\r\n".encode()
    else:
        body = form(*[(f'name="f{i}"', b"x") for i in range(20)], ('name="file"; filename="a.csv"', rows(1, "多")))
    r = await post_form(clerk, body, **kw)
    assert_form_error(r, 400, "multipart/form-data", "格式不正确")
    found = await imports_of(clerk)
    if creates:
        assert [i["status"] for i in found] == ["FAILED"] and found[0]["fileError"]["message"].startswith("上传的表单数据不完整")
        assert_not_stored(found[0]["id"])
    else:
        assert found == []


async def test_size_limits_apply_to_the_file_and_to_the_form(sh_admin, monkeypatch):
    from core import settings as settings_mod

    small = dataclasses.replace(settings_mod.get_settings(), import_max_bytes=2048)
    monkeypatch.setattr(settings_mod, "get_settings", lambda: small)
    # The file part past the limit: the usual FILE_TOO_LARGE, nothing kept.
    r = await post_form(sh_admin, form(('name="file"; filename="a.csv"', b"a" * 5000)))
    assert r.status_code == 422 and r.json()["import"]["fileError"]["code"] == "FILE_TOO_LARGE"
    assert_not_stored(r.json()["import"]["id"])
    # A declared body far past it: 413 before reading.
    r = await post_form(sh_admin, form(('name="file"; filename="a.csv"', b"a" * 100_000)))
    assert r.status_code == 413
    # A text field past 64 KiB is not an upload form.
    monkeypatch.setattr(settings_mod, "get_settings", lambda: dataclasses.replace(small, import_max_bytes=10 ** 6))
    r = await post_form(sh_admin, form(('name="note"', b"n" * 70_000), ('name="file"; filename="a.csv"', rows(1, "大"))))
    assert_form_error(r, 400, "larger than 64 KiB", "格式不正确")


async def test_a_chunked_form_past_the_limit_is_cut_off(sh_admin, monkeypatch):
    """No Content-Length to check up front: the stream itself is counted."""
    from core import settings as settings_mod

    small = dataclasses.replace(settings_mod.get_settings(), import_max_bytes=2048)
    monkeypatch.setattr(settings_mod, "get_settings", lambda: small)
    sent = [0]

    async def chunks():
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n'.encode()
        for _ in range(1000):  # a 64 MB text field, if it were all read
            sent[0] += 1
            yield b"n" * 65536

    r = await post_form(sh_admin, chunks())
    assert r.status_code in (400, 413) and r.json()["error"]["code"] == "INVALID_INPUT"
    assert sent[0] < 10


async def test_roles_and_tenants(api, sh_admin, bj_admin, sh_auditor):
    body = form(('name="file"; filename="a.csv"', rows(1, "越界")))
    r = await post_form(sh_auditor, body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    anon = await api.client.post("/imports", content=body, headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert anon.status_code == 401
    # Beijing's admin uploads a roster naming a Shanghai union: it is Beijing's import, and the union
    # does not exist there; Shanghai never sees the import.
    r = await post_form(bj_admin, body)
    assert r.status_code == 201
    gid = r.json()["import"]["id"]
    imp = await import_state(bj_admin, gid)
    assert imp["validRows"] == 0 and "所属工会" in {e["column"] for e in imp["errors"]["nodes"]}
    res = await sh_admin.api.gql("query($id: ID!) { memberImport(id: $id) { id } }", {"id": gid})
    assert res["data"]["memberImport"] is None


@pytest.mark.slow  # uploads tens of megabytes to measure memory
async def test_a_large_form_upload_streams_with_flat_memory(sh_admin):
    """Through the form parser into the encrypted store, six times the bytes cost no more memory
    (what is left is fixed: modules and buffers the first requests allocate)."""
    line = b"abcdefghij,klmnopqrst,uvwxyz0123\n"
    chunk = line * (256 * 1024 // len(line))

    async def peak_for(chunks: int) -> int:
        async def body():
            yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'.encode()
            for _ in range(chunks):
                yield chunk
            yield f"\r\n--{BOUNDARY}--\r\n".encode()

        tracemalloc.start()
        try:
            r = await post_form(sh_admin, body())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert r.status_code == 422 and r.json()["import"]["fileError"]["code"] == "HEADER", r.text
        assert r.json()["import"]["sizeBytes"] == len(chunk) * chunks
        return peak

    await peak_for(2)  # warm-up
    small, large = await peak_for(20), await peak_for(120)  # 5 MB, 30 MB
    assert large < small + 1024 * 1024, (small, large)
    assert large < 30 * 1024 * 1024 / 2, large

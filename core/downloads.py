"""What every file-download route answers with: a JSON error body, and a Content-Disposition header
that keeps a Chinese file name (RFC 6266 ``filename*``) with an ASCII fallback for old clients.

Core's member, worker and ledger routes use it, and plugins through ``core.sdk`` (``http_error``,
``content_disposition``, ``private_attachment``), so every download fails and names its file the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import IO, Any
from urllib.parse import quote

from litestar import Response
from litestar.response import Stream

from core.errors import ErrorCode

__all__ = ["content_disposition", "http_error", "private_attachment"]


def http_error(status: int, code: ErrorCode | str, message: str, message_zh: str | None = None,
               **extra: Any) -> Response[Any]:
    """``{"error": {"code", "message", "messageZh"?, **extra}}`` with ``status``: the stable English
    code and message for programs, the Chinese text for the screen when there is one."""
    body: dict[str, Any] = {"code": code.value if isinstance(code, ErrorCode) else code, "message": message}
    if message_zh:
        body["messageZh"] = message_zh
    body.update(extra)
    return Response({"error": body}, status_code=status)


def content_disposition(filename: str, ascii_name: str | None = None) -> str:
    """An attachment header for ``filename``; ``ascii_name`` overrides the derived ASCII fallback."""
    # Names can be an uploader's: nothing in the fallback or the quoted form may end the header or
    # the quoted string, or smuggle a path.
    fallback = ascii_name or "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename)
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def private_attachment(open_file: Callable[[], AbstractContextManager[IO[bytes]]], filename: str,
                       content_type: str | None) -> Stream:
    """A stored personal file, streamed in 256 KiB reads as an attachment that no cache keeps and no
    browser sniffs into something runnable. ``open_file`` opens it when the body is sent."""

    def chunks() -> Iterator[bytes]:
        with open_file() as f:
            yield from iter(lambda: f.read(256 * 1024), b"")

    return Stream(chunks, media_type=content_type or "application/octet-stream",
                  headers={"content-disposition": content_disposition(filename),
                           "x-content-type-options": "nosniff", "cache-control": "private, no-store"})

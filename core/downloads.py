"""What every file-download route answers with: a JSON error body, and a Content-Disposition header
that keeps a Chinese file name (RFC 6266 ``filename*``) with an ASCII fallback for old clients.

Core's member, worker and ledger routes use it, and plugins through ``core.sdk`` (``http_error``,
``content_disposition``), so every download fails and names its file the same way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Response

from core.errors import ErrorCode

__all__ = ["content_disposition", "http_error"]


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
    fallback = ascii_name or "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"

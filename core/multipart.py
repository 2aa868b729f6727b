"""One file out of a ``multipart/form-data`` request body, streamed with constant memory.

Litestar's ``request.form()`` parses the whole body before the handler sees it and spools file
parts to temporary files in plain text; an uploaded roster is personal data that has to go straight
into the encrypted store, with the size limit enforced as it arrives. This drives the push parser
of the ``multipart`` package (the one Litestar itself uses) over ``request.stream()``:

    upload = MultipartFile(request.stream(), boundary, max_body=...)
    filename = await upload.open()      # reads up to the file part's headers
    async for piece in upload: ...      # the file's bytes; then the rest of the body is checked

The file is the part named ``file``. Other (text) fields are skipped, each at most 64 KiB. After the
file, the rest of the body must be well formed and hold no second file, so a client's mistake is
reported before the upload counts as received. The filename comes from the part's
Content-Disposition: ``filename*`` (RFC 5987/6266, how non-browser clients send Chinese names) wins
over ``filename``; a plain ``filename`` in raw UTF-8 (what browsers send) or GBK (old Windows
clients) is decoded as such.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import unquote_to_bytes

from multipart import (
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)

FILE_FIELD = "file"
MAX_PARTS = 16
MAX_FIELD_BYTES = 64 * 1024

_EXT_FILENAME = re.compile(r"""(?:^|;)\s*filename\*\s*=\s*"?([A-Za-z0-9!#$&+^_`{}~-]*)'[^']*'([^";\s]+)""", re.I)


class MultipartProblem(Exception):
    """The body is not a usable upload form. ``message`` is English (the API's error), ``message_zh``
    the same for a person (the import's ``fileError``)."""

    def __init__(self, message: str, message_zh: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh
        self.status = status


MALFORMED_ZH = "上传的表单数据不完整或格式不正确：请重新上传"
TWO_FILES = "multipart/form-data with more than one file: upload one roster at a time"
TWO_FILES_ZH = "一次只能上传一个文件：请分别上传"


def form_boundary(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` content type; None for any other type."""
    media, options = parse_options_header(content_type or "")
    if media != "multipart/form-data":
        return None
    boundary = options.get("boundary")
    if not boundary or len(boundary) > 200:
        raise MultipartProblem("multipart/form-data needs a boundary parameter", MALFORMED_ZH)
    return boundary


def _decode_name(raw: str) -> str:
    """Header values are parsed as Latin-1 (never fails); get the bytes back and decode them."""
    data = raw.encode("latin-1", "replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw


def part_filename(segment: MultipartSegment) -> str | None:
    disposition = segment.header("Content-Disposition", "") or ""
    m = _EXT_FILENAME.search(disposition)
    if m:
        try:
            return unquote_to_bytes(m.group(2)).decode(m.group(1) or "utf-8")
        except (LookupError, UnicodeDecodeError):
            pass  # an unknown charset or bad bytes: fall back to the plain parameter
    return _decode_name(segment.filename) if segment.filename is not None else None


class MultipartFile:
    def __init__(self, stream: AsyncIterator[bytes], boundary: str, field: str = FILE_FIELD,
                 max_body: int | None = None) -> None:
        self._stream = stream
        self._boundary = boundary
        self._field = field
        self._max_body = max_body
        self._events: AsyncIterator[MultipartSegment | bytes | None] | None = None
        self.received = 0
        self.filename: str | None = None

    async def _parse(self) -> AsyncIterator[MultipartSegment | bytes | None]:
        try:
            parser = PushMultipartParser(self._boundary, max_segment_count=MAX_PARTS, header_charset="latin1")
            async for chunk in self._stream:
                self.received += len(chunk)
                if self._max_body is not None and self.received > self._max_body:
                    raise MultipartProblem("request body too large", "上传的内容超过大小上限：请拆分为多个文件后分别导入", 413)
                for event in parser.parse(chunk):
                    yield event
            for event in parser.parse(b""):  # end of input: refuses a body cut short
                yield event
        except ParserLimitReached:
            raise MultipartProblem(f"multipart/form-data: too many parts (at most {MAX_PARTS}) or a part header "
                                   "too large", MALFORMED_ZH) from None
        except ParserError as exc:
            raise MultipartProblem(f"malformed multipart/form-data body: {exc}", MALFORMED_ZH) from None

    def _is_file(self, segment: MultipartSegment) -> bool:
        return segment.name == self._field or segment.filename is not None

    async def open(self) -> str | None:
        """Read up to the file part; return its filename (None when the part has none)."""
        self._events = self._parse()
        size = 0
        other_file = False
        async for event in self._events:
            if isinstance(event, MultipartSegment):
                if event.name == self._field:
                    if other_file:
                        raise MultipartProblem(TWO_FILES, TWO_FILES_ZH)
                    self.filename = part_filename(event)
                    return self.filename
                other_file = other_file or event.filename is not None
                size = 0
            elif event is not None:
                size += len(event)
                if size > MAX_FIELD_BYTES:
                    raise MultipartProblem(f"a form field other than '{self._field}' is larger than "
                                           f"{MAX_FIELD_BYTES // 1024} KiB", MALFORMED_ZH)
        raise MultipartProblem(f"multipart/form-data without a '{self._field}' part: send the roster as the "
                               f"file field '{self._field}'", f"上传的表单中没有名为“{self._field}”的文件：请重新选择文件上传")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._events is None:
            raise RuntimeError("open() first")
        async for event in self._events:
            if event is None:
                break
            if isinstance(event, bytes):
                yield event
        # The rest of the body: text fields may follow; a second file may not.
        size = 0
        async for event in self._events:
            if isinstance(event, MultipartSegment):
                if self._is_file(event):
                    raise MultipartProblem(TWO_FILES, TWO_FILES_ZH)
                size = 0
            elif event is not None:
                size += len(event)
                if size > MAX_FIELD_BYTES:
                    raise MultipartProblem(f"a form field other than '{self._field}' is larger than "
                                           f"{MAX_FIELD_BYTES // 1024} KiB", MALFORMED_ZH)

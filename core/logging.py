"""Structured JSON logs with request ids.

Log records carry ids and codes, never personal data: messages are written by us, and the
formatter drops any ``extra`` key not on an allow-list, so a careless ``extra={"id_number": …}``
cannot reach the log.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from contextvars import ContextVar
from typing import Any

from core.context import current_tenant

request_id_var: ContextVar[str] = ContextVar("request_id", default="")

SAFE_EXTRA = frozenset(
    {"path", "method", "status", "duration_ms", "operation", "job", "job_id", "action", "code",
     "tenant_code", "user_id", "count", "plugin", "error_type"}
)
_STD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": _message(record),
        }
        rid = request_id_var.get()
        if rid:
            out["request_id"] = rid
        tenant = current_tenant.get()
        if tenant is not None:
            out["tenant"] = tenant.code
        for key, value in record.__dict__.items():
            if key not in _STD and key in SAFE_EXTRA:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and our own frames, but not its message: driver errors quote the
            # offending row, which may hold personal data.
            out["error_type"] = record.exc_info[0].__name__
            tb = traceback.extract_tb(record.exc_info[2])[-8:]
            out["stack"] = [f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno} {f.name}" for f in tb]
        return json.dumps(out, ensure_ascii=False, default=str)


def _message(record: logging.LogRecord) -> str:
    """The message, without the text of the exception being logged: arq logs a failed job as
    ``"... failed, %s: %s", type, exc`` and asyncio appends the failed task's repr, both quoting the
    exception's message, which (driver errors) can quote a row."""
    exc = record.exc_info[1] if record.exc_info else None
    if exc is None:
        return record.getMessage()
    if isinstance(record.args, tuple) and any(arg is exc for arg in record.args):
        record = logging.makeLogRecord({**record.__dict__, "args": tuple(
            type(arg).__name__ if arg is exc else arg for arg in record.args)})
    message = record.getMessage()
    if record.name == "asyncio":
        message = message.split("\n", 1)[0]
    return message


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""The JSON log formatter keeps an exception's message out of the line, however a library logs it."""

from __future__ import annotations

import json
import logging
import sys

from core.logging import JsonFormatter

SECRET = "duplicate key (id_number)=(110101199003071234)"


def _format(logger: str, msg: str, args: tuple, exc: BaseException) -> dict:
    try:
        raise exc
    except type(exc):
        info = sys.exc_info()
    record = logging.LogRecord(logger, logging.ERROR, __file__, 1, msg, args, info)
    return json.loads(JsonFormatter().format(record))


def test_arq_failed_job_line_names_the_exception_type_not_its_message():
    exc = ValueError(SECRET)
    line = _format("arq.worker", "%6.2fs ! %s failed, %s: %s", (1.5, "q:1:2:run_job", "ValueError", exc), exc)
    assert SECRET not in json.dumps(line)
    assert line["msg"] == "  1.50s ! q:1:2:run_job failed, ValueError: ValueError"
    assert line["error_type"] == "ValueError"


def test_asyncio_unretrieved_task_exception_keeps_only_its_first_line():
    exc = RuntimeError(SECRET)
    msg = f"Task exception was never retrieved\nfuture: <Task finished name='Task-1' exception={exc!r}>"
    line = _format("asyncio", msg, (), exc)
    assert line["msg"] == "Task exception was never retrieved" and SECRET not in json.dumps(line)


def test_ordinary_messages_are_unchanged():
    exc = KeyError("x")
    assert _format("huijia.jobs", "job %s crashed", ("member.import",), exc)["msg"] == "job member.import crashed"

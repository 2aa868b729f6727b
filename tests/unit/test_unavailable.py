"""Which failures mean "a database node cannot be reached" (503, SERVICE_UNAVAILABLE, retry) and which
stay bugs (500, INTERNAL); and that GraphQL keeps the code while dropping the driver's text."""

from __future__ import annotations

import errno

import asyncpg
from graphql import GraphQLError

from core.unavailable import MESSAGE, is_unavailable


def _pg(cls: type[asyncpg.PostgresError], message: str, sqlstate: str | None = None) -> asyncpg.PostgresError:
    exc = cls.new({"M": message, "C": sqlstate or cls.sqlstate, "S": "ERROR"})
    return exc


def test_node_failures_are_unavailable() -> None:
    citus = _pg(asyncpg.ConnectionFailureError,
                "connection to the remote node app@127.0.0.1:56433 failed with the following error: Connection refused")
    assert is_unavailable(citus)
    assert is_unavailable(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert is_unavailable(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
    assert is_unavailable(_pg(asyncpg.AdminShutdownError, "terminating connection due to administrator command"))
    assert is_unavailable(_pg(asyncpg.InternalServerError, "could not receive query results", "XX000"))
    # Raised while handling one (a rollback failing on the dead connection): the cause counts.
    try:
        try:
            raise citus
        except asyncpg.PostgresError:
            raise RuntimeError("rollback failed") from None
    except RuntimeError as wrapped:
        wrapped.__cause__ = citus
        assert is_unavailable(wrapped)


def test_other_failures_are_not() -> None:
    assert not is_unavailable(None)
    assert not is_unavailable(ValueError("bad"))
    assert not is_unavailable(FileNotFoundError(errno.ENOENT, "no such file"))
    assert not is_unavailable(_pg(asyncpg.UniqueViolationError, "duplicate key value violates unique constraint"))
    assert not is_unavailable(_pg(asyncpg.InternalServerError, "something else broke", "XX000"))


def test_graphql_masks_the_text_but_keeps_the_code() -> None:
    from core.graphql.schema import _MaskErrors

    mask = _MaskErrors(error_message="Internal server error")
    down = GraphQLError("x", original_error=ConnectionResetError(errno.ECONNRESET, "reset by 127.0.0.1"))
    out = mask.anonymise_error(down)
    assert out.message == MESSAGE and out.extensions["code"] == "SERVICE_UNAVAILABLE"
    assert out.extensions["retryAfterSeconds"] > 0 and "127.0.0.1" not in str(out.formatted)
    bug = mask.anonymise_error(GraphQLError("x", original_error=KeyError("member 42")))
    assert bug.message == "Internal server error" and not bug.extensions

"""A database node out of reach is not a bug: it is "try again shortly".

On a Citus cluster a worker that is down makes the coordinator fail the statements that need its shards
("connection to the remote node ... failed"), and the coordinator itself, or a single PostgreSQL, can be
restarting or unreachable. Those failures are told apart here from everything else, so that the REST
edge answers 503 with Retry-After and GraphQL a masked error with the code SERVICE_UNAVAILABLE, instead
of a 500 INTERNAL that pages someone about a bug. The message never quotes the driver's text (it names
nodes, and other errors may quote rows).

A failed statement inside a transaction rolls the whole transaction back (a distributed one too: Citus
commits its shards' parts with two-phase commit), so a request that got this answer changed nothing.
"""

from __future__ import annotations

import errno
import socket

RETRY_AFTER_SECONDS = 5
MESSAGE = "the service is temporarily unavailable (a database node cannot be reached); retry shortly"

# SQLSTATE classes and codes meaning the database, not the statement, failed: class 08 (connection
# exception: Citus reports a worker it cannot reach as 08xxx), 57P01-57P03 (admin/crash shutdown,
# cannot connect now), 53300 (too many connections) and 58000/58030 (system/IO error).
_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "58000", "58030"})
# Citus raises some of its node failures with a generic SQLSTATE (XX000); these phrases are Citus's own.
_CITUS_PHRASES = ("connection to the remote node", "could not establish any connections to the node",
                  "connection not open", "could not connect to", "could not receive query results")
# An OSError is unavailability only when it is about a connection: a missing file is not.
_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                     errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE})


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says a database node cannot be reached."""
    import asyncpg

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ConnectionError, socket.gaierror, asyncpg.PostgresConnectionError,
                            asyncpg.ConnectionDoesNotExistError, asyncpg.CannotConnectNowError)):
            return True
        if isinstance(exc, OSError) and exc.errno in _ERRNOS:
            return True
        if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
            return True
        if isinstance(exc, asyncpg.PostgresError):
            state = getattr(exc, "sqlstate", "") or ""
            if state.startswith("08") or state in _SQLSTATES:
                return True
            text = str(exc).lower()
            if state.startswith("XX") and any(p in text for p in _CITUS_PHRASES):
                return True
        exc = exc.__cause__ or exc.__context__
    return False

"""GraphQL conventions shared by every domain: scalars, errors, Relay ids, connections, context.

Domains import from here and stay 3–10 lines per resolver.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NewType, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info
from strawberry.types.scalar import ScalarDefinition

from core.actor import Actor
from core.context import TenantContext
from core.errors import DomainError, DomainErrors, ErrorCode
from core.permissions import Principal, describe

# ---------------------------------------------------------------------------------------------
# Scalars. GraphQL Int is 32-bit; fen amounts and ids need 64-bit, range-checked on the way in.
# ---------------------------------------------------------------------------------------------

_INT64 = 2**63 - 1


def _bad_scalar(message: str) -> GraphQLError:
    """A refused scalar value as a typed GraphQLError (not a ValueError): graphql-core reports it as
    is, wrapped with the variable's name and path ("Variable '$i' has invalid
    value.postings[0].amountFen: ..."), with code INVALID_INPUT; never masked, never logged."""
    return ApiError(ErrorCode.INVALID_INPUT, message)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_bigint(value: Any) -> int:
    """Only a JSON integer: a money amount typed as a string ("100", Arabic-Indic "١٠٠", "1e3"),
    a float (100.5, 1e3) or a boolean is a client bug, and guessing what it meant could move the
    wrong amount. (A JSON 1e3 arrives as a float and is refused like 100.5.)"""
    if type(value) is not int:
        raise _bad_scalar(f"BigInt must be a JSON integer (not a string, decimal or boolean); got {_describe(value)}")
    if not -_INT64 <= value <= _INT64:
        raise _bad_scalar(f"BigInt must be within the signed 64-bit range; got {_describe(value)}")
    return value


def _parse_bigint_literal(node: Any, variables: Any = None) -> int:
    from graphql.language import IntValueNode, VariableNode

    if isinstance(node, VariableNode):
        return _parse_bigint((variables or {}).get(node.name.value))
    if isinstance(node, IntValueNode):
        return _parse_bigint(int(node.value))
    raise _bad_scalar(f"BigInt must be an integer literal; got {_describe(getattr(node, 'value', node.kind))}")


BigInt = NewType("BigInt", int)
JSONScalar = NewType("JSONScalar", object)  # GraphQL name: JSON (see SCALARS)

# Their GraphQL definitions, handed to the schema as StrawberryConfig(scalar_map=SCALARS): annotated
# with the NewType, a field type-checks as the int (or object) it holds.
SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=_parse_bigint,
        parse_literal=_parse_bigint_literal,
        description="A signed 64-bit integer (amounts in fen, counts), sent as a JSON integer: strings, decimals "
                    "and booleans are refused.",
    ),
    JSONScalar: strawberry.scalar(
        name="JSON",
        serialize=lambda v: v,
        parse_value=lambda v: v,
        description="Arbitrary JSON (plugin settings, job results). Never carries personal data.",
    ),
}

# Registers ErrorCode itself as the GraphQL enum: fields are annotated with the class.
strawberry.enum(ErrorCode, name="ErrorCode", description="Stable machine-readable error codes.")


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(description="A problem with a mutation's input or a refused action.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault (camelCase), or null.")
    code: ErrorCode
    message: str = strawberry.field(description="English explanation, for developers and logs.")
    message_zh: str | None = strawberry.field(
        default=None,
        description="Chinese text for people, naming the rule that failed, when the server has one; "
                    "else the UI shows its Chinese text keyed by code.")
    extensions: JSONScalar | None = strawberry.field(
        default=None, description="Details beside the code, e.g. `{retryAfterSeconds: 120}` for TOO_MANY_ATTEMPTS.")


def user_errors(exc: DomainError) -> list[UserError]:
    items = exc.errors if isinstance(exc, DomainErrors) else [exc]
    return [UserError(field=e.field, code=e.code, message=e.message, message_zh=e.message_zh,
                      extensions=getattr(e, "extensions", None)) for e in items]


class ApiError(GraphQLError):
    """A query-side refusal (unauthenticated, forbidden, bad argument): a typed top-level error.
    ``extensions.messageZh`` carries the Chinese text when the refusal has one."""

    def __init__(self, code: ErrorCode, message: str, message_zh: str | None = None,
                 extensions: dict[str, Any] | None = None) -> None:
        merged: dict[str, Any] = {"code": code.value, **(extensions or {})}
        if message_zh:
            merged["messageZh"] = message_zh
        super().__init__(message, extensions=merged)


def api_error(exc: DomainError) -> ApiError:
    return ApiError(exc.code, exc.message, exc.message_zh, getattr(exc, "extensions", None))


# ---------------------------------------------------------------------------------------------
# Relay: global ids and connections
# ---------------------------------------------------------------------------------------------


def to_global_id(type_name: str, pk: int) -> str:
    # binascii directly: the same standard alphabet as base64.b64encode without its wrapper, on a
    # call made once per row of every list.
    return binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode("ascii")


def from_global_id(gid: str | None, expected: str | None = None, field: str = "id") -> tuple[str, int]:
    """Decode; any malformed or wrong-type id is NOT_FOUND (never a hint about other tenants)."""
    try:
        raw = base64.b64decode(str(gid), validate=True).decode()
        type_name, pk = raw.split(":", 1)
        value = int(pk)
        if value <= 0 or value > _INT64:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise DomainError(ErrorCode.NOT_FOUND, f"no object with id {str(gid)[:40]!r}", field) from None
    if expected is not None and type_name != expected:
        raise DomainError(ErrorCode.NOT_FOUND, f"no {expected} with id {str(gid)[:40]!r}", field)
    return type_name, value


@strawberry.interface(description="An object with a global id (Relay). `node(id)` finds it within your tenant.")
class Node:
    id: strawberry.ID


T = TypeVar("T")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    total_count: int = strawberry.field(description="All items matching the filter, across pages.")
    nodes: list[T] = strawberry.field(description="The page's items, without cursors (cheaper to query).")
    page_info: PageInfo
    offset: strawberry.Private[int] = 0

    @strawberry.field(description="The page's items with their cursors.")
    def edges(self) -> list[Edge[T]]:
        # Built only when asked for: most clients read `nodes`.
        return make_edges(self.nodes, self.offset)


def make_edges(nodes: Sequence[Any], offset: int) -> list[Edge[Any]]:
    return [Edge(cursor=_cursor(offset + i), node=n) for i, n in enumerate(nodes)]


MAX_PAGE = 100


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def page_args(first: int | None, after: str | None) -> Page:
    first = 50 if first is None else first
    if not 1 <= first <= MAX_PAGE:
        raise ApiError(ErrorCode.INVALID_INPUT, f"first must be between 1 and {MAX_PAGE}")
    offset = 0
    if after:
        try:
            raw = base64.b64decode(after, validate=True).decode()
            prefix, value = raw.split(":", 1)
            offset = int(value) + 1
            if prefix != "cursor" or offset < 1 or offset > _INT64:
                raise ValueError
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiError(ErrorCode.INVALID_INPUT, "after is not a valid cursor") from None
    return Page(offset, first)


def _cursor(i: int) -> str:
    return base64.b64encode(f"cursor:{i}".encode()).decode()


def connection(items: Sequence[Any], total: int, page: Page) -> Connection[Any]:
    n = len(items)
    return Connection(
        total_count=total,
        nodes=list(items),
        offset=page.offset,
        page_info=PageInfo(
            has_next_page=page.offset + n < total,
            has_previous_page=page.offset > 0,
            start_cursor=_cursor(page.offset) if n else None,
            end_cursor=_cursor(page.offset + n - 1) if n else None,
        ),
    )


# ---------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------


@dataclass
class Context:
    request_id: str
    tenant: TenantContext | None
    principal: Principal | None
    client_ip: str = ""
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    response_status: int | None = None

    def loader(self, name: str, batch: Callable[[TenantContext, list[Any]], Awaitable[list[Any]]]) -> DataLoader[Any, Any]:
        """A per-request DataLoader closed over the tenant (never cached across requests)."""
        found = self.loaders.get(name)
        if found is None:
            tenant = self.tenant
            assert tenant is not None

            async def load(keys: list[Any]) -> list[Any]:
                return await batch(tenant, keys)

            found = self.loaders[name] = DataLoader(load_fn=load)
        return found

    @property
    def actor(self) -> Actor:
        if self.principal is None:
            return Actor(None, "anonymous")
        return Actor(self.principal.user_id, self.principal.username)

    def authenticated(self) -> tuple[TenantContext, Principal]:
        if self.tenant is None or self.principal is None:
            raise DomainError(ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
        return self.tenant, self.principal

    def require(self, action: str, unit_path: str | None = None) -> tuple[TenantContext, Principal]:
        tenant, principal = self.authenticated()
        if not principal.can(action, unit_path):
            raise DomainError(ErrorCode.FORBIDDEN, f"not allowed: {action}")
        return tenant, principal

    def hooks(self) -> Any:
        from core.plugins import hooks_for

        tenant, _ = self.authenticated()
        return hooks_for(tenant)


Info = _Info[Context, None]


def for_query(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Turn DomainErrors raised by a query resolver into typed top-level errors."""
    import functools

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except DomainError as exc:
            raise api_error(exc) from None

    return wrapper


P = TypeVar("P")


async def run_mutation(payload: Callable[..., P], work: Callable[[], Awaitable[dict[str, Any]]]) -> P:
    """Run a mutation's work; a DomainError becomes the payload's errors and nothing is written
    (services open their transactions inside ``work``, so the error rolled them back)."""
    try:
        return payload(errors=[], **(await work()))
    except DomainError as exc:
        return payload(errors=user_errors(exc))


def perm(action: str, text: str) -> str:
    return f"{text} {describe(action)}"


def json_loads_maybe(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value

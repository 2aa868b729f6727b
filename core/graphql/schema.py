"""Assemble the one GraphQL schema from what core's domains and the plugins register.

Every Query/Mutation class, type and Node comes from a ``register_graphql`` contribution
(``core.registry``); this module owns only ``node(id)``, the capability gate and the schema options.
Two plugins defining the same field or Node type stop the build, naming both.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    FieldExtension,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from core.errors import DomainError, ErrorCode
from core.graphql.base import SCALARS, Info, Node, UserError, api_error, from_global_id
from core.graphql.execution import FastListExecutionContext
from core.plugins import PluginError
from core.settings import get_settings

NodeResolver = Callable[[Info, int], Awaitable[Any]]


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Any object by its global id, within your tenant; null when it does not exist or is not visible to you.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        try:
            info.context.authenticated()
            type_name, pk = from_global_id(id)
        except DomainError as exc:
            if exc.code.value == "NOT_FOUND":
                return None
            raise api_error(exc) from None
        # node(id) dispatch: type name -> resolver(info, pk), per schema (a schema built without a
        # plugin has none of its types). Each resolver applies its own permission and tenant filter,
        # so a guessed id from another tenant finds nothing.
        schema = info.schema
        assert isinstance(schema, HuijiaSchema)  # build_schema makes no other kind
        resolver = schema.node_resolvers.get(type_name)
        if resolver is None:
            return None
        try:
            return await resolver(info, pk)
        except DomainError as exc:
            raise api_error(exc) from None


# ---------------------------------------------------------------------------------------------
# Capability gate: the host, not each capability, refuses a capability's fields for a tenant that
# has not enabled it.
# ---------------------------------------------------------------------------------------------


def capability_refusal(capability: str) -> DomainError:
    return DomainError(ErrorCode.CAPABILITY_NOT_ENABLED, f"capability {capability!r} is not enabled for this tenant")


class CapabilityGate(FieldExtension):
    """Refuse a field unless the request's tenant enables ``capability``: a query gets a typed
    top-level error, a mutation its payload ``errors`` (the API's usual shape for refusals)."""

    def __init__(self, capability: str) -> None:
        self.capability = capability

    def _refusal(self, info: Info) -> Any:
        tenant = info.context.tenant
        if tenant is None:
            exc = DomainError(ErrorCode.UNAUTHENTICATED, "log in first (Authorization: Bearer <token>)")
        elif self.capability in tenant.capabilities:
            return None
        else:
            exc = capability_refusal(self.capability)
        payload = self._payload_type(info)
        if payload is not None:
            return payload(errors=[UserError(field=None, code=exc.code, message=exc.message)])
        raise api_error(exc)

    @staticmethod
    def _payload_type(info: Info) -> Any:
        tp = info.return_type
        definition = getattr(tp, "__strawberry_definition__", None)
        if definition is not None and any(f.python_name == "errors" for f in definition.fields):
            return tp
        return None

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        refused = self._refusal(info)
        return refused if refused is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        refused = self._refusal(info)
        if refused is not None:
            return refused
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


def _gate_fields(cls: type, capability: str) -> None:
    for f in get_object_definition(cls, strict=True).fields:
        if not any(isinstance(e, CapabilityGate) and e.capability == capability for e in f.extensions):
            f.extensions.append(CapabilityGate(capability))


def _gate_node(resolver: NodeResolver, capability: str) -> NodeResolver:
    async def gated(info: Info, pk: int) -> Any:
        tenant = info.context.tenant
        if tenant is None or capability not in tenant.capabilities:
            return None  # node(id) semantics: not visible to you
        return await resolver(info, pk)

    return gated


def _field_names(cls: type) -> list[str]:
    return [f.graphql_name or to_camel_case(f.python_name) for f in get_object_definition(cls, strict=True).fields]


def _merge(kind: str, classes: list[tuple[str, type]]) -> Any:
    owner: dict[str, str] = {}
    for plugin, cls in classes:
        for name in _field_names(cls):
            if name in owner:
                raise PluginError(f"plugin {plugin!r}: {kind} field {name!r} is already defined by plugin {owner[name]!r}")
            owner[name] = plugin
    return merge_types(kind, tuple(cls for _, cls in classes))


@dataclass(frozen=True)
class Assembly:
    query: Any
    mutation: Any
    types: list[type]
    node_resolvers: dict[str, NodeResolver]


def assemble(registry: Registry) -> Assembly:
    """Merge the registered contributions; gate a capability's fields and nodes."""
    queries: list[tuple[str, type]] = [("core", CoreQuery)]
    mutations: list[tuple[str, type]] = []
    types: list[type] = []
    for c in registry.graphql:
        g = c.graphql
        for cls in (*g.query, *g.mutation):
            if g.capability is not None:
                _gate_fields(cls, g.capability)
        queries += [(c.plugin, cls) for cls in g.query]
        mutations += [(c.plugin, cls) for cls in g.mutation]
        types += [t for t in g.types if t not in types]
    resolvers: dict[str, NodeResolver] = {}
    for name, (node, capability, _plugin) in registry.nodes.items():
        resolvers[name] = node.resolve if capability is None else _gate_node(node.resolve, capability)
    return Assembly(
        query=_merge("Query", queries),
        mutation=_merge("Mutation", mutations) if mutations else None,
        types=types,
        node_resolvers=resolvers,
    )


def _should_mask(error: GraphQLError) -> bool:
    """Typed errors and GraphQL's own syntax/validation errors pass; anything unexpected (a bug, a
    driver error quoting a row) is masked to a generic message."""
    original = error.original_error
    # A GraphQLError inside another is graphql-core's own report of a bad input value (a variable
    # a scalar refused: "Variable '$y' has invalid value: Int cannot represent ..."): the client's
    # mistake, shown as is. ApiError (our typed refusals) is one too.
    if original is None or isinstance(original, GraphQLError):
        return False
    return not (isinstance(original, (ValueError, TypeError)) and "BigInt" in str(original))


class _MaskErrors(MaskErrors):
    """Masks as strawberry's does, but a database node out of reach (core/unavailable.py) keeps a code
    of its own, so clients retry rather than report a bug; the driver's text is dropped all the same."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        from core.unavailable import MESSAGE, RETRY_AFTER_SECONDS, is_unavailable

        if is_unavailable(error.original_error):
            return GraphQLError(message=MESSAGE, nodes=error.nodes, source=error.source, positions=error.positions,
                                path=error.path, original_error=None,
                                extensions={"code": ErrorCode.SERVICE_UNAVAILABLE.value,
                                            "retryAfterSeconds": RETRY_AFTER_SECONDS})
        return super().anonymise_error(error)


class HuijiaSchema(strawberry.Schema):
    node_resolvers: dict[str, NodeResolver]  # set by build_schema: type name -> node(id) resolver

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log only unexpected failures, by type and path. Strawberry's default logs the message and
        the query text, which can quote personal data typed into a filter."""
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GraphQLError):
                continue
            from core.unavailable import is_unavailable

            if is_unavailable(original):  # a node out of reach, not a bug: no trace (the client gets 503)
                log.warning("graphql resolver: database unavailable", extra={
                    "operation": ".".join(str(p) for p in (error.path or [])), "error_type": type(original).__name__})
                continue
            log.error("graphql resolver failed", exc_info=(type(original), original, original.__traceback__),
                      extra={"operation": ".".join(str(p) for p in (error.path or []))})


log = logging.getLogger("huijia.graphql")

if TYPE_CHECKING:
    from core.registry import Registry


def _shared(extension: SchemaExtension) -> Callable[[], SchemaExtension]:
    """Serve one extension instance to every request, through strawberry's factory slot.

    The depth and alias limiters make their validation-rule classes when constructed, and
    ValidationCache keys its cache on those classes: a fresh limiter per request would never hit it.
    """
    return lambda: extension


def build_schema(fast: bool = True, registry: Registry | None = None) -> strawberry.Schema:
    """The schema of ``registry``'s plugins (default: the process's installed plugins)."""
    from core.registry import get_registry

    s = get_settings()
    parts = assemble(registry or get_registry())
    built = HuijiaSchema(
        query=parts.query,
        mutation=parts.mutation,
        types=parts.types,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
        execution_context_class=FastListExecutionContext if fast else None,
        extensions=[
            ParserCache,
            ValidationCache,
            _shared(MaxTokensLimiter(max_token_count=s.graphql_max_tokens)),
            _shared(QueryDepthLimiter(max_depth=s.graphql_max_depth)),
            _shared(MaxAliasesLimiter(max_alias_count=s.graphql_max_aliases)),
            _shared(_MaskErrors(should_mask_error=_should_mask, error_message="Internal server error")),
        ],
    )
    built.node_resolvers = parts.node_resolvers
    return built


schema = build_schema()

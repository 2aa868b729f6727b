"""A faster execution context for graphql-core: leaf fields that are plain attributes are read
and serialised inline instead of going through the full per-field machinery.

Profiling bench-api showed most of a 100-row list's time in graphql-core's `execute_field`
(resolve-info construction, argument handling, completion) for fields that are nothing but an
attribute read. For exactly those fields, strawberry's "basic" fields without arguments whose
type is a scalar or enum, this context reads the attribute and calls the type's own `serialize`,
which is what the slow path ends up doing too. Anything else (resolvers, arguments, objects,
lists, nulls, serialisation errors) takes the standard path, so errors and nullability behave
exactly as before.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, Undefined
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_NO_PLAN = object()


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # parent type -> {field name -> (python attribute, leaf type) or _NO_PLAN}. The schema is
    # built once per process, so the types are stable keys.
    _plans: dict[GraphQLObjectType, dict[str, Any]] = {}

    def _plan(self, plans: dict[str, Any], parent_type: GraphQLObjectType, field_name: str) -> Any:
        plan = plans.get(field_name)
        if plan is None:
            plan = _NO_PLAN
            field_def = parent_type.fields.get(field_name)
            if field_def is not None and not field_def.args and getattr(field_def.resolve, "_is_default", False):
                leaf = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
                definition = (field_def.extensions or {}).get("strawberry-definition")
                if isinstance(leaf, (GraphQLScalarType, GraphQLEnumType)) and definition is not None:
                    plan = (definition.python_name, leaf)
            plans[field_name] = plan
        return plan

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: Any, position_context: Any) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager._middleware_resolvers is not None:  # a resolve() extension is active
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        plans = self._plans.get(parent_type)
        if plans is None:
            plans = self._plans[parent_type] = {}
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                if not node.arguments:
                    plan = plans.get(node.name.value) or self._plan(plans, parent_type, node.name.value)
                    if plan is not _NO_PLAN:
                        value = getattr(source_value, plan[0], None)
                        if value is not None:
                            try:
                                serialized = plan[1].serialize(value)
                            except Exception:  # noqa: BLE001 - let the standard path report it
                                serialized = Undefined
                            if serialized is not Undefined and serialized is not None:
                                results[response_name] = serialized
                                continue
                result = self.execute_field(parent_type, source_value, field_details_list,
                                            Path(path, response_name, parent_type.name), position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            from graphql.pyutils import gather_with_cancel

            if len(awaitable_fields) == 1:
                results[awaitable_fields[0]] = await results[awaitable_fields[0]]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

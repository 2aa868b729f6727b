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

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
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
                            except Exception:
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


# ---------------------------------------------------------------------------------------------
# Lists of objects: when every selected sub-field of the item type is a plain leaf attribute, a
# prefetched object, or a *plain resolver* (a synchronous method of the object taking nothing but
# ``self``: no info, no arguments, no field extensions or permissions, so no capability gate) whose
# value is a leaf, an object or a list of either, with the same conditions again below, the whole
# list is built as dicts in one tight loop. Any type declared by core or a plugin gets this without
# opting in. Any surprise (a null in a non-null field, an unexpected type, a field with another kind
# of resolver or arguments, @defer, an exception) abandons the shortcut and the standard path runs
# instead; the shortcut only reads attributes and calls resolvers that see nothing but their object,
# so running both is harmless.
# ---------------------------------------------------------------------------------------------

_FALLBACK = object()


class _Spec:
    __slots__ = ("cls", "compiled", "fields")

    def __init__(self, cls: type, fields: list[tuple[Any, ...]]) -> None:
        self.cls = cls
        self.fields = fields
        self.compiled: Any = None


_COMPILED: dict[Any, Any] = {}


def _target_shape(kind: int, t: Any) -> Any:
    if kind == 1:
        return _shape(t)
    if kind == 0:
        return id(t)
    if kind == 3:  # list: (item kind, item target, item nullable)
        return (t[0], _target_shape(t[0], t[1]), t[2])
    return t


def _shape(spec: _Spec) -> Any:
    """A structural key for a spec: equal selections on the same type compile to one function."""
    return (spec.cls, tuple((name, kind, attr, _target_shape(kind, t), nullable)
                            for name, kind, attr, t, nullable in spec.fields))


def _build(spec: _Spec, source: Any, memo: dict[int, Any]) -> Any:
    fn = spec.compiled
    if fn is None:
        shape = _shape(spec)
        fn = _COMPILED.get(shape)
        if fn is None:
            if len(_COMPILED) > 5000:  # bounded: shapes come from client queries
                _COMPILED.clear()
            fn = _COMPILED[shape] = _compile(spec)
        spec.compiled = fn
    try:
        return fn(source, memo)
    except Exception:
        return _FALLBACK


_PLAIN = {"String": str, "ID": str, "Boolean": bool}


def _compile(spec: _Spec) -> Any:
    """Turn a spec into straight-line Python (one function per selection shape): the loop over
    field descriptors was itself the hot spot once graphql-core was out of the way."""
    env: dict[str, Any] = {"_FB": _FALLBACK, "_UNDEF": Undefined, "_CLS": spec.cls, "_build": _build}
    lines = ["def build(src, memo):", "    if not isinstance(src, _CLS):", "        return _FB", "    out = {}"]
    for i, (response_name, kind, attr, target, nullable) in enumerate(spec.fields):
        key = repr(response_name)
        if kind == 2:
            lines.append(f"    out[{key}] = {target!r}")
            continue
        if callable(attr):  # a plain resolver: a method that sees only its object
            env[f"r{i}"] = attr
            lines.append(f"    v = r{i}(src)")
        else:
            lines.append(f"    v = src.{attr}" if attr.isidentifier() else f"    v = getattr(src, {attr!r})")
        lines.append("    if v is None:")
        lines.append(f"        out[{key}] = None" if nullable else "        return _FB")
        lines.append("    else:")
        if kind == 3:  # a list of leaves or objects, each completed like a field of that type
            item_kind, item_target, item_nullable = target
            lines += ["        if not isinstance(v, (list, tuple)):", "            return _FB", "        items = []",
                      "        for x in v:", "            if x is None:"]
            lines.append("                items.append(None)" if item_nullable else "                return _FB")
            lines += ["                continue"]
            lines += _complete(env, f"{i}", item_kind, item_target, "x", "items.append({})", "            ",
                               memo=False)
            lines.append(f"        out[{key}] = items")
        else:
            # Objects a plain resolver makes are new on each call: not memoised by id (a freed one's
            # id can come back for another object).
            lines += _complete(env, f"{i}", kind, target, "v", f"out[{key}] = {{}}", "        ",
                               memo=not callable(attr))
    lines.append("    return out")
    exec("\n".join(lines), env)
    return env["build"]


def _complete(env: dict[str, Any], n: str, kind: int, target: Any, var: str, store: str, indent: str, *,
              memo: bool) -> list[str]:
    """Lines that complete the non-null value ``var`` as a leaf (kind 0) or an object (kind 1) and
    store it with ``store`` (a format string taking the expression), or return _FB."""
    put = indent + store
    if kind == 0 and isinstance(target, dict):
        env[f"t{n}"] = target
        return [f"{indent}s = t{n}.get({var})", f"{indent}if s is None:", f"{indent}    return _FB", put.format("s")]
    if kind == 0:
        env[f"t{n}"] = target.serialize
        plain = _PLAIN.get(target.name)
        lines = []
        inner = indent
        if plain is not None:
            env[f"p{n}"] = plain
            lines += [f"{indent}if type({var}) is p{n}:", "    " + put.format(var), f"{indent}else:"]
            inner = indent + "    "
        elif target.name == "Int":
            lines += [f"{indent}if type({var}) is int and -2147483648 <= {var} <= 2147483647:", "    " + put.format(var),
                      f"{indent}else:"]
            inner = indent + "    "
        return lines + [f"{inner}s = t{n}({var})", f"{inner}if s is None or s is _UNDEF:", f"{inner}    return _FB",
                        inner + store.format("s")]
    env[f"t{n}"] = target
    if not memo:
        return [f"{indent}b = _build(t{n}, {var}, memo)", f"{indent}if b is _FB:", f"{indent}    return _FB",
                put.format("b")]
    # A prefetched object, built once per distinct object; the memo keeps the object alive with
    # its result, so its id cannot be reused for another object during this list.
    return [f"{indent}m = memo.get(id({var}))", f"{indent}if m is None:", f"{indent}    b = _build(t{n}, {var}, memo)",
            f"{indent}    if b is _FB:", f"{indent}        return _FB", f"{indent}    memo[id({var})] = ({var}, b)",
            f"{indent}else:", f"{indent}    b = m[1]", put.format("b")]


def _plain_resolver(sdef: Any) -> Any:
    """The function behind a strawberry field whose resolver is a synchronous method taking only
    ``self`` with no arguments, extensions, permissions or directives; else None."""
    resolver = getattr(sdef, "base_resolver", None)
    if resolver is None or sdef.arguments or sdef.extensions or sdef.permission_classes or sdef.directives:
        return None
    try:
        if resolver.is_async or resolver.is_graphql_generic or list(resolver.signature.parameters) != ["self"]:
            return None
    except Exception:
        return None
    func = resolver.wrapped_func
    if isinstance(func, (staticmethod, classmethod)) or not callable(func):
        return None
    return func


_ENUM_TABLES: dict[int, dict[Any, str] | None] = {}


def _enum_table(enum_type: GraphQLEnumType) -> dict[Any, str] | None:
    """Python enum member -> GraphQL name, computed once per enum with the type's own serialize."""
    key = id(enum_type)
    if key not in _ENUM_TABLES:
        _ENUM_TABLES[key] = _make_enum_table(enum_type)
    return _ENUM_TABLES[key]


def _make_enum_table(enum_type: GraphQLEnumType) -> dict[Any, str] | None:
    definition = (enum_type.extensions or {}).get("strawberry-definition")
    wrapped = getattr(definition, "wrapped_cls", None)
    if wrapped is None:
        return None
    try:
        return {member: enum_type.serialize(member) for member in wrapped}
    except Exception:
        return None


class FastListExecutionContext(FastExecutionContext):
    _specs: dict[tuple[Any, ...], Any] = {}
    # per execution, made on first use: (object type, id of its field list) -> (that list, spec)
    _fast_specs: dict[tuple[GraphQLObjectType, int], tuple[Any, Any]]

    def _object_spec(self, object_type: GraphQLObjectType, field_details_list: Any) -> Any:
        key = (object_type, id(field_details_list))
        cached = self._fast_specs.get(key)
        if cached is not None:
            return cached[1]
        spec = self._make_spec(object_type, field_details_list)
        self._fast_specs[key] = (field_details_list, spec)  # keep the list alive: its id is the key
        return spec

    def _make_spec(self, object_type: GraphQLObjectType, field_details_list: Any) -> Any:
        definition = (object_type.extensions or {}).get("strawberry-definition")
        if definition is None:
            return _FALLBACK
        collected = self.collect_subfields(object_type, field_details_list)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return _FALLBACK
        fields: list[tuple[Any, ...]] = []
        for response_name, details in collected.grouped_field_set.items():
            node = details[0].node
            if node.arguments or node.directives:
                return _FALLBACK
            name = node.name.value
            if name == "__typename":
                fields.append((response_name, 2, None, object_type.name, False))
                continue
            field_def = object_type.fields.get(name)
            if field_def is None or field_def.args:
                return _FALLBACK
            nullable = not isinstance(field_def.type, GraphQLNonNull)
            inner = field_def.type.of_type if not nullable else field_def.type
            sdef = (field_def.extensions or {}).get("strawberry-definition")
            if sdef is None:
                return _FALLBACK
            if getattr(field_def.resolve, "_is_default", False):
                source: Any = sdef.python_name
            else:
                source = (sdef.metadata or {}).get("prefetched") if isinstance(inner, GraphQLObjectType) else None
                if not source:
                    source = _plain_resolver(sdef)
                if not source:
                    return _FALLBACK
            if isinstance(inner, GraphQLList):
                item_type = inner.of_type
                item_nullable = not isinstance(item_type, GraphQLNonNull)
                item = item_type if item_nullable else item_type.of_type
                completed = self._completion(item, details)
                if completed is _FALLBACK:
                    return _FALLBACK
                fields.append((response_name, 3, source, (*completed, item_nullable), nullable))
                continue
            completed = self._completion(inner, details)
            if completed is _FALLBACK:
                return _FALLBACK
            fields.append((response_name, completed[0], source, completed[1], nullable))
        return _Spec(definition.origin, fields)

    def _completion(self, named: Any, details: Any) -> Any:
        """(kind, target) completing a value of the named type: 0 and the leaf type (or an enum's
        table), 1 and the object's spec; _FALLBACK for anything else."""
        if isinstance(named, GraphQLEnumType):
            table = _enum_table(named)
            return _FALLBACK if table is None else (0, table)
        if isinstance(named, GraphQLScalarType):
            return (0, named)
        if isinstance(named, GraphQLObjectType):
            sub = self._make_spec(named, details)
            return _FALLBACK if sub is _FALLBACK else (1, sub)
        return _FALLBACK

    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any, path: Any, result: Any,
                            position_context: Any) -> Any:
        manager = self.middleware_manager
        if isinstance(result, list) and result and (manager is None or manager._middleware_resolvers is None):
            item_type = return_type.of_type
            item_nullable = not isinstance(item_type, GraphQLNonNull)
            inner = item_type if item_nullable else item_type.of_type
            if isinstance(inner, GraphQLObjectType):
                if not hasattr(self, "_fast_specs"):
                    self._fast_specs = {}
                spec = self._object_spec(inner, field_details_list)
                if spec is not _FALLBACK:
                    memo: dict[int, Any] = {}
                    out = []
                    for item in result:
                        built = _build(spec, item, memo) if item is not None else (None if item_nullable else _FALLBACK)
                        if built is _FALLBACK:
                            break
                        out.append(built)
                    else:
                        return out
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

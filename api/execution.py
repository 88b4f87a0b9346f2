"""A graphql-core executor that completes plain objects in one pass.

Why: a stored recommendation is about a hundred fields (offers, their reasons, products), and
each costs graphql-core a resolve-info object, a resolver call through strawberry's wrapper and
a type dispatch: issue 6 measured most of the API's 4-5 ms per request there. Most of those
fields are plain attributes of dataclass-like types (no resolver, no arguments), so nothing
about them can differ from request to request except the values.

For an object whose selected fields are all plain (all the way down), the executor builds, once
per selection set and request, a small plan (response key, attribute, completer) from the same
field collection graphql-core uses (fragments, aliases, @skip/@include with this request's
variables, __typename), and runs it. Anything else - a field with a resolver (Offer.response,
Client.holdings), arguments, middleware, @defer, an abstract type, a type check - takes
graphql-core's own path, field by field. If a plain run meets anything unusual (null in a
non-null field, a value its scalar cannot represent, a non-list where a list belongs), it is
thrown away and graphql-core completes that object again, so errors, their paths and null
propagation are exactly graphql-core's.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

Plan = Callable[[Any], dict[str, Any]]
Complete = Callable[[Any], Any]
_NOT_PLANNED = object()
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # GraphQL Int: 32-bit signed


class _NotPlain(Exception):
    """The value needs graphql-core's own completion (it reports the error, if there is one)."""


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    # Plans of documents without @skip/@include, shared by requests: the parser cache hands
    # every request of the same query text the same AST, so (type, field nodes) identify the
    # selection. Entries hold the type and nodes, so their ids cannot be reused meanwhile.
    _shared: OrderedDict[tuple[int, ...], tuple[Any, Plan | None]] = OrderedDict()
    _static_operations: OrderedDict[int, tuple[Any, bool]] = OrderedDict()
    shared_size = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(grouped field set) -> (the set, kept alive so the id stays its own; plan or None)
        self._plans: dict[int, tuple[Any, Plan | None]] = {}
        self._static: bool | None = None  # no directive in the document: plans do not vary

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        # Strawberry always passes a middleware manager; it is empty unless an extension
        # resolves fields (then every field goes through it, as graphql-core does).
        middleware = self.middleware_manager
        if position_context is None and (middleware is None or not middleware.middlewares):
            if path is None and len(grouped_field_set) == 1:
                root = self._resolved_root(parent_type, grouped_field_set)
                if root is not None:
                    return root
            plan = self._planned(parent_type, grouped_field_set)
            if plan is not None:
                try:
                    return plan(source_value)
                except Exception:  # noqa: BLE001 - graphql-core completes it again and reports
                    pass
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _resolved_root(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> dict[str, Any] | None:
        """The root's one field completed in one pass from a value the caller resolved before
        execution (Context.root_values: the response cache's stored row, after the same role
        check), or None: graphql-core's path, which calls the field's resolver. Why: on a
        cache miss the root field's trip through graphql-core and strawberry's resolver wrapper
        (argument conversion, the awaitable check, the completion dispatch) was about a fifth
        of the request."""
        values = getattr(self.context_value, "root_values", None)
        if not values:
            return None
        ((response_name, details),) = grouped_field_set.items()
        field_name = details[0].node.name.value
        value_of = values.get(field_name)
        field_def = None if value_of is None else self.schema.get_field(parent_type, field_name)
        if value_of is None or field_def is None:
            return None
        complete = self._completer(field_def.type, details)
        if complete is None:
            return None
        try:
            return {response_name: complete(value_of())}
        except Exception:  # noqa: BLE001 - graphql-core resolves and completes it, and reports
            return None

    def _planned(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan | None:
        """The plan of this selection: from this request's plans, the shared ones, or built."""
        entry = self._plans.get(id(grouped_field_set))
        if entry is not None:
            return entry[1]
        key: tuple[int, ...] | None = None
        if self._static is None:
            self._static = self._static_document()
        if self._static:
            key = (id(parent_type), *(id(f.node) for details in grouped_field_set.values() for f in details))
            if all(f.fragment_variable_values is None for d in grouped_field_set.values() for f in d):
                shared = self._shared.get(key)
                if shared is not None:
                    self._plans[id(grouped_field_set)] = (grouped_field_set, shared[1])
                    return shared[1]
            else:
                key = None
        plan = self._plan(parent_type, grouped_field_set)
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        if key is not None:
            nodes = [f.node for details in grouped_field_set.values() for f in details]
            self._shared[key] = ((parent_type, nodes), plan)
            if len(self._shared) > self.shared_size:
                self._shared.popitem(last=False)
        return plan

    def _static_document(self) -> bool:
        """No directive in the operation or its fragments (remembered per operation: the parser
        cache hands every request of a text the same operation node)."""
        operation = self.operation
        known = self._static_operations.get(id(operation))
        if known is None or known[0] is not operation:
            known = (operation, not _has_directives(operation, self.fragments))
            self._static_operations[id(operation)] = known
            if len(self._static_operations) > self.shared_size:
                self._static_operations.popitem(last=False)
        return known[1]

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan | None:
        """The one-pass completion of `parent_type` for this selection, or None when a field
        in it (or below it) is not a plain attribute."""
        if parent_type.is_type_of is not None:
            return None
        steps: list[tuple[str, Callable[[Any], Any], Complete]] = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            if any(d.name.value not in ("skip", "include") for f in details for d in f.node.directives or ()):
                return None
            field_name = node.name.value
            if field_name == "__typename":
                steps.append((response_name, _constant(parent_type.name), _identity))
                continue
            field_def = self.schema.get_field(parent_type, field_name)
            if field_def is None or field_def.args or node.arguments:
                return None
            if not getattr(field_def.resolve, "_is_default", False):
                return None  # a resolver of ours (or strawberry's wrapper around one)
            definition = field_def.extensions.get("strawberry-definition")
            if definition is None:
                return None
            complete = self._completer(field_def.type, details)
            if complete is None:
                return None
            steps.append((response_name, _getter(definition), complete))

        def plan(source: Any) -> dict[str, Any]:
            return {name: complete(get(source)) for name, get, complete in steps}

        return plan

    def _completer(self, return_type: GraphQLOutputType, details: Any) -> Complete | None:
        if is_non_null_type(return_type):
            inner = self._completer(return_type.of_type, details)  # type: ignore[attr-defined]
            return None if inner is None else _non_null(inner)
        if is_list_type(return_type):
            inner = self._completer(return_type.of_type, details)  # type: ignore[attr-defined]
            return None if inner is None else _list_of(inner)
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_object_type(return_type):
            collected = self.collect_subfields(return_type, details)  # type: ignore[arg-type]
            if collected.new_defer_usages:
                return None
            plan = self._planned(return_type, collected.grouped_field_set)  # type: ignore[arg-type]
            return None if plan is None else _nullable(plan)
        return None  # interfaces and unions resolve their runtime type: graphql-core's path


def _has_directives(operation: Any, fragments: Any) -> bool:
    """Whether any selection of the operation or its fragments carries a directive (then which
    fields are collected may depend on the variables)."""

    def walk(selection_set: Any) -> bool:
        for selection in selection_set.selections if selection_set is not None else ():
            if selection.directives or walk(getattr(selection, "selection_set", None)):
                return True
        return False

    if walk(operation.selection_set):
        return True
    return any(
        walk(getattr(f, "definition", f).selection_set) or getattr(f, "definition", f).directives
        for f in fragments.values()
    )


def _getter(definition: Any) -> Callable[[Any], Any]:
    resolver, name = definition.default_resolver, definition.python_name
    if resolver is getattr:
        return attrgetter(name)
    return lambda source: resolver(source, name)


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _source: value


def _identity(value: Any) -> Any:
    return value


def _non_null(inner: Complete) -> Complete:
    def complete(value: Any) -> Any:
        completed = inner(value)
        if completed is None:
            raise _NotPlain
        return completed

    return complete


def _list_of(inner: Complete) -> Complete:
    def complete(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if not isinstance(value, list | tuple):
            raise _NotPlain  # other iterables, async ones included: graphql-core's path
        return [inner(item) for item in value]

    return complete


def _nullable(plan: Plan) -> Complete:
    def complete(value: Any) -> Any:
        return None if value is None or value is Undefined else plan(value)

    return complete


def _leaf(leaf_type: Any) -> Complete:
    """The leaf type's own output coercion, with the built-in scalars' common cases inline
    (the same values those coercions return unchanged)."""
    coerce = leaf_type.coerce_output_value

    def check(value: Any) -> Any:
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotPlain
        return coerced

    if leaf_type is GraphQLString or leaf_type is GraphQLID:
        return lambda v: None if v is None else v if type(v) is str else check(v)
    if leaf_type is GraphQLFloat:
        return lambda v: None if v is None else v if type(v) is float and math.isfinite(v) else check(v)
    if leaf_type is GraphQLInt:
        return lambda v: (
            None if v is None else v if type(v) is int and _INT_MIN <= v <= _INT_MAX else check(v)
        )  # noqa: E501
    if leaf_type is GraphQLBoolean:
        return lambda v: None if v is None else v if type(v) is bool else check(v)
    return lambda v: None if v is None or v is Undefined else check(v)

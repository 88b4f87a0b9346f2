"""A response-cache miss of an already validated `recommendations` document, executed by
graphql-core directly (same schema, same executor, same resolvers).

Why: on a miss, strawberry's `Schema.execute` spent about a third of the request around the
execution itself: an execution context, two extension objects, a runner, four hook contexts
(operation, parse, validate, execute) as generators, the operation-type check, the cached
parse and validation. For a text that has passed the full validation once (strawberry's
rules, the token, depth and alias limits: all pure functions of the text, see
api.schema.Documents) none of that can change the answer, so the miss runs only what can:
graphql-core's `execute` with the schema's executor class and the request's context.

Only the response cache's route takes it (one root field `recommendations`, a query, the
stored strategy, the role check passed, the stored row read): a query without side effects.
An execution that reports any error is thrown away and the request goes through
`Schema.execute` as before, so every error, its code and its metrics label stay exactly
those of the full path; an error-free one is counted by the caller as ErrorsAndMetrics does.
"""

from __future__ import annotations

from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from graphql import execute
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.types import ExecutionResult

from api.schema import Schema

if TYPE_CHECKING:
    from strawberry.schema.base import BaseSchema

    from api.context import Context


async def execute_validated(
    schema: BaseSchema, data: dict[str, Any], context: Context
) -> ExecutionResult | None:
    """The error-free result of the request's operation, or None: not our schema (with its
    document cache), the text has not passed validation yet, or the execution reported an
    error (the caller takes the full path)."""
    if not isinstance(schema, Schema):
        return None
    document = schema.documents.valid(data["query"])
    if document is None:
        return None
    result: Any = execute(
        schema._schema,
        document,
        context_value=context,
        variable_values=data.get("variables"),
        operation_name=data.get("operationName"),
        executor_class=schema.execution_context_class,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        operation_extensions=None,
    )
    if isawaitable(result):
        result = await result
    if result.errors:
        return None
    return ExecutionResult(data=result.data, errors=None, extensions={})

"""The GraphQL schema: the Query, Mutation and Subscription roots with the request limits.

Types live in api.types, the roots in api.queries, api.mutations and api.subscriptions;
this module assembles them with the extensions (errors and metrics, token, depth and alias
limits, parse and validation caches). Roles and what each may do are listed in docs/API.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from api.config import ApiConfig
from api.context import Context, context_for
from api.errors import ErrorsAndMetrics
from api.execution import PlainFieldsExecutor
from api.mutations import Mutation
from api.queries import Query
from api.subscriptions import Subscription


class SafeParserCache(ParserCache):
    """ParserCache that leaves invalid documents to strawberry's own parsing, which reports the
    syntax error as a GraphQL error (a parse error raised inside the extension would not be)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        yield


class Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Logging happens in ErrorsAndMetrics (unexpected errors only, with tracebacks)."""


def build_schema(config: ApiConfig | None = None) -> Schema:
    config = config or ApiConfig()
    # The depth and alias rules are built once (QueryDepthLimiter / MaxAliasesLimiter's own
    # validators), so the validation cache sees the same rules on every request.
    limits = [
        *QueryDepthLimiter(max_depth=config.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=config.max_aliases).validation_rules,
    ]
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Plain objects (a stored recommendation's offers, reasons, products) in one pass.
        execution_context_class=PlainFieldsExecutor,
        extensions=[
            ErrorsAndMetrics,
            # Factories, not instances: one extension object per request (no shared state).
            partial(MaxTokensLimiter, max_token_count=config.max_tokens),
            partial(AddValidationRules, limits),
            # Parsing and validating the same document again costs more than running it;
            # both caches are bounded LRUs keyed by the query text (and the limits).
            partial(SafeParserCache, maxsize=256),
            partial(ValidationCache, maxsize=256),
        ],
    )
    roots = (schema._schema.query_type, schema._schema.mutation_type, schema._schema.subscription_type)
    ErrorsAndMetrics.known_fields = {name for root in roots if root is not None for name in root.fields}
    return schema


def sdl() -> str:
    """The schema in SDL, as `recsys api schema` prints it and schema.graphql holds it."""
    return build_schema().as_str() + "\n"


__all__ = ["Context", "Schema", "build_schema", "context_for", "sdl"]

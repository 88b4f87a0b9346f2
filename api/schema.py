"""The GraphQL schema: the Query, Mutation and Subscription roots with the request limits.

Types live in api.types, the roots in api.queries, api.mutations and api.subscriptions;
this module assembles them with the extensions (errors and metrics, token, depth and alias
limits, parse and validation caches). Roles and what each may do are listed in docs/API.md.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from functools import partial
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

from api.config import ApiConfig
from api.context import Context, context_for
from api.errors import ErrorsAndMetrics
from api.execution import PlainFieldsExecutor
from api.mutations import Mutation
from api.queries import Query
from api.subscriptions import Subscription


class Documents:
    """Each distinct query text parsed (within the token limit) and validated (with the depth
    and alias limits) once: bounded LRUs keyed by the text.

    Strawberry's ParserCache, ValidationCache, MaxTokensLimiter and AddValidationRules did the
    same as four extensions, but ValidationCache keys on the parsed document, and hashing a
    graphql-core AST walks every node of it: about 0.3 ms per request for a recommendations
    query, more than validating it once."""

    def __init__(self, max_tokens: int, rules: tuple[Any, ...], maxsize: int = 256) -> None:
        self.max_tokens = max_tokens
        self.rules = rules
        self.maxsize = maxsize
        self._parsed: OrderedDict[str, DocumentNode] = OrderedDict()
        self._errors: OrderedDict[tuple[str, tuple[Any, ...]], list[GraphQLError]] = OrderedDict()
        # Texts whose document passed the full validation (strawberry's rules and the limits).
        self._valid: OrderedDict[str, DocumentNode] = OrderedDict()

    def parse(self, text: str) -> DocumentNode:
        """The text's document; a syntax or token-limit error is raised and not kept."""
        document = self._parsed.get(text)
        if document is None:
            document = parse(text, max_tokens=self.max_tokens)
            self._keep(self._parsed, text, document)
        return document

    def cached(self, text: str) -> DocumentNode | None:
        return self._parsed.get(text)

    def validate(
        self, schema: Any, text: str, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        """Validation errors of the text's document (the one `parse` returned for it)."""
        key = (text, rules)
        errors = self._errors.get(key)
        if errors is None:
            errors = validate_document(schema, document, rules)
            self._keep(self._errors, key, errors)
        if not errors:
            self._keep(self._valid, text, document)
        return errors

    def valid(self, text: str) -> DocumentNode | None:
        """The text's document when a request has already passed the full validation with it
        (token, depth and alias limits included; all pure functions of the text), else None."""
        return self._valid.get(text)

    def _keep(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        if len(cache) > self.maxsize:
            cache.popitem(last=False)


class DocumentLimits(SchemaExtension):
    """Parse and validation through `Documents`. A text that does not parse is left to
    strawberry's own parsing (with the token limit), which reports the syntax error as a GraphQL
    error; a document not from the cache is validated by strawberry with the limits added."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.documents.max_tokens
        if context.query and context.graphql_document is None:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self.documents.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        rules = (*context.validation_rules, *self.documents.rules)
        context.validation_rules = rules
        document = context.graphql_document
        if context.query and document is not None and document is self.documents.cached(context.query):
            context.pre_execution_errors = self.documents.validate(
                context.schema._schema, context.query, document, rules
            )
        yield


class Schema(strawberry.Schema):
    documents: Documents

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
    documents = Documents(config.max_tokens, tuple(limits))
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Plain objects (a stored recommendation's offers, reasons, products) in one pass.
        execution_context_class=PlainFieldsExecutor,
        extensions=[
            ErrorsAndMetrics,
            # Factories, not instances: one extension object per request; what they share is
            # the document cache (parsing and validating the same text again costs more than
            # running it).
            partial(DocumentLimits, documents),
        ],
    )
    schema.documents = documents
    roots = (schema._schema.query_type, schema._schema.mutation_type, schema._schema.subscription_type)
    ErrorsAndMetrics.known_fields = {name for root in roots if root is not None for name in root.fields}
    return schema


def sdl() -> str:
    """The schema in SDL, as `recsys api schema` prints it and schema.graphql holds it."""
    return build_schema().as_str() + "\n"


__all__ = ["Context", "Schema", "build_schema", "context_for", "sdl"]

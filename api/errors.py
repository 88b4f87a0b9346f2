"""Error codes the API returns in `errors[].extensions.code`, and the schema extension that
sets them, masks everything unexpected and records request metrics.

Codes: BAD_USER_INPUT (with extensions.field), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
RATE_LIMITED, UNAVAILABLE (a dependency such as the database is down: retry later; with
extensions.dependency), INTERNAL; GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED for documents
that are not valid GraphQL for this schema (including the depth, token and alias limits).
An unexpected exception is logged here with its traceback and reaches the client as
INTERNAL with a generic message: no stack trace, no SQL.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode
from graphql.language import FieldNode
from strawberry.extensions import SchemaExtension

from api import metrics
from core.db.errors import DB_OUTAGES
from core.services.commands import NotFound as CommandNotFound
from core.services.commands import ValidationError

log = logging.getLogger("api.errors")

BAD_USER_INPUT = "BAD_USER_INPUT"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
RATE_LIMITED = "RATE_LIMITED"
INTERNAL = "INTERNAL"
UNAVAILABLE = "UNAVAILABLE"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class ApiError(Exception):
    """An expected error: its message and code reach the client as they are."""

    code = INTERNAL

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadInput(ApiError):
    code = BAD_USER_INPUT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class Unauthenticated(ApiError):
    code = UNAUTHENTICATED

    def __init__(self, message: str = "authentication required: send a Bearer token") -> None:
        super().__init__(message)


class Forbidden(ApiError):
    code = FORBIDDEN

    def __init__(self, message: str = "not allowed for this role or client") -> None:
        super().__init__(message)


class NotFound(ApiError):
    code = NOT_FOUND


class RateLimited(ApiError):
    code = RATE_LIMITED


def is_not_found(exc: BaseException | None) -> bool:
    """A core NotFound (commands, or the model/analytics services when they are loaded: the
    API imports the model stack only when it first needs it)."""
    if isinstance(exc, CommandNotFound):
        return True
    analytics = sys.modules.get("core.services.analytics")
    return analytics is not None and isinstance(exc, analytics.NotFound)


def camel(name: str) -> str:
    """snake_case argument name -> the GraphQL name (productCode)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def error_body(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    """A GraphQL-shaped error response for answers given before GraphQL runs (401/413/429)."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def coded(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: with a code, unexpected ones masked (and logged)."""
    original = error.original_error
    if isinstance(original, ApiError):
        return error
    if isinstance(original, ValidationError):
        field = camel(original.field)
        return _replace(error, f"{field}: {original.message}", {"code": BAD_USER_INPUT, "field": field})
    if is_not_found(original):
        return _replace(error, str(original), {"code": NOT_FOUND})
    if original is None or isinstance(original, GraphQLError):
        # graphql-core's own errors: syntax, validation (limits included), variable coercion.
        if (error.extensions or {}).get("code"):
            return error
        message = error.message
        if message.startswith("Syntax Error"):
            return _replace(error, message, {"code": PARSE_FAILED})
        if message.startswith("Variable '$"):
            extensions: dict[str, Any] = {"code": BAD_USER_INPUT}
            at = _VARIABLE_PATH.search(message)
            name = at.group(1) if at else message[len("Variable '$") :].split("'", 1)[0]
            extensions["field"] = re.split(r"[.\[\]]+", name.strip(".]"))[-1] if at else name
            return _replace(error, message, extensions)
        return _replace(error, message, {"code": VALIDATION_FAILED})
    if is_outage(original):
        where = ".".join(map(str, error.path or []))
        log.warning("database unavailable in %s: %s", where, type(original).__name__)
        return _replace(
            error,
            "the database is unavailable right now; retry in a few seconds",
            {"code": UNAVAILABLE, "dependency": "database"},
        )
    log.error("unexpected error in %s", ".".join(map(str, error.path or [])) or "request", exc_info=original)
    return _replace(error, "internal error", {"code": INTERNAL})


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, DB_OUTAGES)


def _replace(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions,
        path=error.path, original_error=None, extensions=extensions,
    )  # fmt: skip


_VARIABLE_PATH = re.compile(r" at ([\w.\[\]]+)")


def operation_label(document: Any, known: set[str]) -> str:
    """`query:recommendations` style label: operation type and root fields (schema names only,
    so a client cannot create unbounded label values)."""
    if document is None:
        return "invalid"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            fields = sorted(
                {
                    s.name.value
                    for s in definition.selection_set.selections
                    if isinstance(s, FieldNode) and s.name.value in known
                }
            )
            kind = definition.operation.value
            return f"{kind}:{'+'.join(fields[:4]) or 'none'}"
    return "invalid"


class ErrorsAndMetrics(SchemaExtension):
    """Sets error codes (see module doc), masks unexpected errors, counts and times operations."""

    known_fields: set[str] = set()
    # Label per parsed document (the parser cache hands a text's requests the same one).
    _labels: OrderedDict[int, tuple[Any, str]] = OrderedDict()

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        result = context.result
        errors = getattr(result, "errors", None)
        status = "ok"
        if errors:
            result.errors = [coded(e) for e in errors]  # type: ignore[union-attr]
            status = str((result.errors[0].extensions or {}).get("code", INTERNAL))  # type: ignore[union-attr]
        label = self._label(context.graphql_document)
        metrics.observe(label, status, time.perf_counter() - started)

    def _label(self, document: Any) -> str:
        known = self._labels.get(id(document))
        if known is not None and known[0] is document:
            return known[1]
        label = operation_label(document, self.known_fields)
        if document is not None:
            self._labels[id(document)] = (document, label)
            if len(self._labels) > 256:
                self._labels.popitem(last=False)
        return label

"""The plain JSON POST, answered without strawberry's HTTP view.

Why: nearly every request is `POST /graphql` with a JSON body `{query, variables,
operationName}` and a JSON answer. Strawberry's view is general (GET, multipart uploads,
batches, streaming transports, GraphiQL, content-type parsing through the email package), and
that generality cost about 0.3 ms of the API's CPU per request, a quarter of serving a stored
recommendation. This lane reads such a request with orjson and hands it to the same schema
(same extensions, limits, roles, coded errors, process_result); anything else - another content
type, an Accept asking for a stream, a batch, `extensions` in the body, a body that is not a JSON
object, an operation the method does not allow - goes to strawberry's view unchanged.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api import metrics as prometheus
from api.auth import ANONYMOUS, PRINCIPAL, Principal
from api.errors import ApiError
from api.response_cache import request_key, stored_answer
from api.validated_execution import execute_validated

if TYPE_CHECKING:
    from api.app import GraphQLApp

POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
_FIELDS = frozenset({"query", "variables", "operationName"})


def plain_request(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """The request's {query, variables, operationName} when it is a plain JSON POST, else None."""
    if scope["method"] != "POST":
        return None
    content_type = accept = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"accept":
            accept = value
    if content_type.split(b";", 1)[0].strip().lower() != b"application/json":
        return None
    if b"multipart/" in accept or b"text/event-stream" in accept:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data.keys() <= _FIELDS:
        return None
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str) or not query:
        return None
    if not isinstance(variables, dict | None) or not isinstance(name, str | None):
        return None
    return data


async def answer(view: GraphQLApp, scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
    """Answer a plain JSON POST (True), or leave the request to strawberry's view (False).
    A `recommendations` request whose answer the response cache holds is answered from it, after
    the same role check (api.response_cache)."""
    data = plain_request(scope, body)
    if data is None:
        return False
    started = time.perf_counter()
    request = Request(scope, receive)
    cache = view.state.responses
    probe = None
    if cache is not None:
        key = request_key(data)
        route = cache.route(key, data.get("variables"))
        if route is not None and _allowed(scope.get(PRINCIPAL, ANONYMOUS), route.client_id):
            probe = await cache.probe(view.state.db, key, route)
            cached = cache.get(probe) if probe is not None else None
            if cached is not None:
                prometheus.observe(route.label, "ok", time.perf_counter() - started)
                prometheus.RESPONSE_CACHE.labels("hit").inc()
                await Response(cached, media_type="application/json")(scope, receive, send)
                return True
    sub_response = await view.get_sub_response(request)
    context = await view.get_context(request, sub_response)
    context.probe = probe
    result = None
    if probe is not None and view.state.config.validated_miss:
        context.root_values = {"recommendations": partial(stored_answer, context, probe)}
        result = await execute_validated(view.schema, data, context)
        if result is not None:  # counted as ErrorsAndMetrics counts an error-free operation
            prometheus.observe(probe.route.label, "ok", time.perf_counter() - started)
        else:  # not validated yet, or an error: the full path, from a fresh context
            sub_response = await view.get_sub_response(request)
            context = await view.get_context(request, sub_response)
            context.probe = probe
    try:
        if result is None:
            result = await view.schema.execute(
                data["query"],
                variable_values=data.get("variables"),
                context_value=context,
                operation_name=data.get("operationName"),
                allowed_operation_types=POST_OPERATIONS,
            )
    except (CannotGetOperationTypeError, InvalidOperationTypeError):
        return False  # raised before anything ran: the view answers it as it always has
    response_data = await view.process_result(request, result)
    encoded = view.encode_json(response_data)
    response = Response(encoded, media_type="application/json")
    response.headers.raw.extend(sub_response.headers.raw)
    if sub_response.status_code:
        response.status_code = sub_response.status_code
    # Kept: an error-free answer of a stored row, with no header or status a resolver set.
    plain = not result.errors and not sub_response.headers.raw and not sub_response.status_code
    served = context.served
    if cache is not None and probe is not None and served is not None and plain:
        kept = cache.keep(served, probe, encoded)
        if kept:
            prometheus.RESPONSE_CACHE.labels("miss").inc()
    await response(scope, receive, send)
    return True


def _allowed(principal: Principal, client_id: int) -> bool:
    """The resolver's own role check, before the cache is read; a caller it refuses goes the
    full path, which raises the coded error as always."""
    try:
        principal.require_client(client_id)
    except ApiError:
        return False
    return True

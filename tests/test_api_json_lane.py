"""Which requests the plain JSON lane (api.json_lane) takes; everything else must reach
strawberry's view unchanged (the HTTP behaviour itself is covered in test_api.py)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from api.json_lane import plain_request

QUERY = {"query": "{ products { code } }"}


def scope(
    method: str = "POST", content_type: bytes = b"application/json", accept: bytes = b""
) -> dict[str, Any]:
    headers = [(b"content-type", content_type)] + ([(b"accept", accept)] if accept else [])
    return {"type": "http", "method": method, "headers": headers}


def test_plain_json_posts_take_the_lane() -> None:
    body = {
        "query": "query($id: ID!) { client(id: $id) { id } }",
        "variables": {"id": "1"},
        "operationName": None,
    }
    assert plain_request(scope(), orjson.dumps(body)) == body
    assert plain_request(scope(content_type=b"application/json; charset=utf-8"), orjson.dumps(QUERY)) == QUERY
    assert plain_request(scope(accept=b"application/json"), orjson.dumps(QUERY)) == QUERY


@pytest.mark.parametrize(
    "request_scope, body",
    [
        (scope(method="GET"), orjson.dumps(QUERY)),
        (scope(content_type=b"multipart/form-data; boundary=x"), orjson.dumps(QUERY)),
        (scope(content_type=b"text/plain"), orjson.dumps(QUERY)),
        (scope(accept=b"multipart/mixed;subscriptionSpec=1.0"), orjson.dumps(QUERY)),
        (scope(accept=b"text/event-stream"), orjson.dumps(QUERY)),
        (scope(), b"{not json"),
        (scope(), orjson.dumps([QUERY, QUERY])),  # a batch
        (scope(), orjson.dumps({**QUERY, "extensions": {"persistedQuery": {}}})),
        (scope(), orjson.dumps({"query": 3})),
        (scope(), orjson.dumps({"query": ""})),
        (scope(), orjson.dumps({**QUERY, "variables": [1]})),
        (scope(), orjson.dumps({**QUERY, "operationName": 5})),
    ],
)
def test_anything_else_goes_to_strawberry(request_scope: dict[str, Any], body: bytes) -> None:
    assert plain_request(request_scope, body) is None

"""The response cache of the `recommendations` query: a stored row's answer, encoded once.

Why: a stored recommendation only changes when a new one is stored for the client or the client
answers one of its offers, yet executing the query (about a hundred fields, the result
shaped, checked and encoded) cost the API twice the CPU of the bare route serving the same row
(issue 17). So the encoded answer is kept, per process, in a bounded LRU keyed by

  * the request: query text, operation name and variables (they fix the client and fields),
  * the stored recommendation's id (a new recommendation has a new id: the key changes),
  * the offers' answers, when the document selects `Offer.response` (respondToOffer updates
    the offer log in place, so the answers themselves are the version).

A request whose document the cache has answered before runs, in order: the guard (token, rate
limit, body size: before the app), the resolver's own role check (`require_client` of the
client the document names), one SQL that reads the client's latest stored row and its answers,
then the look-up. A role check that fails, or no stored row, leaves the request to the full
path, which answers exactly as it does without the cache (errors are never cached). On a miss the
row just read is handed to the resolver (and the answers to its DataLoader), so the miss path
costs no extra query; the answer it produces is kept when the execution served that same row.

Only documents whose one root field is `recommendations` (a query, no directive on it) are
cached; every principal allowed to see the client gets the same answer (the query's answer does
not depend on the role once the check passed). Other strategies and decisions made now are
never noted by the resolver, so they are never cached.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType, parse

from api.db import Database, jsonb
from api.errors import ErrorsAndMetrics, operation_label
from api.types.offers import REC_COLUMNS

# The client's newest stored row (as api.lookups reads it) and, in the same query, the latest
# answer to each of its offers (as api.loaders.Loaders._responses reads them).
LATEST_WITH_ANSWERS_SQL = f"""
SELECT {", ".join(f"r.{c.strip()}" for c in REC_COLUMNS.split(","))},
    (SELECT jsonb_object_agg(a.product_code, a.response) FROM (
        SELECT DISTINCT ON (o.product_code) o.product_code, o.response FROM offer_log o
        WHERE o.client_id = r.client_id AND o.recommendation_id = r.id AND o.response IS NOT NULL
        ORDER BY o.product_code, o.id DESC) a) AS answers
FROM recommendation r WHERE r.client_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT 1
"""

RequestKey = tuple[str, str | None, bytes]


@dataclass(frozen=True)
class Shape:
    """What the cache knows of a document (per query text and operation name)."""

    cacheable: bool  # one root field, `recommendations`, of a query
    answers: bool  # selects Offer.response somewhere (a field named `response`)
    label: str  # the operation's metrics label (api.errors.operation_label)


@dataclass(frozen=True)
class Route:
    """A request the cache has answered: the client its variables name, and its document's shape."""

    client_id: int
    answers: bool
    label: str


@dataclass
class Served:
    """What the resolvers of one request served (set on the Context): the stored row's client
    and id, and the offers' answers when `Offer.response` was resolved."""

    client_id: int
    recommendation_id: int
    answers: dict[str, str] | None = None


@dataclass
class Probe:
    """The latest stored row read before execution, and the key its answer has."""

    key: RequestKey
    route: Route
    row: Any
    answers: dict[str, str]

    @property
    def version(self) -> tuple[int, str | None]:
        return int(self.row["id"]), answers_version(self.answers) if self.route.answers else None


def answers_version(answers: dict[str, str]) -> str:
    return ",".join(f"{code}={value}" for code, value in sorted(answers.items()))


def request_key(data: dict[str, Any]) -> RequestKey:
    variables = data.get("variables") or {}
    return data["query"], data.get("operationName"), orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)


def shape_of(document: DocumentNode, operation_name: str | None) -> Shape:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    label = operation_label(document, ErrorsAndMetrics.known_fields)
    if len(operations) != 1:
        return Shape(False, False, label)
    operation = operations[0]
    roots = operation.selection_set.selections
    cacheable = (
        operation.operation is OperationType.QUERY
        and not operation.directives
        and len(roots) == 1
        and isinstance(roots[0], FieldNode)
        and roots[0].name.value == "recommendations"
        and not roots[0].directives
    )
    return Shape(cacheable, _selects(document, "response"), label)


def _selects(node: Any, name: str) -> bool:
    """Whether any field of the document (fragments included) is called `name`."""
    if isinstance(node, FieldNode) and node.name.value == name:
        return True
    children = getattr(node, "definitions", None) or getattr(
        getattr(node, "selection_set", None), "selections", None
    )
    return any(_selects(child, name) for child in children or ())


class ResponseCache:
    """Encoded `recommendations` answers, per process: a bounded LRU (`maxsize` answers, and
    as many request routes and document shapes)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._bodies: OrderedDict[tuple[RequestKey, tuple[int, str | None]], bytes] = OrderedDict()
        self._routes: OrderedDict[RequestKey, Route] = OrderedDict()
        self._shapes: OrderedDict[tuple[str, str | None], Shape] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def route(self, key: RequestKey) -> Route | None:
        return self._routes.get(key)

    async def probe(self, db: Database, key: RequestKey, route: Route) -> Probe | None:
        """The client's latest stored row and its answers (one query), or None without one."""
        row = await db.fetchrow(LATEST_WITH_ANSWERS_SQL, route.client_id)
        if row is None:
            return None
        return Probe(key, route, row, jsonb(row["answers"]) or {})

    def get(self, probe: Probe) -> bytes | None:
        entry = (probe.key, probe.version)
        body = self._bodies.get(entry)
        if body is not None:
            self._bodies.move_to_end(entry)
            self._routes.move_to_end(probe.key)
            self.hits += 1
        return body

    def keep(self, key: RequestKey, served: Served, probe: Probe | None, body: bytes) -> bool:
        """Keep the answer of an error-free execution that served a stored row (the resolver
        noted it): under the row's id and the answers it showed. Returns whether it was kept."""
        shape = self._shape(key)
        if not shape.cacheable:
            return False
        answers = served.answers
        if shape.answers and answers is None:
            # Offer.response was not resolved (no offers): the answers the probe read, if it
            # read this row, are the version; without a probe the next request will probe.
            if probe is None or int(probe.row["id"]) != served.recommendation_id:
                return False
            answers = probe.answers
        version = (served.recommendation_id, answers_version(answers or {}) if shape.answers else None)
        self.misses += 1
        self._put(self._routes, key, Route(served.client_id, shape.answers, shape.label))
        self._put(self._bodies, (key, version), body)
        return True

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "answers": len(self._bodies)}

    def _shape(self, key: RequestKey) -> Shape:
        text, operation_name, _ = key
        shape = self._shapes.get((text, operation_name))
        if shape is None:
            # Parsed once per text here (the execution has validated it: no error was raised).
            shape = shape_of(parse(text), operation_name)
            self._put(self._shapes, (text, operation_name), shape)
        return shape

    def _put(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > self.maxsize:
            cache.popitem(last=False)

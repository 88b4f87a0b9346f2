"""The response cache of the `recommendations` query: a stored row's answer, encoded once.

Why: a stored recommendation only changes when a new one is stored for the client or the client
answers one of its offers, yet executing the query (about a hundred fields, the result
shaped, checked and encoded) cost the API twice the CPU of the bare route serving the same row
(issue 17). So the encoded answer is kept, per process, in a bounded LRU keyed by

  * the request: query text, operation name and variables (they fix the client and fields),
  * the stored recommendation's id (a new recommendation has a new id: the key changes),
  * the offers' answers, when the document selects `Offer.response` (respondToOffer updates
    the offer log in place, so the answers themselves are the version).

For a cacheable document the client is known before execution (the `clientId` argument, a
literal or a variable). Such a request runs, in order: the guard (token, rate limit, body size:
before the app), the resolver's own role check (`require_client` of that client), one SQL that
reads the client's latest stored row (and its offers' answers when the document shows them),
then the look-up. A role check that fails, an argument the resolver would refuse, or no stored
row leaves the request to the full path, which answers exactly as it does without the cache
(errors are never cached). On a miss the row just read is handed to the resolver (and the
answers to its DataLoader), so the miss costs no second query and the resolver completes
without awaiting anything; the answer is kept when the execution served that same row.

Only documents whose one root field is `recommendations` (a query, no directive on it) are
cached; every principal allowed to see the client gets the same answer (the query's answer does
not depend on the role once the check passed). Other strategies and decisions made now are
never noted by the resolver, so they are never cached.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    EnumValueNode,
    FieldNode,
    GraphQLError,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    parse,
)

from api.context import parse_id
from api.db import Database, jsonb
from api.errors import ApiError, ErrorsAndMetrics, operation_label
from api.lookups import LATEST_RECOMMENDATION_SQL
from api.types.offers import REC_COLUMNS, Recommendation, stored_recommendation

if TYPE_CHECKING:
    from api.context import Context

STORED = "UPLIFT_RULES"  # the strategy whose answer is a stored row

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

    cacheable: bool  # one root field, `recommendations`, of a query, for the stored strategy
    answers: bool  # selects Offer.response somewhere (a field named `response`)
    label: str  # the operation's metrics label (api.errors.operation_label)
    client: tuple[str, Any] | None = None  # clientId: ("value", literal) or ("variable", name)
    strategy: str | None = None  # the variable that holds `strategy`, if one does


@dataclass(frozen=True)
class Route:
    """A cacheable request: the client it names, whether its document shows the offers'
    answers, and its metrics label."""

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
    label = operation_label(document, ErrorsAndMetrics.known_fields)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    answers = _selects(document, "response")
    if len(operations) != 1:
        return Shape(False, answers, label)
    operation = operations[0]
    roots = operation.selection_set.selections
    root = roots[0] if len(roots) == 1 else None
    if (
        operation.operation is not OperationType.QUERY
        or operation.directives
        or not isinstance(root, FieldNode)
        or root.name.value != "recommendations"
        or root.directives
    ):
        return Shape(False, answers, label)
    arguments = {a.name.value: a.value for a in root.arguments or ()}
    client = _argument(arguments.get("clientId"))
    strategy = arguments.get("strategy")
    strategy_variable = None
    if isinstance(strategy, VariableNode):
        strategy_variable = strategy.name.value
    elif strategy is not None and not (isinstance(strategy, EnumValueNode) and strategy.value == STORED):
        return Shape(False, answers, label)  # another strategy: computed on demand, never cached
    return Shape(client is not None, answers, label, client, strategy_variable)


def _argument(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, VariableNode):
        return ("variable", value.name.value)
    if isinstance(value, StringValueNode | IntValueNode):
        return ("value", value.value)
    return None


def _selects(node: Any, name: str) -> bool:
    """Whether any field of the document (fragments included) is called `name`."""
    if isinstance(node, FieldNode) and node.name.value == name:
        return True
    children = getattr(node, "definitions", None) or getattr(
        getattr(node, "selection_set", None), "selections", None
    )
    return any(_selects(child, name) for child in children or ())


class ResponseCache:
    """Encoded `recommendations` answers, per process: a bounded LRU of `maxsize` answers (and
    of as many document shapes)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._bodies: OrderedDict[tuple[RequestKey, tuple[int, str | None]], bytes] = OrderedDict()
        self._shapes: OrderedDict[tuple[str, str | None], Shape] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def route(self, key: RequestKey, variables: dict[str, Any] | None) -> Route | None:
        """The client a cacheable request names, or None (not cacheable, or an argument the
        resolver will refuse: the full path reports it)."""
        shape = self._shape(key)
        if not shape.cacheable or shape.client is None:
            return None
        variables = variables or {}
        if shape.strategy is not None and variables.get(shape.strategy) not in (None, STORED):
            return None
        kind, value = shape.client
        if kind == "variable":
            value = variables.get(value)
        if not isinstance(value, str | int) or isinstance(value, bool):
            return None
        try:
            client_id = parse_id(value, "clientId")
        except ApiError:
            return None
        return Route(client_id, shape.answers, shape.label)

    async def probe(self, db: Database, key: RequestKey, route: Route) -> Probe | None:
        """The client's latest stored row and, when the document shows them, its offers'
        answers (one query), or None without a stored row."""
        if route.answers:
            row = await db.fetchrow(LATEST_WITH_ANSWERS_SQL, route.client_id)
        else:
            row = await db.fetchrow(LATEST_RECOMMENDATION_SQL, route.client_id)
        if row is None:
            return None
        return Probe(key, route, row, (jsonb(row["answers"]) or {}) if route.answers else {})

    def get(self, probe: Probe) -> bytes | None:
        entry = (probe.key, probe.version)
        body = self._bodies.get(entry)
        if body is not None:
            self._bodies.move_to_end(entry)
            self.hits += 1
        return body

    def keep(self, served: Served, probe: Probe, body: bytes) -> bool:
        """Keep the answer of an error-free execution that served the row the probe read (the
        resolver noted it), under that row's id and the answers it showed."""
        if served.recommendation_id != int(probe.row["id"]) or served.client_id != probe.route.client_id:
            return False
        if probe.route.answers and served.answers is not None and served.answers != probe.answers:
            return False  # not the answers primed from the probe (cannot happen; never cache it)
        self.misses += 1
        self._put(self._bodies, (probe.key, probe.version), body)
        return True

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "answers": len(self._bodies)}

    def _shape(self, key: RequestKey) -> Shape:
        text, operation_name, _ = key
        shape = self._shapes.get((text, operation_name))
        if shape is None:
            try:
                shape = shape_of(parse(text), operation_name)
            except GraphQLError:  # the full path reports it
                shape = Shape(False, False, "invalid")
            self._put(self._shapes, (text, operation_name), shape)
        return shape

    def _put(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > self.maxsize:
            cache.popitem(last=False)


def stored_answer(context: Context, probe: Probe) -> Recommendation:
    """What `recommendations` resolves to for the stored row read before execution: the offers'
    answers primed in the DataLoader (a miss costs no second query), the row noted as served.
    The resolver (api.queries) returns it; on a validated miss api.execution completes it
    without calling the resolver (Context.root_values)."""
    client_id, rec_id = probe.route.client_id, int(probe.row["id"])
    context.loaders.responses.prime((client_id, rec_id), probe.answers)
    context.served = Served(client_id, rec_id)
    return stored_recommendation(probe.row)

"""A thin client of the RecSys31 GraphQL API: queries over HTTP (httpx), notifications over
the graphql-transport-ws protocol (websockets). The web app talks to nothing else.

Errors come out as two exceptions the pages can show: `ApiUnavailable` (the API cannot be
reached or failed with a 5xx) and `ApiError` (the API answered with GraphQL errors).
Unit tests install an `httpx.MockTransport` with `set_transport`.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000/graphql"
WS_SUBPROTOCOL = "graphql-transport-ws"


class ApiError(Exception):
    """The API answered with GraphQL errors (bad input, forbidden, not found...)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ApiUnavailable(ApiError):
    """The API cannot be reached (down, timing out) or failed with a server error."""


class ApiTimeout(ApiUnavailable):
    """The API took longer than the client's timeout."""


def _dotenv_value(name: str) -> str | None:
    env = Path(".env")
    if not env.is_file():
        return None
    for line in env.read_text(encoding="utf-8", errors="ignore").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip("'\"") or None
    return None


def api_url() -> str:
    """The GraphQL endpoint: RECSYS_API_URL, else API_URL (as for `recsys api`), else .env."""
    return (
        os.environ.get("RECSYS_API_URL")
        or os.environ.get("API_URL")
        or _dotenv_value("API_URL")
        or DEFAULT_API_URL
    )


def ws_url(url: str | None = None) -> str:
    url = url or api_url()
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


_transport: httpx.AsyncBaseTransport | None = None


def set_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Route every HTTP call through `transport` (tests: httpx.MockTransport); None resets."""
    global _transport
    _transport = transport


# --- fragments -----------------------------------------------------------------------------

PRODUCT = "code kind category nameRu nameEn isCredit"
OFFER = (
    f"product {{ {PRODUCT} }} rank probability uplift expectedValue reasonCodes "
    "reasons { feature contribution text } reasonTexts explanation explanationSource response "
    # Both languages at once: the language switch re-renders the cards without a new request.
    "texts { language explanation reasonTexts }"
)
RECOMMENDATION = f"id clientId strategy modelVersion createdAt noContactReason offers {{ {OFFER} }}"
NOTIFICATION = (
    f"id clientId createdAt kind title body readAt product {{ {PRODUCT} }} texts {{ language title body }}"
)
OPERATION = "id occurredAt amount category description"
CLIENT = (
    "id age sex income segment joinChannel provinceCode language marketingConsent "
    f"holdings {{ since product {{ {PRODUCT} }} }}"
)


class GraphQLClient:
    """One call = one POST; `token` goes in the Authorization header."""

    def __init__(
        self,
        token: str | None = None,
        url: str | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.token = token or None
        self.url = url or api_url()
        self.timeout = timeout
        self.transport = transport or _transport

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"query": query, "variables": variables or {}}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
                response = await http.post(self.url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise ApiTimeout(f"no answer within {self.timeout:.0f} s") from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        if response.status_code >= 500:
            raise ApiUnavailable(f"HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise ApiError(f"HTTP {response.status_code}: not a GraphQL answer") from exc
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
            code = (first.get("extensions") or {}).get("code")
            raise ApiError(str(first.get("message", "error")), code)
        if response.status_code >= 400 or not isinstance(payload, dict) or "data" not in payload:
            raise ApiError(f"HTTP {response.status_code}")
        return payload["data"] or {}

    # --- auth ------------------------------------------------------------------------------

    async def clients(self, search: str | None = None, first: int = 20) -> list[dict[str, Any]]:
        q = (
            "query($search: String, $first: Int) { clients(search: $search, first: $first) "
            "{ id age segment income nProducts } }"
        )
        data = await self.execute(q, {"search": search or None, "first": first})
        return list(data.get("clients") or [])

    async def demo_login(self, client_id: str) -> dict[str, Any]:
        q = "mutation($id: ID!) { demoLogin(clientId: $id) { token role clientId expiresAt } }"
        return dict((await self.execute(q, {"id": str(client_id)}))["demoLogin"])

    async def analyst_login(self, password: str) -> dict[str, Any]:
        q = "mutation($p: String!) { analystLogin(password: $p) { token role clientId expiresAt } }"
        return dict((await self.execute(q, {"p": password}))["analystLogin"])

    # --- the client's own data -------------------------------------------------------------

    async def me(self) -> dict[str, Any] | None:
        data = await self.execute(f"query {{ me {{ {CLIENT} }} }}")
        return data.get("me")

    async def products(self, kind: str | None = None) -> list[dict[str, Any]]:
        q = f"query($kind: String) {{ products(kind: $kind) {{ {PRODUCT} }} }}"
        return list((await self.execute(q, {"kind": kind}))["products"] or [])

    async def recommendations(self, client_id: str, strategy: str = "UPLIFT_RULES") -> dict[str, Any]:
        q = (
            "query($id: ID!, $s: Strategy) { recommendations(clientId: $id, strategy: $s) "
            f"{{ {RECOMMENDATION} }} }}"
        )
        return dict((await self.execute(q, {"id": str(client_id), "s": strategy}))["recommendations"])

    async def respond_to_offer(self, client_id: str, product_code: str, response: str) -> dict[str, Any]:
        q = (
            "mutation($id: ID!, $p: String!, $r: OfferResponse!) { respondToOffer(clientId: $id, "
            f"productCode: $p, response: $r) {{ {RECOMMENDATION} }} }}"
        )
        data = await self.execute(q, {"id": str(client_id), "p": product_code, "r": response})
        return dict(data["respondToOffer"])

    async def take_product(self, client_id: str, product_code: str) -> dict[str, Any]:
        q = "mutation($id: ID!, $p: String!) { takeProduct(clientId: $id, productCode: $p) "
        q += f"{{ {CLIENT} }} }}"
        return dict((await self.execute(q, {"id": str(client_id), "p": product_code}))["takeProduct"])

    async def notifications(self, client_id: str, first: int = 20) -> list[dict[str, Any]]:
        q = (
            "query($id: ID!, $first: Int) { notifications(clientId: $id, first: $first) "
            f"{{ {NOTIFICATION} }} }}"
        )
        return list((await self.execute(q, {"id": str(client_id), "first": first}))["notifications"] or [])

    async def mark_notification_read(self, notification_id: str) -> dict[str, Any]:
        q = f"mutation($id: ID!) {{ markNotificationRead(id: $id) {{ {NOTIFICATION} }} }}"
        return dict((await self.execute(q, {"id": str(notification_id)}))["markNotificationRead"])

    async def operations(
        self,
        client_id: str,
        first: int = 20,
        after: str | None = None,
        category: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> dict[str, Any]:
        q = (
            "query($id: ID!, $first: Int, $after: String, $cat: String, $from: Date, $to: Date) "
            "{ client(id: $id) { id operations(first: $first, after: $after, category: $cat, "
            f"dateFrom: $from, dateTo: $to) {{ totalCount pageInfo {{ hasNextPage endCursor }} "
            f"edges {{ cursor node {{ {OPERATION} }} }} }} }} }}"
        )
        variables = {
            "id": str(client_id),
            "first": first,
            "after": after or None,
            "cat": category or None,
            "from": date_from or None,
            "to": date_to or None,
        }
        client = (await self.execute(q, variables)).get("client")
        if client is None:
            raise ApiError("client not found", "NOT_FOUND")
        return dict(client["operations"])

    async def add_operation(self, data: dict[str, Any]) -> dict[str, Any]:
        q = f"mutation($input: AddOperationInput!) {{ addOperation(input: $input) {{ {OPERATION} }} }}"
        return dict((await self.execute(q, {"input": data}))["addOperation"])

    async def register_client(self, data: dict[str, Any]) -> dict[str, Any]:
        q = (
            "mutation($input: RegisterClientInput!) { registerClient(input: $input) { token "
            f"client {{ {CLIENT} }} recommendation {{ {RECOMMENDATION} }} }} }}"
        )
        return dict((await self.execute(q, {"input": data}))["registerClient"])

    # --- analytics -------------------------------------------------------------------------

    async def model_comparison(self) -> dict[str, Any] | None:
        q = "query { modelComparison { version createdAt uplift policy strategies { strategy metrics } } }"
        return (await self.execute(q)).get("modelComparison")

    async def product_profiles(self, product_code: str | None = None) -> list[dict[str, Any]]:
        q = "query($p: String) { productProfiles(productCode: $p) { productCode holders profile } }"
        return list((await self.execute(q, {"p": product_code}))["productProfiles"] or [])

    async def client_probabilities(self, client_id: str) -> list[dict[str, Any]]:
        q = (
            "query($id: ID!) { clientProbabilities(clientId: $id) "
            f"{{ probability held product {{ {PRODUCT} }} }} }}"
        )
        return list((await self.execute(q, {"id": str(client_id)}))["clientProbabilities"] or [])


# --- subscriptions -------------------------------------------------------------------------

NOTIFICATIONS_SUBSCRIPTION = f"subscription {{ notifications {{ {NOTIFICATION} }} }}"


class Subscription:
    """An open graphql-transport-ws subscription; `receive` returns the next payload's data."""

    def __init__(self, ws: Any, sub_id: str) -> None:
        self._ws = ws
        self.id = sub_id

    async def receive(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next `next` payload's data; None when `timeout` passes first (safe to retry)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                raw = await asyncio.wait_for(self._ws.recv(), left)
            except TimeoutError:
                return None
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await self._ws.send(json.dumps({"type": "pong"}))
            elif kind == "next" and message.get("id") == self.id:
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    raise ApiError(str(payload["errors"][0].get("message", "error")))
                return dict(payload.get("data") or {})
            elif kind == "error" and message.get("id") == self.id:
                errors = message.get("payload") or [{}]
                raise ApiError(str(errors[0].get("message", "subscription error")))
            elif kind == "complete" and message.get("id") == self.id:
                raise ApiUnavailable("subscription completed by the server")


@asynccontextmanager
async def subscribe(
    query: str,
    token: str | None,
    variables: dict[str, Any] | None = None,
    url: str | None = None,
    ack_timeout: float = 10.0,
) -> AsyncIterator[Subscription]:
    """Open a websocket, authenticate (token in connection_init), subscribe; close on exit."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        async with connect(
            ws_url(url),
            subprotocols=[WS_SUBPROTOCOL],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=ack_timeout,
        ) as ws:
            init_payload = {"token": token, "Authorization": f"Bearer {token}"} if token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": init_payload}))
            while True:
                ack = json.loads(await asyncio.wait_for(ws.recv(), ack_timeout))
                if ack.get("type") == "connection_ack":
                    break
                if ack.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
            sub_id = uuid.uuid4().hex
            message = {
                "id": sub_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
            await ws.send(json.dumps(message))
            yield Subscription(ws, sub_id)
            with suppress(Exception):
                await ws.send(json.dumps({"id": sub_id, "type": "complete"}))
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise ApiUnavailable(f"subscription: {type(exc).__name__}: {exc}") from exc

"""The notifications subscription (graphql-transport-ws) on a real uvicorn server.

In process: authentication at connection_init, own notifications only, analysts follow a named
client. End to end: an operation added through the API travels outbox -> relay -> broker ->
worker (rescoring, notification) -> notifications topic -> the API's consumer -> the client's
open subscription.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from tests.test_api_helpers import config, ok, settings

pytestmark = pytest.mark.timeout(240)
PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = (
    "subscription($c: ID) { notifications(clientId: $c) { id clientId title body kind product { code } } }"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """uvicorn in this event loop (lifespan on); yields the base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def login(base: str, client_id: int | None = None) -> str:
    if client_id is None:
        query, variables = 'mutation { analystLogin(password: "analyst") { token } }', {}
    else:
        query, variables = "mutation($c: ID!) { demoLogin(clientId: $c) { token } }", {"c": str(client_id)}
    async with httpx.AsyncClient(base_url=f"http://{base}") as http:
        resp = await http.post("/graphql", json={"query": query, "variables": variables})
    data = ok(resp.json())
    return str(next(iter(data.values()))["token"])


@asynccontextmanager
async def subscription(
    base: str, token: str | None, variables: dict[str, Any] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(f"ws://{base}/graphql", subprotocols=[PROTOCOL], open_timeout=10) as ws:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": variables or {}},
                }
            )
        )
        yield ws


async def next_message(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "ping":
            return dict(message)


def error_code(message: dict[str, Any]) -> str:
    """The code of a subscription's error: an `error` message (before execution) or a `next`
    whose result carries errors (raised by the resolver)."""
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors, message
    return str(errors[0]["extensions"]["code"])


async def wait_subscribed(app: Starlette, client_id: int, n: int = 1) -> None:
    hub = app.state.recsys.hub
    deadline = time.monotonic() + 10
    while hub.subscribers(client_id) < n:
        assert time.monotonic() < deadline, "the subscription did not register"
        await asyncio.sleep(0.02)


async def _clients(url: str, n: int) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id FROM client ORDER BY id DESC LIMIT $1", n)
    finally:
        await conn.close()
    return [int(r["id"]) for r in rows]


def message(client_id: int, n: int = 1) -> dict[str, Any]:
    return {
        "notification_id": n,
        "client_id": client_id,
        "created_at": "2026-01-01T10:00:00+00:00",
        "kind": "offer",
        "title": f"title {n}",
        "body": "body",
        "product_code": "recibo",
        "event_id": str(uuid.uuid4()),
    }


async def test_subscription_auth_and_fan_out_in_process(trained_db: str) -> None:
    app = create_app(settings(), config(), db_url=trained_db)
    hub = app.state.recsys.hub
    a, b = await _clients(trained_db, 2)
    async with serve(app) as base:
        token_a, token_b, analyst = await login(base, a), await login(base, b), await login(base)
        # No token: the connection is refused at connection_init.
        async with connect(f"ws://{base}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        async with connect(f"ws://{base}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}})
            )
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
        async with (
            subscription(base, token_a) as ws_a,
            subscription(base, token_b) as ws_b,
            subscription(base, analyst, {"c": str(a)}) as ws_analyst,
        ):
            await wait_subscribed(app, a, 2)
            await wait_subscribed(app, b, 1)
            assert hub.publish_local(a, message(a, 7)) == 2
            for ws in (ws_a, ws_analyst):
                got = await next_message(ws, 5)
                assert got["type"] == "next" and got["id"] == "1"
                note = got["payload"]["data"]["notifications"]
                assert note == {
                    "id": "7", "clientId": str(a), "title": "title 7", "body": "body", "kind": "offer",
                    "product": {"code": "recibo"},
                }  # fmt: skip
            with pytest.raises(asyncio.TimeoutError):  # b hears nothing of a's notifications
                await next_message(ws_b, 0.3)
            hub.publish_local(b, message(b, 8))
            assert (await next_message(ws_b, 5))["payload"]["data"]["notifications"]["id"] == "8"
        # Another client's id: FORBIDDEN; an analyst must name the client.
        async with subscription(base, token_a, {"c": str(b)}) as ws:
            assert error_code(await next_message(ws, 5)) == "FORBIDDEN"
        async with subscription(base, analyst) as ws:
            assert error_code(await next_message(ws, 5)) == "BAD_USER_INPUT"
        assert hub.subscribers(a) == 0 and hub.subscribers(b) == 0


async def _client_with_offers(url: str) -> int:
    """A consenting client never scored before whose decision serves an offer (so the worker's
    first rescoring has a new top offer to notify)."""
    import random

    from core.services.recommend import recommend_for_client

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id FROM client WHERE marketing_consent AND NOT contact_opt_out AND age BETWEEN 25 AND 60 "
            "AND id NOT IN (SELECT client_id FROM recommendation) ORDER BY id DESC LIMIT 20"
        )
    finally:
        await conn.close()
    for r in rows:
        result = await recommend_for_client(int(r["id"]), url, rng=random.Random(0), store=False)
        if result["offers"]:
            return int(r["id"])
    raise AssertionError("no client with a served offer")


async def test_operation_to_notification_end_to_end(trained_db: str, kafka_bootstrap: str) -> None:
    from core.events.runtime import run_relay, run_worker
    from core.settings import get_settings

    cid = await _client_with_offers(trained_db)
    app = create_app(settings(), config(kafka=True), db_url=trained_db, bootstrap=kafka_bootstrap)
    stop = asyncio.Event()
    pipeline_settings = get_settings().model_copy(update={"worker_group": f"api-e2e-{uuid.uuid4().hex[:6]}"})
    tasks: list[asyncio.Task[Any]] = []
    async with serve(app) as base:
        await asyncio.wait_for(app.state.recsys.hub.ready.wait(), 30)
        async with httpx.AsyncClient(base_url=f"http://{base}") as http:
            assert (await http.get("/readyz")).json() == {
                "ready": True,
                "checks": {"database": "ok", "broker": "ok"},
            }
        token = await login(base, cid)
        async with subscription(base, token) as ws:
            await wait_subscribed(app, cid)
            tasks = [
                asyncio.create_task(
                    run_relay(stop, pipeline_settings, url=trained_db, bootstrap=kafka_bootstrap)
                ),
                asyncio.create_task(
                    run_worker(stop, pipeline_settings, url=trained_db, bootstrap=kafka_bootstrap)
                ),
            ]
            try:
                async with httpx.AsyncClient(base_url=f"http://{base}") as http:
                    resp = await http.post(
                        "/graphql",
                        json={
                            "query": "mutation($i: AddOperationInput!) { addOperation(input: $i) { id } }",
                            "variables": {
                                "i": {"clientId": str(cid), "amount": -950.0, "category": "travel"}
                            },
                        },
                        headers={"Authorization": f"Bearer {token}"},
                    )
                ok(resp.json())
                got = await next_message(ws, 90)
            finally:
                stop.set()
                results = await asyncio.gather(*tasks, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    assert got["type"] == "next", got
    note = got["payload"]["data"]["notifications"]
    assert note["clientId"] == str(cid) and note["kind"] == "offer" and note["title"] and note["body"]
    conn = await asyncpg.connect(trained_db)
    try:
        row = await conn.fetchrow(
            "SELECT client_id, title, product_code FROM notification WHERE id = $1", int(note["id"])
        )
    finally:
        await conn.close()
    assert row is not None and row["client_id"] == cid and row["title"] == note["title"]
    assert note["product"]["code"] == row["product_code"]

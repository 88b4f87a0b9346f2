"""The outbox relay: publishes pending outbox rows to Kafka and marks them published.

At-least-once by construction: a row is marked published only after the broker acknowledged
it, and a client event that was published but not processed by a worker within
`republish_after_s` is published again. The embedded broker keeps nothing across restarts,
so this is what makes "nothing lost end to end" true; consumers drop the duplicates by event
id. Several relays may run: rows are claimed with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from core.events import metrics
from core.events.topics import CLIENT_EVENTS

log = logging.getLogger(__name__)

# Channel the outbox's insert trigger notifies (alembic 0003): the relay sleeps until then.
WAKE_CHANNEL = "outbox"

# Topics whose events a worker acknowledges (outbox.processed_at); the others (notifications)
# are done once the broker has them.
TRACKED_TOPICS = frozenset({CLIENT_EVENTS})

_BACKLOG = (
    "SELECT count(*) FILTER (WHERE published_at IS NULL) AS pending, "
    "count(*) FILTER (WHERE published_at IS NOT NULL) AS published "
    "FROM outbox WHERE processed_at IS NULL"
)

_CLAIM = """
SELECT id, event_id, topic, key, event_type, payload, created_at, published_at
FROM outbox
WHERE processed_at IS NULL
  AND (published_at IS NULL OR published_at < now() - make_interval(secs => $1))
ORDER BY id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""


def message_value(row: asyncpg.Record | dict[str, Any]) -> bytes:
    """The JSON a consumer reads: the payload plus event id, type and creation time."""
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    value = {**payload, "event_id": str(row["event_id"]), "event_type": row["event_type"]}
    value.setdefault("created_at", row["created_at"].isoformat())
    return json.dumps(value, default=str).encode()


@dataclass
class RelayStats:
    published: int = 0
    republished: int = 0
    failures: int = 0


class Relay:
    """Moves outbox rows to Kafka. `run` loops until `stop` is set; `publish_once` is one pass."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.05,
        republish_after_s: float = 30.0,
        on_error: Callable[[], Awaitable[object]] | None = None,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
    ) -> None:
        self.pool = pool
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.republish_after_s = republish_after_s
        self.on_error = on_error  # e.g. recreate topics after a broker restart
        self.stats = RelayStats()
        self._backlog_at = 0.0
        self.connect = connect  # a LISTEN connection for the outbox trigger (None: poll only)
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._listen_at = -1.0

    async def measure_backlog(self, every_s: float = 1.0) -> None:
        """Outbox rows not processed yet, for /metrics; at most once per `every_s` (a count
        over the partial index of unprocessed rows, cheap but not free at 20 passes a second)."""
        now = time.monotonic()
        if now - self._backlog_at < every_s:
            return
        self._backlog_at = now
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_BACKLOG)
        metrics.OUTBOX_BACKLOG.labels("pending").set(row["pending"])
        metrics.OUTBOX_BACKLOG.labels("published").set(row["published"])

    async def publish_once(self) -> int:
        """Publish one batch of due rows; returns how many were published."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self.republish_after_s, self.batch_size)
            if not rows:
                return 0
            futures = [
                await self.producer.send(r["topic"], key=r["key"].encode(), value=message_value(r))
                for r in rows
            ]
            await asyncio.gather(*futures)  # broker acks; a failure rolls the claim back
            untracked = [r["id"] for r in rows if r["topic"] not in TRACKED_TOPICS]
            await conn.execute(
                "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL "
                "WHERE id = ANY($1)",
                [r["id"] for r in rows],
            )
            if untracked:
                await conn.execute("UPDATE outbox SET processed_at = now() WHERE id = ANY($1)", untracked)
        again = sum(r["published_at"] is not None for r in rows)
        self.stats.published += len(rows) - again
        self.stats.republished += again
        metrics.RELAY_PUBLISHED.labels("first").inc(len(rows) - again)
        metrics.RELAY_PUBLISHED.labels("again").inc(again)
        if again:
            log.warning("relay re-published %d events not processed in %.0f s", again, self.republish_after_s)
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; broker or database errors are logged and retried.

        Between passes it sleeps until the outbox trigger's NOTIFY (a committed insert) or the
        poll interval, whichever comes first: an event goes out within milliseconds of its
        commit, and polling still covers re-publishing and a lost listening connection."""
        backoff = self.poll_interval_s
        try:
            while not stop.is_set():
                await self._listen()
                self._wake.clear()
                try:
                    n = await self.publish_once()
                    await self.measure_backlog()
                    backoff = self.poll_interval_s
                except Exception as exc:  # noqa: BLE001 - any failure: log, back off, retry
                    self.stats.failures += 1
                    metrics.RELAY_FAILURES.inc()
                    log.warning("relay pass failed (%s: %s); retrying", type(exc).__name__, exc)
                    n, backoff = 0, min(backoff * 2, 2.0)
                    if self.on_error is not None:
                        await self.on_error()
                if n < self.batch_size:
                    await self._sleep(stop, backoff)
        finally:
            await self._unlisten()

    async def _sleep(self, stop: asyncio.Event, timeout: float) -> None:
        """Until stop, a NOTIFY, or `timeout` (the poll interval when no listener is up)."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _listen(self) -> None:
        """(Re)open the LISTEN connection when there is none or it died, at most once a
        second; on failure the relay just polls. A connection of its own, not one of the
        pool's: the pool may take back and replace its connections (a database restart)."""
        if self.connect is None or (self._listener is not None and not self._listener.is_closed()):
            return
        now = time.monotonic()
        if now - self._listen_at < 1.0:
            return
        self._listen_at = now
        await self._unlisten()
        try:
            conn = await asyncio.wait_for(self.connect(), timeout=2.0)
        except Exception as exc:  # noqa: BLE001 - database down: poll until it is back
            log.debug("outbox listener not started (%s)", exc)
            return
        try:
            await conn.add_listener(WAKE_CHANNEL, self._on_notify)
        except Exception as exc:  # noqa: BLE001
            log.debug("outbox listener not started (%s)", exc)
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)
            return
        self._listener = conn

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=1.0)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

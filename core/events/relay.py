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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from core.events.topics import CLIENT_EVENTS

log = logging.getLogger(__name__)

# Topics whose events a worker acknowledges (outbox.processed_at); the others (notifications)
# are done once the broker has them.
TRACKED_TOPICS = frozenset({CLIENT_EVENTS})

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
    ) -> None:
        self.pool = pool
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.republish_after_s = republish_after_s
        self.on_error = on_error  # e.g. recreate topics after a broker restart
        self.stats = RelayStats()

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
        if again:
            log.warning("relay re-published %d events not processed in %.0f s", again, self.republish_after_s)
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; broker or database errors are logged and retried."""
        backoff = self.poll_interval_s
        while not stop.is_set():
            try:
                n = await self.publish_once()
                backoff = self.poll_interval_s
            except Exception as exc:  # noqa: BLE001 - any failure: log, back off, retry
                self.stats.failures += 1
                log.warning("relay pass failed (%s: %s); retrying", type(exc).__name__, exc)
                n, backoff = 0, min(backoff * 2, 2.0)
                if self.on_error is not None:
                    await self.on_error()
            if n < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)

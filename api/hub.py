"""Notifications from Kafka to websocket subscribers of this API process.

One aiokafka consumer per process reads the notifications topic (no consumer group: every
API process must see every notification, and it starts at the latest offset: subscribers
get what arrives while they are connected; older ones are in the `notifications` query).
Messages fan out in process to the queues of the subscribers of that client id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from api.metrics import SUBSCRIBERS
from core.events import NOTIFICATIONS

log = logging.getLogger("api.hub")
QUEUE_SIZE = 100  # per subscriber; a subscriber this far behind loses the oldest messages


class NotificationHub:
    def __init__(self, bootstrap: str | None, topic: str = NOTIFICATIONS) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self._subscribers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # consumer assigned and positioned at the end
        self.received = 0

    @property
    def enabled(self) -> bool:
        return self.bootstrap is not None

    async def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="notification-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self._close_consumer()

    async def _close_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        self.ready.clear()
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _connect(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
            fetch_max_wait_ms=50,  # a notification reaches the websocket now, not at the 500 ms default
        )
        await consumer.start()
        try:
            await consumer.topics()  # fresh metadata
            parts = consumer.partitions_for_topic(self.topic)
            if not parts:
                raise RuntimeError(f"topic {self.topic} does not exist")
            tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_end(*tps)
            for tp in tps:
                await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self.ready.set()
        log.info("notification hub: consuming %s (%d partitions)", self.topic, len(tps))

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                if self._consumer is None:
                    await self._connect()
                    backoff = 0.5
                batches = await self._consumer.getmany(timeout_ms=500, max_records=500)
                for records in batches.values():
                    for record in records:
                        self._dispatch(record.value)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker down or topic missing: retry, keep serving
                log.warning("notification hub: %s; retrying in %.1f s", exc, backoff)
                await self._close_consumer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    def _dispatch(self, raw: bytes | None) -> None:
        try:
            message = json.loads(raw or b"")
            client_id = int(message["client_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("notification hub: skipping a malformed message")
            return
        self.received += 1
        self.publish_local(client_id, message)

    def publish_local(self, client_id: int, message: dict[str, Any]) -> int:
        """Hand a message to this process's subscribers of the client; returns how many."""
        queues = self._subscribers.get(client_id, ())
        for queue in queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)
        return len(queues)

    @contextlib.asynccontextmanager
    async def subscribe(self, client_id: int) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[client_id].add(queue)
        SUBSCRIBERS.inc()
        try:
            yield queue
        finally:
            SUBSCRIBERS.dec()
            subscribers = self._subscribers.get(client_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[client_id]

    def subscribers(self, client_id: int) -> int:
        return len(self._subscribers.get(client_id, ()))

    async def check(self, timeout: float = 2.0) -> bool:
        """Broker reachable now (a metadata round trip on the hub's consumer)."""
        if self._consumer is None:
            return False
        try:
            await asyncio.wait_for(self._consumer.topics(), timeout)
        except Exception:
            return False
        return True

"""The client-events worker: Kafka consumer group in, rescoring and notifications out.

Delivery is at-least-once and the effect exactly-once:
- the offsets of a batch are committed only after its database transaction committed, so a
  crash re-delivers what was not finished;
- the rescorer skips event ids it has already processed (the mark is written in the same
  transaction as the effects), so re-delivery and relay re-publishing change nothing;
- a message that can never be processed (bad JSON, unknown client) or that keeps failing goes
  to the dead-letter topic with its error, is marked processed, and the worker goes on;
- database or broker outages are not the message's fault: the batch is retried (with
  back-off) until they are back, and nothing is dead-lettered for them.
Several worker processes in one group split the partitions (the client id is the key).

Inside one process, up to `lanes` batches are in flight at once when there is a backlog,
each on its own share of the process's partitions, its own connection and transaction, and
its own offset commits. Why: a batch of 500 spends about a quarter of its time waiting on
PostgreSQL (loading features, writing rows), and a second lane's scoring fills that wait.
Without a backlog (at most one batch waiting) one lane takes every partition: two lanes
would each pay a small batch's fixed cost (~0.1 s of scoring) and share one CPU, which
measured slower notifications (p50 209 -> 330 ms at 40 events/s). A lane leases the
partitions it polls until its batch is committed, so in-flight batches never share a
partition, hence never a client (the client id is the key): their transactions never touch
the same rows, and each lane commits only its own partitions' offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from core.db.errors import DB_OUTAGES
from core.events import metrics
from core.events.topics import CLIENT_EVENTS, DEAD_LETTER
from core.services.rescoring import ClientEvent, PoisonEvent, Rescorer

log = logging.getLogger(__name__)

# The second poll of a batch (Worker._poll) waits at most this long for the events that
# arrived while the previous batch was being processed: a fetch round trip, not a batch wait.
TOPUP_POLL_MS = 10
# How often a lane other than the first looks for a backlog to share.
LANE_IDLE_S = 0.02

# Failures that say "a dependency is down", not "this message is bad".
TRANSIENT: tuple[type[BaseException], ...] = (*DB_OUTAGES, KafkaError)


@dataclass
class WorkerStats:
    processed: int = 0
    notifications: int = 0
    dead_lettered: int = 0
    skipped_replays: int = 0
    batches: int = 0
    retries: int = 0


def consumer_for(bootstrap: str, group: str, **kwargs: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        CLIENT_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_records=500,
        fetch_max_wait_ms=50,  # latency: do not sit on a half-empty fetch (default 500 ms)
        # A broker that restarted empty may come back without the topic for a moment (or with
        # it auto-created by a producer's metadata request): refresh the topic's metadata every
        # few seconds instead of every 5 minutes, so the group re-balances onto the partitions
        # that exist within seconds and no event waits minutes for the next refresh.
        metadata_max_age_ms=5000,
        **kwargs,
    )


class Worker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        rescorer: Rescorer,
        *,
        max_attempts: int = 3,
        poll_ms: int = 100,
        max_records: int = 500,
        lanes: int = 1,
    ) -> None:
        self.pool = pool
        self.consumer = consumer
        self.producer = producer
        self.rescorer = rescorer
        self.max_attempts = max_attempts
        self.poll_ms = poll_ms
        self.max_records = max_records
        self.lanes = max(1, lanes)
        self.stats = WorkerStats()
        self._lag_at = 0.0
        self._next_offset: dict[int, int] = {}  # partition -> offset after the last one handled
        self._leased: set[TopicPartition] = set()  # partitions a lane is polling or handling

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; each lane finishes and commits the batch in hand first."""
        await asyncio.gather(*(self._run_lane(lane, stop) for lane in range(self.lanes)))

    def backlog(self) -> int:
        """Events not handled yet on the owned partitions this process has handled events of
        (high water marks from the consumer's last fetches). A partition not handled since
        the start counts 0: its position is not known without a broker round trip, and
        understating only keeps the second lane idle until one batch has been handled."""
        total = 0
        for tp in self.consumer.assignment():
            high, handled = self.consumer.highwater(tp), self._next_offset.get(tp.partition)
            if high is not None and handled is not None:
                total += max(0, high - handled)
        return total

    def take_partitions(self, lane: int) -> list[TopicPartition]:
        """Lease and return the partitions this lane polls next (empty: nothing to do now).

        With a backlog of more than one batch, each lane takes its share of the owned
        partitions (every `lanes`-th, in partition order); otherwise lane 0 takes every
        partition no other lane holds, and the other lanes wait. Re-read before every poll:
        a rebalance changes what the process owns."""
        owned = sorted(self.consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
        if self.lanes > 1 and self.backlog() > self.max_records:
            wanted = owned[lane :: self.lanes]
        else:
            wanted = owned if lane == 0 else []
        mine = [tp for tp in wanted if tp not in self._leased]
        self._leased.update(mine)
        return mine

    def _release(self, partitions: list[TopicPartition]) -> None:
        self._leased.difference_update(partitions)

    async def _run_lane(self, lane: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            partitions = self.take_partitions(lane)
            if not partitions:  # not assigned yet, or no backlog for a second lane
                await asyncio.sleep(self.poll_ms / 1000 if lane == 0 else LANE_IDLE_S)
                continue
            try:
                await self._poll_and_handle(partitions, stop)
            finally:
                self._release(partitions)

    async def _poll_and_handle(self, partitions: list[TopicPartition], stop: asyncio.Event) -> None:
        try:
            records = await self._poll(partitions)
        except KafkaError as exc:  # IllegalStateError too: a partition taken meanwhile
            log.warning("poll failed (%s); retrying", exc)
            await asyncio.sleep(0.5)
            return
        if not records:
            self._measure_lag([], idle=True)
            return
        started = time.perf_counter()
        await self._handle_until_done(records, stop)
        await self._commit(records)
        metrics.WORKER_BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.WORKER_BATCH_EVENTS.observe(len(records))
        self._measure_lag(records)

    async def _commit(self, records: list[ConsumerRecord]) -> None:
        """Commit the offsets after this batch's records, for its own partitions only (a
        plain `commit()` would also commit what another lane has fetched but not finished)."""
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for r in records:  # sorted by partition and offset: the last one wins
            offsets[TopicPartition(r.topic, r.partition)] = OffsetAndMetadata(r.offset + 1, "")
        owned = self.consumer.assignment()
        offsets = {tp: o for tp, o in offsets.items() if tp in owned}
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:  # CommitFailedError, IllegalStateError
            # A rebalance took the partitions: their events come again, and are skipped.
            log.warning("offset commit failed (%s); the batch will be re-delivered and skipped", exc)

    async def _poll(self, partitions: list[TopicPartition]) -> list[ConsumerRecord]:
        """One batch of `partitions`: what the client has fetched so far, plus one short poll
        for what came since.

        Why the second poll: the consumer fetches a partition again only once its fetched
        records are taken, so the first poll after a batch returns what had arrived by that
        batch's start, and the events that arrived during it wait for the whole next batch
        too (on average a full batch instead of half of one). Taking the first poll's records
        starts the next fetch; the broker answers it at once with whatever has arrived, and a
        TOPUP_POLL_MS poll collects it. Measured (bench_events at 40 events/s, six runs each
        side): the wait from publish to the worker's transaction fell from p50 251-373 ms to
        113-171 ms. An idle stream never pays it (no first records), a trickle pays at most
        TOPUP_POLL_MS per batch."""
        batch = await self.consumer.getmany(
            *partitions, timeout_ms=self.poll_ms, max_records=self.max_records
        )
        records = [r for rs in batch.values() for r in rs]
        if records and len(records) < self.max_records:
            more = await self.consumer.getmany(
                *partitions, timeout_ms=TOPUP_POLL_MS, max_records=self.max_records - len(records)
            )
            records += [r for rs in more.values() for r in rs]
        return sorted(records, key=lambda r: (r.partition, r.offset))

    def _measure_lag(self, records: list[ConsumerRecord], idle: bool = False) -> None:
        """Consumer lag per owned partition (high water mark - next offset to consume), for
        /metrics. Synchronous on purpose: `consumer.position()` waits (without bound) for a
        position after a broker restart, which would stall the loop it is measuring. When
        idle, at most once a second: the numbers only change when messages arrive."""
        for r in records:
            self._next_offset[r.partition] = r.offset + 1
        now = time.monotonic()
        if idle and now - self._lag_at < 1.0:
            return
        self._lag_at = now
        owned = {tp.partition: tp for tp in self.consumer.assignment()}
        for partition, tp in owned.items():
            high = self.consumer.highwater(tp)
            if high is not None and partition in self._next_offset:
                metrics.WORKER_LAG.labels(str(partition)).set(max(0, high - self._next_offset[partition]))
        for partition in set(self._next_offset) - set(owned):  # given to another worker
            del self._next_offset[partition]
            with contextlib.suppress(KeyError):
                metrics.WORKER_LAG.remove(str(partition))

    async def _handle_until_done(self, records: list[ConsumerRecord], stop: asyncio.Event) -> None:
        delay = 0.2
        while True:
            try:
                await self.handle(records)
                return
            except TRANSIENT as exc:
                self.stats.retries += 1
                metrics.WORKER_RETRIES.inc()
                log.warning(
                    "dependency down (%s: %s); retrying the batch in %.1f s", type(exc).__name__, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def handle(self, records: list[ConsumerRecord]) -> None:
        """Process one batch: poison to the dead-letter topic, the rest in one transaction
        (or one by one when the batch fails, to isolate the culprit)."""
        self.stats.batches += 1
        events: list[tuple[ConsumerRecord, ClientEvent]] = []
        for rec in records:
            try:
                events.append((rec, ClientEvent.parse(rec.value)))
            except PoisonEvent as exc:
                await self.dead_letter(rec, str(exc), None)
        if not events:
            return
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                outcomes = await self.rescorer.process(conn, [e for _, e in events])
            self._count(outcomes, len(events))
            return
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - isolate the failing event below
            log.warning(
                "batch of %d failed (%s: %s); processing one by one", len(events), type(exc).__name__, exc
            )
        for rec, ev in events:
            await self._one_by_one(rec, ev)

    async def _one_by_one(self, rec: ConsumerRecord, ev: ClientEvent) -> None:
        error = ""
        for attempt in range(self.max_attempts):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    outcomes = await self.rescorer.process(conn, [ev])
                self._count(outcomes, 1)
                return
            except TRANSIENT:
                raise
            except PoisonEvent as exc:
                error = str(exc)
                break
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered with its error
                error = f"{type(exc).__name__}: {exc}"
                await asyncio.sleep(0.05 * 2**attempt)
        await self.dead_letter(rec, error, ev)

    def _count(self, outcomes: list[Any], n: int) -> None:
        notified = sum(o.notification_id is not None for o in outcomes)
        self.stats.processed += len(outcomes)
        self.stats.skipped_replays += n - len(outcomes)
        self.stats.notifications += notified
        metrics.WORKER_EVENTS.labels("processed").inc(len(outcomes))
        metrics.WORKER_EVENTS.labels("skipped_replay").inc(n - len(outcomes))
        metrics.WORKER_NOTIFICATIONS.inc(notified)

    async def dead_letter(self, rec: ConsumerRecord, error: str, ev: ClientEvent | None) -> None:
        """Send the message with its error to the dead-letter topic; mark a parsed event processed
        so that the relay does not re-publish it forever."""
        value = rec.value.decode("utf-8", "replace") if isinstance(rec.value, bytes) else str(rec.value)
        body = {
            "error": error,
            "topic": rec.topic,
            "partition": rec.partition,
            "offset": rec.offset,
            "value": value,
        }
        await self.producer.send_and_wait(DEAD_LETTER, key=rec.key, value=json.dumps(body).encode())
        if ev is not None:
            async with self.pool.acquire() as conn, conn.transaction():
                await self.rescorer.mark_processed(conn, [ev.event_id])
        self.stats.dead_lettered += 1
        metrics.WORKER_EVENTS.labels("dead_lettered").inc()
        log.error("dead-lettered %s[%d]@%d: %s", rec.topic, rec.partition, rec.offset, error)

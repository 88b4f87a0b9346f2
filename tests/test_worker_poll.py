"""The worker's batch poll and lanes, pure unit tests of their logic with a scripted consumer.

The second, short poll is what lets the events that arrived during a batch join the next
one instead of waiting a batch more (the latency measured in bench_events). The lanes keep
two batches in flight on disjoint partitions, and each commits only its own offsets. The
broker-backed behaviour of the whole worker (two lanes by default) is in test_events.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from core.events.worker import TOPUP_POLL_MS, Worker

TOPIC = "t"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


@dataclass(frozen=True)
class _Record:
    partition: int
    offset: int
    topic: str = TOPIC


class _ScriptedConsumer:
    """Answers getmany from a script and records how it was called."""

    def __init__(self, *answers: dict[str, list[_Record]]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[int, int]] = []

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int, max_records: int
    ) -> dict[str, list[_Record]]:
        self.calls.append((timeout_ms, max_records))
        return self.answers.pop(0) if self.answers else {}


def _worker(consumer: Any, max_records: int = 500, lanes: int = 1) -> Worker:
    none: Any = None
    return Worker(none, consumer, none, none, max_records=max_records, lanes=lanes)


async def test_a_batch_takes_what_arrived_since_the_first_poll_in_order() -> None:
    consumer = _ScriptedConsumer(
        {"p1": [_Record(1, 7)], "p0": [_Record(0, 5), _Record(0, 6)]},
        {"p0": [_Record(0, 7)], "p1": [_Record(1, 8)]},
    )
    records = await _worker(consumer)._poll([P0, P1])
    assert [(r.partition, r.offset) for r in records] == [(0, 5), (0, 6), (0, 7), (1, 7), (1, 8)]
    assert consumer.calls[1] == (TOPUP_POLL_MS, 500 - 3)  # short, and never past max_records


async def test_no_second_poll_when_idle_or_full() -> None:
    idle = _ScriptedConsumer({})
    assert await _worker(idle)._poll([P0]) == []
    assert len(idle.calls) == 1  # an idle stream pays no extra wait

    full = _ScriptedConsumer({"p0": [_Record(0, i) for i in range(3)]}, {"p0": [_Record(0, 3)]})
    assert len(await _worker(full, max_records=3)._poll([P0])) == 3
    assert len(full.calls) == 1


class _PartitionedConsumer:
    """A consumer that owns `owned` partitions, each holding `per_partition` records, serves
    only the partitions asked for (spread over them, as a fetch of several partitions is),
    and records the offsets committed."""

    def __init__(self, owned: list[int], per_partition: int) -> None:
        self.owned = {TopicPartition(TOPIC, p) for p in owned}
        self.per_partition = per_partition
        self.pending = {tp: [_Record(tp.partition, o) for o in range(per_partition)] for tp in self.owned}
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.owned)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.per_partition

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int, max_records: int) -> dict[Any, Any]:
        each = -(-max_records // len(partitions))
        out: dict[TopicPartition, list[_Record]] = {}
        for tp in partitions:
            got, self.pending[tp] = self.pending[tp][:each], self.pending[tp][each:]
            if got:
                out[tp] = got
        if not out:
            await asyncio.sleep(timeout_ms / 1000)
        return out

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commits.append({tp: o.offset for tp, o in offsets.items()})


def _handled(worker: Worker, partitions: list[int], offset: int) -> None:
    for p in partitions:  # as Worker._measure_lag records a handled batch
        worker._next_offset[p] = offset


def test_a_second_lane_works_only_on_a_backlog_and_never_on_a_held_partition() -> None:
    consumer = _PartitionedConsumer([0, 1, 2, 3, 4, 5], per_partition=1000)
    worker = _worker(consumer, max_records=500, lanes=2)
    owned = sorted(consumer.owned, key=lambda tp: tp.partition)
    # Nothing handled yet (no known backlog): lane 0 takes every partition, lane 1 none.
    assert worker.take_partitions(0) == owned and worker.take_partitions(1) == []
    worker._release(owned)
    # A backlog of more than one batch: each lane its share, disjoint, together all.
    _handled(worker, [0, 1, 2, 3, 4, 5], 100)
    shares = [worker.take_partitions(0), worker.take_partitions(1)]
    assert [tp.partition for tp in shares[0]] == [0, 2, 4] and [tp.partition for tp in shares[1]] == [1, 3, 5]
    worker._release(shares[0])
    # The backlog drained while lane 1 still handles its batch: lane 0 takes only the rest.
    _handled(worker, [0, 1, 2, 3, 4, 5], 1000)
    assert [tp.partition for tp in worker.take_partitions(0)] == [0, 2, 4]
    assert worker.take_partitions(1) == []


async def test_two_lanes_have_batches_in_flight_at_once_and_commit_only_their_own() -> None:
    consumer = _PartitionedConsumer([0, 1, 2, 3], per_partition=8)
    worker = _worker(consumer, max_records=4, lanes=2)
    stop = asyncio.Event()
    in_flight: list[set[int]] = []
    most = 0
    handled: list[tuple[int, int]] = []

    async def handle(records: list[_Record]) -> None:
        nonlocal most
        mine = {r.partition for r in records}
        assert not any(mine & other for other in in_flight)  # no partition in two batches
        in_flight.append(mine)
        most = max(most, len(in_flight))
        await asyncio.sleep(0.05)  # as the batch's wait on PostgreSQL
        handled.extend((r.partition, r.offset) for r in records)
        in_flight.remove(mine)
        if len(handled) == 32:
            stop.set()

    worker.handle = handle  # type: ignore[method-assign,assignment]
    await asyncio.wait_for(worker.run(stop), timeout=10)
    assert sorted(handled) == [(p, o) for p in range(4) for o in range(8)]
    assert most == 2  # with one batch at a time this stays 1
    last = {tp.partition: offset for commit in consumer.commits for tp, offset in commit.items()}
    assert last == {0: 8, 1: 8, 2: 8, 3: 8}  # the offset after each partition's last record

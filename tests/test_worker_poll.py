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
    only the partitions asked for, and records the offsets committed."""

    def __init__(self, owned: list[int], per_partition: int) -> None:
        self.owned = {TopicPartition(TOPIC, p) for p in owned}
        self.pending = {tp: [_Record(tp.partition, o) for o in range(per_partition)] for tp in self.owned}
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.owned)

    def highwater(self, tp: TopicPartition) -> int | None:
        return None

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int, max_records: int) -> dict[Any, Any]:
        out: dict[TopicPartition, list[_Record]] = {}
        for tp in partitions:
            got, self.pending[tp] = self.pending[tp][:max_records], self.pending[tp][max_records:]
            max_records -= len(got)
            if got:
                out[tp] = got
        if not out:
            await asyncio.sleep(timeout_ms / 1000)
        return out

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commits.append({tp: o.offset for tp, o in offsets.items()})


def test_lanes_split_the_owned_partitions_disjointly_and_cover_them() -> None:
    for owned in ([0, 1, 2, 3, 4, 5], [1, 3, 5], [4], []):
        worker = _worker(_PartitionedConsumer(owned, 0), lanes=2)
        shares = [worker.lane_partitions(lane) for lane in range(2)]
        assert sorted(tp.partition for share in shares for tp in share) == owned
        assert not set(shares[0]) & set(shares[1])
        assert abs(len(shares[0]) - len(shares[1])) <= 1  # balanced: neither lane sits idle


async def test_two_lanes_have_batches_in_flight_at_once_and_commit_only_their_own() -> None:
    consumer = _PartitionedConsumer([0, 1, 2, 3], per_partition=2)
    worker = _worker(consumer, lanes=2)
    stop = asyncio.Event()
    in_flight: set[int] = set()
    overlapped = asyncio.Event()
    handled: list[tuple[int, int]] = []

    async def handle(records: list[_Record]) -> None:
        lane = records[0].partition % 2
        in_flight.add(lane)
        if len(in_flight) == 2:
            overlapped.set()
        # One lane's batch waits (as on PostgreSQL) until the other lane has one in flight
        # too: with one batch at a time this would never happen and the test times out.
        await asyncio.wait_for(overlapped.wait(), timeout=5)
        handled.extend((r.partition, r.offset) for r in records)
        in_flight.discard(lane)
        if len(handled) == 8:
            stop.set()

    worker.handle = handle  # type: ignore[method-assign,assignment]
    await asyncio.wait_for(worker.run(stop), timeout=10)
    assert sorted(handled) == [(p, o) for p in range(4) for o in range(2)]
    for commit in consumer.commits:  # a lane's commit names only its own partitions
        assert {tp.partition % 2 for tp in commit} in ({0}, {1})
    last = {tp.partition: offset for commit in consumer.commits for tp, offset in commit.items()}
    assert last == {0: 2, 1: 2, 2: 2, 3: 2}  # the offset after each partition's last record

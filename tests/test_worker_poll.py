"""The worker's batch poll (Worker._poll), a pure unit test of its logic with a scripted consumer.

The second, short poll is what lets the events that arrived during a batch join the next
one instead of waiting a batch more (the latency measured in bench_events); the broker-backed
behaviour of the whole worker is in test_events.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.events.worker import TOPUP_POLL_MS, Worker


@dataclass(frozen=True)
class _Record:
    partition: int
    offset: int


class _ScriptedConsumer:
    """Answers getmany from a script and records how it was called."""

    def __init__(self, *answers: dict[str, list[_Record]]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[int, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[str, list[_Record]]:
        self.calls.append((timeout_ms, max_records))
        return self.answers.pop(0) if self.answers else {}


def _worker(consumer: _ScriptedConsumer, max_records: int = 500) -> Worker:
    none: Any = None
    return Worker(none, consumer, none, none, max_records=max_records)  # type: ignore[arg-type]


async def test_a_batch_takes_what_arrived_since_the_first_poll_in_order() -> None:
    consumer = _ScriptedConsumer(
        {"p1": [_Record(1, 7)], "p0": [_Record(0, 5), _Record(0, 6)]},
        {"p0": [_Record(0, 7)], "p1": [_Record(1, 8)]},
    )
    records = await _worker(consumer)._poll()
    assert [(r.partition, r.offset) for r in records] == [(0, 5), (0, 6), (0, 7), (1, 7), (1, 8)]
    assert consumer.calls[1] == (TOPUP_POLL_MS, 500 - 3)  # short, and never past max_records


async def test_no_second_poll_when_idle_or_full() -> None:
    idle = _ScriptedConsumer({})
    assert await _worker(idle)._poll() == []
    assert len(idle.calls) == 1  # an idle stream pays no extra wait

    full = _ScriptedConsumer({"p0": [_Record(0, i) for i in range(3)]}, {"p0": [_Record(0, 3)]})
    assert len(await _worker(full, max_records=3)._poll()) == 3
    assert len(full.calls) == 1

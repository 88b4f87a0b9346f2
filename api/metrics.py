"""Prometheus text-format metrics, kept in process (no client library needed).

`recsys_api_requests_total{operation,status}` counts GraphQL operations (and requests refused
before GraphQL: operation "http"), `recsys_api_request_seconds` is their latency histogram,
`recsys_api_subscribers` the open notification subscriptions.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[tuple[str, str], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = defaultdict(float)
        self.totals: dict[str, int] = defaultdict(int)
        self.gauges: dict[str, float] = defaultdict(float)

    def observe(self, operation: str, status: str, seconds: float) -> None:
        with self._lock:
            self.counts[(operation, status)] += 1
            counts = self.buckets.setdefault(operation, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[operation] += seconds
            self.totals[operation] += 1

    def gauge(self, name: str, delta: float) -> None:
        with self._lock:
            self.gauges[name] += delta

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP recsys_api_requests_total GraphQL operations by operation and status.",
                "# TYPE recsys_api_requests_total counter",
            ]
            for (op, status), n in sorted(self.counts.items()):
                lines.append(
                    f'recsys_api_requests_total{{operation="{_escape(op)}",status="{_escape(status)}"}} {n}'
                )
            lines += [
                "# HELP recsys_api_request_seconds GraphQL operation latency.",
                "# TYPE recsys_api_request_seconds histogram",
            ]
            for op, counts in sorted(self.buckets.items()):
                label = _escape(op)
                for bound, n in zip(BUCKETS, counts, strict=True):
                    lines.append(f'recsys_api_request_seconds_bucket{{operation="{label}",le="{bound}"}} {n}')
                lines.append(
                    f'recsys_api_request_seconds_bucket{{operation="{label}",le="+Inf"}} {self.totals[op]}'
                )
                lines.append(f'recsys_api_request_seconds_sum{{operation="{label}"}} {self.sums[op]:.6f}')
                lines.append(f'recsys_api_request_seconds_count{{operation="{label}"}} {self.totals[op]}')
            for name, value in sorted(self.gauges.items()):
                lines += [f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


METRICS = Metrics()

"""The API's Prometheus metrics, on prometheus_client (the exposition format is its job, not ours).

`recsys_api_requests_total{operation,status}` counts GraphQL operations (and requests refused
before GraphQL: operation "http"), `recsys_api_request_seconds{operation}` is their latency
histogram, `recsys_api_subscribers` the open notification subscriptions; the client library
adds the process's own CPU, memory and file-descriptor metrics.

With several API processes (`recsys api --workers N`) each process counts its own requests; when
PROMETHEUS_MULTIPROC_DIR is set (recsys api sets it for N > 1) the processes write their values
there and /metrics answers with the sum over all of them, so one scrape sees the whole API.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

# `_created` timestamps double the series for nothing a dashboard of this API reads.
disable_created_metrics()

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "recsys_api_requests", "GraphQL operations by operation and status.", ["operation", "status"]
)
LATENCY = Histogram(
    "recsys_api_request_seconds", "GraphQL operation latency.", ["operation"], buckets=BUCKETS
)
RESPONSE_CACHE = Counter(
    "recsys_api_response_cache",
    "recommendations answers served from the response cache (hit) or executed and kept (miss).",
    ["result"],
)
SUBSCRIBERS = Gauge("recsys_api_subscribers", "Open notification subscriptions.", multiprocess_mode="livesum")


def observe(operation: str, status: str, seconds: float) -> None:
    """One finished operation (labels are schema names and error codes: a bounded set)."""
    REQUESTS.labels(operation, status).inc()
    LATENCY.labels(operation).observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type: this process's registry, or the sum over all
    API processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

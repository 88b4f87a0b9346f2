"""Prometheus metrics of the event pipeline's processes (relay and worker), via prometheus_client.

Why here and not in the API: the relay and the workers are separate processes with no HTTP
server of their own, so each serves its metrics on a port of its own (`serve_metrics`,
RELAY_METRICS_PORT / WORKER_METRICS_PORT; `recsys up` gives worker i the port + i). A busy
port is logged and skipped: metrics must never stop the pipeline from starting.

The metrics live in the default registry: a process runs one relay or one worker (tests that
run several in one process read deltas, which stay right).
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Worker: what happened to the events it consumed, and how long a batch took.
WORKER_EVENTS = Counter(
    "recsys_worker_events",
    "Client events the worker finished, by outcome (processed, skipped_replay, dead_lettered).",
    ["outcome"],
)
WORKER_NOTIFICATIONS = Counter("recsys_worker_notifications", "Notifications the worker stored and queued.")
WORKER_RETRIES = Counter("recsys_worker_retries", "Batches retried because the database or broker was down.")
WORKER_BATCH_SECONDS = Histogram(
    "recsys_worker_batch_seconds",
    "Wall time of one batch, from poll to database commit.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0),
)
WORKER_BATCH_EVENTS = Histogram(
    "recsys_worker_batch_events",
    "Events per batch (small batches mean low latency; large ones mean the worker is catching up).",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
WORKER_LAG = Gauge(
    "recsys_worker_consumer_lag",
    "Messages on the client-events partitions this worker owns not yet consumed (high water - position).",
    ["partition"],
)

# Relay: what it published, and how much of the outbox is still waiting.
RELAY_PUBLISHED = Counter(
    "recsys_relay_published", "Outbox rows published to the broker (first time, or again).", ["kind"]
)
RELAY_FAILURES = Counter("recsys_relay_failures", "Relay passes that failed (broker or database down).")
OUTBOX_BACKLOG = Gauge(
    "recsys_outbox_backlog",
    "Outbox rows not processed yet, by state (pending: not published; published: awaiting a worker).",
    ["state"],
)

# Every label value shown from the start (at 0): a scraper sees "no dead letters yet", and a
# rate() over the counter has its first point.
for _outcome in ("processed", "skipped_replay", "dead_lettered"):
    WORKER_EVENTS.labels(_outcome)
for _kind in ("first", "again"):
    RELAY_PUBLISHED.labels(_kind)


# (host, port) this process already serves: the server thread lives as long as the process
# (prometheus_client cannot stop it), so a second relay or worker started in the same process
# (a benchmark's throughput run, then its latency run) finds its metrics already served.
_SERVED: set[tuple[str, int]] = set()


def serve_metrics(port: int | None, host: str, what: str) -> bool:
    """Serve /metrics on host:port in a daemon thread; False (and a warning) when the port is
    taken by another process or the port is unset/0 (disabled)."""
    if not port:
        return False
    if (host, port) in _SERVED:
        return True
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        log.warning("%s metrics not served: %s:%d is not available (%s)", what, host, port, exc)
        return False
    _SERVED.add((host, port))
    log.info("%s metrics on http://%s:%d/metrics", what, host, port)
    return True

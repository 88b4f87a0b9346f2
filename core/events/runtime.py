"""Process wiring for the relay and the worker: pools, clients, topics, signals, shutdown.

`run_relay` and `run_worker` run until `stop` is set (SIGTERM/SIGINT in the CLI); they
finish the batch in hand, commit, and close their clients, so a clean stop loses nothing.
The worker's model stack (pandas, CatBoost, scikit-learn...) is imported by `run_worker`
only: the relay needs none of it, and `recsys up` starts both on the same cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg
from aiokafka import AIOKafkaProducer

from core.db.session import database_url
from core.db.urls import plain_url
from core.events.broker import ensure_topics, resolve_bootstrap
from core.events.metrics import serve_metrics
from core.events.relay import Relay
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from core.events.worker import Worker

log = logging.getLogger(__name__)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGTERM and SIGINT (the loop finishes its batch, then exits)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000, linger_ms=5)


async def run_relay(
    stop: asyncio.Event,
    settings: Settings | None = None,
    *,
    url: str | None = None,
    bootstrap: str | None = None,
    on_ready: Callable[[Relay], None] | None = None,
) -> Relay:
    settings = settings or get_settings()
    bootstrap = bootstrap or resolve_bootstrap(settings)
    await ensure_topics(bootstrap)
    dsn = plain_url(url or database_url(settings))
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    producer = producer_for(bootstrap)
    await producer.start()
    relay = Relay(
        pool,
        producer,
        republish_after_s=settings.outbox_republish_s,
        on_error=ensure_topics_cb(bootstrap),
        connect=lambda: asyncpg.connect(dsn),
    )
    serve_metrics(settings.relay_metrics_port, settings.metrics_host, "relay")
    if on_ready:
        on_ready(relay)
    try:
        await relay.run(stop)
    finally:
        await producer.stop()
        await pool.close()
    return relay


def ensure_topics_cb(bootstrap: str) -> Callable[[], Awaitable[None]]:
    """After a failed pass the broker may have restarted empty: recreate the topics."""

    async def _ensure() -> None:
        with contextlib.suppress(Exception):
            await ensure_topics(bootstrap)

    return _ensure


async def run_worker(
    stop: asyncio.Event,
    settings: Settings | None = None,
    *,
    url: str | None = None,
    bootstrap: str | None = None,
    on_ready: Callable[[Worker], None] | None = None,
) -> Worker:
    from core.events.worker import Worker, consumer_for
    from core.explain import make_explainer
    from core.heap import freeze_loaded
    from core.services.registry import load_latest
    from core.services.rescoring import Rescorer

    settings = settings or get_settings()
    bootstrap = bootstrap or resolve_bootstrap(settings)
    await ensure_topics(bootstrap)
    pool = await asyncpg.create_pool(plain_url(url or database_url(settings)), min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            models = await load_latest(conn)
        if models is None:
            raise RuntimeError("no trained model set: run `recsys train` before starting a worker")
        rescorer = Rescorer(models, make_explainer(settings))
        async with pool.acquire() as conn:
            await rescorer.warm_up(conn)
        freeze_loaded()  # no full-collection pauses over the model set (core.heap)
        consumer = consumer_for(bootstrap, settings.worker_group)
        producer = producer_for(bootstrap)
        await consumer.start()
        await producer.start()
        worker = Worker(
            pool,
            consumer,
            producer,
            rescorer,
            max_records=settings.worker_max_records,
            lanes=settings.worker_lanes,
        )
        serve_metrics(settings.worker_metrics_port, settings.metrics_host, "worker")
        if on_ready:
            on_ready(worker)
        try:
            await worker.run(stop)
        finally:
            await consumer.stop()
            await producer.stop()
    finally:
        await pool.close()
    log.info("worker stopped: %s", worker.stats)
    return worker

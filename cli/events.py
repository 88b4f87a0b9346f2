"""`recsys worker`, `recsys relay`, `recsys broker ...`: the event pipeline's processes."""

from __future__ import annotations

import asyncio
import logging

import typer

from cli.common import console, fail, run

broker_app = typer.Typer(help="The embedded Kafka-protocol broker of this folder.", no_args_is_help=True)


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("core").setLevel(logging.INFO)


def worker() -> None:
    """Consume client events: rescore, store the recommendation, notify when the top offer changes.

    Runs until SIGTERM/SIGINT, then finishes and commits the batch in hand. Start several
    processes to split the partitions (same consumer group, WORKER_GROUP).
    """
    from core.events.runtime import run_worker, stop_on_signals

    _configure_logging()

    async def _main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        w = await run_worker(stop, on_ready=lambda _: console.print("[green]worker ready[/]"))
        console.print(f"worker stopped: {w.stats}")

    try:
        run(_main())
    except RuntimeError as exc:
        fail(str(exc))


def relay() -> None:
    """Publish the transactional outbox to Kafka (and re-publish events never processed)."""
    from core.events.runtime import run_relay, stop_on_signals

    _configure_logging()

    async def _main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        r = await run_relay(stop, on_ready=lambda _: console.print("[green]relay ready[/]"))
        console.print(f"relay stopped: {r.stats}")

    run(_main())


@broker_app.command("start")
def broker_start() -> None:
    """Start this state folder's embedded broker (if KAFKA_BOOTSTRAP_SERVERS is unset) and create topics."""
    from core.events.broker import ensure_topics, resolve_bootstrap

    bootstrap = resolve_bootstrap()
    created = run(ensure_topics(bootstrap))
    console.print(f"broker at {bootstrap}; topics created: {', '.join(created) or 'none (all existed)'}")
    print(bootstrap)


@broker_app.command("stop")
def broker_stop() -> None:
    """Stop this state folder's embedded broker (its messages are gone; the outbox re-sends)."""
    from core.events.broker import stop_embedded_broker
    from core.settings import get_settings

    stopped = stop_embedded_broker(get_settings().home)
    console.print("embedded broker stopped" if stopped else "no embedded broker was running")


@broker_app.command("status")
def broker_status() -> None:
    """Print the bootstrap address of the running embedded broker, or fail if none."""
    from core.events.broker import embedded_broker_running
    from core.settings import get_settings

    running = embedded_broker_running(get_settings().home)
    if not running:
        fail("no embedded broker is running for this state folder", code=1)
    print(running)

"""Benchmark: events per second through the worker, and operation-to-notification latency.

    python bench/bench_events.py [--clients 5000] [--events 3000] [--rate 40] [--seconds 20]
                                 [--workers 2] [--reuse-home DIR] [--json]

On a fresh embedded PostgreSQL + embedded broker (or a state folder that already holds data
and a trained model set, e.g. .recsys after `make run`):
1. throughput: `--events` operations (one per client, as far as the population allows) with
   their outbox events are committed at once while
   one worker process (then two) runs; events/s = events / time until all are processed;
2. latency: operations committed one by one at `--rate` per second, each for a client with
   no recent contact (so each should produce a notification); latency = from the commit to
   the notification's arrival on the notifications topic; p50/p95/max.
The template explainer is used (LLM_PROVIDER unset). Numbers only: nothing passes or fails.
With --json the last line of stdout is one JSON object: `events_per_s` and `p95_ms` of ONE
worker (what the targets are about), with p50/max, the clients and notifications behind them,
`worker_busy_share` (the share of its core a worker was on while the events were processed:
below 1, it waited on PostgreSQL or the broker), and the same figures for each larger worker
count under `workers`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

from _setup import ensure_population, migrated_database, recsys, state_home


def start_workers(n: int, env: dict[str, str], home: Path) -> list[tuple[subprocess.Popen[bytes], Path]]:
    procs = []
    for i in range(n):
        log = home / f"bench-worker-{i}-{uuid.uuid4().hex[:4]}.log"
        with open(log, "wb") as out:
            procs.append(
                (
                    subprocess.Popen(
                        recsys("worker"),
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
            )
    deadline = time.monotonic() + 120
    for proc, log in procs:
        while "worker ready" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker failed to start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
    time.sleep(4)  # let the group settle (join + assignment) before the clock starts
    return procs


def stop_workers(procs: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for proc, _ in procs:
        proc.terminate()
    for proc, _ in procs:
        proc.wait(60)


async def insert_events(url: str, clients: list[int], one_tx: bool) -> list[tuple[uuid.UUID, float]]:
    import asyncpg

    from core.events import add_event

    conn = await asyncpg.connect(url)
    out: list[tuple[uuid.UUID, float]] = []
    try:
        if one_tx:
            async with conn.transaction():
                for cid in clients:
                    op = await conn.fetchval(
                        "INSERT INTO operation (client_id, occurred_at, amount, category) "
                        "VALUES ($1, now(), -12.30, 'groceries') RETURNING id",
                        cid,
                    )
                    out.append((await add_event(conn, "operation_added", cid, {"operation_id": op}), 0.0))
            t = time.perf_counter()
            return [(e, t) for e, _ in out]
        for cid in clients:
            async with conn.transaction():
                op = await conn.fetchval(
                    "INSERT INTO operation (client_id, occurred_at, amount, category) "
                    "VALUES ($1, now(), -80.00, 'travel') RETURNING id",
                    cid,
                )
                ev = await add_event(conn, "operation_added", cid, {"operation_id": op})
            out.append((ev, time.perf_counter()))
    finally:
        await conn.close()
    return out


async def wait_processed(url: str, events: list[uuid.UUID], timeout: float) -> float:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = await conn.fetchval(
                "SELECT count(*) FROM processed_event WHERE consumer = 'worker' AND event_id = ANY($1)",
                events,
            )
            if n == len(events):
                return time.perf_counter()
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise SystemExit(f"not all {len(events)} events processed within {timeout:.0f} s")


async def throughput(
    url: str, bootstrap: str, clients: list[int], n_events: int, worker_pids: list[int], pgdata: str
) -> tuple[float, int, int, dict[str, float]]:
    """(events/s, distinct clients, notifications written, CPU ms per event by process group)
    for n_events committed at once. The CPU split says where the two cores went: the
    worker(s), PostgreSQL, this process (the relay and the load), and everything else."""
    import asyncpg

    from core.events.runtime import run_relay
    from core.settings import get_settings

    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(stop, get_settings(), url=url, bootstrap=bootstrap))
    picks = [clients[i % len(clients)] for i in range(n_events)]
    events = await insert_events(url, picks, one_tx=True)
    t0 = events[0][1]
    before = _cpu(worker_pids, pgdata)
    t1 = await wait_processed(url, [e for e, _ in events], timeout=600)
    after = _cpu(worker_pids, pgdata)
    stop.set()
    await relay
    conn = await asyncpg.connect(url)
    try:
        notified = await conn.fetchval(
            "SELECT count(*) FROM notification WHERE event_id = ANY($1)", [e for e, _ in events]
        )
    finally:
        await conn.close()
    used = {k: after[k] - before[k] for k in after}
    cpu = {
        "worker": used["workers"],
        "postgres": used["postgres"],
        "bench_and_relay": used["load_generator"],
        "other": max(0.0, used["machine_busy"] - used["workers"] - used["postgres"] - used["load_generator"]),
        "idle": used["machine_total"] - used["machine_busy"],
    }
    per_event = {k: round(v * 1000 / n_events, 3) for k, v in cpu.items()}
    return n_events / (t1 - t0), len(set(picks)), int(notified), per_event


def _cpu(worker_pids: list[int], pgdata: str) -> dict[str, float]:
    """_measure.cpu_seconds with every worker process counted (their trees)."""
    from _measure import cpu_seconds

    parts = [cpu_seconds(pid, pgdata) for pid in worker_pids]
    out = dict(parts[0])
    out["workers"] = sum(p["api"] for p in parts)
    return out


async def latency(url: str, bootstrap: str, clients: list[int], rate: float, seconds: float) -> list[float]:
    from aiokafka import AIOKafkaConsumer

    from core.events import NOTIFICATIONS
    from core.events.runtime import run_relay
    from core.settings import get_settings

    consumer = AIOKafkaConsumer(
        NOTIFICATIONS,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=50,  # as the API's subscription hub: measure the pipeline, not this poll
    )
    await consumer.start()
    await asyncio.sleep(4)  # joined and positioned at the end before the first commit
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(stop, get_settings(), url=url, bootstrap=bootstrap))
    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}

    async def _consume() -> None:
        while not stop.is_set():
            for recs in (await consumer.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for r in recs:
                    arrived.setdefault(json.loads(r.value).get("trigger_event_id", ""), now)

    reader = asyncio.create_task(_consume())
    n = int(rate * seconds)
    for cid in clients[:n]:
        ((ev, t),) = await insert_events(url, [cid], one_tx=False)
        committed[str(ev)] = t
        await asyncio.sleep(1.0 / rate)
    await wait_processed(url, [uuid.UUID(e) for e in committed], timeout=120)
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(relay, reader)
    await consumer.stop()
    lat = [arrived[e] - t for e, t in committed.items() if e in arrived]
    print(f"  notifications received for {len(lat)} of {len(committed)} events (others: no new offer)")
    return lat


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else float("nan")


def _ms(seconds: float) -> float | None:
    """Milliseconds for the JSON line; None when there was nothing to measure (JSON has no NaN)."""
    return None if math.isnan(seconds) else round(seconds * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--months", type=int, default=8)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="Measure 1..N worker processes.")
    parser.add_argument("--reuse-home", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")
    args = parser.parse_args()

    home = state_home(args.reuse_home, "rse-")
    os.environ.pop("LLM_PROVIDER", None)

    import asyncpg

    from core.events.broker import ensure_topics, resolve_bootstrap
    from core.settings import get_settings

    url = migrated_database()
    bootstrap = resolve_bootstrap(get_settings())
    asyncio.run(ensure_topics(bootstrap))

    async def _clients() -> tuple[list[int], list[int]]:
        """(every client, clients never notified) in random order: throughput uses the first
        (distinct clients, as a stream of many clients' operations looks), latency the second
        (each of their operations should produce a notification)."""
        conn = await asyncpg.connect(url)
        try:
            every = await conn.fetch("SELECT id FROM client ORDER BY random()")
            rows = await conn.fetch(
                "SELECT id FROM client WHERE id NOT IN "
                "(SELECT client_id FROM offer_log WHERE channel = 'push') ORDER BY random()"
            )
            return [int(r["id"]) for r in every], [int(r["id"]) for r in rows]
        finally:
            await conn.close()

    if args.reuse_home is None:
        ensure_population(url, clients=args.clients, months=args.months, seed=31, quick_models=True)
    every, never = asyncio.run(_clients())
    # Latency clients are kept out of the throughput runs, so that they are still untold.
    clients = never[: int(args.rate * args.seconds) * 2]
    reserved = set(clients)
    every = [c for c in every if c not in reserved]
    print(
        f"state {home}: {len(every) + len(clients)} clients ({len(clients)} never notified kept for "
        f"latency), broker {bootstrap}"
    )
    env = {**os.environ, "DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "RECSYS_HOME": str(home)}
    used = 0
    results: dict[int, dict[str, float | int | None]] = {}
    for n_workers in range(1, args.workers + 1):
        env["WORKER_GROUP"] = f"bench-{n_workers}-{uuid.uuid4().hex[:4]}"
        os.environ["WORKER_GROUP"] = env["WORKER_GROUP"]
        procs = start_workers(n_workers, env, home)
        try:
            pids = [proc.pid for proc, _ in procs]
            eps, distinct, notified, cpu = asyncio.run(
                throughput(url, bootstrap, every, args.events, pids, str(home / "pgdata"))
            )
            fresh = clients[used : used + int(args.rate * args.seconds)]
            used += len(fresh)
            lat = asyncio.run(latency(url, bootstrap, fresh, args.rate, args.seconds))
        finally:
            stop_workers(procs)
        print(
            f"workers={n_workers}: {eps:,.0f} events/s sustained ({args.events} events on {distinct} "
            f"clients, {notified} notifications); "
            f"latency commit->notification at {args.rate:.0f}/s: p50 {pct(lat, 50) * 1000:.0f} ms, "
            f"p95 {pct(lat, 95) * 1000:.0f} ms, max {max(lat, default=float('nan')) * 1000:.0f} ms\n"
            f"  CPU ms per event while the {args.events} were processed ({os.cpu_count()} cores = "
            f"{(os.cpu_count() or 1) * 1000 / eps:.2f} ms of core time per event at this rate): "
            + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
        )
        results[n_workers] = {
            "events_per_s": round(eps, 1),
            "p50_ms": _ms(pct(lat, 50)),
            "p95_ms": _ms(pct(lat, 95)),
            "max_ms": _ms(max(lat, default=float("nan"))),
            "events": args.events,
            "distinct_clients": distinct,
            "notifications": notified,
            "latency_samples": len(lat),
            "cpu_ms_per_event": cpu,
            # Share of its core each worker was on during the throughput phase: the host's
            # speed varies by a third between runs here, this much less.
            "worker_busy_share": round(eps * cpu["worker"] / 1000 / n_workers, 3),
        }
    if args.json:
        one = results[1]
        summary = {
            "events_per_s": one["events_per_s"],
            "p95_ms": one["p95_ms"],
            "p50_ms": one["p50_ms"],
            "max_ms": one["max_ms"],
            "distinct_clients": one["distinct_clients"],
            "latency_samples": one["latency_samples"],
            "cpu_ms_per_event": one["cpu_ms_per_event"],
            "worker_busy_share": one["worker_busy_share"],
            "rate_per_s": args.rate,
            "workers": {str(n): r for n, r in results.items()},
        }
        print(json.dumps(summary))


if __name__ == "__main__":
    main()

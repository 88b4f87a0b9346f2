"""Batch decisions for every client: the nightly job that fills the recommendation table.

The API serves a client's latest stored recommendation (a read by index, milliseconds), the
worker refreshes it on each event, and this job covers everyone else, e.g. after a retrain.
Clients are scored in chunks (one feature query and one model call per chunk), decided and
explained one by one (pure code), and stored with one COPY per chunk. Without uplift models
(a bank with holdings only, no offer log yet) the decision layer ranks by take-up x value
and says so on every offer (reason code); the stored items keep each offer's propensity
and exploration flag, so offers delivered from them are logged for learning uplift later.
Counts include the seconds spent scoring, deciding and storing, to see where time goes (summed
over the processes when several share the clients).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import io
import json
import multiprocessing
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from core.catalog import load_catalog
from core.db.session import database_url, raw_connection
from core.decision import load_rules
from core.explain import make_explainer
from core.services.analytics import NotFound
from core.services.explanations import decide_offers, explain_decisions
from core.services.recommend import STRATEGY, score_clients
from core.services.registry import latest_artifact, load_model_set


async def recommend_all(
    url: str | None = None,
    *,
    chunk_size: int = 1000,
    limit: int | None = None,
    seed: int = 31,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> dict[str, float]:
    """Decide and store a recommendation for every client (or the first `limit`); returns counts.

    workers > 1 splits the clients into that many contiguous id ranges, each decided by a
    process of its own (one CPU each: scoring and deciding are CPU-bound Python). Each client's
    exploration draw is seeded by (seed, client id), so the stored offers are the same whatever
    the workers and chunks."""
    url = url or database_url()
    now = datetime.now(UTC)
    async with raw_connection(url) as conn:
        # The folder, not the models: loading them here and again in each process (or again
        # in _decide_range) took seconds; every process loads this one model set once.
        folder = await latest_artifact(conn)
        if folder is None:
            raise NotFound("no trained model set: run `recsys train` first")
        ids = [int(r["id"]) for r in await conn.fetch("SELECT id FROM client ORDER BY id")][:limit]
    if workers <= 1 or len(ids) < 2 * chunk_size:
        return await _decide_range(url, folder, ids, now, seed, chunk_size, progress)
    return await asyncio.to_thread(_in_processes, url, folder, ids, now, seed, chunk_size, workers, progress)


def _in_processes(
    url: str,
    folder: Path,
    ids: list[int],
    now: datetime,
    seed: int,
    chunk_size: int,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, float]:
    """recommend_all's id ranges in `workers` spawned processes; their counts added up."""
    ctx = multiprocessing.get_context("spawn")  # no forked asyncio loop or CatBoost threads
    done = ctx.Value("q", 0)
    step = -(-len(ids) // workers)
    ranges = [ids[i : i + step] for i in range(0, len(ids), step)]
    with concurrent.futures.ProcessPoolExecutor(
        len(ranges), mp_context=ctx, initializer=_child_init, initargs=(done,)
    ) as pool:
        futures = [pool.submit(_child, url, folder, r, now, seed, chunk_size) for r in ranges]
        while not all(f.done() for f in futures):
            concurrent.futures.wait(futures, timeout=0.5)
            if progress:
                progress(int(done.value), len(ids))
        results = [f.result() for f in futures]
    out: dict[str, float] = {k: round(sum(r[k] for r in results), 1) for k in results[0]}
    out["clients"] = len(ids)
    out["uplift_models"] = results[0]["uplift_models"]
    out["workers"] = len(ranges)
    return out


_done: Any = None  # a child's shared counter of decided clients (set by _child_init)


def _child_init(done: Any) -> None:
    global _done
    _done = done


def _child(
    url: str, folder: Path, ids: list[int], now: datetime, seed: int, chunk_size: int
) -> dict[str, float]:
    last = 0

    def tick(n: int, _total: int) -> None:
        nonlocal last
        with _done.get_lock():
            _done.value += n - last
        last = n

    return asyncio.run(_decide_range(url, folder, ids, now, seed, chunk_size, tick))


async def _decide_range(
    url: str,
    folder: Path,
    ids: list[int],
    now: datetime,
    seed: int,
    chunk_size: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, float]:
    catalog = load_catalog()
    rules = load_rules(catalog=catalog)
    explainer = make_explainer()
    stored = with_offers = 0
    seconds = {"score": 0.0, "decide": 0.0, "store": 0.0}
    models = load_model_set(folder)
    async with raw_connection(url) as conn:
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            t = time.perf_counter()
            scored = await score_clients(conn, models, chunk, now, catalog)
            seconds["score"] += time.perf_counter() - t
            t = time.perf_counter()
            decided = [
                (s, decide_offers(s, catalog, rules, random.Random(seed * 1_000_003 + cid)))
                for cid in chunk
                if (s := scored.get(cid))
            ]
            rows = []
            for (s, _), (_, offers) in zip(
                decided, await explain_decisions(decided, catalog, rules, explainer), strict=True
            ):
                rows.append((s.client_id, STRATEGY, models.version, json.dumps(offers, default=str)))
                with_offers += bool(offers)
            seconds["decide"] += time.perf_counter() - t
            t = time.perf_counter()
            await _insert(conn, rows)
            seconds["store"] += time.perf_counter() - t
            stored += len(rows)
            if progress:
                progress(min(start + chunk_size, len(ids)), len(ids))
    return {
        "clients": len(ids),
        "stored": stored,
        "with_offers": with_offers,
        "uplift_models": len(models.uplift),
        **{f"{k}_s": round(v, 1) for k, v in seconds.items()},
    }


async def _insert(conn: asyncpg.Connection, rows: list[tuple[int, str, str, str]]) -> None:
    """One COPY (CSV) for the chunk: a row-by-row INSERT costs a round trip per client."""
    if not rows:
        return
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    await conn.copy_to_table(
        "recommendation",
        source=io.BytesIO(buf.getvalue().encode()),
        columns=["client_id", "strategy", "model_version", "items"],
        format="csv",
    )

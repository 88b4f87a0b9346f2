"""Batch decisions for every client: the nightly job that fills the recommendation table.

The API serves a client's latest stored recommendation (a read by index, milliseconds), the
worker refreshes it on each event, and this job covers everyone else, e.g. after a retrain.
Clients are scored in chunks (one feature query and one model call per chunk), decided and
explained one by one (pure code), and stored with one multi-row insert per chunk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from core.catalog import load_catalog
from core.db.session import database_url, raw_connection
from core.decision import load_rules
from core.explain import make_explainer
from core.services.analytics import NotFound
from core.services.explanations import decide_and_explain
from core.services.recommend import STRATEGY, score_clients
from core.services.registry import load_latest


async def recommend_all(
    url: str | None = None,
    *,
    chunk_size: int = 1000,
    limit: int | None = None,
    seed: int = 31,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Decide and store a recommendation for every client (or the first `limit`); returns counts."""
    catalog = load_catalog()
    rules = load_rules(catalog=catalog)
    explainer = make_explainer()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    stored = with_offers = 0
    async with raw_connection(url or database_url()) as conn:
        models = await load_latest(conn)
        if models is None:
            raise NotFound("no trained model set: run `recsys train` first")
        ids = [int(r["id"]) for r in await conn.fetch("SELECT id FROM client ORDER BY id")][:limit]
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            scored = await score_clients(conn, models, chunk, now, catalog)
            rows = []
            for cid in chunk:
                s = scored.get(cid)
                if s is None:
                    continue
                _, offers = await decide_and_explain(s, catalog, rules, rng, explainer)
                rows.append((cid, STRATEGY, models.version, json.dumps(offers, default=str)))
                with_offers += bool(offers)
            await _insert(conn, rows)
            stored += len(rows)
            if progress:
                progress(min(start + chunk_size, len(ids)), len(ids))
    return {"clients": len(ids), "stored": stored, "with_offers": with_offers}


async def _insert(conn: asyncpg.Connection, rows: list[tuple[int, str, str, str]]) -> None:
    await conn.executemany(
        "INSERT INTO recommendation (client_id, strategy, model_version, items) "
        "VALUES ($1, $2, $3, $4::jsonb)",
        rows,
    )

"""The whole chain on holdings-only data (no operations, no offer log): a small export is
loaded, trained on (with client sampling), evaluated and decided for every client."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from core.data.santander_export import export_santander
from core.data.santander_load import load_santander_file
from core.models.hybrid import HybridParams


@pytest.fixture
def small_sample(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Fit on 500 of the clients: the sampling path runs, the test stays fast."""
    from core.settings import get_settings

    monkeypatch.setenv("TRAIN_MAX_CLIENTS", "500")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_holdings_only_chain(db_url: str, tmp_path: Path, small_sample: None) -> None:
    from core.services.batch import recommend_all
    from core.services.evaluation import evaluate
    from core.services.training import train_and_save

    path = tmp_path / "train.csv"
    export_santander(path, 900, 4, seed=21, chunk_size=900, workers=1)
    await load_santander_file(path, url=db_url)
    params = HybridParams(iterations_any=30, iterations_which=30)
    summary = await train_and_save(db_url, params=params)
    assert summary["uplift"] == {"available": False, "reason": "no offer log"}
    assert 0 < int(summary["train_rows"]) <= 500 * 3  # type: ignore[call-overload]
    result = await evaluate(db_url, params=params, llm_sample=0)
    # tested on everyone who was a client at the cutoff (the test month's newcomers are the
    # cold-start section), trained on a sample
    assert 880 <= result["test"]["clients"] <= 900
    hybrid = result["strategies"]["hybrid"]
    assert hybrid["map@7"] is not None and "map@7_vs_popularity" in hybrid
    counts = await recommend_all(db_url, chunk_size=400)
    assert counts["stored"] == counts["clients"] == 900 and counts["uplift_models"] == 0
    conn = await asyncpg.connect(db_url)
    try:
        n = await conn.fetchval("SELECT count(DISTINCT client_id) FROM recommendation")
        item = await conn.fetchval(
            "SELECT items->0 FROM recommendation WHERE jsonb_array_length(items) > 0 LIMIT 1"
        )
    finally:
        await conn.close()
    assert n == 900 and item is not None
    import json

    offer = json.loads(item)
    assert offer["uplift"] is None and "propensity" in offer  # take-up x value, logged propensity

    # Two processes over two id ranges store the same offers (each client's draw is seeded
    # by the client, not by its place in a chunk or a process).
    parallel = await recommend_all(db_url, chunk_size=200, workers=2)
    assert parallel["workers"] == 2 and parallel["stored"] == parallel["clients"] == 900
    conn = await asyncpg.connect(db_url)
    try:
        runs = await conn.fetch(
            "SELECT client_id, array_agg(items::text ORDER BY id) AS items FROM recommendation "
            "GROUP BY client_id"
        )
    finally:
        await conn.close()
    assert len(runs) == 900 and all(len(r["items"]) == 2 and r["items"][0] == r["items"][1] for r in runs)

"""Analytics use cases: profiles per product, one client's probabilities per product."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.analytics.profiles import median_profiles
from core.catalog import load_catalog
from core.db.session import database_url, raw_connection
from core.features import build_features_db, month_start
from core.models.base import eligibility_mask
from core.services.registry import ModelSet, load_latest


class NotFound(LookupError):
    """A client or a trained model that does not exist (the CLI/API say which)."""


async def latest_month(url: str) -> str:
    async with raw_connection(url) as conn:
        month = await conn.fetchval("SELECT max(month) FROM holding")
    if month is None:
        raise NotFound("no holdings in the database: load or generate data first")
    return str(month_start(int(month.year) * 12 + month.month - 1).date())


async def _models(url: str) -> ModelSet:
    async with raw_connection(url) as conn:
        models = await load_latest(conn)
    if models is None:
        raise NotFound("no trained model set: run `recsys train` first")
    return models


async def product_profiles(url: str | None = None) -> dict[str, Any]:
    url = url or database_url()
    cutoff = await latest_month(url)
    catalog = load_catalog()
    try:
        models = await _models(url)
        clusters = models.clusters
    except NotFound:
        clusters = None
    features = await build_features_db(url, cutoff, products=catalog.bank_codes, clusters=clusters)
    return {"cutoff": cutoff, "profiles": median_profiles(features, catalog.bank_codes)}


async def client_probabilities(
    client_id: int, url: str | None = None, strategy: str = "hybrid"
) -> dict[str, Any]:
    """P(take up) for every product for one client now (held/ineligible products flagged)."""
    url = url or database_url()
    async with raw_connection(url) as conn:
        exists = await conn.fetchval("SELECT 1 FROM client WHERE id = $1", client_id)
    if not exists:
        raise NotFound(f"client {client_id} not found")
    models = await _models(url)
    cutoff = await latest_month(url)
    catalog = load_catalog()
    features = await build_features_db(
        url, cutoff, [client_id], products=models.products, clusters=models.clusters
    )
    if features.empty:
        raise NotFound(f"client {client_id} has no snapshot at {cutoff}")
    scores = models.score(features, strategy)[0]
    ok = eligibility_mask(features, models.products, catalog)[0]
    held = [p for p in models.products if float(features.iloc[0].get(f"hold_{p}_l0", 0)) > 0]
    order = np.argsort(-np.where(ok, scores, -1.0))
    return {
        "client_id": client_id,
        "cutoff": cutoff,
        "strategy": strategy,
        "model_version": models.version,
        "cluster": str(features.iloc[0].get("cluster", "")),
        "held": held,
        "probabilities": [
            {
                "product": models.products[j],
                "name_en": catalog[models.products[j]].name_en,
                "probability": round(float(scores[j]), 6),
                "eligible": bool(ok[j]),
            }
            for j in order
        ],
    }

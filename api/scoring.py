"""Read-side model use for analysts: offers by another strategy, a client's probabilities.

CPU-heavy work (features, CatBoost, SHAP) runs in a worker thread with its own event loop and
database connection, so the API's loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from core.catalog import load_catalog
from core.db.session import raw_connection

if TYPE_CHECKING:  # heavy (pandas, CatBoost, scikit-learn): imported inside the functions
    import pandas as pd

    from core.explain.service import Explainer
    from core.services.registry import ModelSet

T = TypeVar("T")
TOP_K = 5


async def in_thread(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
    """Run a coroutine function to completion in a worker thread (its own loop)."""
    return await asyncio.to_thread(lambda: asyncio.run(fn(*args, **kwargs)))


async def _features(url: str, models: ModelSet, client_id: int) -> pd.DataFrame:
    from core.features import build_features_db
    from core.services.analytics import NotFound

    async with raw_connection(url) as conn:
        X = await build_features_db(
            conn,
            models.serve_cutoff,
            [client_id],
            products=models.products,
            clusters=models.clusters,
            live=True,  # operations added after the serving month count as this month's
        )
    if X.empty:
        raise NotFound(f"client {client_id} has no data at {models.serve_cutoff}")
    return X


class StrategyUnavailable(ValueError):
    pass


async def strategy_offers(
    url: str, models: ModelSet, client_id: int, strategy: str, language: str = "ru", k: int = TOP_K
) -> list[dict[str, Any]]:
    """The top-k eligible products by one strategy's scores, shaped like stored offers."""
    import numpy as np

    from core.decision import load_rules
    from core.models.base import eligibility_mask

    catalog = load_catalog()
    rules = load_rules(catalog=catalog)
    X = await _features(url, models, client_id)
    if strategy == "llm":
        from core.llm.client import ChatClient, LLMUnavailable
        from core.models.llm_only import LLMRecommender
        from core.settings import get_settings

        try:
            chat = ChatClient.from_settings(get_settings())
        except LLMUnavailable as exc:
            raise StrategyUnavailable(str(exc)) from exc
        scores = LLMRecommender(models.products, catalog, chat).predict_proba(X)[0]
    else:
        if strategy != "hybrid" and strategy not in models.baselines:
            raise StrategyUnavailable(f"the model set has no {strategy} strategy")
        scores = models.score(X, strategy)[0]
    uplift = models.uplift_scores(X)[0]
    reasons = models.hybrid.reasons(X)[0] if strategy == "hybrid" else {}
    ok = eligibility_mask(X, models.products, catalog)[0]
    order = [j for j in np.argsort(-scores, kind="stable") if ok[j]][:k]
    offers = []
    for rank, j in enumerate(order, start=1):
        code = models.products[j]
        spec = catalog[code]
        p = float(scores[j])
        up = None if np.isnan(uplift[j]) else round(float(uplift[j]), 6)
        if language == "en":
            text = f"Ranked {rank} by the {strategy} strategy: estimated take-up probability {p:.1%}."
        else:
            text = f"Место {rank} по стратегии {strategy}: оценка вероятности оформления {p:.1%}."
        offers.append(
            {
                "product_code": code,
                "kind": spec.kind,
                "category": spec.category,
                "rank": rank,
                "score": p,
                "p_take": round(p, 6),
                "uplift": up,
                "expected_value": round(p * rules.value(spec), 4),
                "reason_codes": [],
                "reasons": [list(r) for r in reasons.get(code, [])],
                "name": spec.name(language),
                "reason_texts": [],
                "explanation": text,
                "explanation_source": "template",
            }
        )
    return offers


async def client_probabilities(url: str, models: ModelSet, client_id: int) -> list[dict[str, Any]]:
    """P(take up) of every product for one client at the serving cutoff, highest first."""
    from core.models.base import eligibility_mask, held_now

    catalog = load_catalog()
    X = await _features(url, models, client_id)
    scores = models.score(X)[0]
    held = held_now(X, models.products)[0]
    ok = eligibility_mask(X, models.products, catalog)[0]
    rows = [
        {
            "product_code": code,
            "probability": round(float(scores[j]), 6),
            "held": bool(held[j]),
            "eligible": bool(ok[j]),
        }
        for j, code in enumerate(models.products)
    ]
    return sorted(rows, key=lambda r: -r["probability"])


async def decide_and_store(
    url: str, models: ModelSet, client_id: int, explainer: Explainer
) -> dict[str, Any]:
    """The client's current recommendation: the latest stored one, else the decision layer's
    offers now, explained (template or LLM, as the worker does) and stored; the API's path
    when none is stored (a first visit, a registration). Under the client's decision lock, so
    a registration the worker decided first is served, not decided a second time."""
    from core.services.recommend import current_or_decide

    result = await current_or_decide(client_id, url, models=models, rng=random.Random(), explainer=explainer)
    return {
        "offers": result["offers"],
        "recommendation_id": result["recommendation_id"],
        "model_version": result.get("model_version") or models.version,
        "no_contact_reason": result["no_contact_reason"],
    }

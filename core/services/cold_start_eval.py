"""The `cold_start` section of `recsys evaluate`: clients who joined during the test month.

Why a replay: a client who registers is known only from the questionnaire, and what the
bank wants to know is which products to offer first. The clients whose first contract falls
in the test month are scored as the app scores a registration (questionnaire only: no
holdings, operations or offers; read at the cutoff before the test month with seniority 0),
and compared with the products they actually opened that month (their first snapshot: every
product held is an addition, as the Santander competition counted them). The cold-start path
(the hybrid's questionnaire-driven probabilities blended with the rates of the behaviour
cluster of similar clients, core.models.cold_start) is read beside popularity and, on
simulated data, the Bayes ceiling (the newcomers' first-product rates given what the
questionnaire shows) for the same clients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.catalog import Catalog
from core.evaluation.ranking import compare
from core.evaluation.truth import CEILING, truth_matrices
from core.features import build_features, label_columns, make_labels, month_start
from core.features.frames import FeatureFrames, month_indices
from core.models.base import eligibility_mask


def joined_in(clients: pd.DataFrame, month: int) -> np.ndarray:
    """Ids of the clients whose first contract falls in `month` (a month index)."""
    first = clients["first_contract_date"]
    known = first.notna().to_numpy()
    idx = np.full(len(first), -1)
    idx[known] = month_indices(first[known])
    return np.sort(clients["id"].to_numpy()[idx == month])


def registration_features(frames: FeatureFrames, ids: np.ndarray, cutoff: int, models: Any) -> pd.DataFrame:
    """Features of `ids` as the app computes them at registration: questionnaire only."""
    clients = frames.clients[frames.clients["id"].isin(ids)].copy()
    registered = month_start(cutoff)
    clients["first_contract_date"] = clients["first_contract_date"].where(
        clients["first_contract_date"] <= registered, registered
    )
    bare = FeatureFrames(clients=clients)
    return build_features(bare, registered, ids, products=models.products, clusters=models.clusters)


def cold_start_section(
    frames: FeatureFrames,
    models: Any,
    target_month: int,
    catalog: Catalog,
    truth_path: str | None,
    min_clients: int = 20,
) -> dict[str, Any]:
    """MAP@7 and the other ranking metrics of the cold-start path and popularity (and the
    ceiling on simulated data) on the clients who joined in `target_month`."""
    products = models.products
    ids = joined_in(frames.clients, target_month)
    if len(ids) < min_clients:
        return {
            "available": False,
            "reason": f"{len(ids)} clients joined in the test month (need {min_clients})",
        }
    cutoff = target_month - 1
    X = registration_features(frames, ids, cutoff, models)  # sorted by client id, as ids
    labels = make_labels(frames.holdings, ids, cutoff, products)[label_columns(products)].to_numpy()
    actual = np.nan_to_num(labels) > 0
    eligible = eligibility_mask(X, products, catalog) & ~np.isnan(labels)
    scores = {
        "cold_start": models.score(X),  # the blend: what a registered client is shown
        "hybrid_alone": models.hybrid.predict_proba(X),
        "popularity": models.score(X, "popularity"),
    }
    if truth_path:
        ceiling = truth_matrices(truth_path, target_month, ids, products, CEILING)
        if ceiling is not None:
            scores["ceiling"] = ceiling[0]
    categories = [catalog[p].category for p in products]
    popularity = np.clip(models.baselines["popularity"].rates, 1e-6, 1.0)
    result = compare(scores, actual, eligible, categories, popularity, products)
    return {
        "available": True,
        "month": str(month_start(target_month).date()),
        "clients": int(len(ids)),
        "clients_adding": int(actual.any(axis=1).sum()),
        "additions": int(actual.sum()),
        "strategies": result,
    }


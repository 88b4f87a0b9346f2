"""Item-item collaborative filtering on the client x product holdings matrix.

Classic implicit-feedback CF: products are similar when the same clients hold them
(cosine similarity of product columns). A client's score for a product is the
similarity-weighted share of the products they hold, scaled to a probability with the
product's base rate; a client holding nothing falls back to popularity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.base import TrainSet, held_now
from core.models.popularity import PopularityRecommender


class ItemItemCF:
    name = "cf"

    def __init__(self, products: tuple[str, ...], shrinkage: float = 10.0) -> None:
        self.products = products
        self.shrinkage = shrinkage
        self.similarity = np.zeros((len(products), len(products)))
        self.base = PopularityRecommender(products)
        self.scale = np.ones(len(products))

    def fit(self, train: TrainSet) -> ItemItemCF:
        self.base.fit(train)
        H = held_now(train.X, self.products).astype(float)
        co = H.T @ H
        norms = np.sqrt(np.diag(co))
        denom = np.outer(norms, norms) + self.shrinkage
        sim = np.divide(co, denom, out=np.zeros_like(co), where=denom > 0)
        np.fill_diagonal(sim, 0.0)
        self.similarity = sim
        # Calibrate raw CF scores to take-up rates: mean raw score of eligible rows -> rate.
        raw = self._raw(H)
        could = H == 0
        mean_raw = np.where(could, raw, 0).sum(axis=0) / np.maximum(could.sum(axis=0), 1)
        self.scale = np.divide(self.base.rates, mean_raw, out=np.zeros_like(mean_raw), where=mean_raw > 0)
        return self

    def _raw(self, H: np.ndarray) -> np.ndarray:
        n_held = H.sum(axis=1, keepdims=True)
        return (H @ self.similarity) / np.maximum(n_held, 1.0)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        H = held_now(X, self.products).astype(float)
        scores = self._raw(H) * self.scale
        empty = H.sum(axis=1) == 0
        scores[empty] = self.base.rates
        return np.clip(scores, 0.0, 1.0)

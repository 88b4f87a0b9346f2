"""Popularity baseline: every client gets the catalog's average take-up rates.

The rate of product j is its share of additions among training rows that could add it
(did not hold it), so a product everybody already holds is not "popular" for new offers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.base import TrainSet, held_now


class PopularityRecommender:
    name = "popularity"

    def __init__(self, products: tuple[str, ...]) -> None:
        self.products = products
        self.rates = np.zeros(len(products))

    def fit(self, train: TrainSet) -> PopularityRecommender:
        could = ~held_now(train.X, self.products)
        adds = (train.y > 0) & could
        self.rates = adds.sum(axis=0) / np.maximum(could.sum(axis=0), 1)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.tile(self.rates, (len(X), 1))

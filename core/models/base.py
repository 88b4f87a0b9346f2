"""The common interface of every take-up strategy, and the eligibility mask.

Every strategy (hybrid, popularity, rules, collaborative filtering, LLM) maps a feature
frame (one row per client at a cutoff, from `core.features`) to a matrix of scores over the
catalog's bank products: the estimated probability of taking each product up next month.
Products the client cannot take (already held, outside the age limits) are masked by the
evaluator, not by each strategy, so all strategies are judged on the same candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from core.catalog import Catalog


@dataclass
class TrainSet:
    """Stacked training rows: features at cutoffs and next-month additions.

    X: one row per (client, cutoff) with the feature columns; y: (rows x products) 1 where
    the product was added in the month after the cutoff; products: column order of y.
    """

    X: pd.DataFrame
    y: np.ndarray
    products: tuple[str, ...]

    def eligible(self, catalog: Catalog) -> np.ndarray:
        return eligibility_mask(self.X, self.products, catalog)


class Recommender(Protocol):
    name: str
    products: tuple[str, ...]

    def fit(self, train: TrainSet) -> Recommender: ...

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """(rows x products) probabilities of taking each product up next month."""
        ...


def held_now(X: pd.DataFrame, products: tuple[str, ...]) -> np.ndarray:
    cols = [f"hold_{p}_l0" for p in products]
    present = [c for c in cols if c in X.columns]
    out = np.zeros((len(X), len(products)), dtype=bool)
    for j, c in enumerate(cols):
        if c in present:
            out[:, j] = X[c].to_numpy() > 0
    return out


def eligibility_mask(X: pd.DataFrame, products: tuple[str, ...], catalog: Catalog) -> np.ndarray:
    """True where the product can be taken up: not held now and within its age limits."""
    ok = ~held_now(X, products)
    age = pd.to_numeric(X.get("age", pd.Series(np.nan, index=X.index)), errors="coerce").to_numpy()
    for j, code in enumerate(products):
        spec = catalog[code]
        known = ~np.isnan(age)
        too_young = known & (age < spec.min_age)
        too_old = known & (spec.max_age is not None) & (age > (spec.max_age or 0))
        ok[:, j] &= ~(too_young | too_old)
    return ok


def masked(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scores with ineligible products set to -inf (never recommended)."""
    return np.where(mask, scores, -np.inf)

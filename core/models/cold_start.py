"""Cold start: a client known only from the questionnaire.

A new client has no holdings history and no operations, so behaviour features are empty
and the behaviour cluster says nothing. We find similar clients from the questionnaire
(k nearest neighbours on age, income and segment among training clients), take the
behaviour cluster most of them belong to, and blend that cluster's take-up rates with the
hybrid model's questionnaire-driven probabilities. Both parts are explainable: "clients
like you (age, income, segment) most often took up ...".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.models.base import TrainSet, held_now

SEGMENTS = ("top", "individual", "student")


def questionnaire_matrix(X: pd.DataFrame) -> np.ndarray:
    age = pd.to_numeric(X.get("age"), errors="coerce").fillna(40).to_numpy(dtype=float)
    income = pd.to_numeric(X.get("log_income"), errors="coerce").fillna(11).to_numpy(dtype=float)
    seg = X.get("segment", pd.Series("missing", index=X.index)).astype(str).to_numpy()
    onehot = np.stack([(seg == s).astype(float) for s in SEGMENTS], axis=1)
    return np.column_stack([age, income, onehot])


def is_cold(X: pd.DataFrame) -> np.ndarray:
    """No products held now or before, and no operations in the last 6 months."""
    history = pd.to_numeric(X.get("n_held_l0", 0), errors="coerce")
    ops = pd.to_numeric(X.get("ops_cnt_6m", 0), errors="coerce")
    return ((np.asarray(history) == 0) & (np.asarray(ops) == 0)).reshape(len(X))


@dataclass
class ColdStart:
    products: tuple[str, ...]
    weight: float = 0.5  # share of the cluster rates in the blend
    neighbours: int = 25
    cluster_rates: dict[str, np.ndarray] = field(default_factory=dict)
    knn: object | None = None
    overall: np.ndarray | None = None

    def fit(self, train: TrainSet) -> ColdStart:
        X = train.X
        if "cluster" not in X.columns:
            raise ValueError("cold start needs the cluster column in the training features")
        y = np.nan_to_num(np.asarray(train.y, dtype=float)) > 0
        could = ~held_now(X, self.products)
        clusters = X["cluster"].astype(str).to_numpy()
        for c in np.unique(clusters):
            rows = clusters == c
            self.cluster_rates[c] = (y[rows] & could[rows]).sum(0) / np.maximum(could[rows].sum(0), 1)
        self.overall = (y & could).sum(0) / np.maximum(could.sum(0), 1)
        # Learn questionnaire -> behaviour cluster on warm clients (they have a behaviour).
        warm = ~is_cold(X)
        rng = np.random.default_rng(0)
        idx = np.flatnonzero(warm)
        if len(idx) > 20_000:
            idx = rng.choice(idx, 20_000, replace=False)
        if len(idx) >= self.neighbours:
            knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=self.neighbours))
            knn.fit(questionnaire_matrix(X.iloc[idx]), clusters[idx])
            self.knn = knn
        return self

    def similar_cluster(self, X: pd.DataFrame) -> np.ndarray:
        if self.knn is None:
            return np.full(len(X), "", dtype=object)
        return np.asarray(self.knn.predict(questionnaire_matrix(X)), dtype=object)  # type: ignore[attr-defined]

    def blend(self, X: pd.DataFrame, model_scores: np.ndarray) -> np.ndarray:
        """Cold rows: (1-w) model + w cluster rates of similar clients; warm rows unchanged."""
        cold = is_cold(X)
        if not cold.any():
            return model_scores
        out = model_scores.copy()
        clusters = self.similar_cluster(X[cold])
        default = self.overall if self.overall is not None else np.zeros(len(self.products))
        rates = np.stack([self.cluster_rates.get(str(c), default) for c in clusters])
        out[cold] = (1 - self.weight) * model_scores[cold] + self.weight * rates
        return out

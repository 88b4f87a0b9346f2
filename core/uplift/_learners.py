"""Base learners and the causalml meta-learner wrappers behind UpliftModel.

Why wrap: the three causalml classifier meta-learners differ in which base models must be
classifiers (outcome models read with predict_proba) and which regressors (effect models fit
on imputed effects or doubly-robust pseudo-outcomes), in whether they need propensities at
predict time (X) and in how they expose the control outcome. This module hides that, so
UpliftModel only sees `fit(X, treatment, y, p)` and `predict(X, p) -> (p_control, uplift)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from catboost import CatBoostClassifier, CatBoostRegressor
from causalml.inference.meta import BaseDRLearner, BaseTClassifier, BaseXClassifier
from lightgbm import LGBMClassifier, LGBMRegressor

LEARNERS = ("x", "dr", "t", "rr")
BASES = ("catboost", "lightgbm")

logging.getLogger("causalml").setLevel(logging.WARNING)


SUBSPACE_COLUMNS = 64  # wide data: each split considers about this many columns


def feature_fraction(n_columns: int) -> float:
    """Random-subspace share for `n_columns` inputs: all up to SUBSPACE_COLUMNS, then ~64.

    Why: a product's offer rows carry ~700 feature columns and a few thousand rows, so a
    CatBoost fit spends its time scoring splits of every column at every level (4 base
    models of an X-learner: minutes on two busy cores); a random subspace of ~64 columns
    per split cuts that about tenfold and regularises the small, noisy fits."""
    return 1.0 if n_columns <= SUBSPACE_COLUMNS else max(0.05, SUBSPACE_COLUMNS / n_columns)


@dataclass(frozen=True)
class BaseSpec:
    """Size of every base model: modest defaults so ~1M x 400 fits on two cores."""

    base: str = "catboost"
    n_estimators: int = 200
    max_depth: int = 6
    learning_rate: float = 0.08
    random_state: int = 0
    threads: int = -1
    feature_fraction: float = 1.0  # share of the columns each split considers (random subspace)

    def classifier(self) -> Any:
        if self.base == "catboost":
            return CatBoostClassifier(
                iterations=self.n_estimators, depth=self.max_depth, learning_rate=self.learning_rate,
                random_seed=self.random_state, thread_count=self.threads, verbose=0,
                allow_writing_files=False, border_count=64, rsm=self.feature_fraction,
            )
        return LGBMClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            num_leaves=min(2**self.max_depth - 1, 63), learning_rate=self.learning_rate,
            min_child_samples=20, subsample=0.8, subsample_freq=1,
            colsample_bytree=min(0.8, self.feature_fraction),
            random_state=self.random_state, n_jobs=self.threads, verbose=-1,
        )

    def regressor(self) -> Any:
        if self.base == "catboost":
            return CatBoostRegressor(
                iterations=self.n_estimators, depth=self.max_depth, learning_rate=self.learning_rate,
                random_seed=self.random_state, thread_count=self.threads, verbose=0,
                allow_writing_files=False, border_count=64, rsm=self.feature_fraction,
            )
        return LGBMRegressor(
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            num_leaves=min(2**self.max_depth - 1, 63), learning_rate=self.learning_rate,
            min_child_samples=20, subsample=0.8, subsample_freq=1,
            colsample_bytree=min(0.8, self.feature_fraction),
            random_state=self.random_state, n_jobs=self.threads, verbose=-1,
        )


class RiskRatioLearner:
    """Uplift as baseline risk x (risk ratio - 1): one outcome model, one effect number per arm.

    Why: with a few thousand offers per product and 1-3% conversion, learners that model the
    effect's shape per client (X, DR, T) mostly fit noise. Assuming an offer multiplies
    each client's chance by the same factor (a constant relative effect, the classic
    epidemiological simplification) leaves one classifier for the chance without an offer,
    learned from every row (arm as a feature), and one risk ratio per arm, estimated with
    inverse-propensity (Hajek) weights so targeted logs are not biased. It ranks clients by
    their baseline chance within an arm and arms by their ratio; UpliftModel keeps it only
    when its held-out Qini beats the causalml learners.
    """

    def __init__(self, spec: BaseSpec, control_name: str) -> None:
        self.spec = spec
        self.control_name = control_name
        self.arms: list[str] = []
        self.ratio: dict[str, float] = {}

    def _design(self, X: np.ndarray, treatment: np.ndarray | None) -> np.ndarray:
        onehot = np.zeros((len(X), len(self.arms)))
        if treatment is not None:
            for j, arm in enumerate(self.arms):
                onehot[:, j] = treatment == arm
        return np.hstack([X, onehot])

    def fit(self, X: np.ndarray, treatment: np.ndarray, y: np.ndarray, p: dict[str, np.ndarray]) -> None:
        self.arms = sorted(p)
        self.outcome = self.spec.classifier().fit(self._design(X, treatment), y)
        control = treatment == self.control_name
        for arm in self.arms:
            treated = treatment == arm
            e = p[arm]
            w1, w0 = 1.0 / e[treated], 1.0 / (1.0 - e[control])
            rate1 = float((w1 * y[treated]).sum() / max(w1.sum(), 1e-12))
            rate0 = float((w0 * y[control]).sum() / max(w0.sum(), 1e-12))
            self.ratio[arm] = rate1 / rate0 if rate0 > 0 else 1.0

    def predict(self, X: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p_control = self.outcome.predict_proba(self._design(X, None))[:, 1]
        uplift = np.column_stack([p_control * (self.ratio[a] - 1.0) for a in self.arms])
        return np.clip(p_control, 0.0, 1.0), uplift


class MetaLearner:
    """One meta-learner over all arms: causalml's X / DR / T (arms are its treatment groups),
    or the risk-ratio learner above."""

    def __init__(self, kind: str, spec: BaseSpec, control_name: str) -> None:
        if kind not in LEARNERS:
            raise ValueError(f"learner must be one of {LEARNERS}, got {kind!r}")
        self.kind = kind
        self.spec = spec
        self.control_name = control_name
        self.arms: list[str] = []
        if kind == "rr":
            self.model: Any = RiskRatioLearner(spec, control_name)
        elif kind == "x":
            self.model = BaseXClassifier(
                outcome_learner=spec.classifier(), effect_learner=spec.regressor(),
                control_name=control_name,
            )
        elif kind == "dr":
            # causalml's DR fit reads outcome models with .predict, so they are regressors on
            # the 0/1 outcome (a probability estimate); the effect model regresses the
            # doubly-robust pseudo-outcome. Its internal 3-fold cross-fitting uses our p.
            self.model = BaseDRLearner(learner=spec.regressor(), control_name=control_name)
        else:
            self.model = BaseTClassifier(learner=spec.classifier(), control_name=control_name)

    def fit(self, X: np.ndarray, treatment: np.ndarray, y: np.ndarray, p: dict[str, np.ndarray]) -> None:
        """Fit on rows whose treatment is the control or one of the arms in `p`."""
        self.arms = sorted(p)
        if self.kind == "rr":
            self.model.fit(X, treatment, y, p)
        elif self.kind == "x":
            self.model.fit(X, treatment=treatment, y=y, p=p)
        elif self.kind == "dr":
            self.model.fit(X, treatment=treatment, y=y, p=p, seed=self.spec.random_state)
        else:
            self.model.fit(X, treatment=treatment, y=y)

    def predict(self, X: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(p_control of shape n, uplift of shape n x arms in self.arms order)."""
        pp = {arm: p[arm] for arm in self.arms}
        if self.kind == "rr":
            return self.model.predict(X, pp)  # type: ignore[no-any-return]
        te, yhat_cs, _ = self.model.predict(X, p=pp, return_components=True, verbose=False)
        groups = [str(g) for g in self.model.t_groups]
        order = [groups.index(arm) for arm in self.arms]
        if self.kind == "x":  # causalml's X components are imputed effects, not outcomes
            p_control = self.model.model_mu_c.predict_proba(X)[:, 1]
        else:
            p_control = yhat_cs[self.model.t_groups[0]]
        p_control = np.clip(np.asarray(p_control, dtype=float), 0.0, 1.0)
        return p_control, np.asarray(te, dtype=float)[:, order]

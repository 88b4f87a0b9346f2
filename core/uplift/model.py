"""UpliftModel: sklearn-like multi-arm uplift over causalml meta-learners (pure, no DB).

Why this shape: every product offer is an arm against "no offer", and the decision layer needs
per client the chance to convert without an offer and the change each offer makes. The
learners are causalml's X / DR / T classifiers over CatBoost or LightGBM, plus a risk-ratio
learner (one outcome model x one IPW relative effect per arm, _learners.RiskRatioLearner) for
small, noisy logs; propensity is handled here, explicitly (see propensity.py), because offer
logs are mostly targeted, not random.

`learner="auto"` predicts every fit row out of fold with each of x, dr, t and rr
(`selection_folds` folds stratified by arm and outcome; the four learners' predictions are
built on one set of cross-fitted outcome models, _selection.py, instead of each learner
fitting its own in every fold), scores each learner with the inverse-propensity-weighted
Qini coefficient of those predictions averaged over arms (plain Qini when assignment is
random, since the weights are then constant), keeps the best, and refits it on all the
data. Scores land in `selection_`. The candidates are fitted with `selection_scale` of the
trees at 1/`selection_scale` of the learning rate (capped at 0.3), at most 4 deep. Columns constant over
the fit rows are dropped before any base model sees them, and on wide data each split
considers a random subspace of about 64 columns (_learners.feature_fraction).

Size limits (2-core budget): at most `max_rows` rows are used to fit (a per-group random
subsample that keeps at least 2,000 rows of each group), the auto selection runs on at most
`selection_max_rows` of them, and the propensity model on at most 200,000. `fit_info_` says
what was used. `threads=-1` uses every core; on small data or a busy machine `threads=1` is
often faster (LightGBM's thread start-up and contention dominate below ~50k rows).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from core.uplift._frame import FrameEncoder
from core.uplift._learners import BASES, LEARNERS, BaseSpec, MetaLearner, feature_fraction
from core.uplift._selection import describe, oof_uplift
from core.uplift.fast_trees import compile_small_batches
from core.uplift.metrics import auuc, qini_coefficient
from core.uplift.propensity import PropensityModel, arm_propensities, overlap_report

SELECTION_MAX_DEPTH = 4

# The column selection in predict leaves a Fortran-ordered matrix. CatBoost builds each of its
# pools (three per model per batch) from a C-ordered one of a few rows 2.5x faster (~0.8 vs
# ~2 ms), while from hundreds of rows the Fortran order is faster (500 rows, both uplift
# models: 79 vs 109 ms with the copy). Same values either way.
SMALL_BATCH_ROWS = 32


class UpliftModel:
    """Fit once on (X, arm, converted[, logged propensity]); predict p_control and uplift_<arm>."""

    def __init__(
        self,
        learner: str = "auto",
        base: str = "catboost",
        control_name: str = "none",
        propensity_clip: tuple[float, float] = (0.02, 0.98),
        random_state: int = 0,
        n_estimators: int = 200,
        max_depth: int = 6,
        learning_rate: float = 0.08,
        min_rows: int = 30,
        selection_folds: int = 2,
        max_rows: int = 300_000,
        selection_max_rows: int = 100_000,
        threads: int = -1,
        selection_scale: float = 0.4,
    ) -> None:
        if learner not in (*LEARNERS, "auto"):
            raise ValueError(f"learner must be 'auto' or one of {LEARNERS}")
        if base not in BASES:
            raise ValueError(f"base must be one of {BASES}")
        lo, hi = propensity_clip
        if not 0.0 < lo < hi < 1.0:
            raise ValueError("propensity_clip must satisfy 0 < low < high < 1")
        self.learner = learner
        self.base = base
        self.control_name = str(control_name)
        self.propensity_clip = (float(lo), float(hi))
        self.random_state = random_state
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_rows = min_rows
        self.selection_folds = selection_folds
        self.max_rows = max_rows
        self.selection_max_rows = selection_max_rows
        self.threads = threads
        if not 0.0 < selection_scale <= 1.0:
            raise ValueError("selection_scale must lie in (0, 1]")
        self.selection_scale = selection_scale

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: pd.DataFrame,
        treatment: Sequence[Any] | np.ndarray | pd.Series,
        y: Sequence[float] | np.ndarray | pd.Series,
        propensity: Sequence[float] | np.ndarray | pd.Series | None = None,
    ) -> UpliftModel:
        """Fit one arm per non-control value of `treatment`; `propensity` = P(row's arm | x)."""
        started = time.perf_counter()
        t = np.asarray(treatment).astype(str).astype(object)
        yv = np.asarray(y, dtype=float).ravel()
        logged = None if propensity is None else np.asarray(propensity, dtype=float).ravel()
        if not (len(X) == len(t) == len(yv)) or (logged is not None and len(logged) != len(yv)):
            raise ValueError("X, treatment, y (and propensity) must have the same length")
        if not np.isin(yv, (0.0, 1.0)).all():
            raise ValueError("y must be binary 0/1")
        if not (t == self.control_name).any():
            raise ValueError(f"no control rows named {self.control_name!r}")
        if logged is not None and not ((logged > 0) & (logged <= 1)).all():
            raise ValueError("logged propensity must lie in (0, 1]")

        keep = self._subsample(t)
        X, t, yv = X.iloc[keep], t[keep], yv[keep]
        logged = None if logged is None else logged[keep]
        self.encoder_ = FrameEncoder().fit(X)
        Xm = self.encoder_.transform(X)
        # Columns constant over the fit rows never split a tree: dropped once, so no base
        # model quantises them (a product's offers leave many of the ~700 features constant).
        varying = (Xm != Xm[:1]).any(axis=0) if len(Xm) else np.ones(Xm.shape[1], dtype=bool)
        self.active_columns_ = np.flatnonzero(varying)
        Xm = Xm[:, self.active_columns_]

        self.arms_ = sorted(a for a in set(t) if a != self.control_name)
        self.skipped_arms_: dict[str, str] = {}
        control_y = yv[t == self.control_name]
        for arm in self.arms_:
            arm_y = yv[t == arm]
            reason = None
            if len(arm_y) < self.min_rows or len(control_y) < self.min_rows:
                reason = f"too few rows (treated {len(arm_y)}, control {len(control_y)} < {self.min_rows})"
            elif arm_y.sum() == 0 or control_y.sum() == 0:
                reason = "no positive outcomes in the arm or the control"
            if reason:
                self.skipped_arms_[arm] = reason
                warnings.warn(f"uplift arm {arm!r} skipped: {reason}", stacklevel=2)
        self.fitted_arms_ = [a for a in self.arms_ if a not in self.skipped_arms_]
        self.groups_ = [self.control_name, *self.fitted_arms_]

        stage = time.perf_counter()
        used = np.isin(t, self.groups_)
        Xu, tu, yu = Xm[used], t[used], yv[used]
        lu = None if logged is None else logged[used]
        # With one arm and logged propensities every fit row's e is the logged one, so the
        # propensity model is only needed at prediction, and only by X (it weighs its two
        # effect models by e(x)): fitted after the choice, not before (a few seconds per
        # product that T, DR and RR never use).
        self.propensity_model_ = PropensityModel(self.groups_, self.random_state, self.threads)
        deferred = lu is not None and len(self.groups_) == 2
        if deferred:
            proba = np.zeros((len(tu), len(self.groups_)))  # unused: every row has a logged e
        else:
            proba = self.propensity_model_.fit(Xu, tu).proba(Xu)
        e_raw = arm_propensities(proba, self.groups_, tu, lu)
        self.overlap_: dict[str, dict[str, float]] = {}
        for arm, e in e_raw.items():
            rows = (tu == arm) | (tu == self.control_name)
            self.overlap_[arm] = overlap_report(e[rows], tu[rows] == arm, self.propensity_clip)
        e_clip = {arm: np.clip(e, *self.propensity_clip) for arm, e in e_raw.items()}
        seconds = {"propensity": time.perf_counter() - stage}

        self.selection_: dict[str, Any] = {}
        self.learner_ = self.learner if self.learner != "auto" else "t"
        self._control_model: Any = None
        self._meta: MetaLearner | None = None
        if not self.fitted_arms_:
            self._control_model = self._spec().classifier().fit(Xu, yu)
        else:
            if self.learner == "auto":
                stage = time.perf_counter()
                self.learner_ = self._select(Xu, tu, yu, e_clip)
                seconds["selection"] = time.perf_counter() - stage
            stage = time.perf_counter()
            self._meta = MetaLearner(self.learner_, self._spec(), self.control_name)
            self._meta.fit(Xu, tu, yu, e_clip)
            seconds["final"] = time.perf_counter() - stage
        if deferred:
            stage = time.perf_counter()
            if self.learner_ == "x":
                self.propensity_model_.fit(Xu, tu)
            else:  # predict() passes e(x) to learners that ignore it: group shares will do
                self.propensity_model_.use_shares(tu)
            seconds["propensity"] += time.perf_counter() - stage
        self.fit_info_ = {
            "n_rows": int(len(keep) if self._subsampled is None else self._subsampled),
            "n_used": int(used.sum()),
            "subsampled": self._subsampled is not None,
            "propensity": "logged" if logged is not None else "estimated",
            "seconds": round(time.perf_counter() - started, 2),
            "stage_seconds": {k: round(v, 2) for k, v in seconds.items()},
        }
        return self

    def _spec(
        self,
        n_estimators: int | None = None,
        learning_rate: float | None = None,
        max_depth: int | None = None,
    ) -> BaseSpec:
        return BaseSpec(
            base=self.base,
            n_estimators=n_estimators or self.n_estimators,
            max_depth=max_depth or self.max_depth,
            learning_rate=learning_rate or self.learning_rate,
            random_state=self.random_state,
            threads=self.threads,
            feature_fraction=feature_fraction(len(getattr(self, "active_columns_", ()))),
        )

    def _subsample(self, t: np.ndarray) -> np.ndarray:
        """Row positions to fit on: all, or a per-group sample when above max_rows."""
        self._subsampled: int | None = None
        n = len(t)
        if n <= self.max_rows:
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        rate = self.max_rows / n
        parts = []
        for g in np.unique(t):
            rows = np.flatnonzero(t == g)
            k = min(len(rows), max(int(np.ceil(rate * len(rows))), 2000))
            parts.append(rng.choice(rows, k, replace=False))
        self._subsampled = n
        return np.sort(np.concatenate(parts))

    def _select(self, X: np.ndarray, t: np.ndarray, y: np.ndarray, e: dict[str, np.ndarray]) -> str:
        """Pick a learner by the IPW Qini of out-of-fold predictions; records selection_.

        Why folds: a product's log may hold a few dozen conversions; a single held-out
        quarter then judges the learners on a handful of them. Each row is predicted once by
        a model that did not see it (folds stratified by arm and outcome), and one Qini per
        arm is computed over all rows, so every conversion counts.
        """
        rows = np.arange(len(t))
        if len(rows) > self.selection_max_rows:
            rows, _ = train_test_split(
                rows, train_size=self.selection_max_rows, stratify=t, random_state=self.random_state
            )
        strata = np.char.add(t[rows].astype(str), y[rows].astype(int).astype(str))
        n_folds = int(max(2, min(self.selection_folds, np.unique(strata, return_counts=True)[1].min())))
        folds = list(
            StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state).split(rows, strata)
        )
        scores: dict[str, dict[str, Any]] = {}
        e_rows = {a: v[rows] for a, v in e.items()}
        # Candidates are compared, not served: fewer, shallower trees at a larger step. A
        # CatBoost fit on a few thousand wide rows costs about trees x depth, so selection
        # (10 fits per arm) then costs less than one X-learner (4 fits at full size), and the
        # chosen learner is refitted at full size.
        spec = self._spec(
            max(20, int(self.n_estimators * self.selection_scale)),
            min(0.3, self.learning_rate / self.selection_scale),
            min(self.max_depth, SELECTION_MAX_DEPTH),
        )
        oof = oof_uplift(X[rows], t[rows], y[rows], e_rows, spec, self.control_name, folds)
        tr, yr = t[rows], y[rows]
        for kind in LEARNERS:
            per_arm: dict[str, dict[str, float]] = {}
            for j, arm in enumerate(sorted(e)):
                m = (tr == arm) | (tr == self.control_name)
                treated = tr[m] == arm
                per_arm[arm] = {
                    "qini": qini_coefficient(yr[m], treated, oof[kind][m, j], e_rows[arm][m]),
                    "auuc": auuc(yr[m], treated, oof[kind][m, j]),
                }
            scores[kind] = {
                "qini": float(np.mean([s["qini"] for s in per_arm.values()])),
                "auuc": float(np.mean([s["auuc"] for s in per_arm.values()])),
                "per_arm": per_arm,
            }
        if all(np.isneginf(scores[k]["qini"]) for k in LEARNERS):
            raise ValueError(f"no uplift learner could be fitted: {scores}")
        chosen = max(LEARNERS, key=lambda k: scores[k]["qini"])
        self.selection_ = {
            **describe(),
            "folds": n_folds,
            "n_rows": int(len(rows)),
            "scores": scores,
            "chosen": chosen,
        }
        return chosen

    # ------------------------------------------------------------------ predict
    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """Columns p_control and uplift_<arm> (0 for skipped arms), indexed like X."""
        active = getattr(self, "active_columns_", slice(None))  # models saved before it: all columns
        Xm = self.encoder_.transform(X)[:, active]
        if len(Xm) <= SMALL_BATCH_ROWS:
            Xm = np.ascontiguousarray(Xm)  # see SMALL_BATCH_ROWS
        out = pd.DataFrame(index=X.index)
        if self._meta is None:
            out["p_control"] = self._control_model.predict_proba(Xm)[:, 1]
            uplift = np.zeros((len(Xm), 0))
        else:
            proba = self.propensity_model_.proba(Xm)
            e_raw = arm_propensities(proba, self.groups_)
            e = {a: np.clip(v, *self.propensity_clip) for a, v in e_raw.items()}
            p_control, uplift = self._meta.predict(Xm, e)
            out["p_control"] = p_control
        fitted = {arm: j for j, arm in enumerate(self.fitted_arms_)}
        for arm in self.arms_:
            out[f"uplift_{arm}"] = uplift[:, fitted[arm]] if arm in fitted else 0.0
        return out

    def compile_small_batches(self) -> int:
        """Answer batches of up to SMALL_BATCH_ROWS rows from numpy copies of the CatBoost
        base models' trees (core.uplift.fast_trees): the serving path's few-client batches.
        Call once after loading a fitted model; returns how many models were compiled."""
        memo: dict[int, Any] = {}
        count = compile_small_batches(self, SMALL_BATCH_ROWS, memo)
        for part in (getattr(self._meta, "model", None), getattr(self, "propensity_model_", None)):
            if part is not None:
                count += compile_small_batches(part, SMALL_BATCH_ROWS, memo)
        return count

    def predict_arm(self, X: pd.DataFrame, arm: str) -> pd.Series:
        """Predicted uplift of one arm (KeyError for an arm not seen at fit)."""
        if arm not in self.arms_:
            raise KeyError(f"unknown arm {arm!r}; fitted arms: {self.arms_}")
        return self.predict(X)[f"uplift_{arm}"]

    def predict_outcomes(self, X: pd.DataFrame) -> pd.DataFrame:
        """Predicted P(convert) per group (control and each arm): the `mu` of policy_value_dr."""
        pred = self.predict(X)
        out = pd.DataFrame({self.control_name: pred["p_control"]}, index=X.index)
        for arm in self.arms_:
            out[arm] = np.clip(pred["p_control"] + pred[f"uplift_{arm}"], 0.0, 1.0)
        return out

"""Per-arm propensity scores for the meta-learners, and the overlap report.

Why explicit: offer logs mix a targeting policy with a random slice, so P(arm | x) is far from
constant, and the X- and DR-learners reweight by it. Each arm is learned against the control
only, so the learners need the *conditional* score e_a(x) = P(a | x, a or control).

- Estimated: one multiclass GBM P(g | x) over control and arms (one model is cheaper than one
  per arm, and its probabilities are coherent), then e_a = P(a) / (P(a) + P(control)).
- Logged (P(this row's arm | x) as the policy drew it): with a single arm the logged values are
  exact (e = logged in the arm, 1 - logged in the control). With several arms a row's logged
  value is combined with the model's estimate of the other group: in arm a,
  e_a = l / (l + P^(control)); in the control, e_a = P^(a) / (P^(a) + l).

Scores are clipped to `clip` because a 1/e weight of 1000 lets one row decide the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier

MAX_PROPENSITY_ROWS = 200_000  # the propensity model is fitted on at most this many rows
SINGLE_THREAD_ROWS = 50_000


@dataclass
class PropensityModel:
    """Multiclass GBM of P(group | x); groups[0] is the control."""

    groups: list[str]
    random_state: int = 0
    threads: int = -1
    model: Any = None
    constant: np.ndarray | None = field(default=None)

    def fit(self, X: np.ndarray, treatment: np.ndarray) -> PropensityModel:
        """Fit on a row subsample when huge: propensity needs far fewer rows than effects."""
        rng = np.random.default_rng(self.random_state)
        rows = np.flatnonzero(np.isin(treatment, self.groups))
        if len(rows) > MAX_PROPENSITY_ROWS:
            rows = np.sort(rng.choice(rows, MAX_PROPENSITY_ROWS, replace=False))
        index = {g: i for i, g in enumerate(self.groups)}
        codes = np.array([index[t] for t in treatment[rows]], dtype=int)
        if len(np.unique(codes)) < len(self.groups):  # a group vanished: fall back to shares
            counts = np.bincount(codes, minlength=len(self.groups)).astype(float) + 1.0
            self.constant = counts / counts.sum()
            return self
        self.model = LGBMClassifier(
            n_estimators=100, max_depth=4, num_leaves=15, learning_rate=0.05,
            min_child_samples=50, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
            random_state=self.random_state, verbose=-1,
            # LightGBM's OpenMP threads spin on a busy machine: below SINGLE_THREAD_ROWS one
            # thread is faster (10k rows, 2 loaded cores: 2.4 s vs 20 s with every core)
            n_jobs=1 if len(rows) < SINGLE_THREAD_ROWS else self.threads,
        )
        self.model.fit(X[rows], codes)
        return self

    def use_shares(self, treatment: np.ndarray) -> PropensityModel:
        """P(group | x) = the groups' shares of the rows, for every x: for learners whose
        predictions do not depend on e(x) (T, DR, RR), where a fitted model would be unused."""
        index = {g: i for i, g in enumerate(self.groups)}
        codes = np.array([index[t] for t in treatment if t in index], dtype=int)
        counts = np.bincount(codes, minlength=len(self.groups)).astype(float) + 1.0
        self.constant = counts / counts.sum()
        return self

    def proba(self, X: np.ndarray) -> np.ndarray:
        """n x groups matrix of P(group | x)."""
        if self.constant is not None:
            return np.tile(self.constant, (len(X), 1))
        return np.asarray(self.model.predict_proba(X), dtype=float)


def arm_propensities(
    proba: np.ndarray,
    groups: list[str],
    treatment: np.ndarray | None = None,
    logged: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Unclipped e_a(x) = P(a | x, a or control) for every arm, over all rows (see module doc)."""
    control = proba[:, 0]
    out: dict[str, np.ndarray] = {}
    single = len(groups) == 2
    for j, arm in enumerate(groups[1:], start=1):
        p_arm = proba[:, j]
        e = p_arm / np.maximum(p_arm + control, 1e-12)
        if logged is not None and treatment is not None:
            in_arm = treatment == arm
            in_ctl = treatment == groups[0]
            if single:
                e = np.where(in_arm, logged, np.where(in_ctl, 1.0 - logged, e))
            else:
                e = np.where(in_arm, logged / np.maximum(logged + control, 1e-12), e)
                e = np.where(in_ctl, p_arm / np.maximum(p_arm + logged, 1e-12), e)
        out[arm] = e
    return out


def overlap_report(
    e: np.ndarray, treated: np.ndarray, clip: tuple[float, float]
) -> dict[str, float]:
    """Overlap diagnostics of one arm on its arm + control rows.

    `ess` is Kish's effective sample size (sum w)^2 / sum w^2 of the inverse-propensity weights
    (1/e treated, 1/(1-e) control) after clipping: far below n means a few rows carry the
    estimate and the arm's uplift should be trusted less.
    """
    lo, hi = clip
    clipped = np.clip(e, lo, hi)
    w = np.where(treated, 1.0 / clipped, 1.0 / (1.0 - clipped))

    def ess(weights: np.ndarray) -> float:
        return float(weights.sum() ** 2 / np.square(weights).sum()) if len(weights) else 0.0

    return {
        "n_treated": float(treated.sum()),
        "n_control": float((~treated).sum()),
        "min": float(e.min()) if len(e) else float("nan"),
        "max": float(e.max()) if len(e) else float("nan"),
        "mean": float(e.mean()) if len(e) else float("nan"),
        "share_clipped": float(np.mean((e < lo) | (e > hi))) if len(e) else 0.0,
        "ess": ess(w),
        "ess_treated": ess(w[treated]),
        "ess_control": ess(w[~treated]),
    }
